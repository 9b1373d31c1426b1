/* The CPU backend's operations against plain reference loops. */
#include <glib.h>
#include <math.h>

#include "vg_cpu.h"

static vg_backend *backend;

static void fill_random(float *v, size_t n, GRand *rng) {
  for (size_t i = 0; i < n; i++)
    v[i] = (float)g_rand_double_range(rng, -1.0, 1.0);
}

static vg_tensor *tensor_from(int64_t rows, int64_t cols, const float *data) {
  vg_tensor *t = vg_tensor_new(backend, VG_F32, rows, cols);
  g_assert_nonnull(t);
  g_assert_cmpint(vg_tensor_upload(t, data), ==, VG_OK);
  return t;
}

static double max_rel_error(const float *got, const float *want, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    num = fmax(num, fabs((double)got[i] - want[i]));
    den = fmax(den, fabs((double)want[i]));
  }
  return num / (den > 0 ? den : 1);
}

static void test_matmul(void) {
  g_autoptr(GRand) rng = g_rand_new_with_seed(1);
  const int m = 37, n = 29, k = 65;
  g_autofree float *a = g_new(float, m *k), *w = g_new(float, n *k), *bias = g_new(float, n);
  g_autofree float *got = g_new(float, m *n), *want = g_new(float, m *n);
  fill_random(a, m * k, rng);
  fill_random(w, n * k, rng);
  fill_random(bias, n, rng);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double s = bias[j];
      for (int p = 0; p < k; p++)
        s += (double)a[i * k + p] * w[j * k + p];
      want[i * n + j] = (float)s;
    }
  vg_tensor *ta = tensor_from(m, k, a), *tw = tensor_from(n, k, w), *tb = tensor_from(1, n, bias);
  vg_tensor *out = vg_tensor_new(backend, VG_F32, m, n);
  g_assert_cmpint(vg_matmul(out, ta, tw, tb), ==, VG_OK);
  vg_tensor_download(out, got);
  g_assert_cmpfloat(max_rel_error(got, want, m * n), <, 1e-5);

  /* F16 weights give the same product within F16's rounding. */
  g_autofree uint16_t *wh = g_new(uint16_t, n * k);
  for (int i = 0; i < n * k; i++)
    wh[i] = vg_f32_to_f16(w[i]);
  vg_tensor *twh = vg_tensor_new(backend, VG_F16, n, k);
  vg_tensor_upload(twh, wh);
  g_assert_cmpint(vg_matmul(out, ta, twh, tb), ==, VG_OK);
  vg_tensor_download(out, got);
  g_assert_cmpfloat(max_rel_error(got, want, m * n), <, 2e-3);

  vg_tensor_free(ta), vg_tensor_free(tw), vg_tensor_free(tb), vg_tensor_free(twh);
  vg_tensor_free(out);
}

static void test_wrong_shapes(void) {
  vg_tensor *a = vg_tensor_new(backend, VG_F32, 4, 8), *w = vg_tensor_new(backend, VG_F32, 3, 7);
  vg_tensor *out = vg_tensor_new(backend, VG_F32, 4, 3);
  g_assert_cmpint(vg_matmul(out, a, w, NULL), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "tensor 'w' is 3 x 7, expected -1 x 8"));
  g_assert_cmpint(vg_add_scaled(out, a, 1, a, 1), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_attention(out, a, 2, 0), ==, VG_ERR_ARG);
  g_assert_null(vg_tensor_new(backend, VG_F32, 0, 5));
  g_assert_null(vg_tensor_new(backend, VG_F32, (int64_t)1 << 40, (int64_t)1 << 40));
  g_assert_nonnull(strstr(vg_last_error(), "cannot make"));
  vg_tensor_free(a), vg_tensor_free(w), vg_tensor_free(out);
}

static void test_layer_norm(void) {
  g_autoptr(GRand) rng = g_rand_new_with_seed(2);
  const int rows = 5, cols = 1025;
  g_autofree float *x = g_new(float, rows *cols), *g = g_new(float, cols), *b = g_new(float, cols);
  g_autofree float *got = g_new(float, rows *cols), *want = g_new(float, rows *cols);
  fill_random(x, rows * cols, rng);
  fill_random(g, cols, rng);
  fill_random(b, cols, rng);
  for (int r = 0; r < rows; r++) {
    double mean = 0, var = 0;
    for (int i = 0; i < cols; i++)
      mean += x[r * cols + i];
    mean /= cols;
    for (int i = 0; i < cols; i++)
      var += pow(x[r * cols + i] - mean, 2);
    var /= cols;
    for (int i = 0; i < cols; i++)
      want[r * cols + i] = (float)((x[r * cols + i] - mean) / sqrt(var + 1e-5) * g[i] + b[i]);
  }
  vg_tensor *tx = tensor_from(rows, cols, x), *tg = tensor_from(1, cols, g);
  vg_tensor *tb = tensor_from(1, cols, b), *out = vg_tensor_new(backend, VG_F32, rows, cols);
  g_assert_cmpint(vg_layer_norm(out, tx, tg, tb, 1e-5f), ==, VG_OK);
  vg_tensor_download(out, got);
  g_assert_cmpfloat(max_rel_error(got, want, rows * cols), <, 1e-5);
  vg_tensor_free(tx), vg_tensor_free(tg), vg_tensor_free(tb), vg_tensor_free(out);
}

static void test_activations(void) {
  const float x[4] = {-2.0f, -0.5f, 0.0f, 1.5f};
  float y[4];
  vg_tensor *t = tensor_from(1, 4, x);
  g_assert_cmpint(vg_activation_apply(t, VG_ACT_GELU, 0), ==, VG_OK);
  vg_tensor_download(t, y);
  /* torch.nn.functional.gelu(torch.tensor([-2, -.5, 0, 1.5])) */
  const float gelu[4] = {-0.0455003f, -0.1542688f, 0.0f, 1.3997892f};
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat_with_epsilon(y[i], gelu[i], 1e-6);
  vg_tensor_upload(t, x);
  vg_activation_apply(t, VG_ACT_LEAKY_RELU, 0.01f);
  vg_tensor_download(t, y);
  g_assert_cmpfloat_with_epsilon(y[0], -0.02f, 1e-7);
  g_assert_cmpfloat_with_epsilon(y[3], 1.5f, 1e-7);
  vg_tensor_upload(t, x);
  vg_activation_apply(t, VG_ACT_QUICK_GELU, 0);
  vg_tensor_download(t, y);
  g_assert_cmpfloat_with_epsilon(y[3], 1.5f / (1.0f + expf(-1.702f * 1.5f)), 1e-6);
  g_assert_cmpint(vg_activation_apply(t, (vg_activation)42, 0), ==, VG_ERR_ARG);
  vg_tensor_free(t);
}

static void naive_attention(const float *qkv, float *out, int t, int d, int heads, int causal) {
  const int hd = d / heads;
  g_autofree double *s = g_new(double, t);
  for (int h = 0; h < heads; h++)
    for (int i = 0; i < t; i++) {
      double mx = -INFINITY, sum = 0;
      const int valid = causal ? i + 1 : t;
      for (int j = 0; j < valid; j++) {
        double dot = 0;
        for (int c = 0; c < hd; c++)
          dot += (double)qkv[i * 3 * d + h * hd + c] * qkv[j * 3 * d + d + h * hd + c];
        s[j] = dot / sqrt(hd);
        mx = fmax(mx, s[j]);
      }
      for (int j = 0; j < valid; j++)
        sum += s[j] = exp(s[j] - mx);
      for (int c = 0; c < hd; c++) {
        double acc = 0;
        for (int j = 0; j < valid; j++)
          acc += s[j] / sum * qkv[j * 3 * d + 2 * d + h * hd + c];
        out[i * d + h * hd + c] = (float)acc;
      }
    }
}

static void test_attention(void) {
  g_autoptr(GRand) rng = g_rand_new_with_seed(3);
  const int t = 29, d = 48, heads = 3;
  g_autofree float *qkv = g_new(float, t * 3 * d), *got = g_new(float, t *d);
  g_autofree float *want = g_new(float, t *d);
  fill_random(qkv, t * 3 * d, rng);
  vg_tensor *tq = tensor_from(t, 3 * d, qkv), *out = vg_tensor_new(backend, VG_F32, t, d);
  for (int causal = 0; causal <= 1; causal++) {
    naive_attention(qkv, want, t, d, heads, causal);
    g_assert_cmpint(vg_attention(out, tq, heads, causal), ==, VG_OK);
    vg_tensor_download(out, got);
    g_assert_cmpfloat(max_rel_error(got, want, t * d), <, 1e-5);
  }
  vg_tensor_free(tq), vg_tensor_free(out);
}

static void test_add_scaled(void) {
  const float a[3] = {1, 2, 3}, b[3] = {10, 20, 30};
  float y[3];
  vg_tensor *ta = tensor_from(1, 3, a), *tb = tensor_from(1, 3, b);
  g_assert_cmpint(vg_add_scaled(ta, ta, 0.8f, tb, 0.1f), ==, VG_OK); /* aliasing out = a */
  vg_tensor_download(ta, y);
  g_assert_cmpfloat_with_epsilon(y[2], 0.8f * 3 + 3.0f, 1e-6);
  vg_tensor_free(ta), vg_tensor_free(tb);
  /* Big enough to be split over 3 threads, in uneven shares: every value. */
  enum { ROWS = 257, COLS = 301 };
  vg_backend *three = vg_cpu_backend_new(3);
  float *av = g_new(float, ROWS *COLS), *bv = g_new(float, ROWS *COLS);
  float *got = g_new(float, ROWS *COLS);
  for (int i = 0; i < ROWS * COLS; i++)
    av[i] = (float)(i % 97) - 40.0f, bv[i] = (float)(i % 89) * 0.5f;
  vg_tensor *xa = vg_tensor_new(three, VG_F32, ROWS, COLS),
            *xb = vg_tensor_new(three, VG_F32, ROWS, COLS);
  vg_tensor *xo = vg_tensor_new(three, VG_F32, ROWS, COLS);
  vg_tensor_upload(xa, av), vg_tensor_upload(xb, bv);
  g_assert_cmpint(vg_add_scaled(xo, xa, 0.8f, xb, 0.1f), ==, VG_OK);
  vg_tensor_download(xo, got);
  for (int i = 0; i < ROWS * COLS; i++)
    g_assert_cmpfloat_with_epsilon(got[i], 0.8f * av[i] + 0.1f * bv[i], 1e-5);
  vg_tensor_free(xa), vg_tensor_free(xb), vg_tensor_free(xo);
  vg_backend_destroy(three);
  g_free(av), g_free(bv), g_free(got);
}

static void test_rows_and_norms(void) {
  const float a[6] = {3, 4, 0, 0, 1, 0}; /* rows (3,4) (0,0) (1,0) */
  float y[6];
  vg_tensor *ta = tensor_from(3, 2, a), *tb = vg_tensor_new(backend, VG_F32, 3, 2);
  g_assert_cmpint(vg_l2_normalize(tb, ta, 1e-8f), ==, VG_OK);
  vg_tensor_download(tb, y);
  g_assert_cmpfloat_with_epsilon(y[0], 0.6f, 1e-7);
  g_assert_cmpfloat_with_epsilon(y[1], 0.8f, 1e-7);
  g_assert_cmpfloat(y[2], ==, 0.0f); /* a zero row stays zero, no NaN */
  g_assert_cmpint(vg_copy_rows(tb, 0, ta, 1, 2), ==, VG_OK);
  vg_tensor_download(tb, y);
  g_assert_cmpfloat(y[0], ==, 0.0f);
  g_assert_cmpfloat(y[2], ==, 1.0f);
  g_assert_cmpint(vg_copy_rows(tb, 2, ta, 0, 2), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "out of range"));
  vg_tensor_free(ta), vg_tensor_free(tb);
}

static void test_f16(void) {
  const float values[] = {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.1f};
  for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
    float back = vg_f16_to_f32(vg_f32_to_f16(values[i]));
    g_assert_cmpfloat_with_epsilon(back, values[i], fabsf(values[i]) * 1e-3f + 1e-12f);
  }
  g_assert_cmpuint(vg_f32_to_f16(1.0f), ==, 0x3c00);
  g_assert_cmpuint(vg_f32_to_f16(1e9f), ==, 0x7c00); /* overflow to +inf */
  g_assert_true(isnan(vg_f16_to_f32(vg_f32_to_f16(NAN))));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  backend = vg_cpu_backend_new(1);
  g_assert_nonnull(backend);
  g_test_add_func("/cpu/matmul", test_matmul);
  g_test_add_func("/cpu/wrong-shapes", test_wrong_shapes);
  g_test_add_func("/cpu/layer-norm", test_layer_norm);
  g_test_add_func("/cpu/activations", test_activations);
  g_test_add_func("/cpu/attention", test_attention);
  g_test_add_func("/cpu/add-scaled", test_add_scaled);
  g_test_add_func("/cpu/rows-and-norms", test_rows_and_norms);
  g_test_add_func("/cpu/f16", test_f16);
  int rc = g_test_run();
  vg_backend_destroy(backend);
  return rc;
}
