/* The report as JSON: every number a re-analysis needs (scores per slice,
 * statistics of every layer's map, windows, references, model identity and
 * digests), written atomically. Slices count from 0 in display order. */
#include "vigil-report-private.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "vigil-config.h"
#include "vigil-json.h"

static void add_bool(JsonBuilder *b, const char *key, gboolean value) {
  json_builder_set_member_name(b, key);
  json_builder_add_boolean_value(b, value);
}

static void add_int(JsonBuilder *b, const char *key, gint64 value) {
  json_builder_set_member_name(b, key);
  json_builder_add_int_value(b, value);
}

/* min, max and mean of one map plane. */
static void add_map_stats(JsonBuilder *b, const char *key, const float *v, gsize n) {
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  for (gsize i = 0; i < n; i++)
    lo = MIN(lo, v[i]), hi = MAX(hi, v[i]), sum += v[i];
  json_builder_set_member_name(b, key);
  json_builder_begin_object(b);
  vigil_json_add_number(b, "min", lo);
  vigil_json_add_number(b, "max", hi);
  vigil_json_add_number(b, "mean", n ? sum / (double)n : NAN);
  json_builder_end_object(b);
}

static void add_layers(JsonBuilder *b, const VigilDetection *d) {
  const gsize n = (gsize)d->side * d->side;
  json_builder_set_member_name(b, "layers");
  json_builder_begin_array(b);
  for (int l = 0; l < d->layers; l++) {
    json_builder_begin_object(b);
    add_int(b, "layer", l);
    add_map_stats(b, "zero_seg_map", d->zero_layer_maps + n * l, n);
    if (d->has_few)
      add_map_stats(b, "few_seg_map", d->few_layer_maps + n * l, n);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  add_map_stats(b, "zero_seg_map", d->zero_map, n);
  if (d->has_few) {
    add_map_stats(b, "few_seg_map", d->few_map, n);
    add_map_stats(b, "few_det_map", d->few_det_map, n);
  }
}

static void add_window(JsonBuilder *b, const char *key, double center, double width) {
  json_builder_set_member_name(b, key);
  json_builder_begin_object(b);
  vigil_json_add_number(b, "center", center);
  vigil_json_add_number(b, "width", width);
  json_builder_end_object(b);
}

/* How the legend, the SEG and the PMAP scale the shown map, and the scaled
 * map's statistics (a SEG's maximum is round(255 * scaled.max) where the map
 * is not resampled). */
static void add_map_scale(JsonBuilder *b, const VigilReportSlice *s) {
  double lo, hi;
  vigil_report_slice_map(s, &lo, &hi);
  g_autofree float *scaled = vigil_report_slice_scaled_map(s);
  json_builder_set_member_name(b, "map_scale");
  json_builder_begin_object(b);
  vigil_json_add_string(b, "map",
                        s->shown.calibrated ? (s->few ? "calibrated zero_seg_map + few_seg_map"
                                                      : "calibrated zero_seg_map")
                        : s->few            ? "few_seg_map"
                                            : "zero_seg_map");
  add_bool(b, "calibrated", s->shown.calibrated);
  vigil_json_add_number(b, "lo", lo);
  vigil_json_add_number(b, "hi", hi);
  vigil_json_add_string(b, "scaled",
                        "clamp((map - lo) / (hi - lo), 0, 1): legend colours, DICOM SEG "
                        "(255 = 1) and Parametric Map values");
  add_map_stats(b, "scaled_map", scaled, (gsize)s->detection->side * s->detection->side);
  json_builder_end_object(b);
}

/* The region of the shown map at the contour level, in the slice's units. */
static void add_region(JsonBuilder *b, const VigilReport *rep, const VigilReportSlice *s) {
  const VigilMapRegion *r = &s->region;
  json_builder_set_member_name(b, "region");
  json_builder_begin_object(b);
  vigil_json_add_number(b, "level", vigil_report_contour_level(rep, s));
  add_int(b, "cells", r->cells);
  vigil_json_add_number(b, "area", r->area);
  vigil_json_add_string(b, "area_unit", r->area_mm ? "mm2" : "pixels");
  vigil_json_add_number(b, "max_value", r->max_value);
  vigil_json_add_number(b, "max_x", r->max_x);
  vigil_json_add_number(b, "max_y", r->max_y);
  json_builder_end_object(b);
}

static void add_slice(JsonBuilder *b, const VigilReport *rep, const VigilReportSlice *s) {
  const VigilDetection *d = s->detection;
  json_builder_begin_object(b);
  add_int(b, "slice", s->slice);
  if (!rep->anonymise) { /* paths and UIDs may name the patient */
    vigil_json_add_string(b, "path", s->path);
    add_int(b, "frame", s->frame);
    vigil_json_add_string(b, "sop_instance_uid", s->sop_instance_uid);
  }
  add_int(b, "width", s->image ? s->image->width : 0);
  add_int(b, "height", s->image ? s->image->height : 0);
  vigil_json_add_string(b, "class", s->class_name);
  vigil_json_add_string(b, "mode", s->few ? "few-shot" : "zero-shot");
  add_bool(b, "few_shot_asked", s->few_shot_asked);
  vigil_json_add_number(b, "score", vigil_report_slice_score(s));
  vigil_json_add_number(b, "calibrated_score", s->calibrated); /* null: uncalibrated */
  add_region(b, rep, s);
  vigil_json_add_number(b, "zero_det_score", d->zero_score);
  if (d->has_few)
    vigil_json_add_number(b, "few_det_score", d->few_score);
  add_bool(b, "scored_on_device", d->on_device);
  add_window(b, "model_window", s->model_center, s->model_width);
  vigil_json_add_string(b, "model_window_text", s->window_text);
  add_window(b, "view_window", s->view_center, s->view_width);
  json_builder_set_member_name(b, "references");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->references->len; i++)
    json_builder_add_int_value(b, (gint64)g_array_index(s->references, guint64, i));
  json_builder_end_array(b);
  vigil_json_add_string(b, "model", s->model_identity);
  g_autofree char *when = g_date_time_format_iso8601(s->when);
  vigil_json_add_string(b, "analysed", when);
  add_bool(b, "stale", s->stale);
  add_int(b, "map_side", d->side);
  add_map_scale(b, s);
  add_layers(b, d);
  json_builder_end_object(b);
}

static void add_identification(JsonBuilder *b, const VigilReport *rep) {
  add_bool(b, "anonymised", rep->anonymise);
  json_builder_set_member_name(b, "identification");
  if (rep->anonymise) {
    json_builder_add_string_value(b, "anonymised");
    return;
  }
  json_builder_begin_object(b);
  vigil_json_add_string(b, "patient_name", rep->patient_name);
  vigil_json_add_string(b, "patient_id", rep->patient_id);
  vigil_json_add_string(b, "study_date", rep->study_date);
  vigil_json_add_string(b, "modality", rep->modality);
  vigil_json_add_string(b, "series_description", rep->series_description);
  vigil_json_add_string(b, "study_uid", rep->study_uid);
  vigil_json_add_string(b, "series_uid", rep->series_uid);
  json_builder_end_object(b);
}

static void add_references(JsonBuilder *b, const VigilReport *rep) {
  json_builder_set_member_name(b, "references");
  json_builder_begin_array(b);
  for (guint i = 0; i < rep->references->len; i++) {
    const VigilReportReference *r = rep->references->pdata[i];
    json_builder_begin_object(b);
    add_int(b, "id", (gint64)r->id);
    if (rep->anonymise) {
      g_autofree char *label = g_strdup_printf("reference %u", i + 1);
      vigil_json_add_string(b, "label", label);
    } else {
      vigil_json_add_string(b, "label", r->label);
      vigil_json_add_string(b, "path", r->path);
      vigil_json_add_string(b, "series_uid", r->series_uid);
      add_int(b, "slice", r->slice);
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

/* "CLIP clip.safetensors (sha256 ...)" lines as {role, file, sha256}. */
static void add_weights(JsonBuilder *b, const char *identity) {
  g_autoptr(GRegex) re =
      g_regex_new("^(CLIP|adapters) (.+) \\(sha256 ([0-9a-f]+)\\)$", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;
  json_builder_set_member_name(b, "weights");
  json_builder_begin_array(b);
  g_regex_match(re, identity ? identity : "", 0, &m);
  for (; g_match_info_matches(m); g_match_info_next(m, NULL)) {
    g_autofree char *role = g_match_info_fetch(m, 1), *file = g_match_info_fetch(m, 2);
    g_autofree char *sha = g_match_info_fetch(m, 3);
    json_builder_begin_object(b);
    vigil_json_add_string(b, "role", role);
    vigil_json_add_string(b, "file", file);
    vigil_json_add_string(b, "sha256", sha);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

/* "uncalibrated", or the calibration the scores and maps were read with. */
static void add_calibration(JsonBuilder *b, const VigilReport *rep) {
  if (!vigil_report_calibrated(rep)) {
    vigil_json_add_string(b, "calibration", "uncalibrated");
    return;
  }
  const VigilCalibration *c = rep->calibration;
  g_autofree char *text = vigil_calibration_describe(c);
  json_builder_set_member_name(b, "calibration");
  json_builder_begin_object(b);
  vigil_json_add_string(b, "source", vigil_calibration_source_name(c->source));
  vigil_json_add_string(b, "description", text);
  vigil_json_add_string(b, "mode", c->few_shot ? "few-shot" : "zero-shot");
  vigil_json_add_number(b, "threshold", c->threshold);
  vigil_json_add_number(b, "min", c->min);
  vigil_json_add_number(b, "max", c->max);
  vigil_json_add_number(b, "map_threshold", c->map_threshold);
  vigil_json_add_number(b, "map_min", c->map_min);
  vigil_json_add_number(b, "map_max", c->map_max);
  add_int(b, "normal", c->normal);
  add_int(b, "abnormal", c->abnormal);
  vigil_json_add_string(b, "clip_sha256", c->clip_sha256);
  vigil_json_add_string(b, "adapters_sha256", c->adapters_sha256);
  json_builder_end_object(b);
}

static JsonNode *build(const VigilReport *rep) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree char *date = g_date_time_format_iso8601(rep->date);
  json_builder_begin_object(b);
  vigil_json_add_string(b, "vigil_version", VIGIL_VERSION);
  vigil_json_add_string(b, "date", date);
  vigil_json_add_string(b, "notice", VIGIL_REPORT_NOTICE);
  add_calibration(b, rep);
  add_identification(b, rep);
  vigil_json_add_string(b, "class", rep->class_name);
  vigil_json_add_string(b, "mode", rep->few_shot ? "few-shot" : "zero-shot");
  vigil_json_add_string(b, "note", rep->note);
  vigil_json_add_string(b, "model", rep->model_identity);
  add_bool(b, "random_model", vigil_report_identity_random(rep->model_identity));
  add_weights(b, rep->model_identity);
  g_autofree char *device = vigil_report_identity_device(rep->model_identity);
  vigil_json_add_string(b, "device", device);
  vigil_json_add_string(b, "precision", vigil_report_identity_precision(rep->model_identity));
  vigil_json_add_string(b, "colormap", vigil_colormap_name(rep->colormap));
  vigil_json_add_number(b, "opacity", rep->opacity);
  vigil_json_add_number(b, "threshold", rep->threshold);
  add_references(b, rep);
  json_builder_set_member_name(b, "measurements");
  json_builder_begin_array(b);
  for (guint i = 0; i < rep->measurements->len; i++) {
    /* Without the series UID: the report names its series once (or, anonymised, not at all). */
    JsonNode *m = vigil_measurement_to_json(rep->measurements->pdata[i]);
    json_object_remove_member(json_node_get_object(m), "series");
    json_builder_add_value(b, m);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "slices");
  json_builder_begin_array(b);
  for (guint i = 0; i < rep->slices->len; i++)
    add_slice(b, rep, rep->slices->pdata[i]);
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

gboolean vigil_report_write_json(VigilReport *rep, const char *path, GCancellable *cancellable,
                                 GError **error) {
  if (!vigil_report_prepare(rep, cancellable, error))
    return FALSE;
  g_autoptr(JsonNode) root = build(rep);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_pretty(gen, TRUE);
  json_generator_set_root(gen, root);
  gsize size = 0;
  g_autofree char *text = json_generator_to_data(gen, &size);
  return vigil_report_save(path, "JSON", text, size, error);
}
