/* Replays tests/fuzz/regress/{png,jpeg,nifti,j2k}/: inputs that once crashed
 * a loader or that the fuzzers should never get wrong. Files named *.bad.* must
 * be refused with an error message; others must load or fail cleanly. j2k
 * files start with fuzz-j2k.c's header (the frame the DICOM header claims). */
#include <glib.h>
#include <string.h>

#include "vigil-j2k.h"
#include "vigil-jpeg.h"
#include "vigil-nifti.h"
#include "vigil-png.h"

/* From fuzz/fuzz-j2k.c, built into this test. */
gsize vigil_fuzz_j2k_frame(const guint8 *data, gsize size, VigilJ2kFrame *frame,
                           gboolean *want_info);
int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

/* Decodes a j2k regression input as the harness does (whose assertions run
 * on it first); the error names the file, as the file loaders' do. */
static GError *try_j2k(const char *path) {
  g_autofree guint8 *data = NULL;
  gsize size = 0;
  g_assert_true(g_file_get_contents(path, (char **)&data, &size, NULL));
  LLVMFuzzerTestOneInput(data, size);
  VigilJ2kFrame frame;
  gboolean want_info;
  gsize skip = vigil_fuzz_j2k_frame(data, size, &frame, &want_info);
  g_assert_cmpuint(skip, >, 0);
  gsize out_size =
      (gsize)frame.width * frame.height * frame.components * (frame.bits_allocated / 8);
  g_autofree guint8 *out = g_malloc(out_size);
  GError *error = NULL;
  if (!vigil_j2k_decode(data + skip, size - skip, &frame, out, out_size, NULL, &error))
    g_prefix_error(&error, "%s: ", path);
  return error;
}

/* Loads `path` as `kind`; returns the error (NULL when it loaded). */
static GError *try_load(const char *kind, const char *path) {
  GError *error = NULL;
  if (strcmp(kind, "j2k") == 0)
    return try_j2k(path);
  if (strcmp(kind, "nifti") == 0) {
    g_autoptr(VigilNifti) nifti = vigil_nifti_open(path, &error);
    if (!nifti)
      return error;
    for (int i = 0; i < vigil_nifti_n_slices(nifti) && !error; i++)
      vigil_image_free(vigil_nifti_read_slice(nifti, i, &error));
    return error;
  }
  VigilImage *image =
      strcmp(kind, "png") == 0 ? vigil_png_load(path, NULL, &error) : vigil_jpeg_load(path, &error);
  g_assert((image == NULL) != (error == NULL));
  vigil_image_free(image);
  return error;
}

static void replay(gconstpointer data) {
  const char *kind = data;
  const char *root = g_getenv("VIGIL_SOURCE_DIR");
  g_assert_nonnull(root);
  g_autofree char *dir = g_build_filename(root, "tests", "fuzz", "regress", kind, NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  int n = 0;
  for (const char *name; (name = g_dir_read_name(d)); n++) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) error = try_load(kind, path);
    if (strstr(name, ".bad.")) {
      if (!error)
        g_error("%s loaded but must be refused", path);
      g_assert_cmpuint(strlen(error->message), >, strlen(path) + 4);
      g_test_message("%s: %s", name, error->message);
    }
  }
  g_assert_cmpint(n, >, 0);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_data_func("/fuzz-regress/png", "png", replay);
  g_test_add_data_func("/fuzz-regress/jpeg", "jpeg", replay);
  g_test_add_data_func("/fuzz-regress/nifti", "nifti", replay);
  g_test_add_data_func("/fuzz-regress/j2k", "j2k", replay);
  return g_test_run();
}
