/* A tiny reader/writer for NumPy .npy files holding float32 arrays.
 *
 * Only what the engine exchanges with PyTorch/NumPy tools: dtype '<f4',
 * C order, 1 to 4 dimensions, format version 1.0/2.0/3.0. Headers are parsed
 * with bounds checks and the data size is checked against the file size
 * before anything is allocated, so a malformed file gives a named error. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vg_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_NPY_MAX_DIMS 4

typedef struct vg_npy {
  int ndim;
  int64_t shape[VG_NPY_MAX_DIMS];
  size_t count; /* product of shape */
  float *data;  /* malloc'd, `count` floats, row major; NULL when count is 0 */
} vg_npy;

/* Parses an in-memory .npy image. On success `out` owns a copy of the data. */
vg_status vg_npy_parse(const void *buf, size_t len, vg_npy *out);
/* Reads a .npy file; errors name the path. */
vg_status vg_npy_read(const char *path, vg_npy *out);
/* Frees the data and zeroes `a`; safe on a zeroed or already freed struct. */
void vg_npy_free(vg_npy *a);

/* Checks `a` has exactly this shape; otherwise VG_ERR_FORMAT with a message
 * like "<what> has shape [4, 290, 512], expected [4, 290, 768]". */
vg_status vg_npy_expect(const vg_npy *a, const char *what, int ndim, const int64_t *shape);

/* Writes `data` (product of shape floats) as a version 1.0 .npy file. */
vg_status vg_npy_write(const char *path, int ndim, const int64_t *shape, const float *data);

#ifdef __cplusplus
}
#endif
