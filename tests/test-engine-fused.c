/* vigil_engine_analyse_batch (encoding and scoring in one go, the tokens left
 * on the device) against the two steps it replaces (features to the host,
 * then vigil_engine_detect): the same maps and scores on the CPU and on
 * lavapipe, zero-shot and with a bank, for 1, 3 and 9 images (two forward
 * chunks); far fewer bytes downloaded; and a device lost during the call
 * under auto gives the CPU's results. Tiny random model. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "vg_clip_random.h"
#include "vg_safetensors.h"
#include "vigil-engine.h"
#include "test-util.h"

#define MAP_TOL 1e-4
#define SCORE_TOL 1e-5
#define MAX_N 9

static char *dir, *clip_path, *adapters_path, *text_cache;
static float *inputs[MAX_N];
static int side;

static VigilEngine *open_engine(const char *setting) {
  VigilBackendOptions options;
  g_autofree char *device = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_backend_options_from_setting(setting, &options, &device, &error));
  VigilEngine *e = vigil_engine_open(clip_path, adapters_path, &options, &error);
  g_assert_no_error(error);
  vigil_engine_set_cache_dir(e, text_cache);
  return e;
}

/* Largest |a - b| over the largest |b| (absolute below 1). */
static double rel(const float *a, const float *b, gsize n) {
  double err = 0, mag = 1;
  for (gsize i = 0; i < n; i++)
    err = fmax(err, fabs((double)a[i] - b[i])), mag = fmax(mag, fabs((double)b[i]));
  return err / mag;
}

static void expect_same(const char *tag, const VigilDetection *got, const VigilDetection *want) {
  const gsize plane = (gsize)want->side * want->side, L = want->layers;
  g_assert_cmpint(got->has_few, ==, want->has_few);
  double maps = fmax(rel(got->zero_map, want->zero_map, plane),
                     rel(got->zero_layer_maps, want->zero_layer_maps, plane * L));
  double scores = fabs(got->zero_score - want->zero_score) / fmax(1, fabs(want->zero_score));
  if (want->has_few) {
    maps = fmax(maps, rel(got->few_map, want->few_map, plane));
    maps = fmax(maps, rel(got->few_det_map, want->few_det_map, plane));
    maps = fmax(maps, rel(got->few_layer_maps, want->few_layer_maps, plane * L));
    scores = fmax(scores, fabs(got->few_score - want->few_score) / fmax(1, fabs(want->few_score)));
  }
  g_test_message("%s: maps %.3g, scores %.3g", tag, maps, scores);
  g_assert_cmpfloat(maps, <=, MAP_TOL);
  g_assert_cmpfloat(scores, <=, SCORE_TOL);
}

/* The old path: features to the host, then each image scored. */
static void two_step(VigilEngine *e, int n, const float *text, const vg_membank *bank,
                     VigilDetection **out) {
  VigilFeatures *f[MAX_N] = {NULL};
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_engine_features_batch(e, n, (const float *const *)inputs, f, &error));
  for (int i = 0; i < n; i++) {
    out[i] = vigil_engine_detect(e, f[i], text, bank, &error);
    g_assert_no_error(error);
    vigil_features_free(f[i]);
  }
}

static void fused(VigilEngine *e, int n, const float *text, const vg_membank *bank,
                  VigilFeatures **features, VigilDetection **out) {
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_engine_analyse_batch(e, n, (const float *const *)inputs, text, bank, features,
                                           out, &error));
  g_assert_no_error(error);
}

static void free_all(int n, VigilDetection **d) {
  for (int i = 0; i < n; i++)
    g_clear_pointer(&d[i], vigil_detection_free);
}

/* A bank of this engine holding two references' features (from this engine). */
static vg_membank *bank_of(VigilEngine *e) {
  g_autoptr(GError) error = NULL;
  vg_membank *bank = vigil_engine_new_bank(e, &error);
  g_assert_no_error(error);
  for (int r = 0; r < 2; r++) {
    g_autoptr(VigilFeatures) f = vigil_engine_features(e, inputs[MAX_N - 1 - r], &error);
    g_assert_no_error(error);
    g_assert_true(vigil_engine_bank_add(e, bank, f, NULL, &error));
  }
  return bank;
}

static void test_same(gconstpointer data) {
  const char *setting = data;
  const gboolean vulkan = g_str_has_prefix(setting, "vulkan");
  g_autoptr(VigilEngine) e = open_engine(setting);
  g_autoptr(GError) error = NULL;
  g_autofree float *text = vigil_engine_text_features(e, "brain", NULL, &error);
  g_assert_no_error(error);
  vg_membank *bank = bank_of(e);
  const int counts[] = {1, 3, MAX_N};
  for (int few = 0; few < 2; few++)
    for (gsize k = 0; k < G_N_ELEMENTS(counts); k++) {
      const int n = counts[k];
      if (n == MAX_N && (few || !vulkan))
        continue; /* the two-chunk case once, where chunks matter */
      VigilDetection *want[MAX_N] = {NULL}, *got[MAX_N] = {NULL};
      two_step(e, n, text, few ? bank : NULL, want);
      fused(e, n, text, few ? bank : NULL, NULL, got);
      for (int i = 0; i < n; i++) {
        g_autofree char *tag =
            g_strdup_printf("%s %s n=%d image %d", setting, few ? "few" : "zero", n, i);
        expect_same(tag, got[i], want[i]);
        g_assert_cmpint(got[i]->on_device, ==, vulkan);
      }
      free_all(n, want), free_all(n, got);
    }
  /* Features asked for too: the same as vigil_engine_features_batch's. */
  VigilFeatures *f[3] = {NULL}, *g[3] = {NULL};
  VigilDetection *d[3] = {NULL};
  fused(e, 3, text, bank, f, d);
  g_assert_true(vigil_engine_features_batch(e, 3, (const float *const *)inputs, g, &error));
  for (int i = 0; i < 3; i++) {
    const gsize rows = (gsize)f[i]->tokens * f[i]->dim;
    g_assert_cmpint(memcmp(f[i]->pooled, g[i]->pooled, f[i]->embed_dim * sizeof(float)), ==, 0);
    for (int l = 0; l < f[i]->layers; l++) {
      g_assert_cmpint(memcmp(f[i]->seg[l], g[i]->seg[l], rows * sizeof(float)), ==, 0);
      g_assert_cmpint(memcmp(f[i]->det[l], g[i]->det[l], rows * sizeof(float)), ==, 0);
    }
    vigil_features_free(f[i]), vigil_features_free(g[i]);
  }
  free_all(3, d);
  vigil_engine_free_bank(e, bank);
}

/* A bank without a device mirror (a CPU engine's) is scored on the host,
 * with the same results as the two steps. */
static void test_unmirrored_bank(void) {
  g_autoptr(VigilEngine) cpu = open_engine("cpu");
  g_autoptr(VigilEngine) e = open_engine("vulkan:0");
  g_autoptr(GError) error = NULL;
  g_autofree float *text = vigil_engine_text_features(e, "brain", NULL, &error);
  vg_membank *bank = bank_of(cpu);
  VigilDetection *want[3] = {NULL}, *got[3] = {NULL};
  two_step(e, 3, text, bank, want);
  fused(e, 3, text, bank, NULL, got);
  for (int i = 0; i < 3; i++) {
    expect_same("unmirrored bank", got[i], want[i]);
    g_assert_false(got[i]->on_device);
  }
  free_all(3, want), free_all(3, got);
  vigil_engine_free_bank(cpu, bank);
}

/* On lavapipe, byte for byte: the fused call downloads only the maps and
 * scores, and uploads only the pixels and text; the two steps move each
 * image's tokens (and pooled features) down and the tokens up again. (On a
 * tiny model the maps outweigh the tokens; on ViT-L the tokens are 7 MB.) */
static void test_bytes(void) {
  g_autoptr(VigilEngine) e = open_engine("vulkan:0");
  const vg_clip_arch *a = vigil_engine_arch(e);
  g_autoptr(GError) error = NULL;
  g_autofree float *text = vigil_engine_text_features(e, "brain", NULL, &error);
  vg_membank *bank = bank_of(e);
  const gint64 f = sizeof(float), tokens = 2LL * a->n_adapters * a->tokens * a->adapter_dim * f;
  const gint64 pooled = a->embed_dim * f, planes = (gint64)a->image_size * a->image_size * f;
  const gint64 pixels =
      3LL * a->image_size * a->image_size * f; /* patch rows are made on the device */
  for (int few = 0; few < 2; few++) {
    VigilDetection *d[3] = {NULL};
    gint64 up0, down0, up1, down1, up2, down2;
    vigil_engine_transfer_bytes(e, &up0, &down0);
    fused(e, 3, text, few ? bank : NULL, NULL, d);
    vigil_engine_transfer_bytes(e, &up1, &down1);
    free_all(3, d);
    two_step(e, 3, text, few ? bank : NULL, d);
    vigil_engine_transfer_bytes(e, &up2, &down2);
    free_all(3, d);
    g_test_message("%s, 3 images: fused down %lld up %lld; two steps down %lld up %lld; one "
                   "image's tokens %lld",
                   few ? "few-shot" : "zero-shot", (long long)(down1 - down0),
                   (long long)(up1 - up0), (long long)(down2 - down1), (long long)(up2 - up1),
                   (long long)tokens);
    /* Per image: every map plane, the per-layer means, the few-shot mean. */
    const gint64 maps = (2LL * a->n_adapters + 3) * planes + (a->n_adapters + few) * f;
    g_assert_cmpint(down1 - down0, ==, 3 * maps);
    g_assert_cmpint(down2 - down1, ==, 3 * (maps + tokens + pooled));
    /* Per image its pixels and per call the text (100 x, 2 x embed). */
    g_assert_cmpint(up1 - up0, ==, 3 * pixels + 2 * pooled);
    g_assert_cmpint(up2 - up1, ==, 3 * (pixels + tokens + 2 * pooled));
  }
  vigil_engine_free_bank(e, bank);
}

/* VIGIL_VK_FAULT=lost:k for k = 0, 1, ... until the device is lost in the
 * fused call's encoder and in its scoring: each time the engine moves to the
 * CPU and gives the CPU engine's results. */
static void test_fallback(void) {
  g_autoptr(VigilEngine) cpu = open_engine("cpu");
  g_autoptr(GError) error = NULL;
  g_autofree float *text = vigil_engine_text_features(cpu, "brain", NULL, &error); /* cached */
  VigilFeatures *refs[2] = {NULL};
  g_assert_true(vigil_engine_features_batch(cpu, 2, (const float *const *)inputs, refs, &error));
  vg_membank *cpu_bank = vigil_engine_new_bank(cpu, &error);
  for (int r = 0; r < 2; r++)
    g_assert_true(vigil_engine_bank_add(cpu, cpu_bank, refs[r], NULL, &error));
  VigilDetection *want[3] = {NULL};
  fused(cpu, 3, text, cpu_bank, NULL, want);
  gboolean seen_encoder = FALSE, seen_scoring = FALSE;
  g_setenv("VIGIL_VK_DEVICE", "llvmpipe", TRUE); /* auto passes over lavapipe unless named */
  for (int k = 0; k < 40 && !(seen_encoder && seen_scoring); k++) {
    g_autofree char *fault = g_strdup_printf("lost:%d", k);
    g_setenv("VIGIL_VK_FAULT", fault, TRUE);
    g_autoptr(VigilEngine) e = open_engine("auto");
    g_unsetenv("VIGIL_VK_FAULT");
    vg_membank *bank = vigil_engine_new_bank(e, &error);
    for (int r = 0; bank && r < 2; r++)
      vigil_engine_bank_add(e, bank, refs[r], NULL, NULL);
    g_clear_error(&error);
    g_autofree char *before_why = vigil_engine_dup_fallback_reason(e);
    const gboolean before = before_why != NULL;
    VigilDetection *got[3] = {NULL};
    if (!before && bank && vg_membank_count(bank) == 2)
      fused(e, 3, text, bank, NULL, got);
    g_autofree char *why = vigil_engine_dup_fallback_reason(e);
    const gboolean encoder = !before && why && strstr(why, "in the image encoder");
    const gboolean scoring = !before && why && strstr(why, "in scoring");
    if (encoder || scoring) {
      g_test_message("%s: %s", fault, why);
      g_assert_nonnull(strstr(why, "VK_ERROR_DEVICE_LOST"));
      for (int i = 0; i < 3; i++) {
        expect_same(fault, got[i], want[i]);
        g_assert_false(got[i]->on_device);
      }
      seen_encoder |= encoder, seen_scoring |= scoring;
    }
    free_all(3, got);
    vigil_engine_free_bank(e, bank);
  }
  g_unsetenv("VIGIL_VK_DEVICE");
  g_assert_true(seen_encoder);
  g_assert_true(seen_scoring);
  free_all(3, want);
  vigil_engine_free_bank(cpu, cpu_bank);
  vigil_features_free(refs[0]), vigil_features_free(refs[1]);
}

static void test_bad_input(void) {
  g_autoptr(VigilEngine) e = open_engine("cpu");
  g_autoptr(GError) error = NULL;
  g_autofree float *text = vigil_engine_text_features(e, "brain", NULL, &error);
  VigilDetection *d[2] = {NULL};
  const float *holes[2] = {inputs[0], NULL};
  g_assert_false(vigil_engine_analyse_batch(e, 2, holes, text, NULL, NULL, d, &error));
  g_assert_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_INPUT);
  g_assert_nonnull(strstr(error->message, "image 1 has no pixels"));
  g_clear_error(&error);
  g_assert_false(
      vigil_engine_analyse_batch(e, 1, (const float *const *)inputs, NULL, NULL, NULL, d, &error));
  g_assert_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_INPUT);
  g_assert_null(d[0]);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  dir = test_make_tmp_dir("vigil-fused");
  text_cache = g_build_filename(dir, "text", NULL);
  test_write_random_model(dir, "tiny", 5, &clip_path, &adapters_path);
  {
    g_autoptr(VigilEngine) e = open_engine("cpu");
    side = vigil_engine_arch(e)->image_size;
  }
  g_autoptr(GRand) rng = g_rand_new_with_seed(17);
  for (int i = 0; i < MAX_N; i++) {
    inputs[i] = g_new(float, (gsize)3 * side * side);
    for (int p = 0; p < 3 * side * side; p++)
      inputs[i][p] = (float)g_rand_double(rng);
  }
  g_test_add_data_func("/engine-fused/same/cpu", "cpu", test_same);
  g_test_add_data_func("/engine-fused/same/vulkan", "vulkan:0", test_same);
  g_test_add_func("/engine-fused/unmirrored-bank", test_unmirrored_bank);
  g_test_add_func("/engine-fused/bytes", test_bytes);
  g_test_add_func("/engine-fused/fallback", test_fallback);
  g_test_add_func("/engine-fused/bad-input", test_bad_input);
  int rc = g_test_run();
  for (int i = 0; i < MAX_N; i++)
    g_free(inputs[i]);
  test_remove_tree(dir);
  g_free(dir), g_free(text_cache), g_free(clip_path), g_free(adapters_path);
  return rc;
}
