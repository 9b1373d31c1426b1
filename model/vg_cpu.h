/* The CPU backend: OpenBLAS for the GEMMs, plain loops for the rest. */
#pragma once

#include "vg_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* threads <= 0 leaves OpenBLAS's own setting. Returns NULL on failure. */
vg_backend *vg_cpu_backend_new(int threads);

#ifdef __cplusplus
}
#endif
