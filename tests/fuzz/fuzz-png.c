/* libFuzzer harness: vigil_png_load_from_memory on arbitrary bytes. */
#include "vigil-png.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size) {
  GError *error = NULL;
  VigilImage *image = vigil_png_load_from_memory(data, size, NULL, &error);
  g_assert((image == NULL) != (error == NULL));
  vigil_image_free(image);
  g_clear_error(&error);
  return 0;
}
