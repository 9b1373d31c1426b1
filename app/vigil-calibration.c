/* Calibration (vigil-calibration.h): thresholds from a labelled set or from
 * normal references, anomalib's normalisation, and the JSON file that ties a
 * calibration to the weights it was made with. */
#include "vigil-calibration.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil-config.h"
#include "vigil-json.h"
#include "vigil-metrics.h"

#define FORMAT "vigil-calibration"

G_DEFINE_QUARK(vigil - calibration - error - quark, vigil_calibration_error)

void vigil_calibration_free(VigilCalibration *c) {
  if (!c)
    return;
  g_free(c->class_name), g_free(c->clip_sha256), g_free(c->adapters_sha256);
  g_free(c->vigil_version);
  g_free(c);
}

double vigil_calibration_raw_score(const VigilDetection *d, gboolean few_shot) {
  return few_shot && d->has_few ? d->zero_score + d->few_score : d->zero_score;
}

static VigilCalibration *calibration_new(VigilEngine *engine, const char *class_name,
                                         gboolean few_shot, VigilCalibrationSource source) {
  VigilCalibration *c = g_new0(VigilCalibration, 1);
  c->source = source;
  c->class_name = g_strdup(class_name);
  c->few_shot = few_shot;
  c->clip_sha256 = g_strdup(engine ? vigil_engine_clip_digest(engine) : "");
  c->adapters_sha256 = g_strdup(engine ? vigil_engine_adapters_digest(engine) : "");
  c->vigil_version = g_strdup(VIGIL_VERSION);
  c->map_threshold = c->map_min = c->map_max = NAN;
  return c;
}

static void set_range(VigilCalibration *c, gsize n, const double *scores) {
  c->min = INFINITY, c->max = -INFINITY;
  for (gsize i = 0; i < n; i++)
    c->min = MIN(c->min, scores[i]), c->max = MAX(c->max, scores[i]);
}

VigilCalibration *vigil_calibration_new_labelled(VigilEngine *engine, const char *class_name,
                                                 gboolean few_shot, int shots, gsize n,
                                                 const double *scores, const guint8 *labels,
                                                 GError **error) {
  g_autoptr(VigilCurve) curve = vigil_curve_new(n, scores, labels, error);
  if (!curve)
    return NULL;
  if (curve->positives < 1 || curve->negatives < 1) {
    g_set_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_DATA,
                "calibration needs normal and abnormal images (got %.0f normal, %.0f abnormal)",
                curve->negatives, curve->positives);
    return NULL;
  }
  VigilCalibration *c = calibration_new(engine, class_name, few_shot, VIGIL_CALIBRATION_LABELLED);
  c->shots = few_shot ? shots : 0;
  vigil_curve_f1_max(curve, &c->threshold);
  set_range(c, n, scores);
  c->normal = (int)curve->negatives, c->abnormal = (int)curve->positives;
  return c;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* numpy.percentile's default (linear between the closest ranks). */
static double percentile_of(gsize n, const double *values, double p) {
  g_autofree double *v = g_memdup2(values, n * sizeof *v);
  qsort(v, n, sizeof *v, by_value);
  double pos = p / 100 * (double)(n - 1);
  gsize lo = (gsize)floor(pos), hi = MIN(lo + 1, n - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - (double)lo);
}

static VigilCalibration *from_normals(VigilEngine *engine, const char *class_name,
                                      gboolean few_shot, gsize n, const double *scores,
                                      double percentile) {
  gboolean enough = n >= VIGIL_CALIBRATION_MIN_REFERENCES;
  VigilCalibration *c =
      calibration_new(engine, class_name, few_shot,
                      enough ? VIGIL_CALIBRATION_REFERENCES : VIGIL_CALIBRATION_UNCALIBRATED);
  c->normal = (int)n, c->shots = few_shot ? (int)n - 1 : 0; /* leave-one-out banks */
  if (!enough) {
    c->threshold = c->min = c->max = NAN;
    return c;
  }
  c->percentile = percentile;
  c->threshold = percentile_of(n, scores, percentile);
  set_range(c, n, scores);
  return c;
}

gboolean vigil_calibration_new_references(VigilEngine *engine, const char *class_name, gsize n,
                                          const double *zero_scores, const double *loo_few_scores,
                                          double percentile, VigilCalibration **zero,
                                          VigilCalibration **few, GError **error) {
  for (gsize i = 0; i < n; i++)
    if (isnan(zero_scores[i]) || isnan(loo_few_scores[i])) {
      g_set_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_DATA,
                  "reference %" G_GSIZE_FORMAT "'s score is not a number", i + 1);
      return FALSE;
    }
  if (!(percentile > 0 && percentile <= 100)) {
    g_set_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_DATA,
                "percentile %g is outside (0, 100]", percentile);
    return FALSE;
  }
  *zero = from_normals(engine, class_name, FALSE, n, zero_scores, percentile);
  *few = from_normals(engine, class_name, TRUE, n, loo_few_scores, percentile);
  return TRUE;
}

/* Reference i against a bank of all the others: its own rows would make its
 * few-shot distance zero. Its raw maps go to zero_map and few_map when asked. */
static gboolean score_left_out(VigilEngine *engine, const float *text, gsize n,
                               VigilFeatures *const *refs, gsize i, double *zero, double *few,
                               float **zero_map, float **few_map, int *side, GError **error) {
  vg_membank *bank = vigil_engine_new_bank(engine, error);
  gboolean ok = bank != NULL;
  for (gsize k = 0; ok && k < n; k++)
    ok = k == i || vigil_engine_bank_add(engine, bank, refs[k], NULL, error);
  g_autoptr(VigilDetection) d = ok ? vigil_engine_detect(engine, refs[i], text, bank, error) : NULL;
  vigil_engine_free_bank(engine, bank);
  if (!d)
    return FALSE;
  *zero = vigil_calibration_raw_score(d, FALSE);
  *few = vigil_calibration_raw_score(d, TRUE);
  const gsize plane = (gsize)d->side * d->side;
  *side = d->side;
  if (zero_map)
    vigil_calibration_raw_map(d, FALSE, *zero_map = g_new(float, plane));
  if (few_map)
    vigil_calibration_raw_map(d, TRUE, *few_map = g_new(float, plane));
  return TRUE;
}

gboolean vigil_calibration_score_references(VigilEngine *engine, const float *text, gsize n,
                                            VigilFeatures *const *refs, double *zero,
                                            double *loo_few, float **zero_maps, float **few_maps,
                                            int *side, GError **error) {
  int local_side;
  if (n < 2) {
    g_set_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_DATA,
                "leave-one-out scores need at least 2 references (got %" G_GSIZE_FORMAT ")", n);
    return FALSE;
  }
  for (gsize i = 0; i < n; i++)
    if (!score_left_out(engine, text, n, refs, i, zero + i, loo_few + i,
                        zero_maps ? zero_maps + i : NULL, few_maps ? few_maps + i : NULL,
                        side ? side : &local_side, error))
      return FALSE;
  return TRUE;
}

static void free_maps(float **maps, gsize n) {
  for (gsize i = 0; i < n; i++)
    g_free(maps[i]);
  g_free(maps);
}

gboolean vigil_calibration_from_references(VigilEngine *engine, const char *class_name,
                                           const float *text, gsize n, VigilFeatures *const *refs,
                                           VigilCalibration **zero, VigilCalibration **few,
                                           GError **error) {
  *zero = *few = NULL;
  if (n < VIGIL_CALIBRATION_MIN_REFERENCES) { /* nothing to score: say so */
    *zero = from_normals(engine, class_name, FALSE, n, NULL, 0);
    *few = from_normals(engine, class_name, TRUE, n, NULL, 0);
    return TRUE;
  }
  g_autofree double *zs = g_new(double, n), *fs = g_new(double, n);
  float **zm = g_new0(float *, n), **fm = g_new0(float *, n);
  g_autofree guint8 *normal = g_new0(guint8, n);
  int side = 0;
  gboolean ok =
      vigil_calibration_score_references(engine, text, n, refs, zs, fs, zm, fm, &side, error) &&
      vigil_calibration_new_references(engine, class_name, n, zs, fs, VIGIL_CALIBRATION_PERCENTILE,
                                       zero, few, error);
  const gsize plane = (gsize)side * side;
  ok = ok &&
       vigil_calibration_fit_map(*zero, n, plane, (const float *const *)zm, normal, NULL, error) &&
       vigil_calibration_fit_map(*few, n, plane, (const float *const *)fm, normal, NULL, error);
  free_maps(zm, n), free_maps(fm, n);
  if (!ok) {
    g_clear_pointer(zero, vigil_calibration_free);
    g_clear_pointer(few, vigil_calibration_free);
  }
  return ok;
}

double vigil_calibration_apply(const VigilCalibration *c, double raw) {
  if (c->source == VIGIL_CALIBRATION_UNCALIBRATED)
    return NAN;
  /* A set whose scores are all equal has no spread: the score becomes a step. */
  double range = MAX(c->max - c->min, 1e-12);
  return CLAMP((raw - c->threshold) / range + 0.5, 0.0, 1.0);
}

char *vigil_calibration_describe(const VigilCalibration *c) {
  const char *mode = c->few_shot ? "few-shot" : "zero-shot";
  switch (c->source) {
  case VIGIL_CALIBRATION_LABELLED:
    return g_strdup_printf("%s, labelled set (%d normal, %d abnormal), threshold %.4g", mode,
                           c->normal, c->abnormal, c->threshold);
  case VIGIL_CALIBRATION_REFERENCES:
    return g_strdup_printf("%s, %d normal references, %gth percentile %.4g", mode, c->normal,
                           c->percentile, c->threshold);
  case VIGIL_CALIBRATION_UNCALIBRATED:
  default:
    return g_strdup_printf("%s, uncalibrated: %d normal reference%s (%d needed)", mode, c->normal,
                           c->normal == 1 ? "" : "s", VIGIL_CALIBRATION_MIN_REFERENCES);
  }
}

static const char *const source_names[] = {"uncalibrated", "labelled", "references"};

const char *vigil_calibration_source_name(VigilCalibrationSource source) {
  return source_names[source];
}

static void add_text(JsonBuilder *b, const char *key, const char *v) {
  json_builder_set_member_name(b, key);
  json_builder_add_string_value(b, v ? v : "");
}

static void add_int(JsonBuilder *b, const char *key, int v) {
  json_builder_set_member_name(b, key);
  json_builder_add_int_value(b, v);
}

char *vigil_calibration_to_json(const VigilCalibration *c) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_text(b, "format", FORMAT);
  add_int(b, "format_version", 1);
  add_text(b, "vigil_version", c->vigil_version);
  add_text(b, "class", c->class_name);
  add_text(b, "mode", c->few_shot ? "few-shot" : "zero-shot");
  add_int(b, "shots", c->shots);
  add_text(b, "source", source_names[c->source]);
  vigil_json_add_number(b, "threshold", c->threshold);
  vigil_json_add_number(b, "min", c->min);
  vigil_json_add_number(b, "max", c->max);
  add_int(b, "normal", c->normal);
  add_int(b, "abnormal", c->abnormal);
  vigil_json_add_number(b, "percentile", c->percentile);
  vigil_json_add_number(b, "map_threshold", c->map_threshold);
  vigil_json_add_number(b, "map_min", c->map_min);
  vigil_json_add_number(b, "map_max", c->map_max);
  vigil_json_add_number(b, "map_percentile", c->map_percentile);
  add_text(b, "clip_sha256", c->clip_sha256);
  add_text(b, "adapters_sha256", c->adapters_sha256);
  json_builder_end_object(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_pretty(gen, TRUE);
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, NULL);
}

gboolean vigil_calibration_save(const VigilCalibration *c, const char *path, GError **error) {
  g_autofree char *text = vigil_calibration_to_json(c);
  return g_file_set_contents(path, text, -1, error); /* a temporary file, renamed */
}

static gboolean parse_source(const char *name, VigilCalibrationSource *out) {
  for (int i = 0; i < (int)G_N_ELEMENTS(source_names); i++)
    if (g_strcmp0(name, source_names[i]) == 0) {
      *out = (VigilCalibrationSource)i;
      return TRUE;
    }
  return FALSE;
}

static double number_member(JsonObject *o, const char *key) {
  JsonNode *n = json_object_get_member(o, key);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : NAN;
}

/* The file's fields; FALSE when one the calibration needs is missing. */
static gboolean read_fields(JsonObject *o, VigilCalibration *c) {
  const char *mode = json_object_get_string_member_with_default(o, "mode", "");
  c->class_name = g_strdup(json_object_get_string_member_with_default(o, "class", ""));
  c->few_shot = g_str_equal(mode, "few-shot");
  c->shots = (int)json_object_get_int_member_with_default(o, "shots", 0);
  c->threshold = number_member(o, "threshold");
  c->min = number_member(o, "min"), c->max = number_member(o, "max");
  c->normal = (int)json_object_get_int_member_with_default(o, "normal", 0);
  c->abnormal = (int)json_object_get_int_member_with_default(o, "abnormal", 0);
  c->percentile = number_member(o, "percentile");
  c->map_threshold = number_member(o, "map_threshold"); /* NAN: a file without a map part */
  c->map_min = number_member(o, "map_min"), c->map_max = number_member(o, "map_max");
  c->map_percentile = number_member(o, "map_percentile");
  c->clip_sha256 = g_strdup(json_object_get_string_member_with_default(o, "clip_sha256", ""));
  c->adapters_sha256 =
      g_strdup(json_object_get_string_member_with_default(o, "adapters_sha256", ""));
  c->vigil_version = g_strdup(json_object_get_string_member_with_default(o, "vigil_version", ""));
  gboolean numbers = c->source == VIGIL_CALIBRATION_UNCALIBRATED ||
                     (isfinite(c->threshold) && isfinite(c->min) && isfinite(c->max));
  return numbers && *c->class_name && (c->few_shot || g_str_equal(mode, "zero-shot")) &&
         *c->clip_sha256 && *c->adapters_sha256;
}

static gboolean check_model(const VigilCalibration *c, const char *path, VigilEngine *engine,
                            GError **error) {
  const char *clip = vigil_engine_clip_digest(engine);
  const char *adapters = vigil_engine_adapters_digest(engine);
  if (g_str_equal(c->clip_sha256, clip) && g_str_equal(c->adapters_sha256, adapters))
    return TRUE;
  gboolean clip_ok = g_str_equal(c->clip_sha256, clip);
  g_set_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_MISMATCH,
              "%s was made for other weights (%s sha256 %.12s…, the loaded model's %.12s…); "
              "it is not applied",
              path, clip_ok ? "adapters" : "CLIP", clip_ok ? c->adapters_sha256 : c->clip_sha256,
              clip_ok ? adapters : clip);
  return FALSE;
}

VigilCalibration *vigil_calibration_from_json(const char *json, const char *name,
                                              VigilEngine *engine, GError **error) {
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) parse_error = NULL;
  if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
    g_set_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_FILE, "%s: %s", name,
                parse_error->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  g_autoptr(VigilCalibration) c = g_new0(VigilCalibration, 1);
  if (!o || g_strcmp0(json_object_get_string_member_with_default(o, "format", ""), FORMAT) != 0 ||
      !parse_source(json_object_get_string_member_with_default(o, "source", ""), &c->source) ||
      !read_fields(o, c)) {
    g_set_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_FILE,
                "%s is not a Vigil calibration file (or lacks a field it needs)", name);
    return NULL;
  }
  if (engine && !check_model(c, name, engine, error))
    return NULL;
  return g_steal_pointer(&c);
}

VigilCalibration *vigil_calibration_load(const char *path, VigilEngine *engine, GError **error) {
  g_autofree char *text = NULL;
  g_autoptr(GError) read_error = NULL;
  if (!g_file_get_contents(path, &text, NULL, &read_error)) {
    g_set_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_FILE, "%s: %s", path,
                read_error->message);
    return NULL;
  }
  return vigil_calibration_from_json(text, path, engine, error);
}

char *vigil_calibration_default_path(const char *adapters_path, const char *class_name,
                                     gboolean few_shot) {
  g_autofree char *dir = g_path_get_dirname(adapters_path);
  g_autofree char *base = g_path_get_basename(adapters_path);
  char *dot = strrchr(base, '.');
  if (dot && dot != base)
    *dot = '\0';
  g_autofree char *safe = g_strdelimit(g_strdup(class_name), "/\\", '_'); /* a file name */
  g_autofree char *name =
      g_strdup_printf("%s.%s.%s-shot.calibration.json", base, safe, few_shot ? "few" : "zero");
  return g_build_filename(dir, name, NULL);
}
