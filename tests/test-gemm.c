/* The CPU backend's GEMMs (own, OpenBLAS, oneDNN: vg_cpu_gemm.h) against a
 * double-precision loop: odd shapes (row, column and depth tails), strides,
 * bias, F16 weights, the transposed (k-major) weight layout, several thread
 * counts, and BF16 weights and activations through oneDNN. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vg_backend.h"
#include "vg_cpu_gemm.h"
#include "vg_dnnl.h"
#include "vg_gemm.h"

static float rnd(guint32 *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)(*s >> 8) / (float)(1 << 24) - 0.5f;
}

typedef struct kernel {
  int kind;    /* vg_cpu_gemm_kind, or -1: vg_gemm itself */
  vg_dtype wt; /* the weights' type */
} kernel;

/* Weight values exactly representable in `wt` (stored there as 16 bits). */
static void make_weights(vg_dtype wt, int count, guint32 *seed, float *w, guint16 *wh) {
  for (int i = 0; i < count; i++) {
    wh[i] = wt == VG_BF16 ? vg_f32_to_bf16(rnd(seed)) : vg_f32_to_f16(rnd(seed));
    w[i] = wt == VG_BF16 ? vg_bf16_to_f32(wh[i]) : vg_f16_to_f32(wh[i]);
  }
}

/* How a case runs beyond its kernel and shape. */
typedef struct opts {
  int w_kn, bias, threads;
  int packed; /* BF16 weights packed by vg_dnnl_bf16_pack (kind dnnl, wt BF16) */
  int act;    /* 1 + vg_activation, fused by oneDNN (vg_gemm_args.act); 0 none */
  float alpha;
} opts;

/* The activation in double precision, as MVFA's PyTorch defines it. */
static double activate(double x, int act, float alpha) {
  switch (act) {
  case 1 + VG_ACT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
  case 1 + VG_ACT_QUICK_GELU: return x / (1 + exp(-1.702 * x));
  case 1 + VG_ACT_LEAKY_RELU: return x < 0 ? alpha * x : x;
  default: return x;
  }
}

/* The weights handed to the kernel: F32, 16-bit, or packed (caller frees). */
static void *weights_for(kernel kn, const opts *o, int n, int k, float *w, guint16 *wh) {
  if (kn.wt == VG_F32)
    return g_memdup2(w, sizeof *w * (gsize)n * k);
  if (!o->packed)
    return g_memdup2(wh, sizeof *wh * (gsize)n * k);
  const size_t bytes = vg_dnnl_bf16_packed_bytes(n, k);
  g_assert_cmpuint(bytes, >=, sizeof *wh * (gsize)n * k);
  void *packed = g_aligned_alloc(1, bytes, 64);
  g_assert_cmpint(vg_dnnl_bf16_pack(wh, n, k, packed), ==, VG_OK);
  guint16 *back = g_new(guint16, (gsize)n * k); /* unpacking gives the weights back */
  g_assert_cmpint(vg_dnnl_bf16_unpack(packed, n, k, back), ==, VG_OK);
  g_assert_cmpmem(back, sizeof *back * (gsize)n * k, wh, sizeof *wh * (gsize)n * k);
  g_free(back);
  return packed;
}

static void check_opts(kernel kn, int m, int n, int k, const opts *o) {
  /* Packed weights are dense n x k (PyTorch's layout). */
  const int lda = k + 3, ldw = o->packed ? k : (o->w_kn ? n : k) + 5, ldo = n + 2;
  const int w_rows = o->w_kn ? k : n, bf16 = kn.wt == VG_BF16;
  guint32 seed = (guint32)(m * 131 + n * 17 + k);
  float *a = g_new(float, (gsize)m *lda), *w = g_new(float, (gsize)w_rows *ldw);
  guint16 *wh = g_new(guint16, (gsize)w_rows * ldw);
  float *bias = g_new(float, n), *out = g_new(float, (gsize)m *ldo);
  for (int i = 0; i < m * lda; i++)
    a[i] = rnd(&seed);
  make_weights(kn.wt, w_rows * ldw, &seed, w, wh);
  for (int j = 0; j < n; j++)
    bias[j] = rnd(&seed);
  void *given = weights_for(kn, o, w_rows, ldw, w, wh);
  vg_gemm_args g = {.m = m,
                    .n = n,
                    .k = k,
                    .a = a,
                    .lda = lda,
                    .w = given,
                    .ldw = ldw,
                    .w_kn = o->w_kn,
                    .w_f16 = kn.wt == VG_F16,
                    .w_packed = o->packed,
                    .bias = o->bias ? bias : NULL,
                    .out = out,
                    .ldo = ldo,
                    .act = o->act,
                    .act_alpha = o->alpha};
  if (kn.kind < 0)
    vg_gemm(&g, o->threads);
  else if (vg_cpu_gemm_run((vg_cpu_gemm_kind)kn.kind, &g, kn.wt, o->threads) != VG_OK)
    g_error("%s: %s", vg_cpu_gemm_name((vg_cpu_gemm_kind)kn.kind), vg_last_error());
  double err = 0, mag = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double ref = o->bias ? bias[j] : 0;
      for (int p = 0; p < k; p++) { /* BF16 rounds the activations too */
        const float x = bf16 ? vg_bf16_to_f32(vg_f32_to_bf16(a[i * lda + p])) : a[i * lda + p];
        ref += (double)x * (o->w_kn ? w[p * ldw + j] : w[j * ldw + p]);
      }
      ref = activate(ref, o->act, o->alpha);
      err = fmax(err, fabs(ref - out[i * ldo + j]));
      mag = fmax(mag, fabs(ref));
    }
  if (!(err <= 1e-5 * fmax(mag, 1.0)))
    g_error("gemm %d/%d %dx%dx%d kn=%d bias=%d threads=%d packed=%d act=%d: error %g of %g",
            kn.kind, (int)kn.wt, m, n, k, o->w_kn, o->bias, o->threads, o->packed, o->act, err,
            mag);
  if (o->packed)
    g_aligned_free(given);
  else
    g_free(given);
  g_free(a), g_free(w), g_free(wh), g_free(bias), g_free(out);
}

static void check_with(kernel kn, int m, int n, int k, int w_kn, int with_bias, int threads) {
  const opts o = {.w_kn = w_kn, .bias = with_bias, .threads = threads};
  check_opts(kn, m, n, k, &o);
}

static void check(int m, int n, int k, int w_kn, int w_f16, int with_bias, int threads) {
  check_with((kernel){-1, w_f16 ? VG_F16 : VG_F32}, m, n, k, w_kn, with_bias, threads);
}

static const int shapes[][3] = {{1, 1, 1},      {6, 32, 256}, {7, 33, 257}, {13, 70, 600},
                                {290, 64, 290}, {5, 100, 1},  {64, 17, 513}};

/* Each kernel the backend can choose, through vg_cpu_gemm_run. */
static void test_kernels(void) {
  for (int kind = 0; kind < VG_CPU_GEMM_KINDS; kind++) {
    if (!vg_cpu_gemm_runs((vg_cpu_gemm_kind)kind)) {
      g_test_message("%s: does not run here", vg_cpu_gemm_name((vg_cpu_gemm_kind)kind));
      continue;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
      const int m = shapes[i][0], n = shapes[i][1], k = shapes[i][2];
      check_with((kernel){kind, VG_F32}, m, n, k, 0, 1, 2);
      check_with((kernel){kind, VG_F32}, m, n, k, 1, 0, 1);
      check_with((kernel){kind, VG_F16}, m, n, k, 0, i % 2, 2);
    }
  }
}

/* BF16 weights and activations with F32 accumulation, where the CPU has it;
 * elsewhere a clear refusal. */
static void test_bf16(void) {
  const char *why = NULL;
  if (!vg_dnnl_bf16(&why)) {
    float a = 1, out = 0;
    guint16 w = vg_f32_to_bf16(1);
    const vg_gemm_args g = {
        .m = 1, .n = 1, .k = 1, .a = &a, .lda = 1, .w = &w, .ldw = 1, .out = &out, .ldo = 1};
    g_assert_cmpint(vg_cpu_gemm_run(VG_CPU_GEMM_OWN, &g, VG_BF16, 1), ==, VG_ERR_UNSUPPORTED);
    g_test_message("refused: %s (%s)", vg_last_error(), why);
    return;
  }
  g_test_message("%s", vg_dnnl_describe());
  for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++)
    for (int threads = 1; threads <= 2; threads++) {
      const int m = shapes[i][0], n = shapes[i][1], k = shapes[i][2];
      check_with((kernel){VG_CPU_GEMM_DNNL, VG_BF16}, m, n, k, 0, 1, threads);
      check_with((kernel){VG_CPU_GEMM_OWN, VG_BF16}, m, n, k, 1, 0, threads);
    }
  /* Weights packed once for oneDNN's BF16 matmul: one layout serves every
   * row count (a batch of 4 images is 1160 rows). */
  const int rows[] = {1, 7, 290, 1160};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    const opts o = {.bias = 1, .threads = 2, .packed = 1};
    check_opts((kernel){VG_CPU_GEMM_DNNL, VG_BF16}, rows[i], 96, 64, &o);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
    const opts o = {.bias = i % 2, .threads = 1 + i % 2, .packed = 1};
    check_opts((kernel){VG_CPU_GEMM_DNNL, VG_BF16}, shapes[i][0], shapes[i][1], shapes[i][2], &o);
  }
  /* Rounding to nearest even, and NaN stays NaN. */
  g_assert_cmphex(vg_f32_to_bf16(1.0f), ==, 0x3f80);
  g_assert_cmphex(vg_f32_to_bf16(1.00390625f), ==, 0x3f80); /* halfway, to even */
  g_assert_cmphex(vg_f32_to_bf16(1.01171875f), ==, 0x3f82); /* halfway, to even (up) */
  g_assert_true(isnan(vg_bf16_to_f32(vg_f32_to_bf16(NAN))));
}

static void test_shapes(void) {
  g_test_message("kernel: %s", vg_gemm_kind());
  for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++)
    for (int threads = 1; threads <= 3; threads++) {
      const int m = shapes[i][0], n = shapes[i][1], k = shapes[i][2];
      check(m, n, k, 0, 0, 1, threads);
      check(m, n, k, 0, 1, 0, threads);
      check(m, n, k, 1, 0, threads == 2, threads);
    }
}

/* The activations oneDNN applies in its post-op (F32, and BF16 packed)
 * against the exact definitions: erf GELU, QuickGELU, LeakyReLU. */
static void test_post_op(void) {
  if (!vg_dnnl_built()) {
    g_test_skip("no oneDNN in this build: the activations run as their own pass (test-cpu-ops)");
    return;
  }
  const int acts[] = {1 + VG_ACT_GELU, 1 + VG_ACT_QUICK_GELU, 1 + VG_ACT_LEAKY_RELU};
  for (size_t a = 0; a < G_N_ELEMENTS(acts); a++)
    for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
      opts o = {.bias = 1, .threads = 2, .act = acts[a], .alpha = 0.2f};
      check_opts((kernel){VG_CPU_GEMM_DNNL, VG_F32}, shapes[i][0], shapes[i][1], shapes[i][2], &o);
      if (!vg_dnnl_bf16(NULL))
        continue;
      o.packed = 1;
      check_opts((kernel){VG_CPU_GEMM_DNNL, VG_BF16}, shapes[i][0], shapes[i][1], shapes[i][2], &o);
    }
}

/* The choice in a fresh process with VG_CPU_GEMM=env (NULL: unset). */
static void expect_choice(const char *env, const char *pattern) {
  if (env)
    g_setenv("VG_CPU_GEMM", env, TRUE);
  else
    g_unsetenv("VG_CPU_GEMM");
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed();
  g_test_trap_assert_stdout(pattern);
}

/* VG_CPU_GEMM forces a kernel (a bad or impossible one is said and probed
 * instead); unset, the probe runs once and later processes take its cached
 * verdict. */
static void test_choice(void) {
  if (g_test_subprocess()) {
    const vg_cpu_gemm_choice *c = vg_cpu_gemm_choose(2);
    printf("kind=%s how=%s\n", vg_cpu_gemm_name(c->kind), c->how);
    return;
  }
  g_autofree char *was = g_strdup(g_getenv("VG_CPU_GEMM"));
  g_autofree char *tmp = g_dir_make_tmp("vg-gemm-XXXXXX", NULL);
  g_autofree char *cache = g_build_filename(tmp, "new", NULL); /* made on the way */
  g_setenv("XDG_CACHE_HOME", cache, TRUE);
  expect_choice("openblas", "kind=openblas how=VG_CPU_GEMM=openblas\n");
  expect_choice("dnnl", vg_dnnl_built() ? "kind=dnnl how=VG_CPU_GEMM=dnnl\n"
                                        : "*VG_CPU_GEMM=dnnl cannot run here (no oneDNN*probe*");
  expect_choice("fastest", "*how=VG_CPU_GEMM=fastest unknown (own, openblas or dnnl); probe "
                           "290x3072x1024, 2 threads: *openblas * GFLOP/s\n");
  expect_choice(NULL, "kind=* how=probe 290x3072x1024, 2 threads: * GFLOP/s\n");
  g_autofree char *file = g_build_filename(cache, "vigil", "cpu-gemm-2", NULL);
  g_assert_true(g_file_test(file, G_FILE_TEST_IS_REGULAR));
  expect_choice(NULL, "kind=* how=probe 290x3072x1024, 2 threads: * GFLOP/s (probed once; "
                      "cached)\n");
  g_remove(file);
  g_autofree char *dir = g_path_get_dirname(file);
  g_rmdir(dir), g_rmdir(cache), g_rmdir(tmp);
  if (was)
    g_setenv("VG_CPU_GEMM", was, TRUE);
  else
    g_unsetenv("VG_CPU_GEMM");
}

typedef struct {
  int hits[8];
} counts;

static void count(void *ctx, int t, int n) {
  counts *c = ctx;
  g_assert_cmpint(n, ==, 5);
  c->hits[t]++;
}

static void count_nested(void *ctx, int t, int n) {
  counts *c = ctx;
  g_assert_cmpint(n, ==, 3);
  vg_parallel(5, count, &c[1 + t]);
  c[0].hits[t]++;
}

/* Every share runs once, also from inside a share (with OpenMP, a nested
 * team may have one thread, which then runs all five). */
static void test_parallel(void) {
  counts c[4] = {{{0}}};
  vg_parallel(5, count, &c[0]);
  for (int t = 0; t < 5; t++)
    g_assert_cmpint(c[0].hits[t], ==, 1);
  memset(c, 0, sizeof c);
  vg_parallel(3, count_nested, c);
  for (int i = 0; i < 4; i++)
    for (int t = 0; t < (i == 0 ? 3 : 5); t++)
      g_assert_cmpint(c[i].hits[t], ==, 1);
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
  g_test_add_func("/gemm/kernels", test_kernels);
  g_test_add_func("/gemm/bf16", test_bf16);
  g_test_add_func("/gemm/post-op", test_post_op);
  g_test_add_func("/gemm/choice", test_choice);
  return g_test_run();
}
