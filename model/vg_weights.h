/* A named collection of weight tensors, as a checkpoint holds them.
 *
 * Loaders (safetensors, PyTorch .pth) fill one of these; the CLIP/MVFA code
 * looks tensors up by name and checks dtype and shape. Data is either copied
 * in (vg_weights_add) or borrowed from a region the collection keeps alive
 * (vg_weights_add_borrowed + vg_weights_keep), e.g. a memory-mapped file. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vg_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_WEIGHT_MAX_DIMS 4

typedef enum vg_wdtype { VG_W_F32, VG_W_F16, VG_W_BF16 } vg_wdtype;

typedef struct vg_weight {
  const char *name;
  vg_wdtype dtype;
  int ndim;
  int64_t shape[VG_WEIGHT_MAX_DIMS];
  const void *data; /* little-endian, row major, contiguous */
  size_t nbytes;
} vg_weight;

typedef struct vg_weights vg_weights;

vg_weights *vg_weights_new(void);
void vg_weights_free(vg_weights *w);

/* Adds a tensor, copying `data`. Fails on a duplicate name or a bad shape. */
vg_status vg_weights_add(vg_weights *w, const char *name, vg_wdtype dtype, int ndim,
                         const int64_t *shape, const void *data);
/* Adds a tensor whose data stays where it is (it must outlive `w`, see keep). */
vg_status vg_weights_add_borrowed(vg_weights *w, const char *name, vg_wdtype dtype, int ndim,
                                  const int64_t *shape, const void *data);
/* Hands `w` a resource to release with it: release(ctx) runs at vg_weights_free
 * (at once, when this fails). */
vg_status vg_weights_keep(vg_weights *w, void (*release)(void *ctx), void *ctx);
/* The same for a read-only file mapping: evict(ctx) drops its pages from the
 * process (vg_weights_evict); they are read back from the file when used. */
vg_status vg_weights_keep_mapped(vg_weights *w, void (*release)(void *ctx),
                                 void (*evict)(void *ctx), void *ctx);
/* Drops the pages of mapped weights from this process's memory, e.g. once a
 * tower that used them in place is freed: the data stays valid and is read
 * again from the file (usually the page cache) when next touched. */
void vg_weights_evict(const vg_weights *w);

const vg_weight *vg_weights_find(const vg_weights *w, const char *name);
size_t vg_weights_count(const vg_weights *w);
const vg_weight *vg_weights_at(const vg_weights *w, size_t index);

/* String metadata (safetensors' __metadata__), e.g. "vigil.random" = "true". */
vg_status vg_weights_set_meta(vg_weights *w, const char *key, const char *value);
const char *vg_weights_meta(const vg_weights *w, const char *key); /* NULL if absent */
size_t vg_weights_meta_count(const vg_weights *w);
const char *vg_weights_meta_key(const vg_weights *w, size_t index);

size_t vg_wdtype_size(vg_wdtype dtype);
const char *vg_wdtype_name(vg_wdtype dtype); /* "F32", "F16", "BF16" */
int64_t vg_weight_numel(const vg_weight *t);

/* Checks that `t` exists and has exactly this shape (ndim entries);
 * the message names the tensor and both shapes. */
vg_status vg_weight_expect(const vg_weights *w, const char *name, int ndim, const int64_t *shape,
                           const vg_weight **out);

/* Converts any dtype to F32 into dst (numel floats). */
void vg_weight_to_f32(const vg_weight *t, float *dst);

#ifdef __cplusplus
}
#endif
