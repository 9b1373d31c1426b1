/* The CPU backend's own GEMM against a double-precision loop: odd shapes
 * (row, column and depth tails), strides, bias, F16 weights, the transposed
 * (k-major) weight layout and several thread counts. */
#include <glib.h>
#include <math.h>

#include "vg_backend.h"
#include "vg_gemm.h"

static float rnd(guint32 *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)(*s >> 8) / (float)(1 << 24) - 0.5f;
}

static void check(int m, int n, int k, int w_kn, int w_f16, int with_bias, int threads) {
  const int lda = k + 3, ldw = (w_kn ? n : k) + 5, ldo = n + 2;
  const int w_rows = w_kn ? k : n;
  guint32 seed = (guint32)(m * 131 + n * 17 + k);
  float *a = g_new(float, (gsize)m *lda), *w = g_new(float, (gsize)w_rows *ldw);
  guint16 *wh = g_new(guint16, (gsize)w_rows * ldw);
  float *bias = g_new(float, n), *out = g_new(float, (gsize)m *ldo);
  for (int i = 0; i < m * lda; i++)
    a[i] = rnd(&seed);
  for (int i = 0; i < w_rows * ldw; i++) {
    wh[i] = vg_f32_to_f16(rnd(&seed));
    w[i] = vg_f16_to_f32(wh[i]); /* the same values either way */
  }
  for (int j = 0; j < n; j++)
    bias[j] = rnd(&seed);
  vg_gemm_args g = {.m = m,
                    .n = n,
                    .k = k,
                    .a = a,
                    .lda = lda,
                    .w = w_f16 ? (void *)wh : w,
                    .ldw = ldw,
                    .w_kn = w_kn,
                    .w_f16 = w_f16,
                    .bias = with_bias ? bias : NULL,
                    .out = out,
                    .ldo = ldo};
  vg_gemm(&g, threads);
  double err = 0, mag = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double ref = with_bias ? bias[j] : 0;
      for (int p = 0; p < k; p++)
        ref += (double)a[i * lda + p] * (w_kn ? w[p * ldw + j] : w[j * ldw + p]);
      err = fmax(err, fabs(ref - out[i * ldo + j]));
      mag = fmax(mag, fabs(ref));
    }
  if (!(err <= 1e-5 * fmax(mag, 1.0)))
    g_error("gemm %dx%dx%d kn=%d f16=%d bias=%d threads=%d: error %g of %g", m, n, k, w_kn, w_f16,
            with_bias, threads, err, mag);
  g_free(a), g_free(w), g_free(wh), g_free(bias), g_free(out);
}

static void test_shapes(void) {
  g_test_message("kernel: %s", vg_gemm_kind());
  const int shapes[][3] = {{1, 1, 1},      {6, 32, 256}, {7, 33, 257}, {13, 70, 600},
                           {290, 64, 290}, {5, 100, 1},  {64, 17, 513}};
  for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++)
    for (int threads = 1; threads <= 3; threads++) {
      const int m = shapes[i][0], n = shapes[i][1], k = shapes[i][2];
      check(m, n, k, 0, 0, 1, threads);
      check(m, n, k, 0, 1, 0, threads);
      check(m, n, k, 1, 0, threads == 2, threads);
    }
}

typedef struct {
  int hits[8];
} counts;

static void count(void *ctx, int t, int n) {
  counts *c = ctx;
  g_assert_cmpint(n, ==, 5);
  c->hits[t]++;
}

static void test_parallel(void) {
  counts c = {{0}};
  vg_parallel(5, count, &c);
  for (int t = 0; t < 5; t++)
    g_assert_cmpint(c.hits[t], ==, 1);
}

int main(int argc, char **argv) {
  /* --plain-c: the portable kernel (chosen once, at the first GEMM). */
  for (int i = 1; i < argc; i++)
    if (g_strcmp0(argv[i], "--plain-c") == 0) {
      g_setenv("VG_CPU_GEMM", "openblas", TRUE);
      argv[i] = (char *)"--tap"; /* keep g_test_init's argument parsing happy */
    }
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/gemm/shapes", test_shapes);
  g_test_add_func("/gemm/parallel", test_parallel);
  return g_test_run();
}
