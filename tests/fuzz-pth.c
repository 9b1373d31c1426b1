/* libFuzzer harness: the .pth reader (zip + restricted unpickler) and, on the
 * same bytes, the unpickler alone, since mutated zip entries rarely keep a
 * valid CRC and would otherwise never reach the pickle parser. */
#include <stdint.h>

#include "vg_pickle.h"
#include "vg_pth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink; /* every byte is read so ASan checks each tensor */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vg_weights *w = NULL;
  if (vg_pth_load_mem(data, size, &w) == VG_OK) {
    for (size_t i = 0; i < vg_weights_count(w); i++) {
      const vg_weight *t = vg_weights_at(w, i);
      for (size_t k = 0; k < t->nbytes; k++)
        sink ^= ((const uint8_t *)t->data)[k];
    }
    vg_weights_free(w);
  }
  vg_pickle_tensor *t = NULL;
  size_t n = 0;
  if (vg_pickle_load_tensors(data, size, &t, &n) == VG_OK)
    vg_pickle_tensors_free(t, n);
  return 0;
}
