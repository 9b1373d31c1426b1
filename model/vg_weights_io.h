/* Opens a weights file of either format Vigil reads, chosen by content:
 * safetensors (8-byte header length, then '{') or a PyTorch zip checkpoint
 * ("PK\3\4"). Anything else, such as a legacy pre-zip torch pickle, gets a
 * message saying what it is and how to convert it. */
#pragma once

#include "vg_status.h"
#include "vg_weights.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_weights_format {
  VG_WFMT_UNKNOWN,
  VG_WFMT_SAFETENSORS,
  VG_WFMT_PTH,        /* torch.save zip archive */
  VG_WFMT_PTH_LEGACY, /* torch.save(..., _use_new_zipfile_serialization=False) */
} vg_weights_format;

/* Classifies the first bytes of a file (at least 9 are needed to tell). */
vg_weights_format vg_weights_sniff(const void *head, size_t len);

vg_status vg_weights_open(const char *path, vg_weights **out);

#ifdef __cplusplus
}
#endif
