/* Calibration (app/vigil-calibration): the labelled source (anomalib's F1
 * adaptive threshold), the reference source and its too-few case, the
 * normalisation, the file's round trip, and a file for other weights refused. */
#include <math.h>

#include "test-util.h"
#include "vigil-calibration.h"

static char *dir;

static void test_labelled(void) {
  /* Normal 0.1..0.4, abnormal 0.35..0.9: F1 peaks at 0.35 (all four abnormal,
   * one normal above): P 4/5, R 1, F1 8/9; at 0.6 F1 is 6/7. */
  const double s[8] = {0.1, 0.2, 0.3, 0.4, 0.35, 0.6, 0.8, 0.9};
  const guint8 y[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilCalibration) c =
      vigil_calibration_new_labelled(NULL, "Brain", FALSE, 0, 8, s, y, &error);
  g_assert_no_error(error);
  g_assert_cmpint(c->source, ==, VIGIL_CALIBRATION_LABELLED);
  g_assert_cmpfloat(c->threshold, ==, 0.35);
  g_assert_cmpfloat(c->min, ==, 0.1);
  g_assert_cmpfloat(c->max, ==, 0.9);
  g_assert_cmpint(c->normal, ==, 4);
  g_assert_cmpint(c->abnormal, ==, 4);
  /* anomalib: ((x - t) / (max - min)) + 0.5, clipped to [0, 1] */
  g_assert_cmpfloat_with_epsilon(vigil_calibration_apply(c, 0.35), 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon(vigil_calibration_apply(c, 0.55), 0.75, 1e-12);
  g_assert_cmpfloat(vigil_calibration_apply(c, 5), ==, 1);
  g_assert_cmpfloat(vigil_calibration_apply(c, -5), ==, 0);
  g_autofree char *text = vigil_calibration_describe(c);
  g_assert_nonnull(strstr(text, "4 normal, 4 abnormal"));
  /* One class only: refused, not a made-up threshold. */
  const guint8 normal_only[8] = {0};
  g_autoptr(VigilCalibration) none =
      vigil_calibration_new_labelled(NULL, "Brain", FALSE, 0, 8, s, normal_only, &error);
  g_assert_null(none);
  g_assert_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_DATA);
}

static void test_references(void) {
  const double zero[5] = {1.0, 1.4, 1.2, 1.1, 1.3}, few[5] = {0.2, 0.4, 0.3, 0.5, 0.1};
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilCalibration) z = NULL, f = NULL;
  g_assert_true(vigil_calibration_new_references(NULL, "Liver", 5, zero, few, 90, &z, &f, &error));
  g_assert_cmpint(z->source, ==, VIGIL_CALIBRATION_REFERENCES);
  g_assert_false(z->few_shot);
  g_assert_true(f->few_shot);
  /* numpy.percentile([1.0, 1.1, 1.2, 1.3, 1.4], 90) = 1.36 */
  g_assert_cmpfloat_with_epsilon(z->threshold, 1.36, 1e-12);
  g_assert_cmpfloat_with_epsilon(f->threshold, 0.46, 1e-12);
  g_assert_cmpfloat(z->min, ==, 1.0);
  g_assert_cmpfloat(z->max, ==, 1.4);
  g_assert_cmpint(f->normal, ==, 5);
  g_assert_cmpint(f->shots, ==, 4); /* leave-one-out: banks of the other four */
  g_assert_cmpfloat_with_epsilon(vigil_calibration_apply(z, 1.36), 0.5, 1e-12);
  g_autofree char *text = vigil_calibration_describe(f);
  g_assert_nonnull(strstr(text, "5 normal references"));
}

static void test_too_few_references(void) {
  const double zero[2] = {1.0, 1.2}, few[2] = {0.2, 0.3};
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilCalibration) z = NULL, f = NULL;
  g_assert_true(vigil_calibration_new_references(NULL, "Liver", 2, zero, few, 95, &z, &f, &error));
  g_assert_cmpint(z->source, ==, VIGIL_CALIBRATION_UNCALIBRATED);
  g_assert_cmpint(f->source, ==, VIGIL_CALIBRATION_UNCALIBRATED);
  g_assert_true(isnan(z->threshold));
  g_assert_true(isnan(vigil_calibration_apply(f, 0.25)));
  g_autofree char *text = vigil_calibration_describe(z);
  g_assert_nonnull(strstr(text, "uncalibrated: 2 normal references (3 needed)"));
}

static VigilEngine *open_model(const char *name, unsigned seed) {
  g_autofree char *sub = g_build_filename(dir, name, NULL);
  g_assert_cmpint(g_mkdir_with_parents(sub, 0755), ==, 0);
  g_autofree char *clip = NULL, *adapters = NULL;
  test_write_random_model(sub, "tiny", seed, &clip, &adapters);
  VigilBackendOptions options = {.kind = VIGIL_BACKEND_CPU, .threads = 1};
  g_autoptr(GError) error = NULL;
  VigilEngine *e = vigil_engine_open(clip, adapters, &options, &error);
  g_assert_no_error(error);
  return e;
}

static void test_round_trip_and_mismatch(void) {
  g_autoptr(VigilEngine) a = open_model("a", 1), b = open_model("b", 2);
  const double s[6] = {0.1, 0.2, 0.3, 0.7, 0.8, 0.25};
  const guint8 y[6] = {0, 0, 0, 1, 1, 1};
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilCalibration) c =
      vigil_calibration_new_labelled(a, "Brain", TRUE, 4, 6, s, y, &error);
  g_assert_no_error(error);
  g_autofree char *path = vigil_calibration_default_path("/x/y/Brain.pth", "Brain", TRUE);
  g_assert_cmpstr(path, ==, "/x/y/Brain.Brain.few-shot.calibration.json");
  g_autofree char *file = g_build_filename(dir, "cal.json", NULL);
  g_assert_true(vigil_calibration_save(c, file, &error));
  g_autoptr(VigilCalibration) back = vigil_calibration_load(file, a, &error);
  g_assert_no_error(error);
  g_assert_cmpint(back->source, ==, c->source);
  g_assert_cmpstr(back->class_name, ==, "Brain");
  g_assert_true(back->few_shot);
  g_assert_cmpint(back->shots, ==, 4);
  g_assert_cmpfloat(back->threshold, ==, c->threshold);
  g_assert_cmpfloat(back->min, ==, c->min);
  g_assert_cmpfloat(back->max, ==, c->max);
  g_assert_cmpint(back->normal, ==, 3);
  g_assert_cmpint(back->abnormal, ==, 3);
  g_assert_cmpstr(back->clip_sha256, ==, vigil_engine_clip_digest(a));
  g_assert_cmpstr(back->adapters_sha256, ==, vigil_engine_adapters_digest(a));
  g_assert_cmpstr(back->vigil_version, ==, c->vigil_version);
  /* Other weights: refused with a message, never applied. */
  g_autoptr(VigilCalibration) other = vigil_calibration_load(file, b, &error);
  g_assert_null(other);
  g_assert_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_MISMATCH);
  g_assert_nonnull(strstr(error->message, "made for other weights"));
  g_clear_error(&error);
  /* Not a calibration. */
  g_assert_true(g_file_set_contents(file, "{\"format\": \"other\"}", -1, NULL));
  g_assert_null(vigil_calibration_load(file, NULL, &error));
  g_assert_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_FILE);
}

/* Leave-one-out: a reference never meets itself in the bank (its few-shot
 * distance would be zero), and its zero-shot score is the bankless one. */
static void test_reference_scores(void) {
  g_autoptr(VigilEngine) e = open_model("loo", 3);
  g_autoptr(GError) error = NULL;
  g_autofree float *text = vigil_engine_text_features(e, "Brain", NULL, &error);
  g_assert_no_error(error);
  enum { N = 3 };
  const int side = vigil_engine_arch(e)->image_size;
  VigilFeatures *f[N];
  g_autoptr(GRand) rng = g_rand_new_with_seed(9);
  for (int i = 0; i < N; i++) {
    g_autofree float *input = g_new(float, 3 * side * side);
    for (int p = 0; p < 3 * side * side; p++)
      input[p] = (float)g_rand_double(rng);
    f[i] = vigil_engine_features(e, input, &error);
    g_assert_no_error(error);
  }
  double zero[N], few[N];
  g_assert_true(
      vigil_calibration_score_references(e, text, N, f, zero, few, NULL, NULL, NULL, &error));
  g_assert_no_error(error);
  for (int i = 0; i < N; i++) {
    g_autoptr(VigilDetection) alone = vigil_engine_detect(e, f[i], text, NULL, &error);
    g_assert_cmpfloat(zero[i], ==, alone->zero_score);
    g_assert_cmpfloat(few[i] - zero[i], >, 1e-4); /* a distance to other images */
  }
  g_assert_false(
      vigil_calibration_score_references(e, text, 1, f, zero, few, NULL, NULL, NULL, &error));
  g_assert_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_DATA);
  g_clear_error(&error);
  /* Both calibrations with their map parts, from the same references. */
  g_autoptr(VigilCalibration) z = NULL, fz = NULL;
  g_assert_true(vigil_calibration_from_references(e, "Brain", text, N, f, &z, &fz, &error));
  g_assert_no_error(error);
  g_assert_cmpint(z->source, ==, VIGIL_CALIBRATION_REFERENCES);
  g_assert_true(fz->few_shot);
  g_assert_true(vigil_calibration_has_map(z) && vigil_calibration_has_map(fz));
  g_assert_cmpfloat(z->map_percentile, ==, VIGIL_CALIBRATION_MAP_PERCENTILE);
  g_assert_cmpfloat(z->map_min, <=, z->map_threshold);
  g_assert_cmpfloat(z->map_threshold, <=, z->map_max);
  /* A reference's own raw map mostly lies below the map threshold (99th
   * percentile of all references' pixels). */
  g_autoptr(VigilDetection) d0 = vigil_engine_detect(e, f[0], text, NULL, &error);
  VigilShownMap shown;
  vigil_shown_map_init(&shown, d0, FALSE, ~0u, z);
  g_assert_true(shown.calibrated);
  g_assert_cmpfloat(shown.lo, ==, 0);
  g_assert_cmpfloat(shown.hi, ==, 1);
  const gsize plane = (gsize)d0->side * d0->side;
  gsize above = 0;
  for (gsize i = 0; i < plane; i++) {
    g_assert_cmpfloat(shown.values[i], >=, 0);
    g_assert_cmpfloat(shown.values[i], <=, 1);
    g_assert_cmpfloat_with_epsilon(shown.values[i], vigil_calibration_apply_map(z, d0->zero_map[i]),
                                   1e-6);
    above += shown.values[i] >= 0.5;
  }
  g_assert_cmpuint(above, <, plane * 3 / 100 + 1);
  vigil_shown_map_clear(&shown);
  /* Two references: uncalibrated, and nothing scored. */
  g_autoptr(VigilCalibration) z2 = NULL, f2 = NULL;
  g_assert_true(vigil_calibration_from_references(e, "Brain", text, 2, f, &z2, &f2, &error));
  g_assert_cmpint(z2->source, ==, VIGIL_CALIBRATION_UNCALIBRATED);
  g_assert_false(vigil_calibration_has_map(f2));
  for (int i = 0; i < N; i++)
    vigil_features_free(f[i]);
}

/* The map part fitted on masks (pixel F1-max) or on normal pixels (the
 * percentile), applied per pixel, and the map a viewer shows. */
static void test_map_part(void) {
  g_autoptr(GError) error = NULL;
  const double s[2] = {0.1, 0.9};
  const guint8 y[2] = {0, 1};
  g_autoptr(VigilCalibration) c =
      vigil_calibration_new_labelled(NULL, "Brain", FALSE, 0, 2, s, y, &error);
  g_assert_false(vigil_calibration_has_map(c)); /* none fitted yet */
  g_assert_true(isnan(vigil_calibration_apply_map(c, 1)));
  /* Two 2x2 maps; the abnormal one's mask marks its two highest pixels. */
  const float normal[4] = {0.1f, 0.2f, 0.3f, 0.2f}, abnormal[4] = {0.2f, 0.8f, 0.9f, 0.4f};
  const guint8 mask[4] = {0, 1, 1, 0};
  const float *maps[2] = {normal, abnormal};
  const guint8 *masks[2] = {NULL, mask};
  g_assert_true(vigil_calibration_fit_map(c, 2, 4, maps, y, masks, &error));
  g_assert_no_error(error);
  g_assert_cmpfloat_with_epsilon(c->map_threshold, 0.8, 1e-6); /* F1 = 1 from 0.8 up */
  g_assert_cmpfloat_with_epsilon(c->map_min, 0.1, 1e-6);
  g_assert_cmpfloat_with_epsilon(c->map_max, 0.9, 1e-6);
  g_assert_cmpfloat(c->map_percentile, ==, 0);
  g_assert_cmpfloat_with_epsilon(vigil_calibration_apply_map(c, 0.8), 0.5, 1e-6);
  /* Without masks: the 99th percentile of the normal pixels (numpy: 0.297). */
  g_assert_true(vigil_calibration_fit_map(c, 2, 4, maps, y, NULL, &error));
  g_assert_cmpfloat_with_epsilon(c->map_threshold, 0.297, 1e-6);
  /* Masks that mark nothing, or only abnormal maps without masks: refused. */
  const guint8 empty[4] = {0};
  const guint8 *no_lesion[2] = {NULL, empty};
  g_assert_false(vigil_calibration_fit_map(c, 2, 4, maps, y, no_lesion, &error));
  g_assert_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_DATA);
  g_clear_error(&error);
  const guint8 all_abnormal[2] = {1, 1};
  g_assert_false(vigil_calibration_fit_map(c, 2, 4, maps, all_abnormal, NULL, &error));
  g_assert_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_DATA);
  g_clear_error(&error);
  /* The file keeps the map part; a copy too. */
  g_free(c->clip_sha256), g_free(c->adapters_sha256); /* as if made for weights */
  c->clip_sha256 = g_strdup("c1"), c->adapters_sha256 = g_strdup("a1");
  g_autofree char *file = g_build_filename(dir, "map.json", NULL);
  g_assert_true(vigil_calibration_save(c, file, &error));
  g_autoptr(VigilCalibration) back = vigil_calibration_load(file, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat_with_epsilon(back->map_threshold, c->map_threshold, 1e-12);
  g_assert_cmpfloat(back->map_percentile, ==, VIGIL_CALIBRATION_MAP_PERCENTILE);
  g_autoptr(VigilCalibration) copy = vigil_calibration_copy(back);
  g_assert_cmpstr(copy->class_name, ==, "Brain");
  g_assert_cmpfloat(copy->map_max, ==, back->map_max);
}

/* Without a calibration (or with layers left out) the shown map is the sum of
 * the chosen layers on its natural range; with one, the calibrated map. */
static void test_shown_map(void) {
  float zl[2 * 4] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.5f, 0.5f, 0.5f};
  float zm[4] = {0.6f, 0.7f, 0.8f, 0.9f};
  VigilDetection d = {.layers = 2, .side = 2, .zero_layer_maps = zl, .zero_map = zm};
  VigilShownMap m;
  vigil_shown_map_init(&m, &d, FALSE, 1u, NULL); /* layer 0 only */
  g_assert_false(m.calibrated);
  g_assert_cmpuint(m.layers, ==, 1);
  g_assert_cmpfloat(m.hi, ==, 1);
  g_assert_cmpfloat_with_epsilon(m.values[3], 0.4, 1e-6);
  vigil_shown_map_clear(&m);
  g_autoptr(VigilCalibration) c = g_new0(VigilCalibration, 1);
  c->source = VIGIL_CALIBRATION_LABELLED;
  c->map_threshold = 0.7, c->map_min = 0.5, c->map_max = 0.9;
  vigil_shown_map_init(&m, &d, FALSE, 3u, c);
  g_assert_true(m.calibrated);
  g_assert_cmpfloat_with_epsilon(m.values[1], 0.5, 1e-6); /* 0.7: the threshold */
  g_assert_cmpfloat_with_epsilon(m.values[3], 1.0, 1e-6); /* (0.9 - 0.7) / 0.4 + 0.5 */
  vigil_shown_map_clear(&m);
  vigil_shown_map_init(&m, &d, FALSE, 1u, c); /* a layer left out: not calibrated */
  g_assert_false(m.calibrated);
  vigil_shown_map_clear(&m);
  c->few_shot = TRUE; /* a few-shot calibration does not apply to zero-shot maps */
  vigil_shown_map_init(&m, &d, FALSE, 3u, c);
  g_assert_false(m.calibrated);
  g_assert_cmpfloat_with_epsilon(m.values[0], 0.6, 1e-6);
  vigil_shown_map_clear(&m);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  dir = test_make_tmp_dir("vigil-calibration");
  g_test_add_func("/calibration/labelled", test_labelled);
  g_test_add_func("/calibration/references", test_references);
  g_test_add_func("/calibration/too-few-references", test_too_few_references);
  g_test_add_func("/calibration/round-trip-and-mismatch", test_round_trip_and_mismatch);
  g_test_add_func("/calibration/reference-scores", test_reference_scores);
  g_test_add_func("/calibration/map-part", test_map_part);
  g_test_add_func("/calibration/shown-map", test_shown_map);
  int rc = g_test_run();
  test_remove_tree(dir);
  g_free(dir);
  return rc;
}
