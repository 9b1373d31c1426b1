/* The whole MVFA image forward on the Vulkan backend (lavapipe) against the
 * CPU backend, on random models: the tiny preset and the mid one (width 256,
 * 4 blocks, 4 heads, 290 tokens: the real model's sequence length). Every
 * output is compared: pooled and all seg/det adapter tokens.
 *
 * Error measure: max |got - want| / max |want| per output.
 *  - F32 weights: within 1e-4 (only summation order differs).
 *  - F16 weights, Vulkan vs CPU with the same F16 weights: within 1e-4 (both
 *    widen the halves exactly, so this is the F32 case again).
 *  - F16 weights vs F32 weights (what F16 costs): each weight is rounded to
 *    11 significant bits, a relative error up to u = 2^-11 = 4.9e-4. The
 *    rounding errors are independent with random signs, so a dot product's
 *    relative error stays of order u rather than growing with K, and the
 *    LayerNorms rescale what the residual stream accumulates: measured
 *    3.9e-4 (tiny) and 4.8e-4 (mid), i.e. about u. F16_BOUND = 2e-3 (~4u)
 *    leaves room for deeper models while a coarser path fails it (BF16
 *    weights, u = 2^-9 = 2e-3, or an F16 accumulator would not pass).
 *  - Batched (several images per forward) against one image per forward:
 *    the Vulkan kernels treat every row alike, so within 1e-6 (measured 0);
 *    the CPU GEMM picks its blocking by row count, which reorders sums:
 *    within 1e-5 (measured up to 1e-6).
 *
 * The device check: a profiled forward counts its Vulkan dispatches and
 * submissions and times them with device timestamps, so a silent CPU
 * fallback (no dispatches, wall clock) fails. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "vg_clip.h"
#include "vg_clip_random.h"
#include "vg_cpu.h"
#include "vg_vulkan.h"
#include "vk-test-util.h"

#define TOL 1e-4
#define F16_BOUND 2e-3
#define BATCH_TOL 1e-6     /* Vulkan */
#define CPU_BATCH_TOL 1e-5 /* CPU */

static vg_backend *cpu, *vk;

typedef struct outs {
  int n, layers;
  size_t tok;
  float *pooled, *tokens; /* n x embed; n x layers x 2 x tok */
  vg_clip_image_out *o;
} outs;

static outs outs_new(const vg_clip_arch *a, int n) {
  outs r = {.n = n, .layers = a->n_adapters, .tok = (size_t)a->tokens * a->adapter_dim};
  r.pooled = g_new(float, (size_t)a->embed_dim *n);
  r.tokens = g_new(float, r.tok * 2 * r.layers * n);
  r.o = g_new0(vg_clip_image_out, n);
  for (int b = 0; b < n; b++) {
    r.o[b].pooled = r.pooled + (size_t)a->embed_dim * b;
    for (int i = 0; i < r.layers; i++) {
      r.o[b].seg_tokens[i] = r.tokens + r.tok * (2 * (r.layers * b + i));
      r.o[b].det_tokens[i] = r.tokens + r.tok * (2 * (r.layers * b + i) + 1);
    }
  }
  return r;
}

static void outs_free(outs *r) {
  g_free(r->pooled), g_free(r->tokens), g_free(r->o);
}

static double rel_error(const float *got, const float *want, size_t n) {
  double err = 0, mag = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(got[i]) || isnan(want[i]))
      return INFINITY;
    err = fmax(err, fabs((double)got[i] - want[i]));
    mag = fmax(mag, fabs((double)want[i]));
  }
  return mag > 0 ? err / mag : err;
}

/* The worst error over image b's outputs (pooled and every token output). */
static double worst(const vg_clip_arch *a, const vg_clip_image_out *got,
                    const vg_clip_image_out *want) {
  double e = rel_error(got->pooled, want->pooled, (size_t)a->embed_dim);
  const size_t tok = (size_t)a->tokens * a->adapter_dim;
  for (int i = 0; i < a->n_adapters; i++) {
    e = fmax(e, rel_error(got->seg_tokens[i], want->seg_tokens[i], tok));
    e = fmax(e, rel_error(got->det_tokens[i], want->det_tokens[i], tok));
  }
  return e;
}

static void expect(const char *what, double err, double tol) {
  g_test_message("%s: max relative error %.3g (bound %.1g)", what, err, tol);
  if (!(err <= tol))
    g_error("%s: max relative error %.3g exceeds %.1g", what, err, tol);
}

static vg_clip *load(const char *preset, vg_backend *be, vg_dtype dt, int max_batch) {
  vg_clip_random_options ro = {.seed = 7, .towers = VG_CLIP_IMAGE};
  vg_weights *w = NULL, *ad = NULL;
  g_assert_cmpint(vg_clip_random(vg_clip_preset_find(preset), &ro, &w, &ad), ==, VG_OK);
  vg_clip_options o = {.towers = VG_CLIP_IMAGE, .matmul_dtype = dt, .max_batch = max_batch};
  vg_clip *m = NULL;
  if (vg_clip_load(w, ad, &o, be, &m) != VG_OK)
    g_error("load %s: %s", preset, vg_last_error());
  vg_weights_free(w), vg_weights_free(ad);
  return m;
}

/* n distinct images in [0, 1]. */
static float *images(const vg_clip_arch *a, int n, const float **ptrs) {
  const size_t px = 3 * (size_t)a->image_size * a->image_size;
  float *v = g_new(float, px *n);
  g_autoptr(GRand) rng = g_rand_new_with_seed(11);
  for (size_t i = 0; i < px * n; i++)
    v[i] = (float)g_rand_double(rng);
  for (int b = 0; b < n; b++)
    ptrs[b] = v + px * b;
  return v;
}

static void encode(vg_clip *m, int n, const float **in, outs *r) {
  if (vg_clip_encode_images(m, n, in, r->o) != VG_OK)
    g_error("encode: %s", vg_last_error());
}

/* Vulkan vs CPU for F32 and F16 weights, and what F16 costs against F32. */
static void check_forward(const char *preset) {
  vg_clip *c32 = load(preset, cpu, VG_F32, 0), *v32 = load(preset, vk, VG_F32, 0);
  vg_clip *c16 = load(preset, cpu, VG_F16, 0), *v16 = load(preset, vk, VG_F16, 0);
  const vg_clip_arch *a = vg_clip_arch_of(c32);
  const float *in[1];
  g_autofree float *px = images(a, 1, in);
  outs want = outs_new(a, 1), got = outs_new(a, 1), want16 = outs_new(a, 1), got16 = outs_new(a, 1);
  encode(c32, 1, in, &want);
  encode(v32, 1, in, &got);
  encode(c16, 1, in, &want16);
  encode(v16, 1, in, &got16);
  g_autofree char *w32 = g_strdup_printf("%s F32 vulkan vs cpu", preset);
  g_autofree char *w16 = g_strdup_printf("%s F16 vulkan vs cpu", preset);
  g_autofree char *cost = g_strdup_printf("%s F16 vulkan vs F32 cpu", preset);
  expect(w32, worst(a, &got.o[0], &want.o[0]), TOL);
  expect(w16, worst(a, &got16.o[0], &want16.o[0]), TOL);
  expect(cost, worst(a, &got16.o[0], &want.o[0]), F16_BOUND);
  outs_free(&want), outs_free(&got), outs_free(&want16), outs_free(&got16);
  vg_clip_free(c32), vg_clip_free(v32), vg_clip_free(c16), vg_clip_free(v16);
  g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
}

/* Three images in one call (chunks of max_batch) equal three single calls,
 * and the Vulkan batch equals the CPU one. */
static void check_batched(const char *preset, int max_batch) {
  vg_clip *c = load(preset, cpu, VG_F32, max_batch), *v = load(preset, vk, VG_F32, max_batch);
  const vg_clip_arch *a = vg_clip_arch_of(c);
  enum { N = 3 };
  const float *in[N];
  g_autofree float *px = images(a, N, in);
  outs cb = outs_new(a, N), vb = outs_new(a, N), one = outs_new(a, 1);
  encode(c, N, in, &cb);
  encode(v, N, in, &vb);
  for (int b = 0; b < N; b++) {
    g_autofree char *what = g_strdup_printf("%s image %d: vulkan batch vs cpu batch", preset, b);
    expect(what, worst(a, &vb.o[b], &cb.o[b]), TOL);
    encode(v, 1, &in[b], &one);
    g_autofree char *w1 = g_strdup_printf("%s image %d: vulkan batch vs single", preset, b);
    expect(w1, worst(a, &vb.o[b], &one.o[0]), BATCH_TOL);
    encode(c, 1, &in[b], &one);
    g_autofree char *w2 = g_strdup_printf("%s image %d: cpu batch vs single", preset, b);
    expect(w2, worst(a, &cb.o[b], &one.o[0]), CPU_BATCH_TOL);
  }
  outs_free(&cb), outs_free(&vb), outs_free(&one);
  vg_clip_free(c), vg_clip_free(v);
  g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
}

static void test_tiny_forward(void) {
  check_forward("tiny");
}

/* Device-local tensors behind staging copies (how discrete GPUs run). */
static void test_tiny_staging(void) {
  vg_vk_options options = {.staging = 1};
  vg_backend *st = vg_vulkan_backend_new(&options);
  g_assert_nonnull(st);
  vg_clip *c = load("tiny", cpu, VG_F32, 0), *v = load("tiny", st, VG_F32, 2);
  const vg_clip_arch *a = vg_clip_arch_of(c);
  const float *in[3];
  g_autofree float *px = images(a, 3, in);
  outs want = outs_new(a, 3), got = outs_new(a, 3);
  encode(c, 3, in, &want);
  encode(v, 3, in, &got);
  for (int b = 0; b < 3; b++)
    expect("tiny staging vulkan vs cpu", worst(a, &got.o[b], &want.o[b]), TOL);
  /* Upload, forward and every output's download: one submission per chunk. */
  vg_profile p;
  g_assert_cmpint(vg_backend_profile_begin(st, &p), ==, VG_OK);
  encode(v, 3, in, &got);
  g_assert_cmpint(vg_backend_profile_end(st), ==, VG_OK);
  g_assert_cmpint(p.submits, ==, 2); /* chunks of 2 + 1 */
  outs_free(&want), outs_free(&got);
  vg_clip_free(c), vg_clip_free(v);
  vg_backend_destroy(st);
}
/* Images per forward follow what the device can bind: with bindings lowered
 * to three images' widest activation, a batch of 7 runs as 3 + 3 + 1 and
 * matches the CPU; the CPU keeps its own cap. */
static void test_batch_limit(void) {
  vg_clip *c = load("tiny", cpu, VG_F32, 64);
  const vg_clip_arch *a = vg_clip_arch_of(c);
  /* The largest per-image tensor: an activation, or on this narrow model the
   * image's pixels as patch rows. */
  const uint64_t cols = (uint64_t)(a->mlp_width > 3 * a->width ? a->mlp_width : 3 * a->width);
  const uint64_t act = (uint64_t)a->tokens * cols * sizeof(float);
  const uint64_t pixels = 3 * (uint64_t)a->image_size * a->image_size * sizeof(float);
  const uint64_t per_image = act > pixels ? act : pixels;
  g_assert_cmpint(vg_clip_batch_limit(c), ==, 64); /* far under VG_CLIP_BATCH_BYTES */
  vg_vk_options options = {.validation = 1, .max_buffer_bytes = 3 * per_image + (64 << 10)};
  vg_backend *small = vg_vulkan_backend_new(&options);
  g_assert_nonnull(small);
  vg_clip *v = load("tiny", small, VG_F32, 64);
  g_assert_cmpint(vg_clip_batch_limit(v), ==, 3);
  const float *in[7];
  g_autofree float *px = images(a, 7, in);
  outs want = outs_new(a, 7), got = outs_new(a, 7);
  encode(c, 7, in, &want);
  vg_profile p;
  g_assert_cmpint(vg_backend_profile_begin(small, &p), ==, VG_OK);
  encode(v, 7, in, &got);
  g_assert_cmpint(vg_backend_profile_end(small), ==, VG_OK);
  g_assert_cmpint(p.submits, ==, 3);
  for (int b = 0; b < 7; b++)
    expect("tiny, 3 per forward, vulkan vs cpu", worst(a, &got.o[b], &want.o[b]), TOL);
  outs_free(&want), outs_free(&got);
  vg_clip_free(c), vg_clip_free(v);
  g_assert_cmpint(vg_vulkan_validation_messages(small), ==, 0);
  vg_backend_destroy(small);
}

static void test_tiny_batched(void) {
  check_batched("tiny", 2); /* chunks of 2 + 1 */
}
static void test_mid_forward(void) {
  check_forward("mid");
}
static void test_mid_batched(void) {
  check_batched("mid", 0); /* one chunk of 3 */
}

/* Prompts through the text tower several per forward (causal attention per
 * prompt) equal one per call, on both backends, and Vulkan equals the CPU. */
static void test_text_batched(void) {
  enum { N = 5, CTX = 77 };
  vg_clip_random_options ro = {.seed = 9, .towers = VG_CLIP_TEXT};
  vg_weights *w = NULL;
  g_assert_cmpint(vg_clip_random(vg_clip_preset_find("tiny"), &ro, &w, NULL), ==, VG_OK);
  vg_clip_options o = {.towers = VG_CLIP_TEXT};
  vg_clip *m[2] = {NULL, NULL}; /* cpu, vulkan */
  g_assert_cmpint(vg_clip_load(w, NULL, &o, cpu, &m[0]), ==, VG_OK);
  g_assert_cmpint(vg_clip_load(w, NULL, &o, vk, &m[1]), ==, VG_OK);
  vg_weights_free(w);
  const int e = vg_clip_arch_of(m[0])->embed_dim;
  int32_t ids[N * CTX] = {0};
  g_autoptr(GRand) rng = g_rand_new_with_seed(4);
  for (int r = 0; r < N; r++) { /* start, 3 + 9 r words, end, padding */
    const int len = 3 + 9 * r;
    ids[r * CTX] = 49406;
    for (int t = 1; t <= len; t++)
      ids[r * CTX + t] = g_rand_int_range(rng, 1, 49406);
    ids[r * CTX + len + 1] = 49407;
  }
  g_autofree float *batch = g_new(float, 2 * N * e), *one = g_new(float, e);
  for (int k = 0; k < 2; k++) {
    g_assert_cmpint(vg_clip_encode_text(m[k], ids, N, batch + k * N * e), ==, VG_OK);
    for (int r = 0; r < N; r++) {
      g_assert_cmpint(vg_clip_encode_text(m[k], ids + r * CTX, 1, one), ==, VG_OK);
      expect(k ? "text vulkan batch vs single" : "text cpu batch vs single",
             rel_error(batch + (k * N + r) * e, one, e), k ? BATCH_TOL : CPU_BATCH_TOL);
    }
  }
  expect("text vulkan vs cpu", rel_error(batch + N * e, batch, N * e), TOL);
  vg_clip_free(m[0]), vg_clip_free(m[1]);
  g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
}

/* A profiled forward on the Vulkan backend ran there: dispatches recorded in
 * one submission, timed by device timestamps. The CPU profile is wall clock. */
static void test_device_work(void) {
  vg_clip *v = load("tiny", vk, VG_F32, 0);
  const vg_clip_arch arch = *vg_clip_arch_of(v), *a = &arch;
  const float *in[2];
  g_autofree float *px = images(a, 2, in);
  outs r = outs_new(a, 2);
  vg_profile p;
  g_assert_cmpstr(vk->kind, ==, "vulkan");
  g_assert_cmpint(vg_backend_profile_begin(vk, &p), ==, VG_OK);
  encode(v, 2, in, &r);
  g_assert_cmpint(vg_backend_profile_end(vk), ==, VG_OK);
  g_test_message("%lld dispatches, %lld submissions, clock %s", (long long)p.dispatches,
                 (long long)p.submits, p.clock);
  g_assert_cmpstr(p.clock, ==, "vulkan timestamps");
  /* Per block 10 ops, 4 per adapter pair + 2 adds, embedding and head. */
  g_assert_cmpint(p.dispatches, >=, a->layers * 10 + a->n_adapters * 10);
  g_assert_cmpint(p.submits, ==, 1); /* the whole batch forward in one command buffer */
  g_assert_cmpint(p.op[VG_OP_MATMUL].calls, ==, 1 + a->layers * 4 + a->n_adapters * 4 + 1);
  g_assert_cmpint(p.op[VG_OP_ATTENTION].calls, ==, a->layers); /* one per block for both images */
  for (int k = VG_OP_MATMUL; k <= VG_OP_ADD; k++)
    g_assert_cmpfloat(p.op[k].ms, >, 0.0);
  g_assert_cmpfloat(p.op[VG_OP_MATMUL].flops, >, 0.0);
  outs_free(&r);
  vg_clip_free(v);

  vg_clip *c = load("tiny", cpu, VG_F32, 0);
  r = outs_new(a, 1);
  g_assert_cmpint(vg_backend_profile_begin(cpu, &p), ==, VG_OK);
  encode(c, 1, in, &r);
  g_assert_cmpint(vg_backend_profile_end(cpu), ==, VG_OK);
  g_assert_cmpstr(p.clock, ==, "wall clock");
  g_assert_cmpint(p.dispatches, ==, 0);
  g_assert_cmpint(p.op[VG_OP_ATTENTION].calls, ==, a->layers);
  g_assert_cmpfloat(p.op[VG_OP_MATMUL].ms, >, 0.0);
  outs_free(&r);
  vg_clip_free(c);
  g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
}

/* Attention over stacked sequences equals attention over each alone, on
 * both backends (a T that is not a multiple of the shader's 64-row blocks). */
static void test_attention_batched(void) {
  enum { S = 3, T = 70, D = 128, H = 2 };
  g_autoptr(GRand) rng = g_rand_new_with_seed(5);
  g_autofree float *qkv = g_new(float, S *T * 3 * D);
  for (int i = 0; i < S * T * 3 * D; i++)
    qkv[i] = (float)g_rand_double_range(rng, -2, 2);
  vg_backend *bes[2] = {cpu, vk};
  for (int k = 0; k < 2; k++)
    for (int causal = 0; causal < 2; causal++) {
      vg_tensor *all = vg_tensor_new(bes[k], VG_F32, S * T, 3 * D);
      vg_tensor *out = vg_tensor_new(bes[k], VG_F32, S * T, D);
      vg_tensor *one = vg_tensor_new(bes[k], VG_F32, T, 3 * D);
      vg_tensor *o1 = vg_tensor_new(bes[k], VG_F32, T, D);
      g_assert_cmpint(vg_tensor_upload(all, qkv), ==, VG_OK);
      g_assert_cmpint(vg_attention_batched(out, all, H, causal, S), ==, VG_OK);
      g_autofree float *got = g_new(float, S *T *D), *want = g_new(float, T *D);
      g_assert_cmpint(vg_tensor_download(out, got), ==, VG_OK);
      for (int s = 0; s < S; s++) {
        g_assert_cmpint(vg_tensor_upload(one, qkv + (size_t)s * T * 3 * D), ==, VG_OK);
        g_assert_cmpint(vg_attention(o1, one, H, causal), ==, VG_OK);
        g_assert_cmpint(vg_tensor_download(o1, want), ==, VG_OK);
        expect(bes[k]->kind, rel_error(got + (size_t)s * T * D, want, T * D),
               k == 0 ? CPU_BATCH_TOL : BATCH_TOL);
      }
      /* Rows that do not split into the sequences are refused. */
      g_assert_cmpint(vg_attention_batched(out, all, H, causal, 4), ==, VG_ERR_ARG);
      g_assert_nonnull(strstr(vg_last_error(), "do not split into 4 sequences"));
      vg_tensor_free(all), vg_tensor_free(out), vg_tensor_free(one), vg_tensor_free(o1);
    }
  g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
}

static void test_bad_input(void) {
  vg_clip *c = load("tiny", cpu, VG_F32, 0);
  const float *in[2] = {NULL, NULL};
  vg_clip_image_out o[2] = {{0}};
  g_assert_cmpint(vg_clip_encode_images(c, 2, in, o), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "image 0 has no pixels"));
  g_assert_cmpint(vg_clip_encode_images(c, -1, in, o), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_clip_encode_images(c, 0, in, o), ==, VG_OK); /* nothing to do */
  vg_profile p;
  g_assert_cmpint(vg_backend_profile_end(cpu), ==, VG_ERR_ARG); /* not profiling */
  g_assert_cmpint(vg_backend_profile_begin(cpu, NULL), ==, VG_ERR_ARG);
  (void)p;
  /* Chunks: VG_CLIP_CPU_BATCH images by default on the CPU, max_batch up to VG_CLIP_BATCH_MAX. */
  g_assert_cmpint(vg_clip_batch_limit(c), ==, VG_CLIP_CPU_BATCH);
  vg_clip_free(c);
  c = load("tiny", cpu, VG_F32, 1000);
  g_assert_cmpint(vg_clip_batch_limit(c), ==, VG_CLIP_BATCH_MAX);
  vg_clip_free(c);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  /* Validation (no synchronization validation: too slow for these sizes). */
  vg_vk_options options = {.validation = 1};
  vk = vg_vulkan_backend_new(&options);
  if (!vk) {
    g_printerr("cannot start Vulkan: %s\n", vg_last_error());
    return 1;
  }
  cpu = vg_cpu_backend_new(0);
  g_print("# Vulkan device: %s; %s\n", vk->device_name, vg_vulkan_attention_layout(vk));
  g_test_add_func("/clip-vulkan/tiny/forward", test_tiny_forward);
  g_test_add_func("/clip-vulkan/tiny/batched", test_tiny_batched);
  g_test_add_func("/clip-vulkan/tiny/batch-limit", test_batch_limit);
  g_test_add_func("/clip-vulkan/tiny/staging", test_tiny_staging);
  g_test_add_func("/clip-vulkan/tiny/device-work", test_device_work);
  g_test_add_func("/clip-vulkan/tiny/attention-batched", test_attention_batched);
  g_test_add_func("/clip-vulkan/tiny/bad-input", test_bad_input);
  g_test_add_func("/clip-vulkan/tiny/text-batched", test_text_batched);
  g_test_add_func("/clip-vulkan/mid/forward", test_mid_forward);
  g_test_add_func("/clip-vulkan/mid/batched", test_mid_batched);
  return vk_test_finish(g_test_run(), vk, cpu);
}
