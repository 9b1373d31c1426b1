/* The CPU backend's vectorised kernels (vg_vec.h) against their plain C
 * versions, each instruction set forced in turn where this CPU has it: every
 * activation, layer norm with and without the fused residual add, softmax
 * (scaled, masked tails), on lengths around the vector widths. Then the
 * attention kernel (vg_cpu_attn.c) against a double-precision loop, the
 * fused ops against the plain ones through the backend interface, and the
 * physical-core count on a made-up sysfs. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "vg_backend.h"
#include "vg_cpu.h"
#include "vg_cpu_attn.h"
#include "vg_cpu_threads.h"
#include "vg_vec.h"

static const char *const kinds[] = {"avx512", "avx2", "c"};
/* 1 row, odd sizes, one under / at / over the 8- and 16-lane widths and 4x16. */
static const int lengths[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 77, 290, 1024, 1031};

static float rnd(guint32 *s, float scale) {
  *s = *s * 1664525u + 1013904223u;
  return ((float)(*s >> 8) / (float)(1 << 24) - 0.5f) * 2.0f * scale;
}

static float *random_values(int n, guint32 seed, float scale) {
  float *v = g_new(float, n);
  for (int i = 0; i < n; i++)
    v[i] = rnd(&seed, scale);
  return v;
}

static void assert_close(const float *got, const float *want, int n, double tol, const char *what,
                         const char *kind, int len) {
  for (int i = 0; i < n; i++)
    if (!(fabs((double)got[i] - want[i]) <= tol * fmax(1.0, fabs(want[i]))))
      g_error("%s (%s, n %d): [%d] = %.9g, expected %.9g", what, kind, len, i, got[i], want[i]);
}

/* Forces each kind this CPU has; returns how many ran. */
static int each_kind(void (*check)(const char *kind)) {
  int ran = 0;
  for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
    if (!vg_vec_force(kinds[k])) {
      g_test_message("%s: not on this CPU", kinds[k]);
      continue;
    }
    g_assert_cmpstr(vg_vec()->kind, ==, kinds[k]);
    check(kinds[k]);
    ran++;
  }
  return ran;
}

static void check_act(const char *kind) {
  const vg_activation acts[] = {VG_ACT_GELU, VG_ACT_QUICK_GELU, VG_ACT_LEAKY_RELU};
  for (size_t a = 0; a < G_N_ELEMENTS(acts); a++)
    for (size_t l = 0; l < G_N_ELEMENTS(lengths); l++) {
      const int n = lengths[l];
      /* +-7 crosses every piece of the erf (|x| / sqrt 2 up to 5). */
      float *got = random_values(n, (guint32)(n + a), 7.0f), *want = g_memdup2(got, n * 4);
      vg_vec()->act(got, (size_t)n, acts[a], 0.01f);
      vg_vec_plain()->act(want, (size_t)n, acts[a], 0.01f);
      assert_close(got, want, n, 1e-6, "activation", kind, n);
      g_free(got), g_free(want);
    }
  /* Exact points and extremes: erf's piece boundaries, huge, tiny, zero. */
  float pts[] = {0.0f,       -0.0f,     1.41421356f, -1.41421356f, 2.8284271f,
                 4.2426407f, 5.656854f, -5.656854f,  30.0f,        -30.0f,
                 1e-30f,     -88.0f,    88.0f,       1000.0f,      -1000.0f};
  float want[G_N_ELEMENTS(pts)];
  memcpy(want, pts, sizeof pts);
  for (int act = VG_ACT_GELU; act <= VG_ACT_QUICK_GELU; act++) {
    float got[G_N_ELEMENTS(pts)];
    memcpy(got, pts, sizeof pts);
    memcpy(want, pts, sizeof pts);
    vg_vec()->act(got, G_N_ELEMENTS(pts), (vg_activation)act, 0);
    vg_vec_plain()->act(want, G_N_ELEMENTS(pts), (vg_activation)act, 0);
    assert_close(got, want, G_N_ELEMENTS(pts), 1e-6, "activation at edges", kind, act);
  }
}

static void test_activations(void) {
  g_assert_cmpint(each_kind(check_act), >=, 1);
}

static void check_layer_norm(const char *kind) {
  for (size_t l = 0; l < G_N_ELEMENTS(lengths); l++)
    for (int fused = 0; fused <= 1; fused++) {
      const int n = lengths[l];
      float *x = random_values(n, (guint32)n, 3.0f), *x2 = g_memdup2(x, n * 4);
      float *add = random_values(n, 7u + (guint32)n, 1.0f);
      float *g = random_values(n, 11u, 1.0f), *b = random_values(n, 13u, 1.0f);
      for (int i = 0; i < n; i++)
        x[i] += 100.0f, x2[i] += 100.0f; /* a large mean, as residual streams have */
      float *got = g_new(float, n), *want = g_new(float, n);
      vg_vec()->layer_norm(x, fused ? add : NULL, got, g, b, n, 1e-5f);
      vg_vec_plain()->layer_norm(x2, fused ? add : NULL, want, g, b, n, 1e-5f);
      assert_close(x, x2, n, 1e-7, "residual", kind, n);
      /* One value has nothing to normalise: (x - mean) is 0 in both. */
      assert_close(got, want, n, 2e-5, fused ? "add + layer norm" : "layer norm", kind, n);
      g_free(x), g_free(x2), g_free(add), g_free(g), g_free(b), g_free(got), g_free(want);
    }
}

static void test_layer_norm(void) {
  g_assert_cmpint(each_kind(check_layer_norm), >=, 1);
}

static void check_softmax(const char *kind) {
  for (size_t l = 0; l < G_N_ELEMENTS(lengths); l++) {
    const int total = lengths[l];
    const int valids[] = {1, total / 2 + 1, total};
    for (size_t v = 0; v < G_N_ELEMENTS(valids); v++) {
      float *got = random_values(total, (guint32)(total * 3 + v), 20.0f);
      float *want = g_memdup2(got, total * 4);
      const float sum = vg_vec()->softmax_exp(got, valids[v], total, 0.125f);
      const float want_sum = vg_vec_plain()->softmax_exp(want, valids[v], total, 0.125f);
      assert_close(&sum, &want_sum, 1, 1e-5, "softmax sum", kind, total);
      assert_close(got, want, total, 1e-5, "softmax", kind, total);
      g_free(got), g_free(want);
    }
  }
}

static void test_softmax(void) {
  g_assert_cmpint(each_kind(check_softmax), >=, 1);
}

/* Transpose (exact) and scale, on shapes with and without whole blocks. */
static void check_transpose(const char *kind) {
  const int shapes[][2] = {{1, 1}, {16, 16}, {17, 33}, {8, 64}, {32, 64}, {31, 7}, {290, 64}};
  for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
    const int rows = shapes[i][0], cols = shapes[i][1], lds = cols + 5, ldd = rows + 3;
    float *src = random_values(rows * lds, (guint32)i, 1.0f);
    float *got = g_new0(float, cols *ldd), *want = g_new0(float, cols *ldd);
    vg_vec()->transpose(src, lds, rows, cols, got, ldd);
    vg_vec_plain()->transpose(src, lds, rows, cols, want, ldd);
    assert_close(got, want, cols * ldd, 0, "transpose", kind, rows);
    vg_vec()->scale(got, src, rows * cols, 0.3f);
    vg_vec_plain()->scale(want, src, rows * cols, 0.3f);
    assert_close(got, want, rows * cols, 0, "scale", kind, rows * cols);
    g_free(src), g_free(got), g_free(want);
  }
}

static void test_transpose(void) {
  g_assert_cmpint(each_kind(check_transpose), >=, 1);
}

/* out[s t + i, h hd + c] = sum_j softmax_j(q_i . k_j / sqrt hd) v_j[c], in double. */
static void attention_ref(const float *qkv, float *out, int seqs, int t, int d, int heads,
                          int causal) {
  const int hd = d / heads;
  double *w = g_new(double, t);
  for (int s = 0; s < seqs; s++)
    for (int h = 0; h < heads; h++)
      for (int i = 0; i < t; i++) {
        const float *q = qkv + (size_t)(s * t + i) * 3 * d + h * hd;
        const int valid = causal ? i + 1 : t;
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < valid; j++) {
          const float *k = qkv + (size_t)(s * t + j) * 3 * d + d + h * hd;
          double dot = 0;
          for (int c = 0; c < hd; c++)
            dot += (double)q[c] * k[c];
          w[j] = dot / sqrt(hd);
          mx = fmax(mx, w[j]);
        }
        for (int j = 0; j < valid; j++)
          sum += w[j] = exp(w[j] - mx);
        for (int c = 0; c < hd; c++) {
          double acc = 0;
          for (int j = 0; j < valid; j++)
            acc += w[j] * qkv[(size_t)(s * t + j) * 3 * d + 2 * d + h * hd + c];
          out[(size_t)(s * t + i) * d + h * hd + c] = (float)(acc / sum);
        }
      }
  g_free(w);
}

static void check_attention(const char *kind) {
  /* seqs, tokens, width, heads: 1 token, tails of the 6-row block and of
   * the 16/32-column panels, head widths under and over a panel. */
  const int shapes[][4] = {{1, 1, 8, 1},   {1, 7, 24, 2},  {2, 33, 96, 3},
                           {3, 77, 64, 4}, {1, 50, 80, 1}, {1, 290, 128, 2}};
  for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++)
    for (int causal = 0; causal <= 1; causal++)
      for (int threads = 1; threads <= 3; threads += 2) {
        const int seqs = shapes[i][0], t = shapes[i][1], d = shapes[i][2], heads = shapes[i][3];
        const int rows = seqs * t;
        float *qkv = random_values(rows * 3 * d, (guint32)(i * 7 + causal), 2.0f);
        float *got = g_new(float, rows *d), *want = g_new(float, rows *d);
        g_assert_true(vg_cpu_attention_run(got, qkv, rows, d, heads, causal, seqs, threads) ==
                      VG_OK);
        attention_ref(qkv, want, seqs, t, d, heads, causal);
        assert_close(got, want, rows * d, 2e-5, causal ? "causal attention" : "attention", kind, t);
        g_free(qkv), g_free(got), g_free(want);
      }
}

static void test_attention(void) {
  g_assert_cmpint(each_kind(check_attention), >=, 1);
}

static vg_tensor *tensor(vg_backend *be, int rows, int cols, guint32 seed) {
  vg_tensor *t = vg_tensor_new(be, VG_F32, rows, cols);
  float *v = random_values(rows * cols, seed, 1.5f);
  g_assert_true(vg_tensor_upload(t, v) == VG_OK);
  g_free(v);
  return t;
}

static void assert_same(const vg_tensor *a, const vg_tensor *b, double tol, const char *what) {
  const int n = (int)(a->rows * a->cols);
  float *x = g_new(float, n), *y = g_new(float, n);
  g_assert_true(vg_tensor_download(a, x) == VG_OK && vg_tensor_download(b, y) == VG_OK);
  assert_close(x, y, n, tol, what, vg_vec()->kind, n);
  g_free(x), g_free(y);
}

/* vg_matmul_act and vg_add_layer_norm against the plain ops they fuse, on a
 * backend with them and one without (VG_CPU_FUSE=0: the wrappers' fallback). */
static void check_fused(const char *kind) {
  (void)kind;
  vg_backend *be = vg_cpu_backend_new(2);
  g_setenv("VG_CPU_FUSE", "0", TRUE);
  vg_backend *plain = vg_cpu_backend_new(2);
  g_unsetenv("VG_CPU_FUSE");
  const int m = 13, n = 70, k = 33;
  for (int act = VG_ACT_GELU; act <= VG_ACT_LEAKY_RELU; act++)
    for (int f = 0; f < 2; f++) {
      vg_backend *b = f ? plain : be;
      vg_tensor *a = tensor(b, m, k, 1), *w = tensor(b, n, k, 2), *bias = tensor(b, 1, n, 3);
      vg_tensor *fused = vg_tensor_new(b, VG_F32, m, n), *ref = vg_tensor_new(b, VG_F32, m, n);
      g_assert_true(vg_matmul_act(fused, a, w, bias, (vg_activation)act, 0.01f) == VG_OK);
      g_assert_true(vg_matmul(ref, a, w, bias) == VG_OK);
      g_assert_true(vg_activation_apply(ref, (vg_activation)act, 0.01f) == VG_OK);
      assert_same(fused, ref, 1e-6, "matmul + activation");
      /* x += y; out = LN(x), out aliasing y as the transformer block does. */
      vg_tensor *x = tensor(b, m, n, 4), *x2 = tensor(b, m, n, 4), *y = tensor(b, m, n, 5);
      vg_tensor *y2 = tensor(b, m, n, 5), *out2 = vg_tensor_new(b, VG_F32, m, n);
      vg_tensor *g = tensor(b, 1, n, 6), *beta = tensor(b, 1, n, 7);
      g_assert_true(vg_add_layer_norm(x, y, y, g, beta, 1e-5f) == VG_OK);
      g_assert_true(vg_add_scaled(x2, x2, 1.0f, y2, 1.0f) == VG_OK);
      g_assert_true(vg_layer_norm(out2, x2, g, beta, 1e-5f) == VG_OK);
      assert_same(x, x2, 1e-7, "residual");
      assert_same(y, out2, 1e-6, "add + layer norm");
      /* A shape mismatch is refused, not run. */
      vg_tensor *wrong = vg_tensor_new(b, VG_F32, m + 1, n);
      g_assert_true(vg_add_layer_norm(x, wrong, y, g, beta, 1e-5f) != VG_OK);
      g_assert_true(vg_matmul_act(wrong, a, w, bias, VG_ACT_GELU, 0) != VG_OK);
      g_assert_true(vg_matmul_act(fused, a, w, bias, (vg_activation)99, 0) != VG_OK);
      vg_tensor *all[] = {a, w, bias, fused, ref, x, x2, y, y2, out2, g, beta, wrong};
      for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        vg_tensor_free(all[i]);
    }
  vg_backend_destroy(be);
  vg_backend_destroy(plain);
}

static void test_fused(void) {
  g_assert_cmpint(each_kind(check_fused), >=, 1);
}

static void write_file(const char *dir, const char *rel, const char *text) {
  char *path = g_build_filename(dir, rel, NULL), *parent = g_path_get_dirname(path);
  g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  g_free(path), g_free(parent);
}

/* Four logical CPUs on two cores (siblings 0,2 and 1,3), one CPU with the
 * older file name only, one with garbage, one missing. */
static void test_cores(void) {
  char *dir = g_dir_make_tmp("vg-sysfs-XXXXXX", NULL);
  g_assert_nonnull(dir);
  write_file(dir, "cpu0/topology/core_cpus_list", "0,2\n");
  write_file(dir, "cpu1/topology/core_cpus_list", "1,3\n");
  write_file(dir, "cpu2/topology/core_cpus_list", "0,2\n");
  write_file(dir, "cpu3/topology/thread_siblings_list", "1,3\n");
  write_file(dir, "cpu4/topology/core_cpus_list", "garbage\n");
  const int all[] = {0, 1, 2, 3}, one_core[] = {0, 2}, odd[] = {2, 3, 4, 5};
  g_assert_cmpint(vg_cpu_count_cores(dir, all, 4), ==, 2);
  g_assert_cmpint(vg_cpu_count_cores(dir, one_core, 2), ==, 1);
  g_assert_cmpint(vg_cpu_count_cores(dir, odd, 4), ==, 4); /* 2, 3, and 4, 5 as their own */
  g_assert_cmpint(vg_cpu_count_cores(dir, all, 0), ==, 1);
  const int cores = vg_cpu_physical_cores();
  g_assert_cmpint(cores, >=, 1);
  g_assert_cmpint(cores, <=, (int)g_get_num_processors());
  /* The backend's default is that count; --threads overrides it. */
  vg_backend *be = vg_cpu_backend_new(0);
  g_assert_cmpint(vg_cpu_threads(be), ==, cores);
  vg_backend_destroy(be);
  be = vg_cpu_backend_new(3);
  g_assert_cmpint(vg_cpu_threads(be), ==, 3);
  vg_backend_destroy(be);
  g_test_message("physical cores here: %d", cores);
  char *argv[] = {(char *)"rm", (char *)"-rf", dir, NULL};
  g_assert_true(
      g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL));
  g_free(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cpu-kernels/activations", test_activations);
  g_test_add_func("/cpu-kernels/layer-norm", test_layer_norm);
  g_test_add_func("/cpu-kernels/softmax", test_softmax);
  g_test_add_func("/cpu-kernels/transpose", test_transpose);
  g_test_add_func("/cpu-kernels/attention", test_attention);
  g_test_add_func("/cpu-kernels/fused", test_fused);
  g_test_add_func("/cpu-kernels/cores", test_cores);
  return g_test_run();
}
