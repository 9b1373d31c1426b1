/* The scoring path over the backend (vg_score_backend.h) against the host
 * scoring code (vg_score.h, vg_membank.h) on random tokens, on the CPU
 * backend and on Vulkan (lavapipe, validation on: any message fails), with
 * host-visible tensors and with device-local tensors behind staging copies.
 *
 * Error measure: max |backend - host| / max |host| per output: within 1e-4
 * for maps, 1e-5 for scores. Both paths compute in float and differ only in
 * rounding: dot products summed in another order (tiled FMAs or OpenBLAS
 * instead of the host's loop), x * (1/|x|) instead of x / |x|, exp in a
 * shader. A cosine over C = 768 terms then differs by ~sqrt(C) ulps of its
 * partial sums (~2e-6), which each output amplifies differently:
 * - zero-shot: logits are 100 * cos, up to ~70 here, so ~1e-4 absolute;
 *   the softmax scales that by p(1 - p) <= 1/4 (measured: 1.4e-5 at most);
 * - few-shot: 1 - cos of near neighbours (cos ~0.99) keeps the cosine's
 *   absolute error but divides it by maps of ~0.1 (measured: 5.5e-5).
 * Scores are means over 289 patches or 57600 pixels, which average those
 * errors out (measured: 1.1e-6). A wrong tap, row, layer or reference is
 * off by orders of magnitude more. The upsampling itself is bit-identical
 * to the host's (test-vulkan-ops). */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "vg_cpu.h"
#include "vg_membank.h"
#include "vg_score_backend.h"
#include "vg_vulkan.h"
#include "vk-test-util.h"

#define MAP_TOL 1e-4
#define SCORE_TOL 1e-5

#if defined(__SANITIZE_ADDRESS__)
#define SYNC_VALIDATION 0
#else
#define SYNC_VALIDATION 1
#endif

static vg_backend *backends[3]; /* cpu, vulkan host-visible, vulkan staging */
static const char *const names[3] = {"cpu", "vulkan", "vulkan-staging"};

typedef struct {
  vg_score_shape s;
  int refs;
  float *text;
  float *q[2][VG_SCORE_MAX_LAYERS];    /* [head][layer] query tokens */
  float *r[2][VG_SCORE_MAX_LAYERS][4]; /* reference tokens */
} inputs;

static void fill(float *v, size_t n, GRand *rng, double lo, double hi) {
  for (size_t i = 0; i < n; i++)
    v[i] = (float)g_rand_double_range(rng, lo, hi);
}

/* Random text columns, and tokens pulled towards one of them by a random
 * amount per patch so the softmax spans saturated and balanced patches. */
static void make_inputs(inputs *in, vg_score_shape s, int refs, guint32 seed) {
  g_autoptr(GRand) rng = g_rand_new_with_seed(seed);
  const int C = s.channels, T = vg_score_tokens(&s);
  in->s = s;
  in->refs = refs;
  in->text = g_new(float, 2 * C);
  fill(in->text, 2 * (size_t)C, rng, -1, 1);
  for (int k = 0; k < 2; k++) {
    double n = 0;
    for (int c = 0; c < C; c++)
      n += in->text[2 * c + k] * in->text[2 * c + k];
    for (int c = 0; c < C; c++)
      in->text[2 * c + k] /= (float)sqrt(n);
  }
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < s.layers; l++) {
      float *q = in->q[h][l] = g_new(float, (size_t)T *C);
      fill(q, (size_t)T * C, rng, -1, 1);
      for (int t = 0; t < T; t++) {
        const float a = (float)g_rand_double_range(rng, -0.4, 0.4) * sqrtf((float)C);
        for (int c = 0; c < C; c++)
          q[t * C + c] += a * (in->text[2 * c + 1] - in->text[2 * c]);
      }
      for (int r = 0; r < refs; r++) { /* near the query: small, varied distances */
        float *ref = in->r[h][l][r] = g_new(float, (size_t)T *C);
        const double noise = 0.2 + 0.5 * r;
        for (size_t i = 0; i < (size_t)T * C; i++)
          ref[i] = q[i] + (float)g_rand_double_range(rng, -noise, noise);
      }
    }
}

static void free_inputs(inputs *in) {
  g_free(in->text);
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < in->s.layers; l++) {
      g_free(in->q[h][l]);
      for (int r = 0; r < in->refs; r++)
        g_free(in->r[h][l][r]);
    }
}

static double rel_error(const float *got, const float *want, size_t n) {
  double err = 0, mag = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(got[i]))
      return INFINITY;
    err = fmax(err, fabs((double)got[i] - want[i]));
    mag = fmax(mag, fabs((double)want[i]));
  }
  return mag > 0 ? err / mag : err;
}

static void expect_close(const char *what, const float *got, const float *want, size_t n,
                         double tol) {
  double e = rel_error(got, want, n);
  g_test_message("%-26s normalised max error %.3g", what, e);
  if (!(e <= tol))
    g_error("%s: normalised max error %.3g exceeds %.0e", what, e, tol);
}

/* Everything both paths produce, in one allocation each. */
typedef struct {
  float *zl, *z, *fl, *f, *fd;
  float zs[VG_SCORE_MAX_LAYERS], ztotal, fscore;
} results;

static void results_init(results *r, const vg_score_shape *s) {
  const size_t SS = (size_t)s->side * s->side, L = (size_t)s->layers;
  r->zl = g_new(float, SS *L), r->z = g_new(float, SS);
  r->fl = g_new(float, SS *L), r->f = g_new(float, SS), r->fd = g_new(float, SS);
}

static void results_clear(results *r) {
  g_free(r->zl), g_free(r->z), g_free(r->fl), g_free(r->f), g_free(r->fd);
}

static const float *const *q_of(const inputs *in, int h) {
  return (const float *const *)in->q[h];
}

static void host_results(const inputs *in, const vg_membank *bank, results *r) {
  const vg_score_shape *s = &in->s;
  g_assert_cmpint(vg_score_zero_seg(s, q_of(in, 0), in->text, r->zl, r->z), ==, VG_OK);
  g_assert_cmpint(vg_score_zero_det(s, q_of(in, 1), in->text, r->zs, &r->ztotal), ==, VG_OK);
  if (vg_membank_count(bank) == 0)
    return;
  g_assert_cmpint(vg_membank_query(bank, VG_HEAD_SEG, q_of(in, 0), r->fl, r->f, NULL), ==, VG_OK);
  g_assert_cmpint(vg_membank_query(bank, VG_HEAD_DET, q_of(in, 1), NULL, r->fd, &r->fscore), ==,
                  VG_OK);
}

static vg_score_out out_of(results *r) {
  return (vg_score_out){.zero_layer_maps = r->zl,
                        .zero_map = r->z,
                        .zero_layer_scores = r->zs,
                        .few_layer_maps = r->fl,
                        .few_map = r->f,
                        .few_det_map = r->fd};
}

static void compare(const char *tag, const vg_score_shape *s, results *got, results *want,
                    int few) {
  const size_t SS = (size_t)s->side * s->side, L = (size_t)s->layers;
  g_autofree char *a = g_strdup_printf("%s zero layer maps", tag);
  expect_close(a, got->zl, want->zl, SS * L, MAP_TOL);
  g_autofree char *b = g_strdup_printf("%s zero map", tag);
  expect_close(b, got->z, want->z, SS, MAP_TOL);
  g_autofree char *c = g_strdup_printf("%s zero layer scores", tag);
  expect_close(c, got->zs, want->zs, L, SCORE_TOL);
  g_autofree char *d = g_strdup_printf("%s zero score", tag);
  expect_close(d, &got->ztotal, &want->ztotal, 1, SCORE_TOL);
  if (!few)
    return;
  g_autofree char *e = g_strdup_printf("%s few layer maps", tag);
  expect_close(e, got->fl, want->fl, SS * L, MAP_TOL);
  g_autofree char *f = g_strdup_printf("%s few map", tag);
  expect_close(f, got->f, want->f, SS, MAP_TOL);
  g_autofree char *g = g_strdup_printf("%s few det map", tag);
  expect_close(g, got->fd, want->fd, SS, MAP_TOL);
  g_autofree char *h = g_strdup_printf("%s few score", tag);
  expect_close(h, &got->fscore, &want->fscore, 1, SCORE_TOL);
}

/* Scores `in` on backend `be` through a mirrored bank and compares with the host. */
static void run_case(vg_backend *be, const char *tag, const inputs *in, vg_membank *bank) {
  vg_scorer *sc = NULL;
  g_assert_cmpint(vg_scorer_new(be, &in->s, &sc), ==, VG_OK);
  g_assert_cmpint(vg_scorer_set_text(sc, in->text), ==, VG_OK);
  results want, got;
  results_init(&want, &in->s), results_init(&got, &in->s);
  host_results(in, bank, &want);
  vg_score_out out = out_of(&got);
  g_assert_cmpint(vg_scorer_run_host(sc, q_of(in, 0), q_of(in, 1), vg_membank_mirrored(bank), &out),
                  ==, VG_OK);
  got.ztotal = out.zero_score, got.fscore = out.few_score;
  compare(tag, &in->s, &got, &want, vg_membank_count(bank) > 0);
  results_clear(&want), results_clear(&got);
  vg_scorer_free(sc);
}

static void add_refs(vg_membank *bank, const inputs *in, int from, int to, uint64_t *ids) {
  for (int r = from; r < to; r++) {
    const float *seg[VG_SCORE_MAX_LAYERS], *det[VG_SCORE_MAX_LAYERS];
    for (int l = 0; l < in->s.layers; l++)
      seg[l] = in->r[0][l][r], det[l] = in->r[1][l][r];
    g_assert_cmpint(vg_membank_add(bank, seg, det, &ids[r]), ==, VG_OK);
  }
}

/* MVFA's shape: 4 layers of 17 x 17 patches of 768, maps of 240, 4 references. */
static void test_mvfa_shape(gconstpointer data) {
  vg_backend *be = backends[GPOINTER_TO_INT(data)];
  const vg_score_shape s = {4, 768, 17, 240};
  inputs in = {0};
  make_inputs(&in, s, 4, 7);
  vg_membank *bank = NULL;
  uint64_t ids[4];
  g_assert_cmpint(vg_membank_new(&s, 16, &bank), ==, VG_OK);
  g_assert_cmpint(vg_membank_mirror(bank, be), ==, VG_OK);
  add_refs(bank, &in, 0, 4, ids);
  g_autofree char *tag = g_strdup_printf("%s 4x768 G17 S240", names[GPOINTER_TO_INT(data)]);
  run_case(be, tag, &in, bank);
  vg_membank_free(bank);
  free_inputs(&in);
  g_assert_cmpint(vg_vulkan_validation_messages(be), ==, 0);
}

/* Odd sizes, and a bank that grows past its first capacity, loses a middle
 * and its first reference, and ends empty (zero-shot only). */
static void test_bank_changes(gconstpointer data) {
  vg_backend *be = backends[GPOINTER_TO_INT(data)];
  const char *name = names[GPOINTER_TO_INT(data)];
  const vg_score_shape s = {3, 100, 5, 33};
  inputs in = {0};
  make_inputs(&in, s, 4, 11);
  vg_membank *bank = NULL;
  uint64_t ids[4];
  g_assert_cmpint(vg_membank_new(&s, 16, &bank), ==, VG_OK);
  g_assert_cmpint(vg_membank_mirror(bank, be), ==, VG_OK);
  add_refs(bank, &in, 0, 3, ids);
  g_assert_cmpint(vg_membank_remove(bank, ids[1]), ==, VG_OK);
  add_refs(bank, &in, 3, 4, ids); /* 0, 2, 3 */
  g_autofree char *t1 = g_strdup_printf("%s refs {0,2,3}", name);
  run_case(be, t1, &in, bank);
  g_assert_cmpint(vg_membank_remove(bank, ids[0]), ==, VG_OK);
  g_autofree char *t2 = g_strdup_printf("%s refs {2,3}", name);
  run_case(be, t2, &in, bank);
  /* Past the first capacity of 4: the device tensors are regrown. */
  add_refs(bank, &in, 0, 4, ids);
  g_assert_cmpuint(vg_score_bank_count(vg_membank_mirrored(bank)), ==, 6);
  g_autofree char *t3 = g_strdup_printf("%s 6 refs", name);
  run_case(be, t3, &in, bank);
  const uint64_t *held = vg_membank_ids(bank);
  while (vg_membank_count(bank) > 0)
    g_assert_cmpint(vg_membank_remove(bank, held[0]), ==, VG_OK);
  g_assert_cmpuint(vg_score_bank_count(vg_membank_mirrored(bank)), ==, 0);
  g_autofree char *t4 = g_strdup_printf("%s empty bank", name);
  run_case(be, t4, &in, bank);
  vg_membank_free(bank);
  free_inputs(&in);
  g_assert_cmpint(vg_vulkan_validation_messages(be), ==, 0);
}

/* Tokens already on the device give the same bits as host tokens uploaded. */
static void test_device_tokens(gconstpointer data) {
  vg_backend *be = backends[GPOINTER_TO_INT(data)];
  const vg_score_shape s = {2, 65, 4, 9};
  inputs in = {0};
  make_inputs(&in, s, 1, 3);
  vg_scorer *sc = NULL;
  g_assert_cmpint(vg_scorer_new(be, &s, &sc), ==, VG_OK);
  g_assert_cmpint(vg_scorer_set_text(sc, in.text), ==, VG_OK);
  vg_tensor *t[2][VG_SCORE_MAX_LAYERS] = {{0}};
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < s.layers; l++) {
      t[h][l] = vg_tensor_new(be, VG_F32, vg_score_tokens(&s), s.channels);
      g_assert_cmpint(vg_tensor_upload(t[h][l], in.q[h][l]), ==, VG_OK);
    }
  results a, b;
  results_init(&a, &s), results_init(&b, &s);
  vg_score_out oa = out_of(&a), ob = out_of(&b);
  g_assert_cmpint(
      vg_scorer_run(sc, (const vg_tensor *const *)t[0], (const vg_tensor *const *)t[1], NULL, &oa),
      ==, VG_OK);
  g_assert_cmpint(vg_scorer_run_host(sc, q_of(&in, 0), q_of(&in, 1), NULL, &ob), ==, VG_OK);
  const size_t SS = (size_t)s.side * s.side;
  g_assert_cmpint(memcmp(a.zl, b.zl, SS * s.layers * sizeof(float)), ==, 0);
  g_assert_cmpfloat(oa.zero_score, ==, ob.zero_score);
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < s.layers; l++)
      vg_tensor_free(t[h][l]);
  results_clear(&a), results_clear(&b);
  vg_scorer_free(sc);
  free_inputs(&in);
  g_assert_cmpint(vg_vulkan_validation_messages(be), ==, 0);
}

/* A query stored at a row offset of taller tensors (an encoder's batch) gives
 * the same bits as the query uploaded alone, with a bank too, and uploads
 * nothing: only the maps and scores cross (the backend's byte counters). */
static void test_row_offset(gconstpointer data) {
  vg_backend *be = backends[GPOINTER_TO_INT(data)];
  const vg_score_shape s = {2, 65, 4, 9};
  const int64_t T = vg_score_tokens(&s);
  inputs in = {0};
  make_inputs(&in, s, 2, 8);
  vg_membank *bank = NULL;
  uint64_t ids[2];
  g_assert_cmpint(vg_membank_new(&s, 4, &bank), ==, VG_OK);
  g_assert_cmpint(vg_membank_mirror(bank, be), ==, VG_OK);
  add_refs(bank, &in, 0, 2, ids);
  vg_scorer *sc = NULL;
  g_assert_cmpint(vg_scorer_new(be, &s, &sc), ==, VG_OK);
  g_assert_cmpint(vg_scorer_set_text(sc, in.text), ==, VG_OK);
  /* Three images' rows: other tokens around the query, which is image 1. */
  g_autoptr(GRand) rng = g_rand_new_with_seed(99);
  const size_t block = (size_t)T * s.channels;
  g_autofree float *stack = g_new(float, 3 * block);
  vg_tensor *t[2][VG_SCORE_MAX_LAYERS] = {{0}};
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < s.layers; l++) {
      fill(stack, 3 * block, rng, -1, 1);
      memcpy(stack + block, in.q[h][l], block * sizeof(float));
      t[h][l] = vg_tensor_new(be, VG_F32, 3 * T, s.channels);
      g_assert_cmpint(vg_tensor_upload(t[h][l], stack), ==, VG_OK);
    }
  const vg_tensor *const *seg = (const vg_tensor *const *)t[0];
  const vg_tensor *const *det = (const vg_tensor *const *)t[1];
  results a, b;
  results_init(&a, &s), results_init(&b, &s);
  vg_score_out oa = out_of(&a), ob = out_of(&b);
  const vg_score_bank *mirror = vg_membank_mirrored(bank);
  const int64_t up = be->uploaded_bytes, down = be->downloaded_bytes;
  g_assert_cmpint(vg_scorer_run_at(sc, seg, det, T, mirror, &oa), ==, VG_OK);
  const int64_t at_up = be->uploaded_bytes - up, at_down = be->downloaded_bytes - down;
  g_assert_cmpint(vg_scorer_run_host(sc, q_of(&in, 0), q_of(&in, 1), mirror, &ob), ==, VG_OK);
  const int64_t host_up = be->uploaded_bytes - up - at_up;
  g_test_message("%s: run_at uploads %lld, downloads %lld bytes; run_host uploads %lld",
                 names[GPOINTER_TO_INT(data)], (long long)at_up, (long long)at_down,
                 (long long)host_up);
  g_assert_cmpint(at_up, ==, 0);
  g_assert_cmpint(host_up, ==, (int64_t)(2 * s.layers * block * sizeof(float)));
  const size_t SS = (size_t)s.side * s.side;
  g_assert_cmpint(at_down, ==, (int64_t)(((2 * s.layers + 3) * SS + s.layers + 1) * sizeof(float)));
  g_assert_cmpint(memcmp(a.zl, b.zl, SS * s.layers * sizeof(float)), ==, 0);
  g_assert_cmpint(memcmp(a.fl, b.fl, SS * s.layers * sizeof(float)), ==, 0);
  g_assert_cmpint(memcmp(a.fd, b.fd, SS * sizeof(float)), ==, 0);
  g_assert_cmpfloat(oa.zero_score, ==, ob.zero_score);
  g_assert_cmpfloat(oa.few_score, ==, ob.few_score);
  /* Rows past the tensor's end, or before its start: a clear error. */
  g_assert_cmpint(vg_scorer_run_at(sc, seg, det, 2 * T + 1, NULL, &oa), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "from row"));
  g_assert_cmpint(vg_scorer_run_at(sc, seg, det, -1, NULL, &oa), ==, VG_ERR_ARG);
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < s.layers; l++)
      vg_tensor_free(t[h][l]);
  results_clear(&a), results_clear(&b);
  vg_scorer_free(sc);
  vg_membank_free(bank);
  free_inputs(&in);
  g_assert_cmpint(vg_vulkan_validation_messages(be), ==, 0);
}

static void test_bad_input(void) {
  vg_backend *be = backends[1];
  const vg_score_shape s = {2, 8, 3, 6}, other = {2, 8, 4, 6};
  inputs in = {0};
  make_inputs(&in, s, 1, 5);
  vg_scorer *sc = NULL;
  g_assert_cmpint(vg_scorer_new(be, &s, &sc), ==, VG_OK);
  results r;
  results_init(&r, &s);
  vg_score_out out = out_of(&r);
  g_assert_cmpint(vg_scorer_run_host(sc, q_of(&in, 0), q_of(&in, 1), NULL, &out), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "no text features"));
  g_assert_cmpint(vg_scorer_set_text(sc, in.text), ==, VG_OK);
  vg_tensor *wrong = vg_tensor_new(be, VG_F32, 9, 8); /* 9 rows, 10 needed */
  const vg_tensor *seg[2] = {wrong, wrong};
  g_assert_cmpint(vg_scorer_run(sc, seg, seg, NULL, &out), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "10 x 8"));
  const float *missing[2] = {in.q[0][0], NULL};
  g_assert_cmpint(vg_scorer_run_host(sc, missing, q_of(&in, 1), NULL, &out), ==, VG_ERR_ARG);
  vg_score_bank *bank = NULL;
  g_assert_cmpint(vg_score_bank_new(be, &other, &bank), ==, VG_OK);
  g_assert_cmpint(vg_scorer_run_host(sc, q_of(&in, 0), q_of(&in, 1), bank, &out), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "another backend or shape"));
  g_assert_cmpint(vg_score_bank_drop(bank, 0), ==, VG_ERR_ARG);
  vg_membank *mb = NULL;
  uint64_t id;
  g_assert_cmpint(vg_membank_new(&s, 2, &mb), ==, VG_OK);
  add_refs(mb, &in, 0, 1, &id);
  g_assert_cmpint(vg_membank_mirror(mb, be), ==, VG_ERR_ARG); /* not empty */
  vg_scorer *none = sc;
  g_assert_cmpint(vg_scorer_new(be, &(vg_score_shape){0, 8, 3, 6}, &none), ==, VG_ERR_ARG);
  g_assert_null(none);
  vg_scorer_free(sc);
  vg_membank_free(mb);
  vg_score_bank_free(bank);
  vg_tensor_free(wrong);
  results_clear(&r);
  free_inputs(&in);
  g_assert_cmpint(vg_vulkan_validation_messages(be), ==, 0);
}

static void add(const char *name, GTestDataFunc fn) {
  for (int b = 0; b < 3; b++) {
    g_autofree char *path = g_strdup_printf("/score-backend/%s/%s", names[b], name);
    g_test_add_data_func(path, GINT_TO_POINTER(b), fn);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  backends[0] = vg_cpu_backend_new(2);
  /* On a GPU machine without the layer (tools/device-run.sh says so). */
  const int validation = vk_test_want_validation();
  for (int v = 0; v < 2; v++) {
    vg_vk_options options = {
        .validation = validation, .sync_validation = SYNC_VALIDATION, .staging = v};
    backends[1 + v] = vg_vulkan_backend_new(&options);
    if (!backends[1 + v]) {
      g_printerr("cannot start Vulkan with validation: %s\n", vg_last_error());
      return 1;
    }
  }
  add("mvfa-shape", test_mvfa_shape);
  add("bank-changes", test_bank_changes);
  add("device-tokens", test_device_tokens);
  add("row-offset", test_row_offset);
  g_test_add_func("/score-backend/bad-input", test_bad_input);
  int rc = g_test_run();
  int messages = 0;
  for (int b = 0; b < 3; b++) {
    messages += vg_vulkan_validation_messages(backends[b]);
    vg_backend_destroy(backends[b]);
  }
  if (messages) {
    g_printerr("%d validation messages\n", messages);
    return 1;
  }
  return rc;
}
