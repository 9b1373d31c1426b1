/* CLIP + MVFA engine against PyTorch: every output of every reference case in
 * tests/reference/vectors (made by tests/reference/clip_ref.py) within 1e-4
 * relative (max abs error / max abs value), plus the resize, architecture
 * detection, options and clear errors for bad checkpoints.
 *
 * VIGIL_CLIP_VECTORS=DIR runs only the parity cases of DIR (the slow full-size
 * check, tests/clip-full.sh). */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_clip.h"
#include "vg_cpu.h"
#include "vg_dnnl.h"
#include "vg_resize.h"
#include "vg_safetensors.h"

#define TOLERANCE 1e-4
/* BF16 keeps 8 of F32's 24 mantissa bits: each rounding is up to 2^-9 = 2e-3
 * relative; on the small case (4 blocks) the outputs moved by up to 4.8e-3. */
#define BF16_TOLERANCE 1e-2

static char *vectors_dir;
static vg_backend *cpu;

static vg_weights *open_vec(const char *name) {
  g_autofree char *path = g_build_filename(vectors_dir, name, NULL);
  vg_weights *w = NULL;
  if (vg_safetensors_open(path, &w) != VG_OK)
    g_error("%s: %s", path, vg_last_error());
  return w;
}

/* A tensor of the expected file as F32 (caller frees). */
static float *tensor_f32(const vg_weights *w, const char *name, int64_t *numel) {
  const vg_weight *t = vg_weights_find(w, name);
  g_assert_nonnull(t);
  float *f = g_new(float, vg_weight_numel(t));
  vg_weight_to_f32(t, f);
  if (numel)
    *numel = vg_weight_numel(t);
  return f;
}

/* Whether /proc/cpuinfo lists `flag`. */
static gboolean cpu_has_flag(const char *flag) {
  g_autofree char *info = NULL;
  if (!g_file_get_contents("/proc/cpuinfo", &info, NULL, NULL))
    return FALSE;
  g_autofree char *word = g_strdup_printf(" %s", flag);
  for (const char *p = info; (p = strstr(p, word)); p += strlen(word))
    if (p[strlen(word)] == ' ' || p[strlen(word)] == '\n')
      return TRUE;
  return FALSE;
}

static double rel_error(const float *got, const float *want, int64_t n) {
  double err = 0, mag = 0;
  for (int64_t i = 0; i < n; i++) {
    err = fmax(err, fabs((double)got[i] - want[i]));
    mag = fmax(mag, fabs((double)want[i]));
  }
  return mag > 0 ? err / mag : err;
}

static void expect_close(const char *what, const float *got, const vg_weights *ex, const char *name,
                         double tol) {
  int64_t n;
  g_autofree float *want = tensor_f32(ex, name, &n);
  const double rel = rel_error(got, want, n);
  g_test_message("%s %s: relative error %.3g", what, name, rel);
  if (!(rel <= tol))
    g_error("%s %s: relative error %.3g > %.1g", what, name, rel, tol);
}

static vg_clip *load_case(const vg_weights *ex, vg_dtype matmul, vg_weights **clip_w,
                          vg_weights **ad_w) {
  *clip_w = open_vec(vg_weights_meta(ex, "clip"));
  *ad_w = open_vec(vg_weights_meta(ex, "adapters"));
  vg_clip_options o = {.image_size = atoi(vg_weights_meta(ex, "image_size")),
                       .matmul_dtype = matmul};
  o.act = strcmp(vg_weights_meta(ex, "act"), "quick_gelu") == 0 ? VG_ACT_QUICK_GELU : VG_ACT_GELU;
  vg_clip *m = NULL;
  if (vg_clip_load(*clip_w, *ad_w, &o, cpu, &m) != VG_OK)
    g_error("load: %s", vg_last_error());
  return m;
}

/* Runs one case through both towers and compares every output. */
static void run_case(const char *file, vg_dtype matmul, double tol) {
  vg_weights *ex = open_vec(file), *clip_w, *ad_w;
  vg_clip *m = load_case(ex, matmul, &clip_w, &ad_w);
  const vg_clip_arch *a = vg_clip_arch_of(m);
  char desc[512];
  vg_clip_arch_describe(a, desc, sizeof desc);
  g_test_message("%s: %s", file, desc);

  g_autofree float *input = tensor_f32(ex, "input", NULL);
  vg_clip_image_out out = {.pooled = g_new(float, a->embed_dim)};
  for (int i = 0; i < a->n_adapters; i++) {
    out.seg_tokens[i] = g_new(float, (gsize)a->tokens * a->adapter_dim);
    out.det_tokens[i] = g_new(float, (gsize)a->tokens * a->adapter_dim);
  }
  g_assert_cmpint(vg_clip_encode_image(m, input, &out), ==, VG_OK);
  expect_close(file, out.pooled, ex, "pooled", tol);
  for (int i = 0; i < a->n_adapters; i++) {
    char name[32];
    snprintf(name, sizeof name, "seg.%d", i);
    expect_close(file, out.seg_tokens[i], ex, name, tol);
    snprintf(name, sizeof name, "det.%d", i);
    expect_close(file, out.det_tokens[i], ex, name, tol);
    g_free(out.seg_tokens[i]), g_free(out.det_tokens[i]);
  }
  g_free(out.pooled);

  int64_t n_ids;
  g_autofree float *idf = tensor_f32(ex, "text.ids", &n_ids);
  const int rows = (int)(n_ids / a->context_length);
  g_autofree int32_t *ids = g_new(int32_t, n_ids);
  for (int64_t i = 0; i < n_ids; i++)
    ids[i] = (int32_t)idf[i];
  g_autofree float *text = g_new(float, (gsize)rows * a->embed_dim);
  g_assert_cmpint(vg_clip_encode_text(m, ids, rows, text), ==, VG_OK);
  expect_close(file, text, ex, "text.features", tol);
  vg_clip_free(m);
  vg_weights_free(clip_w), vg_weights_free(ad_w), vg_weights_free(ex);
}

static void test_parity(gconstpointer data) {
  run_case(data, VG_F32, TOLERANCE);
}

/* The F16 matmul path; BF16-stored values fit F16 exactly, so it must match too. */
static void test_f16_matmul(void) {
  run_case("small.expected.safetensors", VG_F16, TOLERANCE);
}

/* BF16 matmuls (weights and activations rounded to 8-bit mantissas, F32
 * accumulation) where the CPU and build have them; otherwise the load is
 * refused with the reason, and the parity part is skipped only where the CPU
 * itself lacks BF16. */
static void test_bf16_matmul(void) {
  const char *why = NULL;
  if (vg_dnnl_bf16(&why)) {
    run_case("small.expected.safetensors", VG_BF16, BF16_TOLERANCE);
    return;
  }
  vg_weights *ex = open_vec("small.expected.safetensors");
  vg_weights *clip = open_vec(vg_weights_meta(ex, "clip"));
  vg_clip_options o = {.matmul_dtype = VG_BF16};
  vg_clip *m = NULL;
  g_assert_cmpint(vg_clip_load(clip, NULL, &o, cpu, &m), ==, VG_ERR_UNSUPPORTED);
  g_assert_null(m);
  g_test_message("refused: %s", vg_last_error());
  g_assert_nonnull(strstr(vg_last_error(), "AMX-BF16 or AVX512_BF16"));
  g_assert_nonnull(strstr(vg_last_error(), why));
  vg_weights_free(clip), vg_weights_free(ex);
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bf16") && !cpu_has_flag("amx_bf16"))
    g_test_skip("this CPU has neither AMX-BF16 nor AVX512_BF16: the refusal is checked");
}

static void test_resize(void) {
  vg_weights *w = open_vec("resize.safetensors");
  for (int i = 0; i < 4; i++) {
    char in_name[16], out_name[16];
    snprintf(in_name, sizeof in_name, "in.%d", i);
    snprintf(out_name, sizeof out_name, "out.%d", i);
    const vg_weight *in = vg_weights_find(w, in_name), *out = vg_weights_find(w, out_name);
    g_assert_nonnull(in);
    g_assert_nonnull(out);
    g_autofree float *got = g_new(float, vg_weight_numel(out));
    g_assert_cmpint(vg_resize_bicubic_aa(in->data, (int)in->shape[0], (int)in->shape[1],
                                         (int)in->shape[2], got, (int)out->shape[0],
                                         (int)out->shape[1]),
                    ==, VG_OK);
    expect_close("resize", got, w, out_name, 1e-5);
  }
  float x = 0;
  g_assert_cmpint(vg_resize_bicubic_aa(&x, 0, 1, 1, &x, 1, 1), ==, VG_ERR_ARG);
  vg_weights_free(w);
}

static void test_detect(void) {
  vg_weights *clip = open_vec("small.clip.safetensors"),
             *ad = open_vec("small.adapters.safetensors");
  vg_clip_arch a;
  g_assert_cmpint(vg_clip_detect(clip, ad, NULL, &a), ==, VG_OK);
  g_assert_cmpstr(a.naming, ==, "openclip");
  g_assert_cmpint(a.width, ==, 128);
  g_assert_cmpint(a.layers, ==, 4);
  g_assert_cmpint(a.heads, ==, 2);
  g_assert_cmpint(a.patch, ==, 14);
  g_assert_cmpint(a.pos_grid, ==, 24);
  g_assert_cmpint(a.grid, ==, 17);
  g_assert_cmpint(a.tokens, ==, 290);
  g_assert_cmpint(a.text_width, ==, 64);
  g_assert_cmpint(a.text_layers, ==, 2);
  g_assert_cmpint(a.context_length, ==, 77);
  g_assert_cmpint(a.vocab, ==, 500);
  g_assert_cmpint(a.embed_dim, ==, 64);
  g_assert_cmpint(a.n_adapters, ==, 4);
  g_assert_cmpint(a.adapter_dim, ==, 64);
  g_assert_cmpint(a.adapter_layers[0], ==, 1);
  g_assert_cmpint(a.adapter_layers[3], ==, 4);
  g_assert_cmpint(a.dtype, ==, VG_W_BF16);
  int64_t total = 0;
  for (size_t i = 0; i < vg_weights_count(clip); i++)
    total += vg_weight_numel(vg_weights_at(clip, i));
  for (size_t i = 0; i < vg_weights_count(ad); i++)
    total += vg_weight_numel(vg_weights_at(ad, i));
  g_assert_cmpint(a.params, ==, total);

  /* The image tower alone; another input size changes the grid. */
  vg_clip_options o = {.towers = VG_CLIP_IMAGE, .image_size = 336};
  g_assert_cmpint(vg_clip_detect(clip, NULL, &o, &a), ==, VG_OK);
  g_assert_cmpint(a.grid, ==, 24);
  g_assert_false(a.has_text);
  g_assert_cmpint(a.n_adapters, ==, 0);

  vg_weights *hf = open_vec("tiny-hf.clip.safetensors");
  g_assert_cmpint(vg_clip_detect(hf, NULL, NULL, &a), ==, VG_OK);
  g_assert_cmpstr(a.naming, ==, "hf");
  g_assert_cmpint(a.pos_grid, ==, 6);
  g_assert_cmpint(a.dtype, ==, VG_W_F16);
  vg_weights_free(clip), vg_weights_free(ad), vg_weights_free(hf);
}

/* A copy of `w` without `drop`, and with `reshape` (if any) given shape [3]. */
static vg_weights *edited(const vg_weights *w, const char *drop, const char *reshape) {
  vg_weights *out = vg_weights_new();
  static const float zeros[3];
  for (size_t i = 0; i < vg_weights_count(w); i++) {
    const vg_weight *t = vg_weights_at(w, i);
    if (drop && strcmp(t->name, drop) == 0)
      continue;
    if (reshape && strcmp(t->name, reshape) == 0) {
      const int64_t three = 3;
      g_assert_cmpint(vg_weights_add(out, t->name, VG_W_F32, 1, &three, zeros), ==, VG_OK);
      continue;
    }
    g_assert_cmpint(vg_weights_add_borrowed(out, t->name, t->dtype, t->ndim, t->shape, t->data), ==,
                    VG_OK);
  }
  return out;
}

static void expect_error(const vg_weights *clip, const vg_weights *ad, const vg_clip_options *o,
                         const char *needle) {
  vg_clip *m = NULL;
  g_assert_cmpint(vg_clip_load(clip, ad, o, cpu, &m), !=, VG_OK);
  g_assert_null(m);
  g_test_message("error: %s", vg_last_error());
  if (!strstr(vg_last_error(), needle))
    g_error("error '%s' does not mention '%s'", vg_last_error(), needle);
}

static void test_errors(void) {
  vg_weights *clip = open_vec("tiny.clip.safetensors"), *ad = open_vec("tiny.adapters.safetensors");
  const char *names[] = {"visual.transformer.resblocks.1.mlp.c_proj.bias", "visual.ln_post.weight",
                         "text_projection", "visual.class_embedding"};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    vg_weights *e = edited(clip, names[i], NULL);
    expect_error(e, ad, NULL, names[i]);
    vg_weights_free(e);
    e = edited(clip, NULL, names[i]);
    expect_error(e, ad, NULL, names[i]);
    vg_weights_free(e);
  }
  vg_weights *e = edited(ad, "det_adapters.1.fc2.0.weight", NULL);
  expect_error(clip, e, NULL, "det_adapters.1.fc2.0.weight");
  vg_weights_free(e);
  e = edited(clip, "visual.conv1.weight", NULL);
  expect_error(e, ad, NULL, "visual.conv1.weight");
  vg_weights_free(e);
  e = vg_weights_new();
  expect_error(e, NULL, NULL, "not a CLIP checkpoint");
  vg_weights_free(e);

  vg_clip_options o = {.image_size = 56, .adapter_layers = {2, 1}};
  expect_error(clip, ad, &o, "adapter 1 at block 1");
  o = (vg_clip_options){.image_size = 10};
  expect_error(clip, ad, &o, "image size 10");
  o = (vg_clip_options){.image_size = 14 * 65}; /* 65 x 65 patches: too many tokens */
  expect_error(clip, ad, &o, "4226 tokens");

  /* A token id outside the vocabulary; a tower that was not loaded. */
  vg_clip *m = NULL;
  o = (vg_clip_options){.towers = VG_CLIP_TEXT};
  g_assert_cmpint(vg_clip_load(clip, NULL, &o, cpu, &m), ==, VG_OK);
  int32_t ids[77] = {298, 5, 1000, 299};
  float feat[32], pixel = 0;
  g_assert_cmpint(vg_clip_encode_text(m, ids, 1, feat), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "token id 1000"));
  vg_clip_image_out out = {0};
  g_assert_cmpint(vg_clip_encode_image(m, &pixel, &out), ==, VG_ERR_ARG);
  vg_clip_free(m);
  vg_weights_free(clip), vg_weights_free(ad);
}

/* After a forward that downloaded only `pooled`, the tokens are still on the
 * backend (vg_clip_image_tokens) with the bits a download would have given;
 * images, adapters and heads out of range are clear errors. */
static void expect_tokens_left(vg_clip *m, const float *input) {
  const vg_clip_arch *a = vg_clip_arch_of(m);
  const gsize n = (gsize)a->tokens * a->adapter_dim;
  g_autofree float *want = g_new(float, n), *got = g_new(float, n);
  const vg_tensor *t = NULL;
  int64_t row = -1;
  g_assert_cmpint(vg_clip_image_tokens(m, 0, 1, 1, &t, &row), ==, VG_OK);
  g_assert_cmpint(row, ==, 0);
  g_autofree float *all = g_new(float, (gsize)t->rows * t->cols);
  g_assert_cmpint(vg_tensor_download(t, all), ==, VG_OK);
  memcpy(got, all + row * t->cols, n * sizeof(float));
  vg_clip_image_out out = {.det_tokens = {NULL, want}};
  g_assert_cmpint(vg_clip_encode_image(m, input, &out), ==, VG_OK);
  g_assert_cmpint(memcmp(got, want, n * sizeof(float)), ==, 0);
  g_assert_cmpint(vg_clip_image_tokens(m, 1, 0, 0, &t, &row), ==, VG_ERR_ARG);
  g_assert_nonnull(strstr(vg_last_error(), "image 1 is not in the last forward"));
  g_assert_cmpint(vg_clip_image_tokens(m, 0, a->n_adapters, 0, &t, &row), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_clip_image_tokens(m, 0, 0, 2, &t, &row), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_clip_image_tokens(m, 0, 0, 0, NULL, &row), ==, VG_ERR_ARG);
  /* A failed forward leaves no tokens to read. */
  const float *none = NULL;
  g_assert_cmpint(vg_clip_encode_images(m, 1, &none, &out), ==, VG_ERR_ARG);
  g_assert_cmpint(vg_clip_image_tokens(m, 0, 0, 0, &t, &row), ==, VG_ERR_ARG);
}

/* Explicit adapter blocks equal to the default give the same result. */
static void test_adapter_layers_option(void) {
  vg_weights *ex = open_vec("tiny.expected.safetensors");
  vg_weights *clip = open_vec("tiny.clip.safetensors"), *ad = open_vec("tiny.adapters.safetensors");
  vg_clip_options o = {.image_size = 56, .towers = VG_CLIP_IMAGE, .adapter_layers = {1, 2}};
  vg_clip *m = NULL;
  g_assert_cmpint(vg_clip_load(clip, ad, &o, cpu, &m), ==, VG_OK);
  g_autofree float *input = tensor_f32(ex, "input", NULL);
  float pooled[32];
  vg_clip_image_out out = {.pooled = pooled};
  g_assert_cmpint(vg_clip_encode_image(m, input, &out), ==, VG_OK);
  expect_close("explicit layers", pooled, ex, "pooled", TOLERANCE);
  expect_tokens_left(m, input);
  vg_clip_free(m);
  /* Adapter blocks that do not rise are refused. */
  o.adapter_layers[0] = 2, o.adapter_layers[1] = 0;
  g_assert_cmpint(vg_clip_load(clip, ad, &o, cpu, &m), !=, VG_OK);
  vg_weights_free(clip), vg_weights_free(ad), vg_weights_free(ex);
}

static int by_name(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  cpu = vg_cpu_backend_new(0);
  const char *env = g_getenv("VIGIL_CLIP_VECTORS");
  vectors_dir =
      env ? g_strdup(env)
          : g_build_filename(g_getenv("VIGIL_SOURCE_DIR") ? g_getenv("VIGIL_SOURCE_DIR") : ".",
                             "tests", "reference", "vectors", NULL);
  g_autoptr(GDir) dir = g_dir_open(vectors_dir, 0, NULL);
  g_assert_nonnull(dir);
  GPtrArray *cases = g_ptr_array_new_with_free_func(g_free);
  for (const char *f; (f = g_dir_read_name(dir));)
    if (g_str_has_suffix(f, ".expected.safetensors"))
      g_ptr_array_add(cases, g_strdup(f));
  g_ptr_array_sort(cases, by_name);
  g_assert_cmpuint(cases->len, >, 0);
  for (guint i = 0; i < cases->len; i++) {
    g_autofree char *path = g_strdup_printf("/clip/parity/%s", (char *)cases->pdata[i]);
    g_test_add_data_func(path, cases->pdata[i], test_parity);
  }
  if (!env) {
    g_test_add_func("/clip/f16-matmul", test_f16_matmul);
    g_test_add_func("/clip/bf16-matmul", test_bf16_matmul);
    g_test_add_func("/clip/resize", test_resize);
    g_test_add_func("/clip/detect", test_detect);
    g_test_add_func("/clip/errors", test_errors);
    g_test_add_func("/clip/adapter-layers-option", test_adapter_layers_option);
  }
  int rc = g_test_run();
  g_ptr_array_unref(cases);
  vg_backend_destroy(cpu);
  g_free(vectors_dir);
  return rc;
}
