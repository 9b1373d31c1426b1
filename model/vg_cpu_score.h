/* The CPU backend's scoring ops (vg_cpu_score.c), for vg_cpu.c's ops table. */
#pragma once

#include "vg_backend.h"

vg_status vg_cpu_upsample(vg_backend *be, vg_tensor *out, const vg_tensor *x, int in_h, int in_w,
                          int out_h, int out_w);
vg_status vg_cpu_softmax_pick(vg_backend *be, vg_tensor *out, const vg_tensor *x, int pick);
vg_status vg_cpu_row_mean(vg_backend *be, vg_tensor *out, const vg_tensor *x);
vg_status vg_cpu_min_distance(vg_backend *be, vg_tensor *out, const vg_tensor *q,
                              const vg_tensor *bank, int64_t bank_rows);
