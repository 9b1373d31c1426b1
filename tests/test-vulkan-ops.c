/* Every Vulkan op against the CPU backend on random inputs of awkward shapes,
 * on lavapipe with the Khronos validation layer: any validation message fails.
 * Each case runs twice: host-visible tensors (how UMA/CPU devices run) with
 * F16 weights read through 16-bit storage, and device-local tensors behind
 * staging copies (how discrete GPUs run) with F16 weights read as packed words
 * (how devices without 16-bit storage run).
 *
 * Error measure: max |vulkan - cpu| / max |cpu| over the output. F32 ops must
 * agree within 1e-5 (only summation order differs). F16 weights are widened
 * to F32 exactly on both sides, so the F16 GEMM is held to the same 1e-5. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "vg_cpu.h"
#include "vg_vulkan.h"
#include "vk-test-util.h"

#define TOL 1e-5

/* Synchronization validation turns a missing barrier into a message. Its
 * layer leaks at device teardown and is unloaded before LeakSanitizer looks,
 * so no suppression can name it: the sanitizer build runs without it. */
#if defined(__SANITIZE_ADDRESS__)
#define SYNC_VALIDATION 0
#else
#define SYNC_VALIDATION 1
#endif

static vg_backend *cpu;
static vg_backend *vks[2]; /* host-visible, staging */

typedef struct {
  vg_tensor *t[2]; /* [0] vulkan, [1] cpu */
} pair;

static void fill(float *v, size_t n, GRand *rng, double lo, double hi) {
  for (size_t i = 0; i < n; i++)
    v[i] = (float)g_rand_double_range(rng, lo, hi);
}

static pair make(vg_backend *vk, vg_dtype dt, int64_t rows, int64_t cols, const void *data) {
  pair p = {{vg_tensor_new(vk, dt, rows, cols), vg_tensor_new(cpu, dt, rows, cols)}};
  g_assert_nonnull(p.t[0]);
  g_assert_nonnull(p.t[1]);
  if (data) {
    g_assert_cmpint(vg_tensor_upload(p.t[0], data), ==, VG_OK);
    g_assert_cmpint(vg_tensor_upload(p.t[1], data), ==, VG_OK);
  }
  return p;
}

static void drop(pair p) {
  vg_tensor_free(p.t[0]);
  vg_tensor_free(p.t[1]);
}

/* Downloads both sides and returns the normalised max error. */
static double compare(pair p) {
  size_t n = (size_t)(p.t[0]->rows * p.t[0]->cols);
  g_autofree float *got = g_new(float, n), *want = g_new(float, n);
  g_assert_cmpint(vg_tensor_download(p.t[0], got), ==, VG_OK);
  g_assert_cmpint(vg_tensor_download(p.t[1], want), ==, VG_OK);
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(got[i]) != isnan(want[i]))
      g_error("element %zu: vulkan %g, cpu %g", i, got[i], want[i]);
    num = fmax(num, fabs((double)got[i] - want[i]));
    den = fmax(den, fabs((double)want[i]));
  }
  return num / (den > 0 ? den : 1);
}

static void expect_close(const char *what, pair p, double tol) {
  double err = compare(p);
  g_test_message("%s: normalised max error %.3g", what, err);
  if (!(err <= tol))
    g_error("%s: normalised max error %.3g exceeds %.1g", what, err, tol);
}

static void no_messages(void) {
  for (int v = 0; v < 2; v++)
    g_assert_cmpint(vg_vulkan_validation_messages(vks[v]), ==, 0);
}

static void check_matmul(vg_backend *vk, int m, int n, int k, vg_dtype wt, int with_bias) {
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(m * 7919 + n * 31 + k));
  g_autofree float *a = g_new(float, (size_t)m *k), *w = g_new(float, (size_t)n *k);
  g_autofree float *bias = g_new(float, n);
  g_autofree uint16_t *wh = g_new(uint16_t, (size_t)n * k);
  fill(a, (size_t)m * k, rng, -1, 1);
  fill(w, (size_t)n * k, rng, -1, 1);
  fill(bias, n, rng, -1, 1);
  for (size_t i = 0; i < (size_t)n * k; i++)
    wh[i] = vg_f32_to_f16(w[i]);
  pair pa = make(vk, VG_F32, m, k, a), pb = make(vk, VG_F32, 1, n, bias);
  pair pw = make(vk, wt, n, k, wt == VG_F16 ? (const void *)wh : (const void *)w);
  pair po = make(vk, VG_F32, m, n, NULL);
  for (int s = 0; s < 2; s++)
    g_assert_cmpint(vg_matmul(po.t[s], pa.t[s], pw.t[s], with_bias ? pb.t[s] : NULL), ==, VG_OK);
  g_autofree char *what = g_strdup_printf("matmul %s %dx%dx%d%s", wt == VG_F16 ? "f16" : "f32", m,
                                          n, k, with_bias ? " +bias" : "");
  expect_close(what, po, TOL);
  drop(pa), drop(pb), drop(pw), drop(po);
}

static void test_matmul(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  static const int shapes[][3] = {{1, 1, 1},    {1, 1025, 65}, {290, 67, 100}, {65, 130, 17},
                                  {64, 64, 64}, {3, 5, 1025},  {290, 1025, 9}};
  for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++)
    for (int wt = 0; wt < 2; wt++)
      check_matmul(vk, shapes[i][0], shapes[i][1], shapes[i][2], wt ? VG_F16 : VG_F32,
                   (int)(i % 2 == 0));
  no_messages();
}

/* F16 weights against F32 weights: the gap is F16's rounding of the weights. */
static void test_matmul_f16_vs_f32(void) {
  const int m = 33, n = 47, k = 300;
  g_autoptr(GRand) rng = g_rand_new_with_seed(5);
  g_autofree float *a = g_new(float, m *k), *w = g_new(float, n *k);
  g_autofree uint16_t *wh = g_new(uint16_t, n * k);
  fill(a, m * k, rng, -1, 1);
  fill(w, n * k, rng, -1, 1);
  for (int i = 0; i < n * k; i++)
    wh[i] = vg_f32_to_f16(w[i]);
  vg_backend *vk = vks[0];
  vg_tensor *ta = vg_tensor_new(vk, VG_F32, m, k), *tw = vg_tensor_new(vk, VG_F32, n, k);
  vg_tensor *th = vg_tensor_new(vk, VG_F16, n, k);
  pair po = {{vg_tensor_new(vk, VG_F32, m, n), vg_tensor_new(vk, VG_F32, m, n)}};
  vg_tensor_upload(ta, a), vg_tensor_upload(tw, w), vg_tensor_upload(th, wh);
  g_assert_cmpint(vg_matmul(po.t[0], ta, th, NULL), ==, VG_OK);
  g_assert_cmpint(vg_matmul(po.t[1], ta, tw, NULL), ==, VG_OK);
  /* Each weight moves by at most 2^-12 relative; random signs keep the sum's
   * drift near sqrt(k) * 2^-12 * E|a w| relative to outputs of size sqrt(k). */
  expect_close("matmul f16 weights vs f32 weights", po, 2e-3);
  vg_tensor_free(ta), vg_tensor_free(tw), vg_tensor_free(th), drop(po);
  no_messages();
}

static void check_layer_norm(vg_backend *vk, int rows, int cols, double offset) {
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(rows * 13 + cols));
  g_autofree float *x = g_new(float, (size_t)rows *cols), *g = g_new(float, cols);
  g_autofree float *b = g_new(float, cols);
  fill(x, (size_t)rows * cols, rng, offset - 2, offset + 2);
  fill(g, cols, rng, 0.5, 1.5);
  fill(b, cols, rng, -0.5, 0.5);
  pair px = make(vk, VG_F32, rows, cols, x), pg = make(vk, VG_F32, 1, cols, g);
  pair pb = make(vk, VG_F32, 1, cols, b), po = make(vk, VG_F32, rows, cols, NULL);
  for (int s = 0; s < 2; s++)
    g_assert_cmpint(vg_layer_norm(po.t[s], px.t[s], pg.t[s], pb.t[s], 1e-5f), ==, VG_OK);
  g_autofree char *what = g_strdup_printf("layer_norm %dx%d", rows, cols);
  expect_close(what, po, TOL);
  drop(px), drop(pg), drop(pb), drop(po);
}

static void test_layer_norm(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  check_layer_norm(vk, 1, 1, 0);
  check_layer_norm(vk, 1, 1025, 0);
  check_layer_norm(vk, 290, 1024, 0);
  check_layer_norm(vk, 7, 3, 0);
  check_layer_norm(vk, 3, 4097, 3); /* a mean far from zero */
  no_messages();
}

static void check_activation(vg_backend *vk, vg_activation act, float alpha, const float *x,
                             int rows, int cols, const char *name) {
  pair p = make(vk, VG_F32, rows, cols, x);
  for (int s = 0; s < 2; s++)
    g_assert_cmpint(vg_activation_apply(p.t[s], act, alpha), ==, VG_OK);
  g_autofree char *what = g_strdup_printf("%s %dx%d", name, rows, cols);
  expect_close(what, p, TOL);
  drop(p);
}

/* Element-wise for GELU: |error| <= 3e-7 max(1, |x|) at every point of a
 * dense sweep, which checks erf itself rather than only the largest output. */
static void check_gelu_pointwise(vg_backend *vk) {
  const int n = 40001;
  g_autofree float *x = g_new(float, n), *got = g_new(float, n), *want = g_new(float, n);
  for (int i = 0; i < n; i++)
    x[i] = -10.0f + 20.0f * (float)i / (float)(n - 1);
  pair p = make(vk, VG_F32, 1, n, x);
  for (int s = 0; s < 2; s++)
    g_assert_cmpint(vg_activation_apply(p.t[s], VG_ACT_GELU, 0), ==, VG_OK);
  vg_tensor_download(p.t[0], got), vg_tensor_download(p.t[1], want);
  double worst = 0;
  for (int i = 0; i < n; i++)
    worst = fmax(worst, fabs((double)got[i] - want[i]) / fmax(1.0, fabs(x[i])));
  g_test_message("gelu sweep [-10, 10]: max |error| / max(1, |x|) = %.3g", worst);
  g_assert_cmpfloat(worst, <=, 3e-7);
  drop(p);
}

static void test_activation(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  const int rows = 290, cols = 1025;
  g_autoptr(GRand) rng = g_rand_new_with_seed(3);
  g_autofree float *x = g_new(float, rows *cols);
  fill(x, (size_t)rows * cols, rng, -6, 6);
  check_activation(vk, VG_ACT_GELU, 0, x, rows, cols, "gelu");
  check_activation(vk, VG_ACT_QUICK_GELU, 0, x, rows, cols, "quick_gelu");
  check_activation(vk, VG_ACT_LEAKY_RELU, 0.2f, x, rows, cols, "leaky_relu 0.2");
  check_activation(vk, VG_ACT_GELU, 0, x, 1, 1, "gelu");
  check_gelu_pointwise(vk);
  no_messages();
}

static void check_attention(vg_backend *vk, int t, int heads, int hd, int causal) {
  const int d = heads * hd;
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(t * 97 + heads * 7 + hd + causal));
  g_autofree float *qkv = g_new(float, (size_t)t * 3 * d);
  fill(qkv, (size_t)t * 3 * d, rng, -2, 2);
  pair pq = make(vk, VG_F32, t, 3 * d, qkv), po = make(vk, VG_F32, t, d, NULL);
  for (int s = 0; s < 2; s++)
    g_assert_cmpint(vg_attention(po.t[s], pq.t[s], heads, causal), ==, VG_OK);
  g_autofree char *what =
      g_strdup_printf("attention T=%d heads=%d hd=%d%s", t, heads, hd, causal ? " causal" : "");
  expect_close(what, po, TOL);
  drop(pq), drop(po);
}

/* T, heads, head dim; the first two are the split layouts' quick set. */
static const int attention_cases[][3] = {{77, 12, 64}, {100, 1, 96}, {1, 1, 64}, {257, 16, 64},
                                         {50, 3, 7},   {33, 5, 33},  {65, 2, 1}};

static void test_attention(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  for (size_t i = 0; i < G_N_ELEMENTS(attention_cases); i++)
    for (int causal = 0; causal < 2; causal++)
      check_attention(vk, attention_cases[i][0], attention_cases[i][1], attention_cases[i][2],
                      causal);
  no_messages();
}

/* On a GPU machine without the layer (tools/device-run.sh says so). */

/* A Vulkan backend with the given attention layout (NULL if refused). */
static vg_backend *attention_backend(const char *layout) {
  vg_vk_options options = {.validation = vk_test_want_validation(),
                           .sync_validation = SYNC_VALIDATION,
                           .no_coopmat = 1,
                           .attention = layout};
  return vg_vulkan_backend_new(&options);
}

/* Whether the test device is a CPU implementation such as lavapipe. */
static int device_is_cpu(const char *name) {
  vg_vk_device_info info[8];
  int n = vg_vk_list_devices(info, 8);
  for (int i = 0; i < n && i < 8; i++)
    if (strcmp(info[i].name, name) == 0)
      return strcmp(info[i].type, "cpu") == 0;
  return 0;
}

/* The GPU layout, a row's channels split over subgroup lanes: 16 rows x 4
 * lanes (the default on GPUs; lavapipe defaults to 64 x 1), and R rows x 8
 * lanes, a workgroup of one subgroup (R = 1 on lavapipe's subgroups of 8, 4 on
 * NVIDIA's 32; smaller R are refused where subgroups are wider). Head sizes
 * that the lanes do not divide (7, 33, 1) take fewer lanes. */
static void test_attention_split(void) {
  static const struct {
    const char *layout;
    int cases;
  } layouts[] = {{"16x4", G_N_ELEMENTS(attention_cases)}, {"1x8", 2}};
  for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
    g_autofree char *layout = g_strdup(layouts[l].layout);
    vg_backend *vk = attention_backend(layout);
    for (int rows = 2; !vk && l == 1 && rows <= 8; rows *= 2) {
      g_assert_nonnull(strstr(vg_last_error(), "whole subgroups"));
      g_free(layout);
      layout = g_strdup_printf("%dx8", rows);
      vk = attention_backend(layout);
    }
    g_assert_nonnull(vk);
    const char *words = vg_vulkan_attention_layout(vk);
    g_test_message("%s", words);
    g_autofree char *want =
        g_strdup_printf("attention: %.*s query rows x %s lanes", (int)strcspn(layout, "x"), layout,
                        strchr(layout, 'x') + 1);
    g_assert_nonnull(strstr(words, want));
    for (int i = 0; i < layouts[l].cases; i++)
      for (int causal = 0; causal < 2; causal++)
        check_attention(vk, attention_cases[i][0], attention_cases[i][1], attention_cases[i][2],
                        causal);
    g_assert_cmpint(vg_vulkan_validation_messages(vk), ==, 0);
    vg_backend_destroy(vk);
  }
}

/* Layouts that cannot run fail the backend with the reason; a CPU device's
 * default keeps one invocation per row, a GPU's splits rows over 4 lanes. */
static void test_attention_layout_bad(void) {
  static const struct {
    const char *layout, *why;
  } bad[] = {{"3x3", "expected ROWSxLANES"},
             {"16x16", "expected ROWSxLANES"},
             {"0x4", "expected ROWSxLANES"},
             {"16x4x", "expected ROWSxLANES"},
             {"fast", "expected ROWSxLANES"},
             {"1x4", "whole subgroups"},
             {"1024x8", "exceed"}};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    vg_backend *vk = attention_backend(bad[i].layout);
    g_test_message("%s -> %s", bad[i].layout, vg_last_error());
    g_assert_null(vk);
    g_assert_nonnull(strstr(vg_last_error(), bad[i].layout));
    g_assert_nonnull(strstr(vg_last_error(), bad[i].why));
  }
  g_assert_nonnull(strstr(vg_vulkan_attention_layout(vks[0]), device_is_cpu(vks[0]->device_name)
                                                                  ? "64 query rows x 1 lane "
                                                                  : "16 query rows x 4 lanes"));
  g_assert_nonnull(strstr(vg_vulkan_attention_layout(cpu), "not a Vulkan backend"));
}

static void test_copy_rows(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  const int rows = 290, cols = 1025;
  g_autoptr(GRand) rng = g_rand_new_with_seed(11);
  g_autofree float *x = g_new(float, rows *cols), *y = g_new(float, rows *cols);
  fill(x, (size_t)rows * cols, rng, -1, 1);
  fill(y, (size_t)rows * cols, rng, -1, 1);
  pair px = make(vk, VG_F32, rows, cols, x), py = make(vk, VG_F32, rows, cols, y);
  pair small = make(vk, VG_F32, 1, cols, x);
  for (int s = 0; s < 2; s++) {
    g_assert_cmpint(vg_copy_rows(py.t[s], 5, px.t[s], 100, 150), ==, VG_OK);
    g_assert_cmpint(vg_copy_rows(py.t[s], 289, small.t[s], 0, 1), ==, VG_OK);
    /* Within one tensor: disjoint, then overlapping both ways (memmove). */
    g_assert_cmpint(vg_copy_rows(px.t[s], 0, px.t[s], 200, 50), ==, VG_OK);
    g_assert_cmpint(vg_copy_rows(px.t[s], 10, px.t[s], 0, 200), ==, VG_OK);
    g_assert_cmpint(vg_copy_rows(px.t[s], 20, px.t[s], 27, 200), ==, VG_OK);
  }
  g_assert_cmpfloat(compare(py), ==, 0);
  g_assert_cmpfloat(compare(px), ==, 0);
  drop(px), drop(py), drop(small);
  no_messages();
}

static void test_l2_normalize(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  const int rows = 290, cols = 1025;
  g_autoptr(GRand) rng = g_rand_new_with_seed(17);
  g_autofree float *x = g_new(float, rows *cols), *y = g_new(float, rows *cols);
  fill(x, (size_t)rows * cols, rng, -1, 1);
  memset(x, 0, cols * sizeof *x); /* row 0: zero */
  for (int i = 0; i < cols; i++)  /* row 1: norm below eps */
    x[cols + i] = 1e-9f;
  pair px = make(vk, VG_F32, rows, cols, x), po = make(vk, VG_F32, rows, cols, NULL);
  const float eps[3] = {0.0f, 1e-6f, 1e-12f};
  for (int e = 0; e < 3; e++) {
    for (int s = 0; s < 2; s++)
      g_assert_cmpint(vg_l2_normalize(po.t[s], px.t[s], eps[e]), ==, VG_OK);
    g_autofree char *what = g_strdup_printf("l2_normalize 290x1025 eps=%g", eps[e]);
    expect_close(what, po, TOL);
    g_assert_cmpint(vg_tensor_download(po.t[0], y), ==, VG_OK);
    for (int i = 0; i < cols; i++) /* a zero row stays zero, no NaN */
      g_assert_cmpfloat(y[i], ==, 0.0f);
  }
  for (int s = 0; s < 2; s++) /* in place */
    g_assert_cmpint(vg_l2_normalize(px.t[s], px.t[s], 1e-6f), ==, VG_OK);
  expect_close("l2_normalize in place", px, TOL);
  drop(px), drop(po);
  no_messages();
}

/* A chain of dependent ops recorded as one batch, with an upload that must
 * wait for the pending reads of the old contents and a tensor freed while a
 * pending command still uses it. */
static void test_batch_order(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  const int m = 20, k = 70, n = 45;
  g_autoptr(GRand) rng = g_rand_new_with_seed(23);
  g_autofree float *a = g_new(float, m *k), *a2 = g_new(float, m *k), *w = g_new(float, n *k);
  fill(a, m * k, rng, -1, 1);
  fill(a2, m * k, rng, -1, 1);
  fill(w, n * k, rng, -1, 1);
  pair pa = make(vk, VG_F32, m, k, a), pw = make(vk, VG_F32, n, k, w);
  pair h1 = make(vk, VG_F32, m, n, NULL), h2 = make(vk, VG_F32, m, n, NULL);
  pair out = make(vk, VG_F32, m, n, NULL);
  for (int s = 0; s < 2; s++) {
    vg_tensor *tmp = vg_tensor_new(s ? cpu : vk, VG_F32, m, n);
    g_assert_cmpint(vg_matmul(tmp, pa.t[s], pw.t[s], NULL), ==, VG_OK);
    g_assert_cmpint(vg_activation_apply(tmp, VG_ACT_GELU, 0), ==, VG_OK);
    g_assert_cmpint(vg_copy_rows(h1.t[s], 0, tmp, 0, m), ==, VG_OK);
    vg_tensor_free(tmp); /* still used by the pending batch */
    g_assert_cmpint(vg_tensor_upload(pa.t[s], a2), ==, VG_OK);
    g_assert_cmpint(vg_matmul(h2.t[s], pa.t[s], pw.t[s], NULL), ==, VG_OK);
    g_assert_cmpint(vg_add_scaled(out.t[s], h1.t[s], 0.5f, h2.t[s], 2.0f), ==, VG_OK);
    g_assert_cmpint(vg_l2_normalize(out.t[s], out.t[s], 1e-6f), ==, VG_OK);
    g_assert_cmpint(vg_backend_synchronize(s ? cpu : vk), ==, VG_OK);
  }
  expect_close("batched chain", out, TOL);
  /* More ops than one batch has descriptor sets for: the batch is split. */
  const float ones[5] = {1, 1, 1, 1, 1};
  float sum[5];
  vg_tensor *acc = vg_tensor_new(vk, VG_F32, 1, 5), *one = vg_tensor_new(vk, VG_F32, 1, 5);
  vg_tensor_upload(acc, ones), vg_tensor_upload(one, ones);
  for (int i = 0; i < 600; i++)
    g_assert_cmpint(vg_add_scaled(acc, acc, 1.0f, one, 1.0f), ==, VG_OK);
  g_assert_cmpint(vg_tensor_download(acc, sum), ==, VG_OK);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat(sum[i], ==, 601.0f);
  vg_tensor_free(acc), vg_tensor_free(one);
  expect_close("batched chain, first product", h1, TOL);
  drop(pa), drop(pw), drop(h1), drop(h2), drop(out);
  no_messages();
}

static void test_bad_input(void) {
  vg_backend *vk = vks[0];
  /* Head size 8192: K and V tiles cannot fit lavapipe's 32 KiB of shared memory. */
  vg_tensor *qkv = vg_tensor_new(vk, VG_F32, 2, 3 * 8192), *o = vg_tensor_new(vk, VG_F32, 2, 8192);
  g_assert_cmpint(vg_attention(o, qkv, 1, 0), ==, VG_ERR_UNSUPPORTED);
  g_assert_nonnull(strstr(vg_last_error(), "head size 8192"));
  g_assert_cmpint(vg_attention(o, qkv, 3, 0), ==, VG_ERR_ARG);
  vg_tensor *a = vg_tensor_new(vk, VG_F32, 2, 5), *w = vg_tensor_new(vk, VG_F16, 3, 4);
  vg_tensor *out = vg_tensor_new(vk, VG_F32, 2, 3);
  g_assert_cmpint(vg_matmul(out, a, w, NULL), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "'w'"));
  g_assert_cmpint(vg_copy_rows(out, 1, a, 0, 2), ==, VG_ERR_ARG);
  vg_tensor_free(qkv), vg_tensor_free(o), vg_tensor_free(a), vg_tensor_free(w);
  vg_tensor_free(out);
  no_messages();
}

static void check_upsample(vg_backend *vk, int planes, int ih, int iw, int oh, int ow) {
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(planes * 131 + ih * 17 + ow));
  const size_t n = (size_t)planes * ih * iw;
  g_autofree float *x = g_new(float, n);
  fill(x, n, rng, -50, 50);
  pair px = make(vk, VG_F32, planes, (int64_t)ih * iw, x);
  pair po = make(vk, VG_F32, planes, (int64_t)oh * ow, NULL);
  for (int s = 0; s < 2; s++)
    g_assert_cmpint(vg_upsample(po.t[s], px.t[s], ih, iw, oh, ow), ==, VG_OK);
  /* Same taps, weights and separately rounded products and sums as the C
   * code (the shader's `precise`): the maps must be identical, not close. */
  const double err = compare(po);
  g_test_message("upsample %d planes %dx%d -> %dx%d: normalised max error %.3g", planes, ih, iw, oh,
                 ow, err);
  g_assert_cmpfloat(err, ==, 0);
  drop(px), drop(po);
}

static void test_upsample(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  check_upsample(vk, 2, 17, 17, 240, 240); /* MVFA's two logit planes */
  check_upsample(vk, 1, 1, 1, 1, 1);
  check_upsample(vk, 1, 1, 1, 5, 3);   /* a single source pixel */
  check_upsample(vk, 3, 5, 7, 1, 1);   /* one output pixel: scale 0 */
  check_upsample(vk, 290, 2, 3, 9, 4); /* many planes, odd sides */
  check_upsample(vk, 1, 33, 65, 1025, 7);
  check_upsample(vk, 4, 17, 17, 17, 17); /* identity */
  no_messages();
}

/* Patch rows on both backends against the definition, element for element
 * (a permutation: no arithmetic, so exactly equal). */
static void check_patch_rows(vg_backend *vk, int c, int side, int patch) {
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(c * 131 + side * 7 + patch));
  const int g = side / patch, k = 3 * patch * patch;
  const size_t n = (size_t)c * 3 * side * side, m = (size_t)c * g * g * k;
  g_autofree float *img = g_new(float, n), *want = g_new(float, m), *got = g_new(float, m);
  fill(img, n, rng, 0, 1);
  for (int b = 0; b < c; b++)
    for (int gy = 0; gy < g; gy++)
      for (int gx = 0; gx < g; gx++)
        for (int ch = 0; ch < 3; ch++)
          for (int ky = 0; ky < patch; ky++)
            for (int kx = 0; kx < patch; kx++)
              want[((size_t)(b * g + gy) * g + gx) * k + (ch * patch + ky) * patch + kx] =
                  img[((size_t)(b * 3 + ch) * side + gy * patch + ky) * side + gx * patch + kx];
  pair pi = make(vk, VG_F32, (int64_t)c * 3 * side, side, img);
  pair po = make(vk, VG_F32, (int64_t)c * g * g, k, NULL);
  for (int s = 0; s < 2; s++) {
    g_assert_cmpint(vg_patch_rows(po.t[s], pi.t[s], side, patch), ==, VG_OK);
    g_assert_cmpint(vg_tensor_download(po.t[s], got), ==, VG_OK);
    if (memcmp(got, want, m * sizeof(float)) != 0)
      g_error("patch_rows %d x %d, patch %d, %d images: %s differs from the definition", side, side,
              patch, c, s ? "cpu" : "vulkan");
  }
  g_test_message("patch_rows %d images %dx%d, patch %d: %dx%d rows, identical", c, side, side,
                 patch, c * g * g, k);
  drop(pi), drop(po);
}

static void test_patch_rows(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  check_patch_rows(vk, 1, 240, 14); /* MVFA: 17 x 17 patches, the last 2 pixels unused */
  check_patch_rows(vk, 3, 240, 14); /* a batch */
  check_patch_rows(vk, 2, 33, 4);   /* a remainder of 1 */
  check_patch_rows(vk, 1, 7, 7);    /* one patch */
  check_patch_rows(vk, 2, 5, 1);    /* 1 x 1 kernels */
  check_patch_rows(vk, 1, 31, 29);  /* one patch, 2 pixels over */
  no_messages();
}

static void test_patch_rows_bad_input(void) {
  vg_backend *vk = vks[0];
  vg_tensor *img = vg_tensor_new(vk, VG_F32, 2 * 3 * 16, 16),
            *out = vg_tensor_new(vk, VG_F32, 32, 48);
  g_assert_cmpint(vg_patch_rows(out, img, 16, 4), ==, VG_OK); /* 2 images, 16 patches, 3 x 16 */
  g_assert_cmpint(vg_patch_rows(out, img, 15, 4), ==, VG_ERR_ARG); /* side is not the width */
  g_assert_nonnull(strstr(vg_last_error(), "'images'"));
  g_assert_cmpint(vg_patch_rows(out, img, 16, 5), ==, VG_ERR_ARG); /* 3 x 3 patches of 75 */
  g_assert_nonnull(strstr(vg_last_error(), "'out'"));
  g_assert_cmpint(vg_patch_rows(out, img, 16, 0), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_patch_rows(out, img, 16, 17), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_patch_rows(out, NULL, 16, 4), ==, VG_ERR_ARG);
  vg_tensor *odd = vg_tensor_new(vk, VG_F32, 40, 16); /* not whole 3 x 16 x 16 images */
  g_assert_cmpint(vg_patch_rows(out, odd, 16, 4), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "not whole"));
  vg_tensor *c = vg_tensor_new(cpu, VG_F32, 32, 48);
  g_assert_cmpint(vg_patch_rows(c, img, 16, 4), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "another backend"));
  vg_tensor_free(img), vg_tensor_free(out), vg_tensor_free(odd), vg_tensor_free(c);
  no_messages();
}

static void check_softmax_pick(vg_backend *vk, int k, int n, int pick, double spread) {
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(k * 7 + n + pick));
  g_autofree float *x = g_new(float, (size_t)k *n);
  fill(x, (size_t)k * n, rng, -spread, spread);
  pair px = make(vk, VG_F32, k, n, x), po = make(vk, VG_F32, 1, n, NULL);
  for (int s = 0; s < 2; s++)
    g_assert_cmpint(vg_softmax_pick(po.t[s], px.t[s], pick), ==, VG_OK);
  g_autofree char *what = g_strdup_printf("softmax_pick %dx%d entry %d", k, n, pick);
  expect_close(what, po, TOL);
  drop(px), drop(po);
}

static void test_softmax_pick(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  check_softmax_pick(vk, 2, 57600, 1, 30); /* MVFA: 100 * cos logits, upsampled */
  check_softmax_pick(vk, 1, 1, 0, 1);
  check_softmax_pick(vk, 2, 1, 0, 200); /* saturated: exp(-400) underflows */
  check_softmax_pick(vk, 5, 1025, 4, 10);
  check_softmax_pick(vk, 290, 3, 17, 5);
  no_messages();
}

static void check_row_mean(vg_backend *vk, int rows, int cols, double offset) {
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(rows * 3 + cols));
  g_autofree float *x = g_new(float, (size_t)rows *cols);
  fill(x, (size_t)rows * cols, rng, offset - 1, offset + 1);
  pair px = make(vk, VG_F32, rows, cols, x), po = make(vk, VG_F32, rows, 1, NULL);
  for (int s = 0; s < 2; s++)
    g_assert_cmpint(vg_row_mean(po.t[s], px.t[s]), ==, VG_OK);
  g_autofree char *what = g_strdup_printf("row_mean %dx%d", rows, cols);
  expect_close(what, po, TOL);
  drop(px), drop(po);
}

static void test_row_mean(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  check_row_mean(vk, 1, 1, 0);
  check_row_mean(vk, 290, 1025, 0.5);
  check_row_mean(vk, 1, 57600, 2); /* a few-shot map's mean */
  check_row_mean(vk, 4, 289, 0.5); /* per-layer det means */
  no_messages();
}

static void check_min_distance(vg_backend *vk, int m, int n, int k, int used) {
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(m * 11 + n * 5 + k + used));
  g_autofree float *q = g_new(float, (size_t)m *k), *b = g_new(float, (size_t)n *k);
  fill(q, (size_t)m * k, rng, -1, 1);
  fill(b, (size_t)n * k, rng, -1, 1);
  for (int r = 0; r < n; r += 7) /* exact copies of query rows: distance ~0 */
    memcpy(b + (size_t)r * k, q + (size_t)(r % m) * k, (size_t)k * sizeof *q);
  /* Unused bank rows hold a trap: a shader reading them finds distance -1e6. */
  for (size_t i = (size_t)used * k; i < (size_t)n * k; i++)
    b[i] = 1e3f * q[i % k];
  pair pq = make(vk, VG_F32, m, k, q), pb = make(vk, VG_F32, n, k, b);
  pair po = make(vk, VG_F32, 1, m, NULL);
  for (int s = 0; s < 2; s++)
    g_assert_cmpint(vg_min_distance(po.t[s], pq.t[s], pb.t[s], used), ==, VG_OK);
  g_autofree char *what = g_strdup_printf("min_distance %d x %d (of %d) x %d", m, used, n, k);
  expect_close(what, po, TOL);
  drop(pq), drop(pb), drop(po);
}

static void test_min_distance(gconstpointer data) {
  vg_backend *vk = vks[GPOINTER_TO_INT(data)];
  static const int cases[][4] = {/* query rows, bank rows, width, rows used */
                                 {289, 1160, 768, 1160}, {1, 1, 1, 1},       {290, 65, 1025, 64},
                                 {1, 4097, 33, 4097},    {65, 300, 17, 290}, {7, 2, 5, 1}};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
    check_min_distance(vk, cases[i][0], cases[i][1], cases[i][2], cases[i][3]);
  no_messages();
}

static void test_score_ops_bad_input(void) {
  vg_backend *vk = vks[0];
  vg_tensor *x = vg_tensor_new(vk, VG_F32, 2, 289), *o = vg_tensor_new(vk, VG_F32, 2, 100);
  g_assert_cmpint(vg_upsample(o, x, 17, 17, 10, 10), ==, VG_OK);
  g_assert_cmpint(vg_upsample(o, x, 17, 16, 10, 10), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "'x'"));
  g_assert_cmpint(vg_upsample(o, x, 17, 17, 10, 0), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_softmax_pick(o, x, 0), ==, VG_ERR_ARG); /* out must be 1 x 289 */
  vg_tensor *row = vg_tensor_new(vk, VG_F32, 1, 289), *col = vg_tensor_new(vk, VG_F32, 2, 1);
  g_assert_cmpint(vg_softmax_pick(row, x, 2), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "entry 2 of 2"));
  g_assert_cmpint(vg_row_mean(row, x), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_row_mean(col, x), ==, VG_OK);
  vg_tensor *out2 = vg_tensor_new(vk, VG_F32, 1, 2);
  g_assert_cmpint(vg_min_distance(out2, x, x, 3), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "3 bank rows of 2"));
  g_assert_cmpint(vg_min_distance(out2, x, x, 0), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_min_distance(out2, x, o, 1), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_min_distance(out2, x, x, 2), ==, VG_OK);
  g_assert_cmpint(vg_min_distance(out2, x, NULL, 2), ==, VG_ERR_ARG);
  vg_tensor *c = vg_tensor_new(cpu, VG_F32, 1, 2);
  g_assert_cmpint(vg_min_distance(c, x, x, 2), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "another backend"));
  vg_tensor_free(x), vg_tensor_free(o), vg_tensor_free(row), vg_tensor_free(col);
  vg_tensor_free(out2), vg_tensor_free(c);
  no_messages();
}

static void add(const char *name, GTestDataFunc fn) {
  for (int v = 0; v < 2; v++) {
    g_autofree char *path = g_strdup_printf("/vulkan-ops/%s/%s", v ? "staging" : "host", name);
    g_test_add_data_func(path, GINT_TO_POINTER(v), fn);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  const int validation = vk_test_want_validation();
  for (int v = 0; v < 2; v++) {
    /* The plain GEMM: on GPUs with cooperative matrices F16 matmuls would
     * otherwise take the coop GEMM, which test-vulkan-coop checks. */
    vg_vk_options options = {.validation = validation,
                             .sync_validation = SYNC_VALIDATION,
                             .staging = v,
                             .no_16bit_storage = v,
                             .no_coopmat = 1};
    vks[v] = vg_vulkan_backend_new(&options);
    if (!vks[v]) {
      g_printerr("cannot start Vulkan%s: %s\n", validation ? " with validation" : "",
                 vg_last_error());
      return 1;
    }
  }
  cpu = vg_cpu_backend_new(1);
  g_print("# Vulkan device: %s\n", vks[0]->device_name);
  add("matmul", test_matmul);
  g_test_add_func("/vulkan-ops/matmul-f16-vs-f32", test_matmul_f16_vs_f32);
  add("layer-norm", test_layer_norm);
  add("activation", test_activation);
  add("attention", test_attention);
  g_test_add_func("/vulkan-ops/attention-split", test_attention_split);
  g_test_add_func("/vulkan-ops/attention-layout-bad", test_attention_layout_bad);
  add("copy-rows", test_copy_rows);
  add("l2-normalize", test_l2_normalize);
  add("batch-order", test_batch_order);
  g_test_add_func("/vulkan-ops/bad-input", test_bad_input);
  add("upsample", test_upsample);
  add("softmax-pick", test_softmax_pick);
  add("row-mean", test_row_mean);
  add("min-distance", test_min_distance);
  g_test_add_func("/vulkan-ops/score-ops-bad-input", test_score_ops_bad_input);
  add("patch-rows", test_patch_rows);
  g_test_add_func("/vulkan-ops/patch-rows-bad-input", test_patch_rows_bad_input);
  int rc = g_test_run();
  int messages = vg_vulkan_validation_messages(vks[0]) + vg_vulkan_validation_messages(vks[1]);
  vg_backend_destroy(vks[0]);
  vg_backend_destroy(vks[1]);
  vg_backend_destroy(cpu);
  if (messages) {
    g_printerr("%d validation messages\n", messages);
    return 1;
  }
  return rc;
}
