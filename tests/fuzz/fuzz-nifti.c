/* libFuzzer harness: the NIfTI loader reads files, so each input is written
 * to a temporary .nii, opened, and its first, middle and last slices read. */
#include <glib/gstdio.h>
#include <unistd.h>

#include "vigil-nifti.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static char *scratch;

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size) {
  if (!scratch)
    scratch = g_strdup_printf("%s/vigil-fuzz-nifti-%d.nii", g_get_tmp_dir(), (int)getpid());
  if (!g_file_set_contents(scratch, (const char *)data, (gssize)size, NULL))
    return 0;
  GError *error = NULL;
  VigilNifti *nifti = vigil_nifti_open(scratch, &error);
  g_assert((nifti == NULL) != (error == NULL));
  g_clear_error(&error);
  if (nifti) {
    const int n = vigil_nifti_n_slices(nifti);
    const int picks[3] = {0, n / 2, n - 1};
    for (int i = 0; i < 3; i++) {
      VigilImage *image = vigil_nifti_read_slice(nifti, picks[i], &error);
      g_assert((image == NULL) != (error == NULL));
      vigil_image_free(image);
      g_clear_error(&error);
    }
    vigil_nifti_free(nifti);
  }
  g_unlink(scratch);
  return 0;
}
