#include "vg_cpu.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "vg_cpu_score.h"
#include "vg_gemm.h"

typedef struct vg_cpu_backend {
  vg_backend base;
  int threads; /* for the GEMM, attention heads and element-wise loops */
} vg_cpu_backend;

static int threads_of(vg_backend *be) {
  return ((vg_cpu_backend *)be)->threads;
}

/* Element-wise work below this many values is not worth a thread. */
#define PARALLEL_MIN ((size_t)1 << 16)

/* Splits [0, total) into `n` contiguous shares. */
static void share(size_t total, int t, int n, size_t *begin, size_t *end) {
  *begin = total * (size_t)t / (size_t)n;
  *end = total * (size_t)(t + 1) / (size_t)n;
}

static int threads_for(vg_backend *be, size_t values) {
  return values < PARALLEL_MIN ? 1 : threads_of(be);
}

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

/* A wrapped tensor's priv marks its host data as not ours to free. */
static char wrapped_mark;

static vg_status cpu_tensor_wrap(vg_backend *be, vg_tensor *t, const void *data) {
  (void)be;
  t->host = (void *)data; /* read only: weights are never an op's output */
  t->priv = &wrapped_mark;
  return VG_OK;
}

static void cpu_tensor_release(vg_backend *be, vg_tensor *t) {
  (void)be;
  if (t->priv != &wrapped_mark)
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

/* Where the blocked GEMM (vg_gemm.c) cannot run on this CPU, OpenBLAS does the
 * matmul, and F16 weights are first widened to F32 for it. */
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
  if (vg_gemm_available()) {
    const vg_gemm_args g = {.m = (int)a->rows,
                            .n = (int)w->rows,
                            .k = (int)a->cols,
                            .a = f32(a),
                            .lda = a->cols,
                            .w = w->host,
                            .ldw = w->cols,
                            .w_f16 = w->dtype == VG_F16,
                            .bias = bias ? f32(bias) : NULL,
                            .out = f32(out),
                            .ldo = out->cols};
    vg_gemm(&g, threads_of(be));
    return VG_OK;
  }
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

typedef struct ln_job {
  const vg_tensor *x, *gamma, *beta;
  vg_tensor *out;
  float eps;
} ln_job;

static void ln_rows(void *ctx, int t, int n) {
  const ln_job *j = ctx;
  const int64_t cols = j->x->cols;
  size_t begin, end;
  share((size_t)j->x->rows, t, n, &begin, &end);
  for (size_t r = begin; r < end; r++) {
    const float *xr = f32(j->x) + r * cols;
    float *yr = f32(j->out) + r * cols;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < cols; i++)
      mean += xr[i];
    mean /= (double)cols;
    for (int64_t i = 0; i < cols; i++)
      var += (xr[i] - mean) * (xr[i] - mean);
    var /= (double)cols;
    const float inv = (float)(1.0 / sqrt(var + j->eps));
    for (int64_t i = 0; i < cols; i++)
      yr[i] = ((float)(xr[i] - mean)) * inv * f32(j->gamma)[i] + f32(j->beta)[i];
  }
}

static vg_status cpu_layer_norm(vg_backend *be, vg_tensor *out, const vg_tensor *x,
                                const vg_tensor *gamma, const vg_tensor *beta, float eps) {
  ln_job j = {.x = x, .gamma = gamma, .beta = beta, .out = out, .eps = eps};
  vg_parallel(threads_for(be, (size_t)x->rows * (size_t)x->cols), ln_rows, &j);
  return VG_OK;
}

typedef struct act_job {
  float *v;
  size_t n;
  vg_activation act;
  float alpha;
} act_job;

static void act_range(void *ctx, int t, int n) {
  const act_job *j = ctx;
  size_t begin, end;
  share(j->n, t, n, &begin, &end);
  float *v = j->v;
  switch (j->act) {
  case VG_ACT_GELU:
    for (size_t i = begin; i < end; i++)
      v[i] = 0.5f * v[i] * (1.0f + erff(v[i] * (float)M_SQRT1_2));
    break;
  case VG_ACT_QUICK_GELU:
    for (size_t i = begin; i < end; i++)
      v[i] = v[i] / (1.0f + expf(-1.702f * v[i]));
    break;
  case VG_ACT_LEAKY_RELU:
    for (size_t i = begin; i < end; i++)
      v[i] = v[i] < 0.0f ? j->alpha * v[i] : v[i];
    break;
  }
}

static vg_status cpu_activation(vg_backend *be, vg_tensor *x, vg_activation act, float alpha) {
  act_job j = {.v = f32(x), .n = (size_t)x->rows * (size_t)x->cols, .act = act, .alpha = alpha};
  vg_parallel(threads_for(be, j.n), act_range, &j);
  return VG_OK;
}

static vg_status cpu_add_scaled(vg_backend *be, vg_tensor *out, const vg_tensor *a, float alpha,
                                const vg_tensor *b, float beta) {
  (void)be; /* memory bound: one thread is as fast */
  const size_t n = (size_t)out->rows * (size_t)out->cols;
  const float *av = f32(a), *bv = f32(b);
  float *ov = f32(out);
  for (size_t i = 0; i < n; i++)
    ov[i] = alpha * av[i] + beta * bv[i];
  return VG_OK;
}

/* In place: row i of scores[t, t] becomes softmax(row * scale) over its
 * first `valid` entries (i + 1 when causal), zero after. */
static void softmax_rows(float *scores, int t, float scale, int causal) {
  for (int i = 0; i < t; i++) {
    float *row = scores + (size_t)i * t;
    const int valid = causal ? i + 1 : t;
    float mx = -INFINITY, sum = 0.0f;
    for (int j = 0; j < valid; j++)
      mx = fmaxf(mx, row[j] *= scale);
    for (int j = 0; j < valid; j++)
      sum += row[j] = expf(row[j] - mx);
    const float inv = 1.0f / sum;
    for (int j = 0; j < valid; j++)
      row[j] *= inv;
    for (int j = valid; j < t; j++)
      row[j] = 0.0f;
  }
}

typedef struct attn_job {
  vg_tensor *out;
  const vg_tensor *qkv;
  int heads, causal, seqs, tok; /* tok: rows per sequence */
  float *scores;                /* [threads][tok * tok] */
} attn_job;

/* Work item i is head i % heads of sequence i / heads: the pointers to its
 * Q (K and V follow at +d, +2d) and to its output columns. */
static void attn_item(const attn_job *j, int i, const float **q, float **o) {
  const int d = (int)j->out->cols, hd = d / j->heads, seq = i / j->heads, h = i % j->heads;
  const size_t row = (size_t)seq * j->tok;
  *q = f32(j->qkv) + row * 3 * d + h * hd;
  *o = f32(j->out) + row * d + h * hd;
}

/* Items t, t + n, ...: scores = Q K^T (one T x T block per thread, never
 * more), softmax, then scores V into the head's columns of out. */
static void attn_heads(void *ctx, int t, int n) {
  attn_job *j = ctx;
  const int tok = j->tok, d = (int)j->out->cols, hd = d / j->heads;
  float *scores = j->scores + (size_t)t * tok * tok;
  const float scale = 1.0f / sqrtf((float)hd);
  for (int i = t; i < j->heads * j->seqs; i += n) {
    const float *q;
    float *o;
    attn_item(j, i, &q, &o);
    const float *k = q + d, *v = q + 2 * d;
    const vg_gemm_args qk = {.m = tok,
                             .n = tok,
                             .k = hd,
                             .a = q,
                             .lda = 3 * d,
                             .w = k,
                             .ldw = 3 * d,
                             .out = scores,
                             .ldo = tok};
    vg_gemm(&qk, 1);
    softmax_rows(scores, tok, scale, j->causal);
    const vg_gemm_args pv = {.m = tok,
                             .n = hd,
                             .k = tok,
                             .a = scores,
                             .lda = tok,
                             .w = v,
                             .ldw = 3 * d,
                             .w_kn = 1,
                             .out = o,
                             .ldo = d};
    vg_gemm(&pv, 1);
  }
}

/* Fallback without the own GEMM: one head at a time through OpenBLAS. */
static void attn_openblas(attn_job *j) {
  const int t = j->tok, d = (int)j->out->cols, hd = d / j->heads, ld = 3 * d;
  const float scale = 1.0f / sqrtf((float)hd);
  for (int i = 0; i < j->heads * j->seqs; i++) {
    const float *q;
    float *o;
    attn_item(j, i, &q, &o);
    const float *k = q + d, *v = q + 2 * d;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, t, hd, 1.0f, q, ld, k, ld, 0.0f,
                j->scores, t);
    softmax_rows(j->scores, t, scale, j->causal);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, hd, t, 1.0f, j->scores, t, v, ld,
                0.0f, o, d);
  }
}

static vg_status cpu_attention(vg_backend *be, vg_tensor *out, const vg_tensor *qkv, int heads,
                               int causal, int seqs) {
  const int t = (int)(out->rows / seqs), items = heads * seqs;
  const int n = vg_gemm_available() ? (threads_of(be) < items ? threads_of(be) : items) : 1;
  attn_job j = {.out = out, .qkv = qkv, .heads = heads, .causal = causal, .seqs = seqs, .tok = t};
  j.scores = malloc((size_t)n * (size_t)t * (size_t)t * sizeof *j.scores);
  if (!j.scores)
    return vg_fail(VG_ERR_NOMEM, "attention: no memory for %d x %d x %d scores", n, t, t);
  if (vg_gemm_available())
    vg_parallel(n, attn_heads, &j);
  else
    attn_openblas(&j);
  free(j.scores);
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

/* conv1 with stride = kernel as rows of (channel, ky, kx) pixels; a kernel
 * row is contiguous in the image, hence one copy per (patch, ch, ky). */
static vg_status cpu_patch_rows(vg_backend *be, vg_tensor *out, const vg_tensor *images, int side,
                                int patch) {
  (void)be;
  const int64_t g = side / patch, c = images->rows / (3LL * side), k = 3LL * patch * patch;
  const float *in = f32(images);
  float *rows = f32(out);
  for (int64_t b = 0; b < c; b++)
    for (int64_t gy = 0; gy < g; gy++)
      for (int64_t gx = 0; gx < g; gx++) {
        float *row = rows + ((b * g + gy) * g + gx) * k;
        for (int64_t ch = 0; ch < 3; ch++)
          for (int64_t ky = 0; ky < patch; ky++)
            memcpy(row + (ch * patch + ky) * patch,
                   in + ((b * 3 + ch) * side + gy * patch + ky) * side + gx * patch,
                   (size_t)patch * sizeof *row);
      }
  return VG_OK;
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
    .upsample_bilinear = vg_cpu_upsample,
    .softmax_pick = vg_cpu_softmax_pick,
    .row_mean = vg_cpu_row_mean,
    .min_distance = vg_cpu_min_distance,
    .patch_rows = cpu_patch_rows,
    .tensor_wrap = cpu_tensor_wrap,
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
  cpu->threads = openblas_get_num_threads();
  snprintf(cpu->base.device_name, sizeof cpu->base.device_name, "CPU (%s GEMM, %d threads)",
           vg_gemm_available() ? vg_gemm_kind() : "OpenBLAS", cpu->threads);
  return &cpu->base;
}
