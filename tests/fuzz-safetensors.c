/* libFuzzer harness: the safetensors parser on arbitrary bytes. */
#include <stdint.h>

#include "vg_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink; /* every byte is read so ASan checks each tensor */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vg_weights *w = NULL;
  if (vg_safetensors_parse(data, size, &w) == VG_OK) {
    for (size_t i = 0; i < vg_weights_count(w); i++) {
      const vg_weight *t = vg_weights_at(w, i);
      for (size_t k = 0; k < t->nbytes; k++)
        sink ^= ((const uint8_t *)t->data)[k];
    }
    vg_weights_free(w);
  }
  return 0;
}
