/* safetensors files (https://huggingface.co/docs/safetensors): an 8-byte
 * little-endian header length, a JSON header, then the raw tensor bytes. */
#pragma once

#include "vg_weights.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest JSON header accepted (the format's own limit is 100 MB). */
#define VG_SAFETENSORS_MAX_HEADER ((uint64_t)100 << 20)

/* Memory-maps `path` and fills *out with its F32/F16/BF16 tensors (borrowed
 * from the mapping, copied only where misaligned) and its __metadata__.
 * Every size and offset is checked against the file; errors name the tensor. */
vg_status vg_safetensors_open(const char *path, vg_weights **out);

/* Parses a safetensors image already in memory (used by open and by fuzzing);
 * the tensors are copied, so `data` may be freed afterwards. */
vg_status vg_safetensors_parse(const void *data, size_t size, vg_weights **out);

/* Writes all tensors of `w` and its metadata, atomically (temp file + rename). */
vg_status vg_safetensors_write(const char *path, const vg_weights *w);

#ifdef __cplusplus
}
#endif
