/* The CPU backend's multi-head attention (see vg_backend_ops.attention). */
#pragma once

#include <stdint.h>

#include "vg_status.h"

/* out[rows, d] from qkv[rows, 3 d]: `seqs` sequences of rows / seqs tokens,
 * `heads` heads of d / heads, over `threads` threads. */
vg_status vg_cpu_attention_run(float *out, const float *qkv, int64_t rows, int d, int heads,
                               int causal, int seqs, int threads);
