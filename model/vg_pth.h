/* PyTorch checkpoints (.pth) in the zip format torch.save has written since
 * 1.6: <archive>/data.pkl (a pickled dict of tensors, read by the restricted
 * unpickler in vg_pickle.h), <archive>/data/<key> (raw little-endian storage
 * bytes) and <archive>/version. Legacy non-zip files are not read. */
#pragma once

#include <stddef.h>

#include "vg_status.h"
#include "vg_weights.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loads every tensor of the checkpoint's (nested) dicts into a new table,
 * names joined with '.': {'seg_adapters': {'0.fc1.0.weight': t}} gives
 * "seg_adapters.0.fc1.0.weight". Storages are read once and shared by the
 * tensors that view them. */
vg_status vg_pth_open(const char *path, vg_weights **out);
/* The same from a whole file held in memory (copied; `data` may go away). */
vg_status vg_pth_load_mem(const void *data, size_t len, vg_weights **out);

typedef enum vg_pth_layout {
  VG_PTH_FLAT,   /* {'seg_adapters.0.fc1.0.weight': tensor, ...} */
  VG_PTH_NESTED, /* {'seg_adapters': OrderedDict({'0.fc1.0.weight': tensor}), ...}:
                    names split at their first '.', as MVFA saves its adapters */
} vg_pth_layout;

/* Writes `w` as a zip checkpoint that torch.load reads back to equal tensors
 * (one storage per tensor, requires_grad False). Metadata is not written. */
vg_status vg_pth_write(const char *path, const vg_weights *w, vg_pth_layout layout);

#ifdef __cplusplus
}
#endif
