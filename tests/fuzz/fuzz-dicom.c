/* libFuzzer entry for the DICOM loader: header, then every frame (at most 4),
 * from memory. Also linked into the corpus regression test. */
#include <stddef.h>
#include <stdint.h>

#include "vigil-dicom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  GError *error = NULL;
  VigilSliceInfo *info = vigil_dicom_read_info_from_data(data, size, "fuzz", &error);
  g_clear_error(&error);
  int frames = info ? MIN(info->frames, 4) : 1;
  for (int f = 0; f < frames; f++) {
    VigilImage *image = vigil_dicom_decode_frame_from_data(data, size, f, &error);
    g_clear_error(&error);
    vigil_image_free(image);
  }
  vigil_slice_info_free(info);
  return 0;
}
