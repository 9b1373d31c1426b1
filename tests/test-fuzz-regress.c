/* Replays tests/fuzz/regress/{png,jpeg,nifti}/: inputs that once crashed a
 * loader or that the fuzzers should never get wrong. Files named *.bad.* must
 * be refused with an error message; others must load or fail cleanly. */
#include <glib.h>
#include <string.h>

#include "vigil-jpeg.h"
#include "vigil-nifti.h"
#include "vigil-png.h"

/* Loads `path` as `kind`; returns the error (NULL when it loaded). */
static GError *try_load(const char *kind, const char *path) {
  GError *error = NULL;
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
  return g_test_run();
}
