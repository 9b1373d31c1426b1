#include "vg_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Rows * cols * 4 bytes must stay well inside size_t and sane memory. */
#define VG_MAX_ELEMENTS ((int64_t)1 << 34)

size_t vg_dtype_size(vg_dtype dtype) {
  return dtype == VG_F16 || dtype == VG_BF16 ? 2 : 4;
}

size_t vg_tensor_bytes(const vg_tensor *t) {
  return (size_t)t->rows * (size_t)t->cols * vg_dtype_size(t->dtype);
}

/* A tensor header for the backend, its memory allocated there or, with
 * `wrap`, the caller's data taken as it lies (tensor_wrap). */
static vg_tensor *make_tensor(vg_backend *be, vg_dtype dtype, int64_t rows, int64_t cols,
                              const void *wrap) {
  if (!be || rows <= 0 || cols <= 0 || rows > VG_MAX_ELEMENTS / cols) {
    vg_fail(VG_ERR_ARG, "cannot make a %lld x %lld tensor", (long long)rows, (long long)cols);
    return NULL;
  }
  vg_tensor *t = calloc(1, sizeof *t);
  if (!t) {
    vg_fail(VG_ERR_NOMEM, "out of memory for a tensor header");
    return NULL;
  }
  *t = (vg_tensor){.backend = be, .dtype = dtype, .rows = rows, .cols = cols};
  const vg_status s = wrap ? be->ops->tensor_wrap(be, t, wrap) : be->ops->tensor_alloc(be, t);
  if (s != VG_OK) {
    free(t);
    return NULL;
  }
  return t;
}

vg_tensor *vg_tensor_new(vg_backend *be, vg_dtype dtype, int64_t rows, int64_t cols) {
  return make_tensor(be, dtype, rows, cols, NULL);
}

vg_tensor *vg_tensor_wrap(vg_backend *be, vg_dtype dtype, int64_t rows, int64_t cols,
                          const void *data) {
  if (!be || !data || !be->ops->tensor_wrap) {
    vg_tensor *t = data ? vg_tensor_new(be, dtype, rows, cols) : NULL;
    if (t && vg_tensor_upload(t, data) != VG_OK)
      vg_tensor_free(t), t = NULL;
    return t;
  }
  return make_tensor(be, dtype, rows, cols, data);
}

void vg_tensor_free(vg_tensor *t) {
  if (!t)
    return;
  t->backend->ops->tensor_release(t->backend, t);
  free(t);
}

vg_status vg_tensor_upload(vg_tensor *t, const void *src) {
  if (!t || !src)
    return vg_fail(VG_ERR_ARG, "upload: NULL tensor or source");
  vg_status s = t->backend->ops->upload(t->backend, t, src);
  if (s == VG_OK)
    t->backend->uploaded_bytes += (int64_t)vg_tensor_bytes(t);
  return s;
}

vg_status vg_tensor_download(const vg_tensor *t, void *dst) {
  if (!t || !dst)
    return vg_fail(VG_ERR_ARG, "download: NULL tensor or destination");
  vg_status s = t->backend->ops->download(t->backend, t, dst);
  if (s == VG_OK)
    t->backend->downloaded_bytes += (int64_t)vg_tensor_bytes(t);
  return s;
}

vg_status vg_tensors_download(int n, const vg_tensor *const *t, void *const *dst) {
  if (n < 0 || (n > 0 && (!t || !dst)))
    return vg_fail(VG_ERR_ARG, "download: bad tensor list");
  const vg_tensor *ts[64];
  void *ds[64];
  int m = 0;
  for (int i = 0; i < n; i++) {
    if (!dst[i])
      continue;
    if (!t[i] || t[i]->backend != t[0]->backend)
      return vg_fail(VG_ERR_ARG, "download: tensor %d is missing or on another backend", i);
    if (m == 64) { /* more than one batch holds: do these now */
      vg_status s = vg_tensors_download(m, ts, ds);
      if (s != VG_OK)
        return s;
      m = 0;
    }
    ts[m] = t[i], ds[m++] = dst[i];
  }
  if (m == 0)
    return VG_OK;
  vg_backend *be = ts[0]->backend;
  vg_status s = VG_OK;
  if (be->ops->download_many)
    s = be->ops->download_many(be, m, ts, ds);
  for (int i = 0; !be->ops->download_many && s == VG_OK && i < m; i++)
    s = be->ops->download(be, ts[i], ds[i]);
  for (int i = 0; s == VG_OK && i < m; i++)
    be->downloaded_bytes += (int64_t)vg_tensor_bytes(ts[i]);
  return s;
}

/* Checks that a tensor exists, is F32 unless `any_dtype`, has the given shape
 * (-1 = any) and belongs to `be`. */
static vg_status check(const char *op, const char *name, const vg_tensor *t, vg_backend *be,
                       int64_t rows, int64_t cols, int any_dtype) {
  if (!t)
    return vg_fail(VG_ERR_ARG, "%s: tensor '%s' is missing", op, name);
  if (t->backend != be)
    return vg_fail(VG_ERR_ARG, "%s: tensor '%s' belongs to another backend", op, name);
  if (!any_dtype && t->dtype != VG_F32)
    return vg_fail(VG_ERR_ARG, "%s: tensor '%s' must be F32", op, name);
  if ((rows >= 0 && t->rows != rows) || (cols >= 0 && t->cols != cols))
    return vg_fail(VG_ERR_ARG, "%s: tensor '%s' is %lld x %lld, expected %lld x %lld", op, name,
                   (long long)t->rows, (long long)t->cols, (long long)rows, (long long)cols);
  return VG_OK;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* Labels the op for the backend and counts it; returns the wall-clock start
 * where the backend has no device timing of its own. */
static double op_begin(vg_backend *be, vg_op_kind kind, double flops) {
  be->op = kind;
  if (!be->profile)
    return 0;
  be->profile->op[kind].calls++;
  be->profile->op[kind].flops += flops;
  return be->ops->profile ? 0 : now_ms();
}

static vg_status op_end(vg_backend *be, vg_op_kind kind, double t0, vg_status s) {
  if (be->profile && !be->ops->profile)
    be->profile->op[kind].ms += now_ms() - t0;
  be->op = VG_OP_OTHER;
  return s;
}

#define RUN(be, kind, flops, call)                                                                 \
  do {                                                                                             \
    const double t0_ = op_begin(be, kind, flops);                                                  \
    return op_end(be, kind, t0_, (call));                                                          \
  } while (0)

#define TRY(expr)                                                                                  \
  do {                                                                                             \
    vg_status s_ = (expr);                                                                         \
    if (s_ != VG_OK)                                                                               \
      return s_;                                                                                   \
  } while (0)

#define CHECK(...) TRY(check(__VA_ARGS__))

static vg_status matmul_check(const vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                              const vg_tensor *bias) {
  if (!out || !a || !w)
    return vg_fail(VG_ERR_ARG, "matmul: missing tensor");
  vg_backend *be = out->backend;
  CHECK("matmul", "a", a, be, -1, -1, 0);
  CHECK("matmul", "w", w, be, -1, a->cols, 1);
  CHECK("matmul", "out", out, be, a->rows, w->rows, 0);
  if (bias)
    CHECK("matmul", "bias", bias, be, 1, w->rows, 0);
  return VG_OK;
}

static double matmul_flops(const vg_tensor *a, const vg_tensor *w) {
  return 2.0 * (double)a->rows * (double)w->rows * (double)a->cols;
}

vg_status vg_matmul(vg_tensor *out, const vg_tensor *a, const vg_tensor *w, const vg_tensor *bias) {
  TRY(matmul_check(out, a, w, bias));
  vg_backend *be = out->backend;
  RUN(be, VG_OP_MATMUL, matmul_flops(a, w), be->ops->matmul(be, out, a, w, bias));
}

static vg_status layer_norm_check(const vg_tensor *out, const vg_tensor *x, const vg_tensor *gamma,
                                  const vg_tensor *beta, float eps) {
  if (!out || !x)
    return vg_fail(VG_ERR_ARG, "layer_norm: missing tensor");
  vg_backend *be = out->backend;
  CHECK("layer_norm", "x", x, be, -1, -1, 0);
  CHECK("layer_norm", "out", out, be, x->rows, x->cols, 0);
  CHECK("layer_norm", "gamma", gamma, be, 1, x->cols, 0);
  CHECK("layer_norm", "beta", beta, be, 1, x->cols, 0);
  if (!(eps > 0.0f))
    return vg_fail(VG_ERR_ARG, "layer_norm: eps must be positive");
  return VG_OK;
}

vg_status vg_layer_norm(vg_tensor *out, const vg_tensor *x, const vg_tensor *gamma,
                        const vg_tensor *beta, float eps) {
  TRY(layer_norm_check(out, x, gamma, beta, eps));
  vg_backend *be = out->backend;
  RUN(be, VG_OP_LAYER_NORM, 0, be->ops->layer_norm(be, out, x, gamma, beta, eps));
}

static vg_status activation_check(const vg_tensor *x, vg_activation act) {
  if (!x)
    return vg_fail(VG_ERR_ARG, "activation: missing tensor");
  CHECK("activation", "x", x, x->backend, -1, -1, 0);
  if (act != VG_ACT_GELU && act != VG_ACT_QUICK_GELU && act != VG_ACT_LEAKY_RELU)
    return vg_fail(VG_ERR_ARG, "activation: unknown kind %d", (int)act);
  return VG_OK;
}

vg_status vg_activation_apply(vg_tensor *x, vg_activation act, float alpha) {
  TRY(activation_check(x, act));
  RUN(x->backend, VG_OP_ACTIVATION, 0, x->backend->ops->activation(x->backend, x, act, alpha));
}

vg_status vg_matmul_act(vg_tensor *out, const vg_tensor *a, const vg_tensor *w,
                        const vg_tensor *bias, vg_activation act, float alpha) {
  TRY(matmul_check(out, a, w, bias));
  TRY(activation_check(out, act));
  vg_backend *be = out->backend;
  if (!be->ops->matmul_act) {
    TRY(vg_matmul(out, a, w, bias));
    return vg_activation_apply(out, act, alpha);
  }
  RUN(be, VG_OP_MATMUL, matmul_flops(a, w), be->ops->matmul_act(be, out, a, w, bias, act, alpha));
}

vg_status vg_add_layer_norm(vg_tensor *x, const vg_tensor *y, vg_tensor *out,
                            const vg_tensor *gamma, const vg_tensor *beta, float eps) {
  TRY(layer_norm_check(out, x, gamma, beta, eps));
  vg_backend *be = out->backend;
  CHECK("add_layer_norm", "y", y, be, x->rows, x->cols, 0);
  if (!be->ops->add_layer_norm) {
    TRY(vg_add_scaled(x, x, 1.0f, y, 1.0f));
    return vg_layer_norm(out, x, gamma, beta, eps);
  }
  RUN(be, VG_OP_LAYER_NORM, 0, be->ops->add_layer_norm(be, x, y, out, gamma, beta, eps));
}

vg_status vg_add_scaled(vg_tensor *out, const vg_tensor *a, float alpha, const vg_tensor *b,
                        float beta) {
  if (!out)
    return vg_fail(VG_ERR_ARG, "add_scaled: missing output");
  vg_backend *be = out->backend;
  CHECK("add_scaled", "a", a, be, out->rows, out->cols, 0);
  CHECK("add_scaled", "b", b, be, out->rows, out->cols, 0);
  CHECK("add_scaled", "out", out, be, -1, -1, 0);
  RUN(be, VG_OP_ADD, 0, be->ops->add_scaled(be, out, a, alpha, b, beta));
}

vg_status vg_attention(vg_tensor *out, const vg_tensor *qkv, int heads, int causal) {
  return vg_attention_batched(out, qkv, heads, causal, 1);
}

vg_status vg_attention_batched(vg_tensor *out, const vg_tensor *qkv, int heads, int causal,
                               int seqs) {
  if (!out || !qkv)
    return vg_fail(VG_ERR_ARG, "attention: missing tensor");
  vg_backend *be = out->backend;
  CHECK("attention", "out", out, be, -1, -1, 0);
  CHECK("attention", "qkv", qkv, be, out->rows, 3 * out->cols, 0);
  if (heads <= 0 || out->cols % heads != 0)
    return vg_fail(VG_ERR_ARG, "attention: width %lld is not divisible into %d heads",
                   (long long)out->cols, heads);
  if (seqs <= 0 || out->rows % seqs != 0)
    return vg_fail(VG_ERR_ARG, "attention: %lld rows do not split into %d sequences",
                   (long long)out->rows, seqs);
  /* Q K^T and P V per sequence (causal masks are counted in full). */
  const double t = (double)(out->rows / seqs);
  const double flops = 4.0 * seqs * t * t * (double)out->cols;
  RUN(be, VG_OP_ATTENTION, flops, be->ops->attention(be, out, qkv, heads, causal, seqs));
}

vg_status vg_copy_rows(vg_tensor *dst, int64_t dst_row, const vg_tensor *src, int64_t src_row,
                       int64_t rows) {
  if (!dst || !src)
    return vg_fail(VG_ERR_ARG, "copy_rows: missing tensor");
  vg_backend *be = dst->backend;
  CHECK("copy_rows", "dst", dst, be, -1, -1, 0);
  CHECK("copy_rows", "src", src, be, -1, dst->cols, 0);
  if (rows <= 0 || dst_row < 0 || src_row < 0 || dst_row + rows > dst->rows ||
      src_row + rows > src->rows)
    return vg_fail(VG_ERR_ARG, "copy_rows: rows [%lld, +%lld) -> [%lld, +%lld) out of range",
                   (long long)src_row, (long long)rows, (long long)dst_row, (long long)rows);
  RUN(be, VG_OP_COPY, 0, be->ops->copy_rows(be, dst, dst_row, src, src_row, rows));
}

vg_status vg_l2_normalize(vg_tensor *out, const vg_tensor *x, float eps) {
  if (!out || !x)
    return vg_fail(VG_ERR_ARG, "l2_normalize: missing tensor");
  vg_backend *be = out->backend;
  CHECK("l2_normalize", "x", x, be, -1, -1, 0);
  CHECK("l2_normalize", "out", out, be, x->rows, x->cols, 0);
  if (!(eps >= 0.0f))
    return vg_fail(VG_ERR_ARG, "l2_normalize: eps must not be negative");
  RUN(be, VG_OP_L2_NORMALIZE, 0, be->ops->l2_normalize(be, out, x, eps));
}

/* Sides up to 1 << 14: their products stay exact in float and int arithmetic. */
#define VG_MAX_SIDE (1 << 14)

vg_status vg_upsample(vg_tensor *out, const vg_tensor *x, int in_h, int in_w, int out_h,
                      int out_w) {
  if (!out || !x)
    return vg_fail(VG_ERR_ARG, "upsample: missing tensor");
  if (in_h < 1 || in_w < 1 || out_h < 1 || out_w < 1 || in_h > VG_MAX_SIDE || in_w > VG_MAX_SIDE ||
      out_h > VG_MAX_SIDE || out_w > VG_MAX_SIDE)
    return vg_fail(VG_ERR_ARG, "upsample: %dx%d -> %dx%d (sides 1 to %d)", in_h, in_w, out_h, out_w,
                   VG_MAX_SIDE);
  vg_backend *be = out->backend;
  CHECK("upsample", "x", x, be, -1, (int64_t)in_h * in_w, 0);
  CHECK("upsample", "out", out, be, x->rows, (int64_t)out_h * out_w, 0);
  RUN(be, VG_OP_SCORE, 0, be->ops->upsample_bilinear(be, out, x, in_h, in_w, out_h, out_w));
}

vg_status vg_patch_rows(vg_tensor *out, const vg_tensor *images, int side, int patch) {
  if (!out || !images)
    return vg_fail(VG_ERR_ARG, "patch_rows: missing tensor");
  if (patch < 1 || side < patch || side > VG_MAX_SIDE)
    return vg_fail(VG_ERR_ARG, "patch_rows: side %d, patch %d (need 1 <= patch <= side <= %d)",
                   side, patch, VG_MAX_SIDE);
  vg_backend *be = out->backend;
  CHECK("patch_rows", "images", images, be, -1, side, 0);
  const int64_t per_image = 3LL * side, g = side / patch;
  if (images->rows % per_image)
    return vg_fail(VG_ERR_ARG, "patch_rows: %lld image rows are not whole 3 x %d x %d images",
                   (long long)images->rows, side, side);
  CHECK("patch_rows", "out", out, be, images->rows / per_image * g * g, 3LL * patch * patch, 0);
  if (!be->ops->patch_rows)
    return vg_fail(VG_ERR_UNSUPPORTED, "patch_rows: not available on %s", be->device_name);
  RUN(be, VG_OP_PATCH_ROWS, 0, be->ops->patch_rows(be, out, images, side, patch));
}

vg_status vg_softmax_pick(vg_tensor *out, const vg_tensor *x, int pick) {
  if (!out || !x)
    return vg_fail(VG_ERR_ARG, "softmax_pick: missing tensor");
  vg_backend *be = out->backend;
  CHECK("softmax_pick", "x", x, be, -1, -1, 0);
  CHECK("softmax_pick", "out", out, be, 1, x->cols, 0);
  if (pick < 0 || pick >= x->rows)
    return vg_fail(VG_ERR_ARG, "softmax_pick: entry %d of %lld", pick, (long long)x->rows);
  RUN(be, VG_OP_SCORE, 0, be->ops->softmax_pick(be, out, x, pick));
}

vg_status vg_row_mean(vg_tensor *out, const vg_tensor *x) {
  if (!out || !x)
    return vg_fail(VG_ERR_ARG, "row_mean: missing tensor");
  vg_backend *be = out->backend;
  CHECK("row_mean", "x", x, be, -1, -1, 0);
  CHECK("row_mean", "out", out, be, x->rows, 1, 0);
  RUN(be, VG_OP_SCORE, 0, be->ops->row_mean(be, out, x));
}

vg_status vg_min_distance(vg_tensor *out, const vg_tensor *q, const vg_tensor *bank,
                          int64_t bank_rows) {
  if (!out || !q || !bank)
    return vg_fail(VG_ERR_ARG, "min_distance: missing tensor");
  vg_backend *be = out->backend;
  CHECK("min_distance", "q", q, be, -1, -1, 0);
  CHECK("min_distance", "bank", bank, be, -1, q->cols, 0);
  CHECK("min_distance", "out", out, be, 1, q->rows, 0);
  if (bank_rows < 1 || bank_rows > bank->rows)
    return vg_fail(VG_ERR_ARG, "min_distance: %lld bank rows of %lld", (long long)bank_rows,
                   (long long)bank->rows);
  const double flops = 2.0 * (double)q->rows * (double)bank_rows * (double)q->cols;
  RUN(be, VG_OP_SCORE, flops, be->ops->min_distance(be, out, q, bank, bank_rows));
}

vg_status vg_backend_synchronize(vg_backend *be) {
  if (!be)
    return vg_fail(VG_ERR_ARG, "synchronize: no backend");
  return be->ops->synchronize(be);
}

vg_status vg_backend_check_plan(vg_backend *be, const vg_tensor_plan *plan, size_t n) {
  if (!be || (n && !plan))
    return vg_fail(VG_ERR_ARG, "check_plan: no backend or plan");
  return be->ops->check_plan ? be->ops->check_plan(be, plan, n) : VG_OK;
}

void vg_backend_destroy(vg_backend *be) {
  if (be)
    be->ops->destroy(be);
}

const char *vg_op_kind_name(vg_op_kind kind) {
  static const char *names[VG_OP_KINDS] = {"other",      "matmul",    "attention", "layer_norm",
                                           "activation", "add",       "copy",      "l2_normalize",
                                           "score",      "patch_rows"};
  return kind >= 0 && kind < VG_OP_KINDS ? names[kind] : "other";
}

vg_status vg_backend_profile_begin(vg_backend *be, vg_profile *p) {
  if (!be || !p)
    return vg_fail(VG_ERR_ARG, "profile: no backend or profile");
  /* Work recorded before now must not land in the profile. */
  vg_status s = vg_backend_synchronize(be);
  if (s != VG_OK)
    return s;
  memset(p, 0, sizeof *p);
  if (!be->ops->profile) {
    p->clock = "wall clock";
    snprintf(p->note, sizeof p->note, "host wall clock around each op call");
  } else if ((s = be->ops->profile(be, p)) != VG_OK) {
    return s;
  }
  be->profile = p;
  return VG_OK;
}

vg_status vg_backend_profile_end(vg_backend *be) {
  if (!be || !be->profile)
    return vg_fail(VG_ERR_ARG, "profile: not profiling");
  vg_status s = vg_backend_synchronize(be); /* collects the last timestamps */
  if (be->ops->profile) {
    vg_status t = be->ops->profile(be, NULL);
    s = s != VG_OK ? s : t;
  }
  be->profile = NULL;
  return s;
}

uint16_t vg_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff) /* inf or nan */
    return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31)
    return (uint16_t)(sign | 0x7c00u);
  if (exp <= 0) { /* subnormal or zero */
    if (exp < -10)
      return (uint16_t)sign;
    mant |= 0x800000u;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1)))
      half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1)))
    half++; /* may carry into the exponent, which is still correct */
  return (uint16_t)half;
}

float vg_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else { /* normalise a subnormal */
      exp = 127 - 15 + 1;
      while (!(mant & 0x400u)) {
        mant <<= 1;
        exp--;
      }
      x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  memcpy(&f, &x, 4);
  return f;
}

uint16_t vg_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet, never round it to inf */
    return (uint16_t)((x >> 16) | 0x40u);
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

float vg_bf16_to_f32(uint16_t h) {
  const uint32_t x = (uint32_t)h << 16;
  float f;
  memcpy(&f, &x, 4);
  return f;
}
