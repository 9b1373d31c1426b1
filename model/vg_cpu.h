/* The CPU backend: the own GEMM (vg_gemm.h) or OpenBLAS for the matmuls,
 * vectorised element-wise kernels (vg_vec.h) for the rest. */
#pragma once

#include "vg_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* threads <= 0: one per physical core (vg_cpu_threads.h). Returns NULL on
 * failure. Sets OpenBLAS to one thread when the own GEMM runs the matmuls
 * on our threads, to `threads` when OpenBLAS runs them. */
vg_backend *vg_cpu_backend_new(int threads);
/* The threads a CPU backend runs its ops on. */
int vg_cpu_threads(const vg_backend *be);

#ifdef __cplusplus
}
#endif
