/* MVFA scoring against PyTorch reference vectors (tests/reference/score_ref.py),
 * plus bad input. VG_SCORE_VECTORS names the vector folder (default: the
 * committed small case). */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vg_augment.h"
#include "vg_membank.h"
#include "vg_npy.h"
#include "vg_score.h"

#define REL_TOL 1e-4

static char *vectors_dir(void) {
  const char *env = g_getenv("VG_SCORE_VECTORS");
  if (env && *env)
    return g_strdup(env);
  const char *src = g_getenv("VIGIL_SOURCE_DIR");
  g_assert_nonnull(src);
  return g_build_filename(src, "tests", "reference", "vectors", "small", NULL);
}

static vg_npy load(const char *dir, const char *name, size_t count) {
  char *file = g_strdup_printf("%s.npy", name);
  char *path = g_build_filename(dir, file, NULL);
  vg_npy a;
  vg_status st = vg_npy_read(path, &a);
  if (st != VG_OK)
    g_error("%s", vg_last_error());
  if (count)
    g_assert_cmpuint(a.count, ==, count);
  g_free(path);
  g_free(file);
  return a;
}

/* max |got - want| / max |want| must stay within REL_TOL. */
static void expect_close(const char *what, const float *got, const float *want, size_t n) {
  double err = 0, mag = 0;
  for (size_t i = 0; i < n; i++) {
    g_assert_true(isfinite(got[i]));
    err = fmax(err, fabs((double)got[i] - want[i]));
    mag = fmax(mag, fabs((double)want[i]));
  }
  double rel = mag > 0 ? err / mag : err;
  g_test_message("%-18s max abs err %.3g, relative %.3g (%zu values)", what, err, rel, n);
  if (!(rel <= REL_TOL))
    g_error("%s: relative error %.3g exceeds %.0e", what, rel, REL_TOL);
}

typedef struct vectors {
  char *dir;
  vg_score_shape shape;
  int refs;
  size_t T, SS, layer_floats;
  vg_npy text, q_seg, q_det, r_seg, r_det;
} vectors;

static void vectors_load(vectors *v) {
  v->dir = vectors_dir();
  vg_npy dims = load(v->dir, "dims", 5);
  v->shape =
      (vg_score_shape){(int)dims.data[0], (int)dims.data[1], (int)dims.data[2], (int)dims.data[3]};
  v->refs = (int)dims.data[4];
  vg_npy_free(&dims);
  g_assert_cmpint(vg_score_shape_check(&v->shape), ==, VG_OK);
  const vg_score_shape *s = &v->shape;
  v->T = (size_t)vg_score_tokens(s);
  v->SS = (size_t)s->side * s->side;
  v->layer_floats = v->T * s->channels;
  size_t img = s->layers * v->layer_floats;
  v->text = load(v->dir, "text", 2 * (size_t)s->channels);
  v->q_seg = load(v->dir, "query_seg", img);
  v->q_det = load(v->dir, "query_det", img);
  v->r_seg = load(v->dir, "ref_seg", v->refs * img);
  v->r_det = load(v->dir, "ref_det", v->refs * img);
}

static void vectors_free(vectors *v) {
  vg_npy_free(&v->text);
  vg_npy_free(&v->q_seg);
  vg_npy_free(&v->q_det);
  vg_npy_free(&v->r_seg);
  vg_npy_free(&v->r_det);
  g_free(v->dir);
}

/* Per-layer pointers into image `i` of an images x layers x T x C array. */
static void layer_ptrs(const vectors *v, const vg_npy *a, int i, const float **out) {
  for (int l = 0; l < v->shape.layers; l++)
    out[l] = a->data + ((size_t)i * v->shape.layers + l) * v->layer_floats;
}

static void expect_file(const vectors *v, const char *name, const float *got, size_t n) {
  vg_npy want = load(v->dir, name, n);
  expect_close(name, got, want.data, n);
  vg_npy_free(&want);
}

static void test_zero_shot(void) {
  vectors v;
  vectors_load(&v);
  int L = v.shape.layers;
  const float *q[VG_SCORE_MAX_LAYERS];
  float *layers = g_new(float, L *v.SS), *map = g_new(float, v.SS);
  layer_ptrs(&v, &v.q_seg, 0, q);
  g_assert_cmpint(vg_score_zero_seg(&v.shape, q, v.text.data, layers, map), ==, VG_OK);
  expect_file(&v, "zero_seg_layers", layers, L * v.SS);
  expect_file(&v, "zero_seg", map, v.SS);
  /* Without per-layer output the sum is the same. */
  g_assert_cmpint(vg_score_zero_seg(&v.shape, q, v.text.data, NULL, map), ==, VG_OK);
  expect_file(&v, "zero_seg", map, v.SS);

  float scores[VG_SCORE_MAX_LAYERS], score;
  layer_ptrs(&v, &v.q_det, 0, q);
  g_assert_cmpint(vg_score_zero_det(&v.shape, q, v.text.data, scores, &score), ==, VG_OK);
  expect_file(&v, "zero_det_layers", scores, L);
  expect_file(&v, "zero_det", &score, 1);
  g_free(layers);
  g_free(map);
  vectors_free(&v);
}

static vg_membank *bank_with_refs(const vectors *v, uint64_t *ids) {
  vg_membank *bank = NULL;
  g_assert_cmpint(vg_membank_new(&v->shape, 16, &bank), ==, VG_OK);
  for (int r = 0; r < v->refs; r++) {
    const float *seg[VG_SCORE_MAX_LAYERS], *det[VG_SCORE_MAX_LAYERS];
    layer_ptrs(v, &v->r_seg, r, seg);
    layer_ptrs(v, &v->r_det, r, det);
    g_assert_cmpint(vg_membank_add(bank, seg, det, &ids[r]), ==, VG_OK);
  }
  g_assert_cmpuint(vg_membank_count(bank), ==, v->refs);
  return bank;
}

static void check_few(const vectors *v, vg_membank *bank, const char *prefix) {
  int L = v->shape.layers;
  float *layers = g_new(float, L * v->SS), *map = g_new(float, v->SS), mean;
  const float *q[VG_SCORE_MAX_LAYERS];
  for (int h = 0; h < 2; h++) {
    const char *head = h == VG_HEAD_SEG ? "seg" : "det";
    layer_ptrs(v, h == VG_HEAD_SEG ? &v->q_seg : &v->q_det, 0, q);
    g_assert_cmpint(vg_membank_query(bank, h, q, layers, map, &mean), ==, VG_OK);
    char name[64];
    g_snprintf(name, sizeof name, "%sfew_%s", prefix, head);
    expect_file(v, name, map, v->SS);
    if (!*prefix) {
      g_snprintf(name, sizeof name, "few_%s_layers", head);
      expect_file(v, name, layers, L * v->SS);
      g_snprintf(name, sizeof name, "few_%s_mean", head);
      expect_file(v, name, &mean, 1);
    }
  }
  g_free(layers);
  g_free(map);
}

static void test_few_shot(void) {
  vectors v;
  vectors_load(&v);
  uint64_t ids[64];
  g_assert_cmpint(v.refs, <=, 64);
  vg_membank *bank = bank_with_refs(&v, ids);
  check_few(&v, bank, "");
  /* Blocks of a few bank rows take the multi-GEMM path: same result. */
  g_assert_cmpint(vg_membank_set_block_rows(bank, 7), ==, VG_OK);
  check_few(&v, bank, "");
  g_assert_cmpint(vg_membank_set_block_rows(bank, 8192), ==, VG_OK);
  /* Removing reference 0 leaves exactly the bank of the others. */
  g_assert_cmpint(vg_membank_remove(bank, ids[0]), ==, VG_OK);
  g_assert_cmpuint(vg_membank_count(bank), ==, v.refs - 1);
  g_assert_cmpuint(vg_membank_ids(bank)[0], ==, ids[1]);
  check_few(&v, bank, "drop0_");
  vg_membank_free(bank);
  vectors_free(&v);
}

/* vg_augment follows PyTorch 1.13's AVX2 grid arithmetic (its linspace, fused
 * multiply-adds and float32 cos/sin); on the machine that made the committed
 * 40 x 48 vectors it matches to 1.2e-7, the rounding of the four-tap sum.
 * PyTorch's own grid is not the same on every CPU: on an AVX-512 EPYC its
 * linspace differs in 56 of 240 values and affine_grid rounds x*t0 + y*t1
 * as fma(y, t1, x*t0) (all 57600 points), which moves some samples by an ulp
 * and the 240 x 240 vectors made there by 2.6e-5 to 3.1e-5. 1e-4 allows
 * PyTorch's spread between CPUs; a wrong angle, shift, padding or corner
 * convention moves values by 1e-2 or more. */
#define AUG_TOL 1e-4

static void test_augment(void) {
  vectors v;
  vectors_load(&v);
  vg_npy in = load(v.dir, "aug_in", 0);
  g_assert_cmpint(in.ndim, ==, 3);
  int C = (int)in.shape[0], H = (int)in.shape[1], W = (int)in.shape[2];
  vg_npy want = load(v.dir, "aug_out", VG_AUGMENT_COUNT * in.count);
  float *out = g_new(float, VG_AUGMENT_COUNT *in.count);
  g_assert_cmpint(vg_augment_mvfa(in.data, C, H, W, out), ==, VG_OK);
  for (int k = 0; k < VG_AUGMENT_COUNT; k++) {
    double err = 0;
    for (size_t i = 0; i < in.count; i++)
      err = fmax(err, fabs((double)out[k * in.count + i] - want.data[k * in.count + i]));
    g_test_message("augment %2d (%dx%dx%d): max abs err %.3g", k, C, H, W, err);
    if (!(err <= AUG_TOL))
      g_error("augmented image %d differs from PyTorch by %.3g", k, err);
  }
  g_free(out);
  vg_npy_free(&want);
  vg_npy_free(&in);
  vectors_free(&v);
}

static void expect_err(vg_status st, vg_status want, const char *msg) {
  g_test_message("%s", vg_last_error());
  g_assert_cmpint(st, ==, want);
  g_assert_nonnull(strstr(vg_last_error(), msg));
}

static void test_bad_shape(void) {
  const vg_score_shape bad[] = {{0, 8, 3, 4}, {9, 8, 3, 4},   {4, 0, 3, 4}, {4, 9000, 3, 4},
                                {4, 8, 1, 4}, {4, 8, 200, 4}, {4, 8, 3, 1}, {4, 8, 3, 5000}};
  const char *msgs[] = {"0 layers",    "9 layers",      "0 channels", "9000 channels",
                        "grid side 1", "grid side 200", "map side 1", "map side 5000"};
  float text[16] = {0}, out[16];
  const float *tok[4] = {text, text, text, text};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    expect_err(vg_score_shape_check(&bad[i]), VG_ERR_ARG, msgs[i]);
    expect_err(vg_score_zero_seg(&bad[i], tok, text, NULL, out), VG_ERR_ARG, msgs[i]);
    expect_err(vg_score_zero_det(&bad[i], tok, text, NULL, out), VG_ERR_ARG, msgs[i]);
    vg_membank *bank = (vg_membank *)1;
    expect_err(vg_membank_new(&bad[i], 1, &bank), VG_ERR_ARG, msgs[i]);
    g_assert_null(bank);
  }
  expect_err(vg_score_shape_check(NULL), VG_ERR_ARG, "NULL");
  const vg_score_shape s = {4, 2, 2, 4};
  expect_err(vg_score_zero_seg(&s, tok, NULL, NULL, out), VG_ERR_ARG, "NULL");
  const float *holes[4] = {text, text, NULL, text};
  expect_err(vg_score_zero_det(&s, holes, text, NULL, out), VG_ERR_ARG, "layer 2");
  expect_err(vg_upsample_bilinear(text, 1, 0, 2, out, 4, 4), VG_ERR_ARG, "upsample");
}

/* Tokens for a tiny shape: every row the same direction, scaled by `k`. */
static void fill_tokens(const vg_score_shape *s, float *buf, const float **ptrs, float k) {
  size_t n = (size_t)vg_score_tokens(s) * s->channels;
  for (int l = 0; l < s->layers; l++) {
    for (size_t i = 0; i < n; i++)
      buf[l * n + i] = k * (float)(1 + (i % s->channels));
    ptrs[l] = buf + l * n;
  }
}

static void test_membank_errors(void) {
  const vg_score_shape s = {2, 4, 2, 3};
  vg_membank *bank = NULL;
  expect_err(vg_membank_new(&s, 0, &bank), VG_ERR_ARG, "max_refs");
  expect_err(vg_membank_new(&s, SIZE_MAX / 2, &bank), VG_ERR_NOMEM, "limit");
  const vg_score_shape big = {4, 768, 17, 240};
  expect_err(vg_membank_new(&big, 2000, &bank), VG_ERR_NOMEM, "at most 1205 references");
  g_assert_cmpint(vg_membank_new(&big, 1205, &bank), ==, VG_OK);
  g_assert_cmpuint(vg_membank_bytes(bank), ==, 0); /* nothing allocated up front */
  vg_membank_free(bank);

  g_assert_cmpint(vg_membank_new(&s, 2, &bank), ==, VG_OK);
  float buf[2 * 5 * 4], map[9], mean = -1;
  const float *t[2];
  fill_tokens(&s, buf, t, 1.0f);
  expect_err(vg_membank_query(bank, VG_HEAD_SEG, t, NULL, map, &mean), VG_ERR_ARG, "empty");
  expect_err(vg_membank_remove(bank, 42), VG_ERR_ARG, "no reference with id 42");
  const float *holes[2] = {t[0], NULL};
  expect_err(vg_membank_add(bank, t, holes, NULL), VG_ERR_ARG, "det tokens of layer 1");
  expect_err(vg_membank_add(bank, NULL, t, NULL), VG_ERR_ARG, "seg tokens");
  uint64_t a, b, c;
  g_assert_cmpint(vg_membank_add(bank, t, t, &a), ==, VG_OK);
  g_assert_cmpint(vg_membank_add(bank, t, t, &b), ==, VG_OK);
  expect_err(vg_membank_add(bank, t, t, &c), VG_ERR_ARG, "full (2 references)");
  g_assert_cmpuint(vg_membank_bytes(bank), ==, 2 * 2 * 2 * 5 * 4 * sizeof(float));
  expect_err(vg_membank_query(bank, (vg_head)7, t, NULL, map, NULL), VG_ERR_ARG, "head");
  expect_err(vg_membank_query(bank, VG_HEAD_DET, holes, NULL, map, NULL), VG_ERR_ARG,
             "query tokens of layer 1");
  expect_err(vg_membank_set_block_rows(bank, 0), VG_ERR_ARG, "block rows");

  /* A query equal to the references (up to scale) is at distance 0 everywhere. */
  float q[2 * 5 * 4];
  const float *tq[2];
  fill_tokens(&s, q, tq, 3.0f);
  g_assert_cmpint(vg_membank_query(bank, VG_HEAD_SEG, tq, NULL, map, &mean), ==, VG_OK);
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat(fabsf(map[i]), <, 1e-6);
  g_assert_cmpfloat(fabsf(mean), <, 1e-6);

  /* Removing frees a slot; ids are never reused; removing twice fails. */
  g_assert_cmpint(vg_membank_remove(bank, a), ==, VG_OK);
  expect_err(vg_membank_remove(bank, a), VG_ERR_ARG, "no reference with id");
  g_assert_cmpint(vg_membank_add(bank, t, t, &c), ==, VG_OK);
  g_assert_cmpuint(c, >, b);
  g_assert_cmpuint(vg_membank_count(bank), ==, 2);
  g_assert_cmpuint(vg_membank_ids(bank)[0], ==, b);
  g_assert_cmpuint(vg_membank_ids(bank)[1], ==, c);
  g_assert_cmpint(vg_membank_remove(bank, b), ==, VG_OK);
  g_assert_cmpint(vg_membank_remove(bank, c), ==, VG_OK);
  expect_err(vg_membank_query(bank, VG_HEAD_SEG, tq, NULL, map, NULL), VG_ERR_ARG, "empty");
  vg_membank_free(bank);
  vg_membank_free(NULL);
}

static void test_upsample(void) {
  /* align_corners=True keeps the corners and is exact at the same size. */
  const float in[6] = {1, 2, 3, 4, 5, 6};
  float out[6], big[5 * 9];
  g_assert_cmpint(vg_upsample_bilinear(in, 1, 2, 3, out, 2, 3), ==, VG_OK);
  g_assert_cmpint(memcmp(in, out, sizeof in), ==, 0);
  g_assert_cmpint(vg_upsample_bilinear(in, 1, 2, 3, big, 5, 9), ==, VG_OK);
  g_assert_cmpfloat(big[0], ==, 1);
  g_assert_cmpfloat(big[8], ==, 3);
  g_assert_cmpfloat(big[36], ==, 4);
  g_assert_cmpfloat(big[44], ==, 6);
  g_assert_cmpfloat_with_epsilon(big[2 * 9 + 4], 3.5, 1e-6); /* the centre */
}

static void test_augment_bad(void) {
  float img[12], out[12 * VG_AUGMENT_COUNT];
  expect_err(vg_augment_mvfa(NULL, 3, 2, 2, out), VG_ERR_ARG, "NULL");
  expect_err(vg_augment_mvfa(img, 3, 0, 2, out), VG_ERR_ARG, "3 x 0 x 2");
  expect_err(vg_augment_mvfa(img, 0, 2, 2, out), VG_ERR_ARG, "bad image");
  /* A constant image stays constant under every augmentation. */
  for (int i = 0; i < 12; i++)
    img[i] = 0.5f;
  g_assert_cmpint(vg_augment_mvfa(img, 3, 2, 2, out), ==, VG_OK);
  for (int i = 0; i < 12 * VG_AUGMENT_COUNT; i++)
    g_assert_cmpfloat_with_epsilon(out[i], 0.5, 1e-6);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/score/vectors/zero-shot", test_zero_shot);
  g_test_add_func("/score/vectors/few-shot", test_few_shot);
  g_test_add_func("/score/vectors/augment", test_augment);
  g_test_add_func("/score/bad-shape", test_bad_shape);
  g_test_add_func("/score/membank-errors", test_membank_errors);
  g_test_add_func("/score/upsample", test_upsample);
  g_test_add_func("/score/augment-bad", test_augment_bad);
  return g_test_run();
}
