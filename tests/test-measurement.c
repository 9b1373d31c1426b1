/* Measurements (app/vigil-measurement.h): rulers in mm from the pixel
 * spacing (and in pixels without one), which pixels an ellipse or a freehand
 * outline holds (centres inside), their statistics, the refusals (zero
 * length, zero area, no pixel centre inside), the heatmap region, the model
 * of a window's measurements, and the session file keeping them. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>

#include "vigil-export.h"
#include "vigil-measurements.h"
#include "vigil-session.h"

/* A w x h grey image whose value at (i, j) is `scale` * (j * w + i) + `offset`. */
static VigilImage *ramp(int w, int h, double row_mm, double col_mm, VigilSpacingSource source,
                        double scale, double offset) {
  VigilImage *im = vigil_image_new(w, h, VIGIL_IMAGE_GRAY, NULL);
  for (int k = 0; k < w * h; k++)
    im->values[k] = (float)(scale * k + offset);
  im->pixel_spacing[0] = row_mm, im->pixel_spacing[1] = col_mm;
  im->spacing_source = source;
  vigil_image_update_range(im);
  return im;
}

static VigilMeasurement *measure(VigilMeasureKind kind, const VigilImage *im, const double *xy,
                                 guint n, GError **error) {
  VigilMeasurement *m = vigil_measurement_new(kind, "1.2.3", 4, (const VigilMeasurePoint *)xy, n);
  if (!vigil_measurement_compute(m, im, "HU", error))
    g_clear_pointer(&m, vigil_measurement_free);
  return m;
}

static void test_ruler(void) {
  /* Rows 0.5 mm apart, columns 0.8 mm: (1,1)-(4,5) is 3 columns and 4 rows. */
  g_autoptr(VigilImage) im = ramp(10, 10, 0.5, 0.8, VIGIL_SPACING_PIXEL, 1, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilMeasurement) m =
      measure(VIGIL_MEASURE_RULER, im, (double[]){1, 1, 4, 5}, 2, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat_with_epsilon(m->length, hypot(3 * 0.8, 4 * 0.5), 1e-12);
  g_assert_cmpint(m->spacing, ==, VIGIL_SPACING_PIXEL);
  g_autofree char *text = vigil_measurement_describe(m);
  g_assert_cmpstr(text, ==, "Ruler: 3.12 mm (Pixel Spacing)");

  /* Imager Pixel Spacing says so; no spacing measures in pixels. */
  im->spacing_source = VIGIL_SPACING_IMAGER;
  g_autoptr(VigilMeasurement) imager =
      measure(VIGIL_MEASURE_RULER, im, (double[]){0, 0, 0, 10}, 2, &error);
  g_assert_cmpfloat_with_epsilon(imager->length, 5.0, 1e-12);
  g_assert_cmpstr(vigil_spacing_source_name(imager->spacing), ==, "Imager Pixel Spacing");
  im->pixel_spacing[0] = im->pixel_spacing[1] = 0;
  im->spacing_source = VIGIL_SPACING_NONE;
  g_autoptr(VigilMeasurement) px =
      measure(VIGIL_MEASURE_RULER, im, (double[]){1, 1, 4, 5}, 2, &error);
  g_assert_cmpfloat_with_epsilon(px->length, 5.0, 1e-12);
  g_autofree char *px_text = vigil_measurement_describe(px);
  g_assert_cmpstr(px_text, ==, "Ruler: 5.00 pixels (no pixel spacing)");
  g_assert_cmpstr(vigil_spacing_source_name(px->spacing), ==, "pixels");
}

static void test_refusals(void) {
  g_autoptr(VigilImage) im = ramp(8, 8, 1, 1, VIGIL_SPACING_PIXEL, 1, 0);
  struct {
    VigilMeasureKind kind;
    double xy[6];
    guint n;
    int code;
  } bad[] = {
      {VIGIL_MEASURE_RULER, {2, 2, 2, 2}, 2, VIGIL_MEASUREMENT_ERROR_EMPTY},   /* zero length */
      {VIGIL_MEASURE_ELLIPSE, {1, 1, 6, 1}, 2, VIGIL_MEASUREMENT_ERROR_EMPTY}, /* zero area */
      {VIGIL_MEASURE_ELLIPSE,
       {1.1, 1.1, 1.4, 1.4},
       2,
       VIGIL_MEASUREMENT_ERROR_EMPTY}, /* no centre */
      {VIGIL_MEASURE_FREEHAND, {0, 0, 2, 2, 4, 4}, 3, VIGIL_MEASUREMENT_ERROR_EMPTY}, /* a line */
      {VIGIL_MEASURE_ELLIPSE,
       {20, 20, 30, 30},
       2,
       VIGIL_MEASUREMENT_ERROR_EMPTY}, /* off the image */
      {VIGIL_MEASURE_FREEHAND, {0, 0, 2, 2}, 2, VIGIL_MEASUREMENT_ERROR_INVALID},
      {VIGIL_MEASURE_RULER, {0, 0, NAN, 1}, 2, VIGIL_MEASUREMENT_ERROR_INVALID},
      {VIGIL_MEASURE_REGION, {0, 0}, 1, VIGIL_MEASUREMENT_ERROR_INVALID},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(VigilMeasurement) m = measure(bad[i].kind, im, bad[i].xy, bad[i].n, &error);
    g_assert_null(m);
    g_assert_error(error, VIGIL_MEASUREMENT_ERROR, bad[i].code);
  }
}

/* Box (0,0)-(4,4): centre (2,2), radius 2: the four corner pixels' centres
 * are outside ((1.5/2)^2 * 2 > 1), the other twelve inside. */
static void test_ellipse(void) {
  g_autoptr(VigilImage) im = ramp(4, 4, 0.5, 0.5, VIGIL_SPACING_PIXEL, 2, -1000);
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilMeasurement) m =
      measure(VIGIL_MEASURE_ELLIPSE, im, (double[]){4, 4, 0, 0}, 2, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(m->n_pixels, ==, 12);
  for (int j = 0; j < 4; j++)
    for (int i = 0; i < 4; i++)
      g_assert_cmpint(vigil_measurement_contains(m, i, j), ==,
                      !((i == 0 || i == 3) && (j == 0 || j == 3)));
  double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
  for (int k = 0; k < 16; k++) {
    if (!vigil_measurement_contains(m, k % 4, k / 4))
      continue;
    double v = 2.0 * k - 1000;
    sum += v, lo = MIN(lo, v), hi = MAX(hi, v);
  }
  const double mean = sum / 12;
  for (int k = 0; k < 16; k++)
    if (vigil_measurement_contains(m, k % 4, k / 4))
      sq += (2.0 * k - 1000 - mean) * (2.0 * k - 1000 - mean);
  g_assert_cmpfloat_with_epsilon(m->mean, mean, 1e-9);
  g_assert_cmpfloat_with_epsilon(m->sd, sqrt(sq / 12), 1e-9);
  g_assert_cmpfloat(m->min, ==, lo);
  g_assert_cmpfloat(m->max, ==, hi);
  g_assert_cmpfloat_with_epsilon(m->area, G_PI * 2 * 2 * 0.25, 1e-9);
  g_assert_cmpstr(m->unit, ==, "HU");
}

/* Triangle (0,0), (4.2,0), (0,4.2): centres with x + y < 4.2, i.e. i + j <= 3. */
static void test_freehand(void) {
  g_autoptr(VigilImage) im = ramp(6, 6, 1, 2, VIGIL_SPACING_PIXEL, 1, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilMeasurement) m =
      measure(VIGIL_MEASURE_FREEHAND, im, (double[]){0, 0, 4.2, 0, 0, 4.2}, 3, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(m->n_pixels, ==, 10);
  for (int j = 0; j < 6; j++)
    for (int i = 0; i < 6; i++)
      g_assert_cmpint(vigil_measurement_contains(m, i, j), ==, i + j <= 3);
  g_assert_cmpfloat_with_epsilon(m->area, 4.2 * 4.2 / 2 * 2, 1e-9); /* 2 mm² per pixel */
  g_assert_cmpfloat(m->min, ==, 0);
  g_assert_cmpfloat(m->max, ==, 18); /* (0, 3) */
}

static void test_region(void) {
  float v[4] = {0.1f, 0.9f, 0.7f, 0.2f};
  const VigilMap map = {2, 2, v};
  VigilMapRegion r;
  const double spacing[2] = {0.5, 0.5};
  vigil_map_region(&map, 0.5, 8, 8, spacing, &r);
  g_autoptr(VigilMeasurement) m = vigil_measurement_new_region("1.2.3", 0, &r, VIGIL_SPACING_PIXEL);
  g_assert_cmpuint(m->n_pixels, ==, 2);
  g_assert_cmpfloat_with_epsilon(m->area, 2 * 16 * 0.25, 1e-9);
  g_assert_cmpfloat_with_epsilon(m->max, 0.9, 1e-6);
  g_autofree char *text = vigil_measurement_describe(m);
  g_assert_cmpstr(text, ==,
                  "Heatmap region: 8.00 mm², 2 cells, max 0.900 at (6, 2) (Pixel Spacing)");
  g_assert_cmpstr(vigil_measure_kind_name(m->kind), ==, "region");
}

static void on_changed(VigilMeasurements *ms, int *count) {
  (void)ms;
  (*count)++;
}

/* The model, into a session file and back; an old session has none. */
static void test_model_and_session(void) {
  g_autoptr(VigilImage) im = ramp(10, 10, 0.5, 0.8, VIGIL_SPACING_PIXEL, 1, -5);
  g_autoptr(VigilMeasurements) ms = vigil_measurements_new();
  int changes = 0;
  g_signal_connect(ms, "changed", G_CALLBACK(on_changed), &changes);
  guint a =
      vigil_measurements_add(ms, measure(VIGIL_MEASURE_RULER, im, (double[]){1, 1, 4, 5}, 2, NULL));
  guint b = vigil_measurements_add(
      ms, measure(VIGIL_MEASURE_ELLIPSE, im, (double[]){1, 1, 7, 6}, 2, NULL));
  VigilMeasurement *other =
      measure(VIGIL_MEASURE_FREEHAND, im, (double[]){0, 0, 5, 0, 0, 5}, 3, NULL);
  g_free(other->series_uid);
  other->series_uid = g_strdup("9.9");
  vigil_measurements_add(ms, other);
  g_assert_cmpint(changes, ==, 3);
  g_autoptr(GPtrArray) of_series = vigil_measurements_of(ms, "1.2.3", -1);
  g_assert_cmpuint(of_series->len, ==, 2);
  g_autoptr(GPtrArray) of_slice = vigil_measurements_of(ms, "1.2.3", 3);
  g_assert_cmpuint(of_slice->len, ==, 0);
  g_assert_true(vigil_measurements_remove(ms, a));
  g_assert_false(vigil_measurements_remove(ms, a));
  g_assert_null(vigil_measurements_find(ms, a));
  const VigilMeasurement *ellipse = vigil_measurements_find(ms, b);

  g_autoptr(VigilSession) s = vigil_session_new();
  vigil_measurements_save_to(ms, s);
  g_autofree char *dir = g_dir_make_tmp("vigil-measure-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "m.vigil", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_session_save(s, path, &error));
  g_autoptr(VigilSession) r = vigil_session_load(path, &error);
  g_assert_no_error(error);
  g_autoptr(VigilMeasurements) back = vigil_measurements_new();
  vigil_measurements_restore_from(back, r);
  g_autoptr(GPtrArray) restored = vigil_measurements_of(back, "1.2.3", 4);
  g_assert_cmpuint(restored->len, ==, 1);
  const VigilMeasurement *e = restored->pdata[0];
  g_assert_cmpint(e->kind, ==, VIGIL_MEASURE_ELLIPSE);
  g_assert_cmpuint(e->points->len, ==, 2);
  g_assert_cmpuint(e->n_pixels, ==, ellipse->n_pixels);
  g_assert_cmpfloat(e->mean, ==, ellipse->mean);
  g_assert_cmpfloat(e->sd, ==, ellipse->sd);
  g_assert_cmpfloat(e->area, ==, ellipse->area);
  g_assert_cmpint(e->spacing, ==, VIGIL_SPACING_PIXEL);
  g_assert_cmpstr(e->unit, ==, "HU");
  g_autofree char *d1 = vigil_measurement_describe(e), *d2 = vigil_measurement_describe(ellipse);
  g_assert_cmpstr(d1, ==, d2);
  g_unlink(path);
  g_rmdir(dir);

  /* A session of before measurements reads; a malformed one is refused. */
  const char *old = "{\"format\": \"vigil-session\", \"version\": 1, \"open\": []}";
  g_autoptr(VigilSession) o = vigil_session_from_json(old, -1, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(o->measurements->len, ==, 0);
  const char *bad = "{\"format\": \"vigil-session\", \"version\": 1, \"measurements\": "
                    "[{\"kind\": \"ruler\", \"slice\": 1, \"points\": [[0, \"x\"]]}]}";
  g_autoptr(VigilSession) n = vigil_session_from_json(bad, -1, &error);
  g_assert_null(n);
  g_assert_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT);
  /* Wrong types anywhere are refused, never a critical (tests make those fatal). */
  const char *wrong[] = {
      "[{\"kind\": {}, \"slice\": 1, \"points\": []}]",
      "[{\"kind\": \"ruler\", \"slice\": [], \"points\": []}]",
      "[{\"kind\": \"ruler\", \"slice\": -2, \"points\": []}]",
      "[{\"kind\": \"ruler\", \"slice\": 1, \"series\": {}, \"points\": {}}]",
      "[{\"kind\": \"ruler\", \"slice\": 1, \"points\": [[1, 2]], \"mean\": \"x\"}]",
      "[7]",
      "{}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(wrong); i++) {
    g_autofree char *json = g_strdup_printf(
        "{\"format\": \"vigil-session\", \"version\": 1, \"measurements\": %s}", wrong[i]);
    g_clear_error(&error);
    g_autoptr(VigilSession) w = vigil_session_from_json(json, -1, &error);
    g_assert_null(w);
    g_assert_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT);
  }
  /* A series of null and a unit of another type read as none. */
  const char *lenient = "{\"format\": \"vigil-session\", \"version\": 1, \"measurements\": "
                        "[{\"kind\": \"ellipse\", \"slice\": 0, \"series\": null, "
                        "\"unit\": 5, \"points\": [[0, 0], [2, 2]]}]}";
  g_clear_error(&error);
  g_autoptr(VigilSession) l = vigil_session_from_json(lenient, -1, &error);
  g_assert_no_error(error);
  const VigilMeasurement *lm = g_ptr_array_index(l->measurements, 0);
  g_assert_cmpstr(lm->series_uid, ==, "");
  g_assert_null(lm->unit);
}

/* RGB24 pixel (x, y) of a surface as 0xRRGGBB. */
static guint32 pixel(cairo_surface_t *s, int x, int y) {
  const guint8 *row = cairo_image_surface_get_data(s) + y * cairo_image_surface_get_stride(s);
  return ((const guint32 *)row)[x] & 0xffffff;
}

/* Exported views (the annotated PNG, the report) draw the slice's measurements. */
static void test_export_draws(void) {
  g_autoptr(VigilImage) im = ramp(20, 16, 0.5, 0.5, VIGIL_SPACING_PIXEL, 0, 0); /* black */
  g_autoptr(GPtrArray) ms = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_measurement_free);
  g_ptr_array_add(ms, measure(VIGIL_MEASURE_RULER, im, (double[]){2, 8, 18, 8}, 2, NULL));
  VigilExportRequest r = {.image = im, .window_center = 0.5, .window_width = 1};
  cairo_surface_t *plain = vigil_export_view_surface(&r);
  r.measurements = ms;
  cairo_surface_t *drawn = vigil_export_view_surface(&r);
  const int scale = 26; /* ceil(512 / 20): the view is at least 512 px wide */
  g_assert_cmpint(cairo_image_surface_get_width(drawn), ==, 20 * scale);
  g_assert_cmphex(pixel(plain, 10 * scale, 8 * scale), ==, 0);
  const guint32 on = pixel(drawn, 10 * scale, 8 * scale); /* the line covers 3/4 of it */
  const guint red = on >> 16, green = (on >> 8) & 0xff, blue = on & 0xff;
  g_assert_cmpuint(red, >, 120); /* yellow: red and green, little blue */
  g_assert_cmpuint(green * 10, >, red * 7);
  g_assert_cmpuint(blue * 3, <, red);
  g_assert_cmphex(pixel(drawn, 10 * scale, 2 * scale), ==, 0); /* away from it: untouched */
  cairo_surface_destroy(plain);
  cairo_surface_destroy(drawn);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/measurement/ruler", test_ruler);
  g_test_add_func("/measurement/refusals", test_refusals);
  g_test_add_func("/measurement/ellipse", test_ellipse);
  g_test_add_func("/measurement/freehand", test_freehand);
  g_test_add_func("/measurement/region", test_region);
  g_test_add_func("/measurement/model-and-session", test_model_and_session);
  g_test_add_func("/measurement/export-draws", test_export_draws);
  return g_test_run();
}
