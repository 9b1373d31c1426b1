#include "vg_cpu.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "vg_cpu_attn.h"
#include "vg_cpu_gemm.h"
#include "vg_cpu_score.h"
#include "vg_cpu_threads.h"
#include "vg_dnnl.h"
#include "vg_gemm.h"
#include "vg_vec.h"

typedef struct vg_cpu_backend {
  vg_backend base;
  vg_backend_ops ops;    /* cpu_ops, less the fused ones where VG_CPU_FUSE=0 */
  int threads;           /* for the GEMM, attention heads and element-wise loops */
  vg_cpu_gemm_kind gemm; /* the matmuls' kernel (vg_cpu_gemm.h) */
  int bf16;              /* BF16 tensors exist: every matmul goes to oneDNN */
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

/* BF16 tensors exist only where a BF16 matmul can run (check_plan says why
 * first, for a whole model). */
static vg_status bf16_refusal(const char *name) {
  const char *why = NULL;
  if (vg_dnnl_bf16(&why))
    return VG_OK;
  return vg_fail(VG_ERR_UNSUPPORTED,
                 "BF16 matmul weights ('%s') need a CPU with AMX-BF16 or "
                 "AVX512_BF16 and a build with oneDNN: %s; use F32 or F16",
                 name, why);
}

static vg_status cpu_check_plan(vg_backend *be, const vg_tensor_plan *plan, size_t n) {
  (void)be;
  for (size_t i = 0; i < n; i++)
    if (plan[i].dtype == VG_BF16)
      return bf16_refusal(plan[i].name);
  return VG_OK;
}

static vg_status cpu_tensor_alloc(vg_backend *be, vg_tensor *t) {
  if (t->dtype == VG_BF16 && bf16_refusal("a tensor") != VG_OK)
    return VG_ERR_UNSUPPORTED;
  /* With BF16 on oneDNN (OpenMP threads), the F32 matmuls (patches, adapters,
   * projections) go there too: OpenBLAS's workers busy-wait after each call
   * and would take the cores from oneDNN's. */
  ((vg_cpu_backend *)be)->bf16 |= t->dtype == VG_BF16;
  size_t bytes = vg_tensor_bytes(t);
  if (t->dtype == VG_BF16) { /* room for the packed layout (cpu_upload) */
    const size_t packed = vg_dnnl_bf16_packed_bytes((int)t->rows, (int)t->cols);
    bytes = packed > bytes ? packed : bytes;
  }
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

/* BF16 tensors are only matmul weights: they are kept in oneDNN's blocked
 * layout, packed here once rather than by oneDNN on every matmul. */
static vg_status cpu_upload(vg_backend *be, vg_tensor *t, const void *src) {
  (void)be;
  if (t->dtype == VG_BF16)
    return vg_dnnl_bf16_pack(src, (int)t->rows, (int)t->cols, t->host);
  memcpy(t->host, src, vg_tensor_bytes(t));
  return VG_OK;
}

static vg_status cpu_download(vg_backend *be, const vg_tensor *t, void *dst) {
  (void)be;
  if (t->dtype == VG_BF16)
    return vg_dnnl_bf16_unpack(t->host, (int)t->rows, (int)t->cols, dst);
  memcpy(dst, t->host, vg_tensor_bytes(t));
  return VG_OK;
}

/* The activation as a GEMM epilogue (vg_gemm_args.post). */
typedef struct act_arg {
  vg_activation act;
  float alpha;
} act_arg;

static void post_act(float *row, int n, const void *arg) {
  const act_arg *a = arg;
  vg_vec()->act(row, (size_t)n, a->act, a->alpha);
}

static vg_status cpu_activation(vg_backend *be, vg_tensor *x, vg_activation act, float alpha);

/* out = a w^T + bias on the chosen kernel (vg_cpu_gemm.h), then act(out)
 * when `post` is set: in the GEMM's epilogue with the own kernel, in a
 * post-op with oneDNN, as a second pass after OpenBLAS. */
static vg_status matmul_post(vg_backend *be, vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                             const vg_tensor *bias, const act_arg *post) {
  const vg_cpu_backend *cpu = (const vg_cpu_backend *)be;
  const vg_cpu_gemm_kind kind = cpu->bf16 ? VG_CPU_GEMM_DNNL : cpu->gemm;
  const int epilogue =
      post && kind == VG_CPU_GEMM_OWN && w->dtype != VG_BF16 && vg_gemm_available();
  const int post_op = post && vg_cpu_gemm_fuses_act(kind, w->dtype);
  const vg_gemm_args g = {.m = (int)a->rows,
                          .n = (int)w->rows,
                          .k = (int)a->cols,
                          .a = f32(a),
                          .lda = a->cols,
                          .w = w->host,
                          .ldw = w->cols,
                          .w_f16 = w->dtype == VG_F16,
                          .w_packed = w->dtype == VG_BF16,
                          .bias = bias ? f32(bias) : NULL,
                          .out = f32(out),
                          .ldo = out->cols,
                          .post = epilogue ? post_act : NULL,
                          .post_arg = post,
                          .act = post_op ? 1 + (int)post->act : 0,
                          .act_alpha = post ? post->alpha : 0};
  vg_status st = vg_cpu_gemm_run(kind, &g, w->dtype, threads_of(be));
  if (st != VG_OK || !post || epilogue || post_op)
    return st;
  return cpu_activation(be, out, post->act, post->alpha);
}

static vg_status cpu_matmul(vg_backend *be, vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                            const vg_tensor *bias) {
  return matmul_post(be, out, a, w, bias, NULL);
}

static vg_status cpu_matmul_act(vg_backend *be, vg_tensor *out, const vg_tensor *a,
                                const vg_tensor *w, const vg_tensor *bias, vg_activation act,
                                float alpha) {
  const act_arg post = {.act = act, .alpha = alpha};
  return matmul_post(be, out, a, w, bias, &post);
}

typedef struct ln_job {
  float *x;
  const float *add, *gamma, *beta;
  float *out;
  int64_t cols;
  size_t rows;
  float eps;
} ln_job;

static void ln_rows(void *ctx, int t, int n) {
  const ln_job *j = ctx;
  const vg_vec_ops *vec = vg_vec();
  size_t begin, end;
  share(j->rows, t, n, &begin, &end);
  for (size_t r = begin; r < end; r++)
    vec->layer_norm(j->x + r * j->cols, j->add ? j->add + r * j->cols : NULL, j->out + r * j->cols,
                    j->gamma, j->beta, (int)j->cols, j->eps);
}

/* out = layer_norm(x (+= add, when given)) row by row, on the threads. */
static vg_status layer_norm_run(vg_backend *be, const vg_tensor *x, const vg_tensor *add,
                                vg_tensor *out, const vg_tensor *gamma, const vg_tensor *beta,
                                float eps) {
  ln_job j = {.x = f32(x), /* only written when adding */
              .add = add ? f32(add) : NULL,
              .gamma = f32(gamma),
              .beta = f32(beta),
              .out = f32(out),
              .cols = x->cols,
              .rows = (size_t)x->rows,
              .eps = eps};
  vg_parallel(threads_for(be, j.rows * (size_t)j.cols), ln_rows, &j);
  return VG_OK;
}

static vg_status cpu_layer_norm(vg_backend *be, vg_tensor *out, const vg_tensor *x,
                                const vg_tensor *gamma, const vg_tensor *beta, float eps) {
  return layer_norm_run(be, x, NULL, out, gamma, beta, eps);
}

static vg_status cpu_add_layer_norm(vg_backend *be, vg_tensor *x, const vg_tensor *y,
                                    vg_tensor *out, const vg_tensor *gamma, const vg_tensor *beta,
                                    float eps) {
  return layer_norm_run(be, x, y, out, gamma, beta, eps);
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
  vg_vec()->act(j->v + begin, end - begin, j->act, j->alpha);
}

static vg_status cpu_activation(vg_backend *be, vg_tensor *x, vg_activation act, float alpha) {
  act_job j = {.v = f32(x), .n = (size_t)x->rows * (size_t)x->cols, .act = act, .alpha = alpha};
  vg_parallel(threads_for(be, j.n), act_range, &j);
  return VG_OK;
}

typedef struct add_job {
  float *out;
  const float *a, *b;
  float alpha, beta;
  size_t n;
} add_job;

static void add_range(void *ctx, int t, int n) {
  const add_job *j = ctx;
  size_t begin, end;
  share(j->n, t, n, &begin, &end);
  for (size_t i = begin; i < end; i++)
    j->out[i] = j->alpha * j->a[i] + j->beta * j->b[i];
}

/* On the threads too: a forward's 33 adds took 8.8 ms on one thread, 6.8 ms
 * on two (ViT-L/14, 2 cores). */
static vg_status cpu_add_scaled(vg_backend *be, vg_tensor *out, const vg_tensor *a, float alpha,
                                const vg_tensor *b, float beta) {
  add_job j = {.out = f32(out),
               .a = f32(a),
               .b = f32(b),
               .alpha = alpha,
               .beta = beta,
               .n = (size_t)out->rows * (size_t)out->cols};
  vg_parallel(threads_for(be, j.n), add_range, &j);
  return VG_OK;
}

static vg_status cpu_attention(vg_backend *be, vg_tensor *out, const vg_tensor *qkv, int heads,
                               int causal, int seqs) {
  return vg_cpu_attention_run(f32(out), f32(qkv), out->rows, (int)out->cols, heads, causal, seqs,
                              threads_of(be));
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
    .matmul_act = cpu_matmul_act,
    .add_layer_norm = cpu_add_layer_norm,
    .check_plan = cpu_check_plan,
    .tensor_wrap = cpu_tensor_wrap,
};

/* Our threads run every op when the own GEMM does (OpenBLAS then only sees
 * small calls, and must not start threads of its own beside ours); otherwise
 * OpenBLAS runs the GEMMs with the threads, and our loops run between them. */
vg_backend *vg_cpu_backend_new(int threads) {
  vg_cpu_backend *cpu = calloc(1, sizeof *cpu);
  if (!cpu) {
    vg_fail(VG_ERR_NOMEM, "out of memory for the CPU backend");
    return NULL;
  }
  cpu->ops = cpu_ops;
  const char *fuse = getenv("VG_CPU_FUSE");
  if (fuse && strcmp(fuse, "0") == 0) /* for measuring the fused ops against the plain ones */
    cpu->ops.matmul_act = NULL, cpu->ops.add_layer_norm = NULL;
  cpu->base.ops = &cpu->ops;
  cpu->base.kind = "cpu";
  cpu->threads = threads > 0 ? threads : vg_cpu_physical_cores();
  openblas_set_num_threads(cpu->threads); /* the probe times OpenBLAS as it would run */
  cpu->gemm = vg_cpu_gemm_choose(cpu->threads)->kind;
  /* No oversubscription: OpenBLAS runs single-threaded inside our pool's work
   * unless it does the matmuls itself. */
  openblas_set_num_threads(cpu->gemm == VG_CPU_GEMM_OPENBLAS ? cpu->threads : 1);
  /* e.g. "CPU (dnnl GEMM, avx512 attention, avx512 kernels, 2 threads)" */
  snprintf(cpu->base.device_name, sizeof cpu->base.device_name,
           "CPU (%s GEMM, %s attention, %s kernels, %d threads)", vg_cpu_gemm_name(cpu->gemm),
           vg_gemm_available() ? vg_gemm_kind() : "OpenBLAS", vg_vec()->kind, cpu->threads);
  return &cpu->base;
}

int vg_cpu_threads(const vg_backend *be) {
  return ((const vg_cpu_backend *)be)->threads;
}
