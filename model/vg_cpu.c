#include "vg_cpu.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef struct vg_cpu_backend {
  vg_backend base;
} vg_cpu_backend;

static float *f32(const vg_tensor *t) {
  return (float *)t->host;
}

static vg_status cpu_tensor_alloc(vg_backend *be, vg_tensor *t) {
  (void)be;
  size_t bytes = vg_tensor_bytes(t);
  /* 64-byte alignment keeps the GEMM kernels on their fast paths. */
  t->host = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
  if (!t->host)
    return vg_fail(VG_ERR_NOMEM, "cannot allocate %zu bytes for a %lld x %lld tensor", bytes,
                   (long long)t->rows, (long long)t->cols);
  return VG_OK;
}

static void cpu_tensor_release(vg_backend *be, vg_tensor *t) {
  (void)be;
  free(t->host);
  t->host = NULL;
}

static vg_status cpu_upload(vg_backend *be, vg_tensor *t, const void *src) {
  (void)be;
  memcpy(t->host, src, vg_tensor_bytes(t));
  return VG_OK;
}

static vg_status cpu_download(vg_backend *be, const vg_tensor *t, void *dst) {
  (void)be;
  memcpy(dst, t->host, vg_tensor_bytes(t));
  return VG_OK;
}

/* F16 weights are widened to F32 for the GEMM; a blocked path comes with the engine. */
static float *widen(const vg_tensor *w) {
  size_t n = (size_t)w->rows * (size_t)w->cols;
  float *out = malloc(n * sizeof *out);
  if (!out)
    return NULL;
  const uint16_t *h = w->host;
  for (size_t i = 0; i < n; i++)
    out[i] = vg_f16_to_f32(h[i]);
  return out;
}

static vg_status cpu_matmul(vg_backend *be, vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                            const vg_tensor *bias) {
  (void)be;
  const int m = (int)a->rows, n = (int)w->rows, k = (int)a->cols;
  float *wf = w->dtype == VG_F32 ? f32(w) : widen(w);
  if (!wf)
    return vg_fail(VG_ERR_NOMEM, "matmul: cannot widen F16 weights");
  float beta = 0.0f;
  if (bias) {
    for (int i = 0; i < m; i++)
      memcpy(f32(out) + (size_t)i * n, f32(bias), (size_t)n * sizeof(float));
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, f32(a), k, wf, k, beta,
              f32(out), n);
  if (wf != f32(w))
    free(wf);
  return VG_OK;
}

static vg_status cpu_layer_norm(vg_backend *be, vg_tensor *out, const vg_tensor *x,
                                const vg_tensor *gamma, const vg_tensor *beta, float eps) {
  (void)be;
  const int64_t n = x->cols;
  for (int64_t r = 0; r < x->rows; r++) {
    const float *xr = f32(x) + r * n;
    float *yr = f32(out) + r * n;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; i++)
      mean += xr[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++)
      var += (xr[i] - mean) * (xr[i] - mean);
    var /= (double)n;
    const float inv = (float)(1.0 / sqrt(var + eps));
    for (int64_t i = 0; i < n; i++)
      yr[i] = ((float)(xr[i] - mean)) * inv * f32(gamma)[i] + f32(beta)[i];
  }
  return VG_OK;
}

static vg_status cpu_activation(vg_backend *be, vg_tensor *x, vg_activation act, float alpha) {
  (void)be;
  const size_t n = (size_t)x->rows * (size_t)x->cols;
  float *v = f32(x);
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
  return VG_OK;
}

static vg_status cpu_add_scaled(vg_backend *be, vg_tensor *out, const vg_tensor *a, float alpha,
                                const vg_tensor *b, float beta) {
  (void)be;
  const size_t n = (size_t)out->rows * (size_t)out->cols;
  const float *av = f32(a), *bv = f32(b);
  float *ov = f32(out);
  for (size_t i = 0; i < n; i++)
    ov[i] = alpha * av[i] + beta * bv[i];
  return VG_OK;
}

/* One head at a time: scores[T,T] = Q K^T * scale, row softmax, times V. */
static vg_status cpu_attention(vg_backend *be, vg_tensor *out, const vg_tensor *qkv, int heads,
                               int causal) {
  (void)be;
  const int t = (int)out->rows, d = (int)out->cols, hd = d / heads, ld = 3 * d;
  float *scores = malloc((size_t)t * (size_t)t * sizeof *scores);
  if (!scores)
    return vg_fail(VG_ERR_NOMEM, "attention: no memory for %d x %d scores", t, t);
  const float scale = 1.0f / sqrtf((float)hd);
  for (int h = 0; h < heads; h++) {
    const float *q = f32(qkv) + h * hd, *k = q + d, *v = q + 2 * d;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, t, hd, scale, q, ld, k, ld, 0.0f,
                scores, t);
    for (int i = 0; i < t; i++) {
      float *row = scores + (size_t)i * t;
      const int valid = causal ? i + 1 : t;
      float mx = -INFINITY, sum = 0.0f;
      for (int j = 0; j < valid; j++)
        mx = fmaxf(mx, row[j]);
      for (int j = 0; j < valid; j++)
        sum += row[j] = expf(row[j] - mx);
      for (int j = 0; j < valid; j++)
        row[j] /= sum;
      for (int j = valid; j < t; j++)
        row[j] = 0.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, hd, t, 1.0f, scores, t, v, ld, 0.0f,
                f32(out) + h * hd, d);
  }
  free(scores);
  return VG_OK;
}

static vg_status cpu_copy_rows(vg_backend *be, vg_tensor *dst, int64_t dst_row,
                               const vg_tensor *src, int64_t src_row, int64_t rows) {
  (void)be;
  memmove(f32(dst) + dst_row * dst->cols, f32(src) + src_row * src->cols,
          (size_t)rows * (size_t)src->cols * sizeof(float));
  return VG_OK;
}

static vg_status cpu_l2_normalize(vg_backend *be, vg_tensor *out, const vg_tensor *x, float eps) {
  (void)be;
  const int64_t n = x->cols;
  for (int64_t r = 0; r < x->rows; r++) {
    const float *xr = f32(x) + r * n;
    float *yr = f32(out) + r * n;
    double ss = 0;
    for (int64_t i = 0; i < n; i++)
      ss += (double)xr[i] * xr[i];
    const double norm = sqrt(ss) > eps ? sqrt(ss) : eps;
    const float inv = norm > 0 ? (float)(1.0 / norm) : 0.0f;
    for (int64_t i = 0; i < n; i++)
      yr[i] = xr[i] * inv;
  }
  return VG_OK;
}

static vg_status cpu_synchronize(vg_backend *be) {
  (void)be;
  return VG_OK;
}

static void cpu_destroy(vg_backend *be) {
  free(be);
}

static const vg_backend_ops cpu_ops = {
    .tensor_alloc = cpu_tensor_alloc,
    .tensor_release = cpu_tensor_release,
    .upload = cpu_upload,
    .download = cpu_download,
    .matmul = cpu_matmul,
    .layer_norm = cpu_layer_norm,
    .activation = cpu_activation,
    .add_scaled = cpu_add_scaled,
    .attention = cpu_attention,
    .copy_rows = cpu_copy_rows,
    .l2_normalize = cpu_l2_normalize,
    .synchronize = cpu_synchronize,
    .destroy = cpu_destroy,
};

vg_backend *vg_cpu_backend_new(int threads) {
  vg_cpu_backend *cpu = calloc(1, sizeof *cpu);
  if (!cpu) {
    vg_fail(VG_ERR_NOMEM, "out of memory for the CPU backend");
    return NULL;
  }
  cpu->base.ops = &cpu_ops;
  cpu->base.kind = "cpu";
  if (threads > 0)
    openblas_set_num_threads(threads);
  snprintf(cpu->base.device_name, sizeof cpu->base.device_name, "CPU (OpenBLAS, %d threads)",
           openblas_get_num_threads());
  return &cpu->base;
}
