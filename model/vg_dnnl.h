/* The oneDNN matmul (the library PyTorch runs on CPUs): F32, and BF16 with
 * F32 accumulation on AMX / AVX512_BF16. Optional at build time: without
 * oneDNN (VG_HAVE_DNNL undefined) these say so and refuse. */
#pragma once

#include "vg_backend.h"
#include "vg_gemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when built with oneDNN. */
int vg_dnnl_built(void);
/* oneDNN's version and the instruction set it runs here, e.g.
 * "oneDNN 2.6.3, avx512_core_amx"; "no oneDNN" when not built with it. */
const char *vg_dnnl_describe(void);
/* 1 when oneDNN has a BF16 path on this CPU (AMX-BF16 or AVX512_BF16, as
 * oneDNN itself detects them: DNNL_MAX_CPU_ISA lowers it); else 0 and *why. */
int vg_dnnl_bf16(const char **why);
/* The product of vg_gemm_args (F32 weights; w_f16 is refused) or, with
 * `bf16_weights` or w_packed, BF16 weights (uint16_t) and the activations
 * rounded to BF16 on the way in; F32 accumulation and output either way. */
vg_status vg_dnnl_matmul(const vg_gemm_args *g, int bf16_weights, int threads);
/* Bytes of an n x k BF16 weight (PyTorch's Linear layout, rows k apart) in
 * the blocked layout of oneDNN's BF16 matmul on this CPU; 0 without one. */
size_t vg_dnnl_bf16_packed_bytes(int n, int k);
/* Into that layout (`packed`: vg_dnnl_bf16_packed_bytes, 64-byte aligned),
 * for vg_gemm_args.w_packed; and back. */
vg_status vg_dnnl_bf16_pack(const uint16_t *w, int n, int k, void *packed);
vg_status vg_dnnl_bf16_unpack(const void *packed, int n, int k, uint16_t *w);

#ifdef __cplusplus
}
#endif
