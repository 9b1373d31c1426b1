/* The CPU backend's element-wise kernels, written once with GCC vector
 * extensions and compiled twice (model/meson.build): VG_VEC_W = 16 lanes with
 * -mavx512f, 8 lanes with -mavx2 -mfma. vg_vec.c picks one at run time; its
 * plain C versions are the reference the tests hold these to. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vg_vec.h"

#ifndef VG_VEC_W
#error "VG_VEC_W (lanes) and VG_VEC_SUFFIX must be defined by the build"
#endif

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define NAME(f) CAT(f, VG_VEC_SUFFIX)
#define W VG_VEC_W

typedef float vf __attribute__((vector_size(W * 4)));
typedef int vi __attribute__((vector_size(W * 4)));
/* Unaligned, aliasing-safe views for loads and stores. */
typedef float vfu __attribute__((vector_size(W * 4), aligned(4), may_alias));

static inline vf load(const float *p) {
  return *(const vfu *)p;
}

static inline void store(float *p, vf v) {
  *(vfu *)p = v;
}

/* (vf){0} + x would turn -0 into +0. */
static inline vf splat(float x) {
  vf v;
  for (int i = 0; i < W; i++)
    v[i] = x;
  return v;
}

static inline vf pick(vi mask, vf yes, vf no) {
  return (vf)(((vi)yes & mask) | ((vi)no & ~mask));
}

static inline vf vmax(vf a, vf b) {
  return pick(a > b, a, b);
}

static inline vf vmin(vf a, vf b) {
  return pick(a < b, a, b);
}

static inline float hsum(vf v) {
  float s = 0;
  for (int i = 0; i < W; i++)
    s += v[i];
  return s;
}

static inline float hmax(vf v) {
  float m = v[0];
  for (int i = 1; i < W; i++)
    m = v[i] > m ? v[i] : m;
  return m;
}

/* e^x to ~2 ulp (Cephes' expf): x = n ln2 + r, |r| <= ln2 / 2, then 2^n
 * through the exponent bits. Clamped so 2^n stays a normal float. */
static inline vf vexp(vf x) {
  x = vmin(vmax(x, splat(-87.0f)), splat(88.0f));
  const vf magic = splat(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */
  const vf n = (x * 1.44269504088896341f + magic) - magic;
  const vf r = x - n * 0.693359375f - n * -2.12194440e-4f;
  vf p = splat(1.9875691500E-4f);
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  const vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
  return p * (vf)bits;
}

/* erf as in shaders/activation.comp (tools/fit-erf.py): five pieces chosen
 * per lane by k = min(floor |x|, 4): k = 0 is |x| * P(2 x^2 - 1), k = 1..3 is
 * P_k(2 |x| - 2 k - 1), k = 4 is 1. Each Horner coefficient is looked up from
 * a table of the five pieces with one shuffle. */
#define ERF_TERMS 14
/* A lookup table of the five pieces, the last repeated over the other lanes;
 * static constants, so a call on a few values (the GEMM epilogue's 32) pays
 * nothing to set them up. */
#if W == 16
#define T(a, b, c, d, e)                                                                           \
  { a, b, c, d, e, e, e, e, e, e, e, e, e, e, e, e }
#else
#define T(a, b, c, d, e)                                                                           \
  { a, b, c, d, e, e, e, e }
#endif
static const vf erf_coef[ERF_TERMS] = {
    T(9.654687387e-01f, 9.661051465e-01f, 9.995930480e-01f, 9.999992569e-01f, 1.0f),
    T(-1.405360890e-01f, 5.946514461e-02f, 1.089142115e-03f, 2.699713390e-06f, 0),
    T(1.985249669e-02f, -4.459885845e-02f, -1.361427644e-03f, -4.724498193e-06f, 0),
    T(-2.285485561e-03f, 1.734400051e-02f, 1.043761194e-03f, 5.286938685e-06f, 0),
    T(2.175171631e-04f, -2.787428807e-03f, -5.388984424e-04f, -4.232365987e-06f, 0),
    T(-1.753716969e-05f, -4.645714412e-04f, 1.911671280e-04f, 2.566134089e-06f, 0),
    T(1.223362830e-06f, 3.019723549e-04f, -4.372641369e-05f, -1.214742240e-06f, 0),
    T(-7.511494005e-08f, -3.705511178e-05f, 4.237600649e-06f, 4.546300281e-07f, 0),
    T(4.138645693e-09f, -9.231831555e-06f, 1.018269280e-06f, -1.338442682e-07f, 0),
    T(-2.044316716e-10f, 3.339520532e-06f, -4.889015932e-07f, 2.994408581e-08f, 0),
    T(0, -8.687261145e-08f, 7.690085470e-08f, -4.522913092e-09f, 0),
    T(0, -1.242923255e-07f, 2.600700100e-09f, 2.164922210e-10f, 0),
    T(0, 1.611460578e-08f, -3.391741237e-09f, 1.148318266e-10f, 0),
    T(0, 2.235797833e-09f, 5.051593429e-10f, -3.689949933e-11f, 0),
};
/* u = (sq t + lin) t + off; the result is multiplied by mul_t t + mul_1. */
static const vf erf_sq = T(2, 0, 0, 0, 0), erf_lin = T(0, 2, 2, 2, 0),
                erf_off = T(-1, -3, -5, -7, 0), erf_mul_t = T(1, 0, 0, 0, 0),
                erf_mul_1 = T(0, 1, 1, 1, 1);
#undef T

static inline vf shuffle(vf t, vi k) {
  return __builtin_shuffle(t, k);
}

static inline vf verf(vf x) {
  const vi sign = (vi)x & ((vi){0} + (int)0x80000000u);
  const vf t = (vf)((vi)x ^ sign);
  vi k = __builtin_convertvector(vmin(t, splat(4.0f)), vi); /* truncation is floor here */
  const vf u = (shuffle(erf_sq, k) * t + shuffle(erf_lin, k)) * t + shuffle(erf_off, k);
  vf r = shuffle(erf_coef[ERF_TERMS - 1], k);
  for (int i = ERF_TERMS - 2; i >= 0; i--)
    r = r * u + shuffle(erf_coef[i], k);
  r *= shuffle(erf_mul_t, k) * t + shuffle(erf_mul_1, k);
  return (vf)((vi)r | sign);
}

static inline vf gelu(vf x) {
  return 0.5f * x * (1.0f + verf(x * 0.70710678118654752f));
}

static inline vf quick_gelu(vf x) {
  return x / (1.0f + vexp(x * -1.702f));
}

/* Runs `body` over v[0, n) a vector at a time; the tail goes through a
 * zero-padded copy so every lane computes on a finite value. */
#define EACH_VECTOR(v, n, x, body)                                                                 \
  do {                                                                                             \
    size_t i_ = 0;                                                                                 \
    for (; i_ + W <= (n); i_ += W) {                                                               \
      vf x = load((v) + i_);                                                                       \
      body;                                                                                        \
      store((v) + i_, x);                                                                          \
    }                                                                                              \
    if (i_ < (n)) {                                                                                \
      float tail_[W] = {0};                                                                        \
      memcpy(tail_, (v) + i_, ((n)-i_) * sizeof(float));                                           \
      vf x = load(tail_);                                                                          \
      body;                                                                                        \
      store(tail_, x);                                                                             \
      memcpy((v) + i_, tail_, ((n)-i_) * sizeof(float));                                           \
    }                                                                                              \
  } while (0)

void NAME(vg_vec_act)(float *v, size_t n, vg_activation act, float alpha) {
  if (act == VG_ACT_GELU)
    EACH_VECTOR(v, n, x, x = gelu(x));
  else if (act == VG_ACT_QUICK_GELU)
    EACH_VECTOR(v, n, x, x = quick_gelu(x));
  else
    EACH_VECTOR(v, n, x, x = pick(x < 0.0f, x * alpha, x));
}

/* Sum of a row, four accumulators deep; when `add` is set, x += add first
 * (the residual), in the same pass. */
static float row_sum(float *x, const float *add, int n) {
  vf s[4] = {{0}};
  int i = 0;
  for (; i + 4 * W <= n; i += 4 * W)
    for (int u = 0; u < 4; u++) {
      vf v = load(x + i + u * W);
      if (add) {
        v += load(add + i + u * W);
        store(x + i + u * W, v);
      }
      s[u] += v;
    }
  float sum = hsum((s[0] + s[1]) + (s[2] + s[3]));
  for (; i < n; i++) {
    if (add)
      x[i] += add[i];
    sum += x[i];
  }
  return sum;
}

static float row_sq_dev(const float *x, float mean, int n) {
  vf s = {0};
  int i = 0;
  for (; i + W <= n; i += W) {
    const vf d = load(x + i) - mean;
    s += d * d;
  }
  float sum = hsum(s);
  for (; i < n; i++)
    sum += (x[i] - mean) * (x[i] - mean);
  return sum;
}

void NAME(vg_vec_layer_norm)(float *x, const float *add, float *y, const float *gamma,
                             const float *beta, int n, float eps) {
  const float mean = row_sum(x, add, n) / (float)n;
  const float inv = 1.0f / __builtin_sqrtf(row_sq_dev(x, mean, n) / (float)n + eps);
  int i = 0;
  for (; i + W <= n; i += W)
    store(y + i, (load(x + i) - mean) * inv * load(gamma + i) + load(beta + i));
  for (; i < n; i++)
    y[i] = (x[i] - mean) * inv * gamma[i] + beta[i];
}

float NAME(vg_vec_softmax_exp)(float *row, int valid, int total, float scale) {
  vf mx = splat(-3.0e38f);
  int i = 0;
  for (; i + W <= valid; i += W)
    mx = vmax(mx, load(row + i));
  float m = hmax(mx);
  for (; i < valid; i++)
    m = row[i] > m ? row[i] : m;
  const vf ms = splat(m * scale);
  vf s = {0};
  for (i = 0; i + W <= valid; i += W) {
    const vf e = vexp(load(row + i) * scale - ms);
    store(row + i, e);
    s += e;
  }
  float sum = hsum(s);
  if (i < valid) { /* the tail: lanes past `valid` get exp(-87), never stored */
    float tail[W];
    for (int j = 0; j < W; j++)
      tail[j] = i + j < valid ? (row[i + j] - m) * scale : -87.0f;
    const vf e = vexp(load(tail));
    for (int j = 0; i + j < valid; j++)
      sum += row[i + j] = e[j];
  }
  for (i = valid; i < total; i++)
    row[i] = 0.0f;
  return sum;
}

void NAME(vg_vec_scale)(float *dst, const float *src, int n, float s) {
  int i = 0;
  for (; i + W <= n; i += W)
    store(dst + i, load(src + i) * s);
  for (; i < n; i++)
    dst[i] = src[i] * s;
}

/* Interleaving row i with row i + W/2, low halves then high halves, log2 W
 * times over W rows transposes them (a perfect shuffle per round). */
#if W == 16
#define LO                                                                                         \
  { 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23 }
#define HI                                                                                         \
  { 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31 }
#else
#define LO                                                                                         \
  { 0, 8, 1, 9, 2, 10, 3, 11 }
#define HI                                                                                         \
  { 4, 12, 5, 13, 6, 14, 7, 15 }
#endif

static void transpose_block(const float *src, int64_t lds, float *dst, int64_t ldd) {
  const vi lo = LO, hi = HI;
  vf v[W], t[W];
  for (int r = 0; r < W; r++)
    v[r] = load(src + r * lds);
  for (int round = 1; round < W; round *= 2) {
    for (int i = 0; i < W / 2; i++) {
      t[2 * i] = __builtin_shuffle(v[i], v[i + W / 2], lo);
      t[2 * i + 1] = __builtin_shuffle(v[i], v[i + W / 2], hi);
    }
    memcpy(v, t, sizeof v);
  }
  for (int c = 0; c < W; c++)
    store(dst + c * ldd, v[c]);
}

void NAME(vg_vec_transpose)(const float *src, int64_t lds, int rows, int cols, float *dst,
                            int64_t ldd) {
  const int rb = rows / W * W, cb = cols / W * W;
  for (int r = 0; r < rb; r += W)
    for (int c = 0; c < cb; c += W)
      transpose_block(src + r * lds + c, lds, dst + c * ldd + r, ldd);
  for (int r = 0; r < rows; r++) /* the edges */
    for (int c = r < rb ? cb : 0; c < cols; c++)
      dst[c * ldd + r] = src[r * lds + c];
}
