/* The CPU backend's element-wise kernels (activations, layer norm, softmax)
 * with AVX-512 and AVX2 versions chosen at run time, like the GEMM, and plain
 * C versions that are both the fallback and the tests' reference. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vg_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_vec_ops {
  const char *kind; /* "avx512", "avx2" or "c" */
  /* v = act(v) in place for n values; alpha is LeakyReLU's slope. */
  void (*act)(float *v, size_t n, vg_activation act, float alpha);
  /* One row of n: when add is non-NULL, x += add first (a residual, in the
   * same pass); then y = (x - mean) / sqrt(var + eps) * gamma + beta. */
  void (*layer_norm)(float *x, const float *add, float *y, const float *gamma, const float *beta,
                     int n, float eps);
  /* Softmax less its division: row[i] = exp(scale (row[i] - max)) for
   * i < valid (max over those; scale > 0), 0 for valid <= i < total; returns
   * the sum the caller divides by (attention does so on its output, which is
   * smaller than the row). */
  float (*softmax_exp)(float *row, int valid, int total, float scale);
  /* dst[i] = src[i] * s for i < n. */
  void (*scale)(float *dst, const float *src, int n, float s);
  /* dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols. */
  void (*transpose)(const float *src, int64_t lds, int rows, int cols, float *dst, int64_t ldd);
} vg_vec_ops;

/* The kernels for this CPU: the best of AVX-512F and AVX2 + FMA, unless the
 * environment says VG_CPU_SIMD=avx512, avx2 or c (a forced path this CPU
 * lacks falls back to plain C). */
const vg_vec_ops *vg_vec(void);
/* The plain C kernels. */
const vg_vec_ops *vg_vec_plain(void);
/* Makes `kind` ("avx512", "avx2", "c") the one vg_vec returns, for tests and
 * benchmarks. Returns 0, changing nothing, when this CPU cannot run it. */
int vg_vec_force(const char *kind);

/* The per-instruction-set builds of vg_vec_impl.c. */
void vg_vec_act_avx512(float *v, size_t n, vg_activation act, float alpha);
void vg_vec_layer_norm_avx512(float *x, const float *add, float *y, const float *gamma,
                              const float *beta, int n, float eps);
float vg_vec_softmax_exp_avx512(float *row, int valid, int total, float scale);
void vg_vec_scale_avx512(float *dst, const float *src, int n, float s);
void vg_vec_transpose_avx512(const float *src, int64_t lds, int rows, int cols, float *dst,
                             int64_t ldd);
void vg_vec_act_avx2(float *v, size_t n, vg_activation act, float alpha);
void vg_vec_layer_norm_avx2(float *x, const float *add, float *y, const float *gamma,
                            const float *beta, int n, float eps);
float vg_vec_softmax_exp_avx2(float *row, int valid, int total, float scale);
void vg_vec_scale_avx2(float *dst, const float *src, int n, float s);
void vg_vec_transpose_avx2(const float *src, int64_t lds, int rows, int cols, float *dst,
                           int64_t ldd);

#ifdef __cplusplus
}
#endif
