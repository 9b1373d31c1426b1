/* Window presets, automatic windows, and the lookup-table path matching
 * vigil_image_window_to_u8 byte for byte. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "vigil-resize.h"
#include "vigil-window-level.h"

static void test_presets(void) {
  gsize n = 0;
  const VigilWindowLevelPreset *p = vigil_window_level_presets("CT", &n);
  g_assert_cmpuint(n, ==, 6);
  g_assert_cmpstr(p[0].id, ==, "brain");
  const VigilWindowLevelPreset *lung = vigil_window_level_preset_find("ct", "lung");
  g_assert_nonnull(lung);
  g_assert_cmpfloat(lung->window.center, ==, -600);
  g_assert_cmpfloat(lung->window.width, ==, 1500);
  g_assert_cmpfloat(vigil_window_level_preset_find("CT", "brain")->window.width, ==, 80);
  g_assert_cmpfloat(vigil_window_level_preset_find("CT", "bone")->window.center, ==, 400);
  g_assert_null(vigil_window_level_preset_find("CT", "nope"));
  vigil_window_level_presets("MR", &n);
  g_assert_cmpuint(n, ==, 0);
  g_assert_null(vigil_window_level_preset_find("MR", "brain"));
}

static void test_parse(void) {
  VigilWindowLevel w;
  g_assert_true(vigil_window_level_parse("-600,1500", &w));
  g_assert_cmpfloat(w.center, ==, -600);
  g_assert_cmpfloat(w.width, ==, 1500);
  g_assert_true(vigil_window_level_parse("40.5,80", &w));
  g_assert_cmpfloat(w.center, ==, 40.5);
  g_assert_false(vigil_window_level_parse("40", &w));
  g_assert_false(vigil_window_level_parse("40,", &w));
  g_assert_false(vigil_window_level_parse("40,0", &w));
  g_assert_false(vigil_window_level_parse("40,80x", &w));
  g_assert_false(vigil_window_level_parse("nan,80", &w));
}

static VigilImage *ramp(int n, float first, float step) {
  VigilImage *im = vigil_image_new(MIN(n, 256), (n + 255) / 256, VIGIL_IMAGE_GRAY, NULL);
  for (int i = 0; i < n; i++)
    im->values[i] = first + step * i;
  vigil_image_update_range(im);
  return im;
}

static void test_full_range(void) {
  /* 8-bit data shown one to one. */
  g_autoptr(VigilImage) im = ramp(256, 0, 1);
  VigilWindowLevel w = vigil_window_level_full_range(8);
  g_assert_cmpfloat(w.center, ==, 128);
  g_assert_cmpfloat(w.width, ==, 256);
  guint8 out[256];
  vigil_image_window_to_u8(im, w.center, w.width, out);
  for (int i = 0; i < 256; i++)
    g_assert_cmpuint(out[i], ==, i);
}

static void test_auto(void) {
  /* Zeros (background) are ignored; 1..1000 maps its 1st..99th percentile. */
  g_autoptr(VigilImage) im = ramp(2000, -999, 1);
  for (int i = 0; i < 1000; i++)
    im->values[i] = 0;
  VigilWindowLevel w = vigil_window_level_auto_percentiles(im, 1, 99);
  guint8 out[2048]; /* 256 x 8: the last 48 pixels stay 0 */
  vigil_image_window_to_u8(im, w.center, w.width, out);
  g_assert_cmpuint(out[1000 + 10], ==, 0);    /* value 11, the 1st percentile */
  g_assert_cmpuint(out[1000 + 989], ==, 255); /* value 990, the 99th */
  g_assert_cmpuint(out[1000 + 500], >, 100);
  g_assert_cmpuint(out[1000 + 500], <, 155);
  /* All zero: no crash, a usable window. */
  g_autoptr(VigilImage) zero = ramp(10, 0, 0);
  w = vigil_window_level_auto_percentiles(zero, 1, 99);
  g_assert_cmpfloat(w.width, >=, 1);
}

static void check_lut(const VigilImage *im, double c, double w) {
  const gsize n = (gsize)im->width * im->height;
  g_autofree guint8 *a = g_malloc(n), *b = g_malloc(n);
  vigil_image_window_to_u8(im, c, w, a);
  vigil_window_level_to_u8_lut(im, c, w, b);
  for (gsize i = 0; i < n; i++)
    if (a[i] != b[i])
      g_error("value %g window %g/%g: direct %u, lut %u", im->values[i], c, w, a[i], b[i]);
}

static void test_lut_matches(void) {
  /* Every int16 value and some non-integers, under presets and odd windows. */
  g_autoptr(VigilImage) im = ramp(65536 + 256, -32768, 1); /* 256 x 257 */
  const float odd[7] = {0.5f, -0.25f, 1e6f, -1e6f, 39.5f, 40.49f, NAN};
  memcpy(im->values + 65536, odd, sizeof odd);
  vigil_image_update_range(im);
  const double windows[][2] = {{40, 80},   {-600, 1500}, {400, 1800}, {60, 400}, {40, 1},
                               {0.5, 1.5}, {40.3, 79.7}, {0, 65536},  {-1024, 2}};
  for (gsize i = 0; i < G_N_ELEMENTS(windows); i++)
    check_lut(im, windows[i][0], windows[i][1]);
  GRand *rng = g_rand_new_with_seed(7);
  for (int i = 0; i < 200; i++)
    check_lut(im, g_rand_double_range(rng, -2000, 3000), g_rand_double_range(rng, 0.5, 5000));
  g_rand_free(rng);
  /* uint16 data too. */
  g_autoptr(VigilImage) u16 = ramp(65536, 0, 1);
  check_lut(u16, 32768, 65536);
  check_lut(u16, 1000, 2000);
}

/* vigil_model_input = what the viewer shows (windowed 8 bits) through the
 * PIL-exact resize (checked against PIL in test-images.py). */
static void test_model_input(void) {
  g_autoptr(VigilImage) ct = vigil_image_new(64, 48, VIGIL_IMAGE_GRAY, NULL);
  for (int i = 0; i < 64 * 48; i++)
    ct->values[i] = (float)((i * 37) % 2000 - 1000);
  guint8 shown[64 * 48];
  vigil_image_window_to_u8(ct, 40, 400, shown);
  g_autofree float *a = vigil_model_input(ct, 40, 400, NULL);
  g_autofree float *b = vigil_model_input_from_u8(shown, 64, 48, 1, NULL);
  g_assert_nonnull(a);
  g_assert_cmpmem(a, 3 * 240 * 240 * sizeof(float), b, 3 * 240 * 240 * sizeof(float));
  for (int i = 0; i < 240 * 240; i++) { /* gray replicated, values in 0..1 */
    g_assert_cmpfloat(a[i], ==, a[240 * 240 + i]);
    g_assert_cmpfloat(a[i], ==, a[2 * 240 * 240 + i]);
    g_assert_cmpfloat(a[i], >=, 0);
    g_assert_cmpfloat(a[i], <=, 1);
  }
  /* RGB frames are not windowed: any window gives the same input. */
  g_autoptr(VigilImage) rgb = vigil_image_new(5, 7, VIGIL_IMAGE_RGB, NULL);
  for (int i = 0; i < 5 * 7 * 3; i++)
    rgb->values[i] = (float)(i * 7 % 256);
  g_autofree float *c = vigil_model_input(rgb, 40, 80, NULL);
  g_autofree float *d = vigil_model_input(rgb, 1000, 5, NULL);
  g_assert_cmpmem(c, 3 * 240 * 240 * sizeof(float), d, 3 * 240 * 240 * sizeof(float));
  g_assert_true(memcmp(c, c + 240 * 240, 240 * 240 * sizeof(float)) != 0); /* channels differ */
  /* A 240 x 240 input is copied unchanged, value / 255. */
  g_autoptr(VigilImage) same = vigil_image_new(240, 240, VIGIL_IMAGE_GRAY, NULL);
  for (int i = 0; i < 240 * 240; i++)
    same->values[i] = (float)(i % 256);
  g_autofree float *e = vigil_model_input(same, 128, 256, NULL);
  for (int i = 0; i < 240 * 240; i++)
    g_assert_cmpfloat(e[i], ==, (float)(i % 256) / 255.0f);
  GError *error = NULL;
  g_assert_null(vigil_model_input_from_u8(shown, 64, 48, 2, &error));
  g_assert_nonnull(strstr(error->message, "1 or 3 channels"));
  g_clear_error(&error);
  g_assert_null(vigil_model_input_from_u8(shown, 0, 48, 1, &error));
  g_assert_nonnull(strstr(error->message, "cannot resize 0 x 48"));
  g_clear_error(&error);
}

/* The view's 32-bit pixels are the RGB bytes with alpha 255, gray and colour,
 * for odd sizes too (the gray path widens in place). */
static void test_bgra_matches_rgb(void) {
  for (int kind = 0; kind < 2; kind++) {
    VigilImageKind k = kind ? VIGIL_IMAGE_RGB : VIGIL_IMAGE_GRAY;
    g_autoptr(VigilImage) im = vigil_image_new(37, 5, k, NULL);
    const int channels = vigil_image_channels(im);
    for (int i = 0; i < 37 * 5 * channels; i++)
      im->values[i] = (float)((i * 37) % 700) - 200.0f;
    vigil_image_update_range(im);
    g_autofree guint8 *rgb = vigil_window_level_to_rgb8(im, 100, 400);
    g_autofree guint32 *bgra = vigil_window_level_to_bgra32(im, 100, 400);
    for (int i = 0; i < 37 * 5; i++) {
      guint32 want =
          0xff000000u | (guint32)rgb[3 * i] << 16 | (guint32)rgb[3 * i + 1] << 8 | rgb[3 * i + 2];
      g_assert_cmphex(bgra[i], ==, want);
    }
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/window/bgra-matches-rgb", test_bgra_matches_rgb);
  g_test_add_func("/window/presets", test_presets);
  g_test_add_func("/window/parse", test_parse);
  g_test_add_func("/window/full-range", test_full_range);
  g_test_add_func("/window/auto", test_auto);
  g_test_add_func("/window/lut-matches-direct", test_lut_matches);
  g_test_add_func("/window/model-input", test_model_input);
  return g_test_run();
}
