/* The CPU backend's own single-precision GEMM (AVX-512 or AVX2 + FMA).
 *
 * Why not only OpenBLAS: OpenBLAS picks its kernels from the CPU model number
 * and falls back to its SSE3 "Prescott" kernels on models it does not know
 * (e.g. Emerald Rapids in Debian 12's 0.3.21), several times slower. This
 * kernel chooses by feature flags, reads F16 weights directly, runs on the
 * backend's threads, and lends its micro-kernel to the attention
 * (vg_cpu_attn.c), which packs its own panels. */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[i, j] = bias[j] + sum_k a[i, k] * B(k, j) for i < m, j < n, where
 * B(k, j) = w[j * ldw + k] (PyTorch Linear layout) or, when w_kn,
 * w[k * ldw + j]. w is float, or IEEE half (uint16_t) when w_f16 (Linear
 * layout only). bias may be NULL. Splits the columns over `threads`. */
typedef struct vg_gemm_args {
  int m, n, k;
  const float *a;
  int64_t lda;
  const void *w;
  int64_t ldw;
  int w_kn, w_f16;
  /* BF16 weights in oneDNN's blocked layout (vg_dnnl_bf16_pack; ldw and w_kn
   * unused): only vg_dnnl_matmul takes them. */
  int w_packed;
  /* 1 + vg_activation to apply on the output in oneDNN's post-op (where the
   * own kernel uses `post`); 0: none. Only vg_dnnl_matmul reads it. */
  int act;
  float act_alpha;
  const float *bias;
  float *out;
  int64_t ldo;
  /* Optional epilogue: post(row, n, post_arg) on each finished stretch of an
   * output row while it is still in cache (a fused activation). */
  void (*post)(float *row, int n, const void *post_arg);
  const void *post_arg;
} vg_gemm_args;

/* 0 when this CPU has neither AVX-512F nor AVX2 + FMA + F16C, or when the
 * environment says VG_CPU_GEMM=openblas (VG_CPU_GEMM=avx2: the AVX2 kernel
 * even where AVX-512 is there); callers then prefer OpenBLAS
 * (vg_gemm still works, with a plain C kernel). */
int vg_gemm_available(void);
/* "avx512", "avx2" or "c" (the portable kernel). */
const char *vg_gemm_kind(void);
void vg_gemm(const vg_gemm_args *args, int threads);

/* The micro-kernel, for callers that pack their own panels (attention):
 * c[r][0..nr) (+)= sum_{p < kc} rows[r][p] * bp[p * nr + j] for r <
 * VG_GEMM_MR, c's rows `ldc` apart, added to c when `add`, else overwriting
 * it; bp 64-byte aligned. *nr gets the panel width. */
#define VG_GEMM_MR 6
typedef void (*vg_gemm_kernel_fn)(int kc, const float *const *rows, const float *bp, float *c,
                                  int64_t ldc, int add);
vg_gemm_kernel_fn vg_gemm_kernel(int *nr);

/* Runs fn(ctx, t, n) for t < n on n threads (the caller is thread 0). */
void vg_parallel(int n, void (*fn)(void *ctx, int t, int n), void *ctx);

#ifdef __cplusplus
}
#endif
