#include "vg_vec.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void act_c(float *v, size_t n, vg_activation act, float alpha) {
  switch (act) {
  case VG_ACT_GELU:
    for (size_t i = 0; i < n; i++)
      v[i] = 0.5f * v[i] * (1.0f + erff(v[i] * (float)M_SQRT1_2));
    break;
  case VG_ACT_QUICK_GELU:
    for (size_t i = 0; i < n; i++)
      v[i] = v[i] / (1.0f + expf(-1.702f * v[i]));
    break;
  case VG_ACT_LEAKY_RELU:
    for (size_t i = 0; i < n; i++)
      v[i] = v[i] < 0.0f ? alpha * v[i] : v[i];
    break;
  }
}

/* Mean and variance in double: the reference the vector versions are held to. */
static void layer_norm_c(float *x, const float *add, float *y, const float *gamma,
                         const float *beta, int n, float eps) {
  double mean = 0, var = 0;
  for (int i = 0; i < n; i++) {
    if (add)
      x[i] += add[i];
    mean += x[i];
  }
  mean /= (double)n;
  for (int i = 0; i < n; i++)
    var += (x[i] - mean) * (x[i] - mean);
  var /= (double)n;
  const float inv = (float)(1.0 / sqrt(var + eps));
  for (int i = 0; i < n; i++)
    y[i] = ((float)(x[i] - mean)) * inv * gamma[i] + beta[i];
}

static float softmax_exp_c(float *row, int valid, int total, float scale) {
  float mx = -INFINITY, sum = 0.0f;
  for (int j = 0; j < valid; j++)
    mx = fmaxf(mx, row[j] *= scale);
  for (int j = 0; j < valid; j++)
    sum += row[j] = expf(row[j] - mx);
  for (int j = valid; j < total; j++)
    row[j] = 0.0f;
  return sum;
}

static void scale_c(float *dst, const float *src, int n, float s) {
  for (int i = 0; i < n; i++)
    dst[i] = src[i] * s;
}

static void transpose_c(const float *src, int64_t lds, int rows, int cols, float *dst,
                        int64_t ldd) {
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      dst[c * ldd + r] = src[r * lds + c];
}

static const vg_vec_ops ops_c = {"c", act_c, layer_norm_c, softmax_exp_c, scale_c, transpose_c};
static const vg_vec_ops ops_avx2 = {"avx2",
                                    vg_vec_act_avx2,
                                    vg_vec_layer_norm_avx2,
                                    vg_vec_softmax_exp_avx2,
                                    vg_vec_scale_avx2,
                                    vg_vec_transpose_avx2};
static const vg_vec_ops ops_avx512 = {"avx512",
                                      vg_vec_act_avx512,
                                      vg_vec_layer_norm_avx512,
                                      vg_vec_softmax_exp_avx512,
                                      vg_vec_scale_avx512,
                                      vg_vec_transpose_avx512};

static const vg_vec_ops *supported(const char *kind) {
  __builtin_cpu_init();
  if (strcmp(kind, "avx512") == 0)
    return __builtin_cpu_supports("avx512f") ? &ops_avx512 : NULL;
  if (strcmp(kind, "avx2") == 0)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &ops_avx2 : NULL;
  return strcmp(kind, "c") == 0 ? &ops_c : NULL;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const vg_vec_ops *chosen;

static void pick(void) {
  const char *env = getenv("VG_CPU_SIMD");
  if (env && *env) {
    chosen = supported(env);
    chosen = chosen ? chosen : &ops_c;
    return;
  }
  chosen = supported("avx512");
  chosen = chosen ? chosen : supported("avx2");
  chosen = chosen ? chosen : &ops_c;
}

const vg_vec_ops *vg_vec(void) {
  pthread_once(&once, pick);
  return chosen;
}

const vg_vec_ops *vg_vec_plain(void) {
  return &ops_c;
}

int vg_vec_force(const char *kind) {
  pthread_once(&once, pick);
  const vg_vec_ops *ops = supported(kind);
  if (ops)
    chosen = ops;
  return ops != NULL;
}
