/* A restricted reader for the data.pkl that torch.save writes (pickle
 * protocol 2): it understands only the opcodes and the few globals a tensor
 * state dict needs and refuses everything else, naming the opcode or global.
 * Nothing is ever executed: globals are matched by name against an allow-list
 * (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.<T>Storage)
 * and turned into plain data. Memory grows at most linearly with the input. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vg_status.h"
#include "vg_weights.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One tensor leaf of the pickled dict, contiguous by construction. */
typedef struct vg_pickle_tensor {
  char *name;            /* nested dict keys joined with '.' */
  char *storage;         /* storage key: the archive's data/<storage> record */
  vg_wdtype dtype;       /* element type of the storage */
  int64_t storage_numel; /* elements the storage declares */
  int64_t offset;        /* first element within the storage */
  int ndim;
  int64_t shape[VG_WEIGHT_MAX_DIMS];
} vg_pickle_tensor;

/* Parses `data` and lists every tensor reachable through (nested) dicts, in
 * order (string keys, or integer keys written in decimal); other leaf values
 * (numbers, strings, None, lists) are skipped.
 * Fails with VG_ERR_FORMAT on a malformed stream or a refused opcode/global,
 * VG_ERR_UNSUPPORTED on a dtype other than float32/float16/bfloat16 or a
 * non-contiguous tensor. Free the result with vg_pickle_tensors_free. */
vg_status vg_pickle_load_tensors(const void *data, size_t len, vg_pickle_tensor **out,
                                 size_t *count);
void vg_pickle_tensors_free(vg_pickle_tensor *tensors, size_t count);

/* A growable byte buffer for writing pickles (used by the .pth writer). */
typedef struct vg_pickle_buf {
  unsigned char *data;
  size_t len, cap;
  int failed; /* an allocation failed; everything after it is dropped */
} vg_pickle_buf;

void vg_pickle_put_op(vg_pickle_buf *b, unsigned char op);
void vg_pickle_put_int(vg_pickle_buf *b, int64_t v);                 /* BININT or LONG1 */
void vg_pickle_put_str(vg_pickle_buf *b, const char *s, size_t len); /* BINUNICODE */
void vg_pickle_put_global(vg_pickle_buf *b, const char *module, const char *name);
void vg_pickle_buf_free(vg_pickle_buf *b);

#ifdef __cplusplus
}
#endif
