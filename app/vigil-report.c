/* Reports: gathering from the analysis session, decoding, the PNG writer;
 * see vigil-report.h. The PDF and JSON writers are beside this file. */
#include "vigil-report-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil-config.h"
#include "vigil-export.h"
#include "vigil-scan-images.h"

/* clang-format would put spaces around the dashes of the quark name. */
/* clang-format off */
G_DEFINE_QUARK(vigil-report-error-quark, vigil_report_error)
/* clang-format on */

void vigil_report_request_init(VigilReportRequest *request) {
  *request = (VigilReportRequest){.selection = VIGIL_REPORT_CURRENT,
                                  .top_k = 3,
                                  .paper = VIGIL_PAPER_A4,
                                  .colormap = VIGIL_COLORMAP_JET,
                                  .opacity = 0.5,
                                  .threshold = 0.5};
}

gboolean vigil_paper_from_name(const char *name, VigilPaper *paper) {
  if (g_ascii_strcasecmp(name, "a4") == 0)
    *paper = VIGIL_PAPER_A4;
  else if (g_ascii_strcasecmp(name, "letter") == 0)
    *paper = VIGIL_PAPER_LETTER;
  else
    return FALSE;
  return TRUE;
}

/* ---- the numbers every format shares ---- */

const float *vigil_report_slice_map(const VigilReportSlice *s, double *lo, double *hi) {
  *lo = s->shown.lo, *hi = s->shown.hi;
  return s->shown.values;
}

gboolean vigil_report_calibrated(const VigilReport *rep) {
  return rep->calibration && rep->calibration->source != VIGIL_CALIBRATION_UNCALIBRATED;
}

char *vigil_report_slice_calibrated_text(const VigilReportSlice *s) {
  if (isnan(s->calibrated))
    return g_strdup("uncalibrated");
  return g_strdup_printf("calibrated %.2f (%s threshold)", s->calibrated,
                         s->calibrated >= 0.5 ? "above" : "below");
}

char *vigil_report_calibration_text(const VigilReport *rep) {
  return vigil_report_calibrated(rep) ? vigil_calibration_describe(rep->calibration)
                                      : g_strdup(VIGIL_REPORT_UNCALIBRATED);
}

/* The legend's label: the mode, and ", calibrated" where the map is. */
static const char *slice_legend(const VigilReportSlice *s) {
  if (s->shown.calibrated)
    return s->few ? "few-shot, calibrated" : "zero-shot, calibrated";
  return s->few ? "few-shot" : "zero-shot";
}

float *vigil_report_slice_scaled_map(const VigilReportSlice *s) {
  double lo, hi;
  const float *v = vigil_report_slice_map(s, &lo, &hi);
  const gsize n = (gsize)s->detection->side * s->detection->side;
  float *out = g_new(float, n);
  for (gsize i = 0; i < n; i++)
    out[i] = (float)CLAMP((v[i] - lo) / (hi - lo), 0.0, 1.0);
  return out;
}

double vigil_report_slice_score(const VigilReportSlice *s) {
  return s->few ? s->detection->few_score : s->detection->zero_score;
}

char *vigil_report_format_score(double score) {
  return g_strdup_printf("%.6f", score);
}

gboolean vigil_report_identity_random(const char *identity) {
  return identity && strstr(identity, "RANDOM TEST MODEL") != NULL;
}

char *vigil_report_identity_device(const char *identity) {
  g_autoptr(GRegex) re =
      g_regex_new("^\\S+ on (.+?)(, B?F16 matmul weights)?$", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;
  if (!g_regex_match(re, identity ? identity : "", 0, &m))
    return g_strdup("unknown");
  return g_match_info_fetch(m, 1);
}

const char *vigil_report_identity_precision(const char *identity) {
  if (identity && strstr(identity, "BF16 matmul weights"))
    return "bf16 matmul weights";
  return identity && strstr(identity, "F16 matmul weights") ? "f16 matmul weights"
                                                            : "f32 matmul weights";
}

gboolean vigil_report_save(const char *path, const char *what, const void *data, gsize size,
                           GError **error) {
  g_autoptr(GError) local = NULL;
  if (g_file_set_contents_full(path, data, (gssize)size, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                               &local))
    return TRUE;
  g_set_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE, "cannot write the %s %s: %s",
              what, path, local->message);
  return FALSE;
}

/* ---- gathering ---- */

static float *dup_floats(const float *v, gsize n) {
  return v ? g_memdup2(v, n * sizeof *v) : NULL;
}

static VigilDetection *detection_copy(const VigilDetection *d) {
  VigilDetection *c = g_memdup2(d, sizeof *d);
  const gsize plane = (gsize)d->side * d->side, layers = plane * d->layers;
  c->zero_layer_maps = dup_floats(d->zero_layer_maps, layers);
  c->zero_map = dup_floats(d->zero_map, plane);
  c->few_layer_maps = d->has_few ? dup_floats(d->few_layer_maps, layers) : NULL;
  c->few_map = d->has_few ? dup_floats(d->few_map, plane) : NULL;
  c->few_det_map = d->has_few ? dup_floats(d->few_det_map, plane) : NULL;
  return c;
}

static void slice_free(gpointer data) {
  VigilReportSlice *s = data;
  g_free(s->path), g_free(s->sop_instance_uid), g_free(s->class_name), g_free(s->window_text);
  g_free(s->model_identity);
  vigil_detection_free(s->detection);
  vigil_shown_map_clear(&s->shown);
  g_array_unref(s->references);
  g_date_time_unref(s->when);
  vigil_image_free(s->image);
  if (s->measurements)
    g_ptr_array_unref(s->measurements);
  g_free(s);
}

static void reference_free(gpointer data) {
  VigilReportReference *r = data;
  g_free(r->label), g_free(r->path), g_free(r->series_uid), g_free(r->thumb_error);
  vigil_image_free(r->thumb);
  g_free(r);
}

static const VigilSliceInfo *slice_info(const VigilSeries *series, int index) {
  return ((const VigilSlice *)g_ptr_array_index(series->slices, index))->info;
}

static VigilReportSlice *slice_new(VigilAnalysisSession *session, const VigilAnalysisResult *r,
                                   const VigilSeries *series, const VigilReportRequest *req) {
  VigilReportSlice *s = g_new0(VigilReportSlice, 1);
  const VigilSlice *slice = g_ptr_array_index(series->slices, r->slice);
  s->slice = r->slice;
  s->path = g_strdup(slice->path);
  s->frame = slice->frame;
  s->dicom = slice->source == &vigil_dicom_pixel_source;
  s->sop_instance_uid = g_strdup(slice->info ? slice->info->sop_instance_uid : "");
  s->detection = detection_copy(r->detection);
  s->class_name = g_strdup(r->class_name);
  s->few_shot_asked = r->few_shot;
  s->few = r->few_shot && r->detection->has_few;
  s->model_center = s->view_center = r->window_center;
  s->model_width = s->view_width = r->window_width;
  for (guint i = 0; i < req->n_windows; i++)
    if (req->windows[i].slice == r->slice)
      s->view_center = req->windows[i].center, s->view_width = req->windows[i].width;
  s->window_text = g_strdup(r->window_text);
  s->references = g_array_copy(r->references);
  s->model_identity = g_strdup(r->model_identity);
  s->when = g_date_time_ref(r->when);
  s->stale = r->stale;
  const VigilCalibration *c = vigil_analysis_session_get_calibration(session);
  vigil_shown_map_init(&s->shown, s->detection, s->few, ~0u, c);
  s->calibrated = vigil_analysis_session_calibrated(session, r);
  return s;
}

static gboolean fail(GError **error, VigilReportError code, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static gboolean fail(GError **error, VigilReportError code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  g_autofree char *message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error_literal(error, VIGIL_REPORT_ERROR, code, message);
  return FALSE;
}

/* Stale results count only where the request allows them. */
static const VigilAnalysisResult *result_of(VigilAnalysisSession *session, int slice,
                                            gboolean allow_stale) {
  return allow_stale ? vigil_analysis_session_get_any_result(session, slice)
                     : vigil_analysis_session_get_result(session, slice);
}

static double result_score(const VigilAnalysisResult *r) {
  return r->few_shot && r->detection->has_few ? r->detection->few_score : r->detection->zero_score;
}

static int by_score_desc(gconstpointer a, gconstpointer b) {
  const double sa = result_score(*(const VigilAnalysisResult *const *)a);
  const double sb = result_score(*(const VigilAnalysisResult *const *)b);
  return sa < sb ? 1 : sa > sb ? -1 : 0;
}

/* The top k analysed slices by score; ties keep slice order. */
static GArray *top_slices(VigilAnalysisSession *session, const VigilReportRequest *req,
                          GError **error) {
  const int n = (int)vigil_analysis_session_get_series(session)->slices->len;
  g_autoptr(GPtrArray) results = g_ptr_array_new();
  for (int s = 0; s < n; s++) {
    const VigilAnalysisResult *r = result_of(session, s, req->allow_stale);
    if (r)
      g_ptr_array_add(results, (gpointer)r);
  }
  if (results->len == 0) {
    fail(error, VIGIL_REPORT_ERROR_NO_RESULTS, "no slice of the series has a current result");
    return NULL;
  }
  g_ptr_array_sort(results, by_score_desc); /* stable: GLib's sort is a merge sort */
  GArray *out = g_array_new(FALSE, FALSE, sizeof(int));
  for (guint i = 0; i < MIN(req->top_k, results->len); i++)
    g_array_append_val(out, ((const VigilAnalysisResult *)results->pdata[i])->slice);
  return out;
}

static GArray *chosen_slices(VigilAnalysisSession *session, const VigilReportRequest *req,
                             GError **error) {
  GArray *out = g_array_new(FALSE, FALSE, sizeof(int));
  if (req->selection == VIGIL_REPORT_TOP_K && req->top_k == 0)
    fail(error, VIGIL_REPORT_ERROR_SLICE, "top-k needs k of at least 1");
  else if (req->selection == VIGIL_REPORT_TOP_K)
    g_array_unref(out), out = top_slices(session, req, error);
  else if (req->selection == VIGIL_REPORT_MARKED && req->n_slices == 0)
    fail(error, VIGIL_REPORT_ERROR_SLICE, "no slices are marked for the report");
  else if (req->selection == VIGIL_REPORT_MARKED)
    g_array_append_vals(out, req->slices, req->n_slices);
  else {
    const int current = vigil_analysis_session_get_slice(session);
    g_array_append_val(out, current);
  }
  if (out && out->len == 0)
    g_clear_pointer(&out, g_array_unref);
  return out;
}

static gboolean check_slice(VigilAnalysisSession *session, int slice, gboolean allow_stale,
                            GError **error) {
  const guint n = vigil_analysis_session_get_series(session)->slices->len;
  const VigilAnalysisResult *r = vigil_analysis_session_get_any_result(session, slice);
  if (slice < 0 || (guint)slice >= n)
    return fail(error, VIGIL_REPORT_ERROR_SLICE,
                "slice %d is not in the series (it has %u slices, from 0)", slice, n);
  if (!r)
    return fail(error, VIGIL_REPORT_ERROR_NO_RESULTS, "slice %d has not been analysed", slice);
  if (r->stale && !allow_stale)
    return fail(error, VIGIL_REPORT_ERROR_STALE,
                "the result of slice %d is stale (the analysis settings changed since); "
                "analyse it again",
                slice);
  return TRUE;
}

static void take_identification(VigilReport *rep, const VigilSeries *series) {
  const VigilSliceInfo *info = slice_info(series, 0);
  rep->series_uid = g_strdup(series->uid);
  rep->modality = g_strdup(series->modality ? series->modality : "");
  rep->series_description = g_strdup(series->description ? series->description : "");
  rep->study_uid = g_strdup(info ? info->study_uid : "");
  rep->patient_name = g_strdup(info ? info->patient_name : "");
  rep->patient_id = g_strdup(info ? info->patient_id : "");
  rep->study_date = g_strdup(info ? info->study_date : "");
}

static void take_references(VigilReport *rep, VigilAnalysisSession *session) {
  for (guint i = 0; i < vigil_analysis_session_n_references(session); i++) {
    const VigilAnalysisReference *r = vigil_analysis_session_get_reference(session, i);
    VigilReportReference *c = g_new0(VigilReportReference, 1);
    c->id = r->id;
    c->label = g_strdup(r->label);
    c->path = g_strdup(r->path);
    c->series_uid = g_strdup(r->series_uid);
    c->slice = r->slice;
    g_ptr_array_add(rep->references, c);
  }
}

VigilReport *vigil_report_new(VigilAnalysisSession *session, const VigilReportRequest *req,
                              GError **error) {
  g_return_val_if_fail(VIGIL_IS_ANALYSIS_SESSION(session) && req, NULL);
  VigilSeries *series = vigil_analysis_session_get_series(session);
  if (!series || series->slices->len == 0) {
    fail(error, VIGIL_REPORT_ERROR_NO_RESULTS, "there is no series to report on");
    return NULL;
  }
  if (!vigil_analysis_session_get_model_identity(session)) {
    fail(error, VIGIL_REPORT_ERROR_NO_RESULTS, "no model is loaded: there are no results");
    return NULL;
  }
  g_autoptr(GArray) chosen = chosen_slices(session, req, error);
  for (guint i = 0; chosen && i < chosen->len; i++)
    if (!check_slice(session, g_array_index(chosen, int, i), req->allow_stale, error))
      return NULL;
  if (!chosen)
    return NULL;
  VigilReport *rep = g_new0(VigilReport, 1);
  rep->notes = g_ptr_array_new_with_free_func(g_free);
  rep->paper = req->paper;
  rep->anonymise = req->anonymise;
  rep->note = g_strdup(req->note && *req->note ? req->note : NULL);
  rep->colormap = req->colormap;
  rep->opacity = req->opacity;
  rep->threshold = req->threshold;
  rep->series = series;
  take_identification(rep, series);
  rep->class_name = g_strdup(vigil_analysis_session_get_class_name(session));
  rep->few_shot = vigil_analysis_session_get_few_shot(session);
  rep->model_identity = g_strdup(vigil_analysis_session_get_model_identity(session));
  rep->calibration = vigil_calibration_copy(vigil_analysis_session_get_calibration(session));
  rep->slices = g_ptr_array_new_with_free_func(slice_free);
  for (guint i = 0; i < chosen->len; i++) {
    const int s = g_array_index(chosen, int, i);
    g_ptr_array_add(
        rep->slices,
        slice_new(session, vigil_analysis_session_get_any_result(session, s), series, req));
  }
  rep->references = g_ptr_array_new_with_free_func(reference_free);
  take_references(rep, session);
  rep->measurements = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_measurement_free);
  for (guint i = 0; req->measurements && i < req->measurements->len; i++)
    g_ptr_array_add(rep->measurements, vigil_measurement_copy(req->measurements->pdata[i]));
  for (guint i = 0; i < rep->slices->len; i++) {
    VigilReportSlice *s = rep->slices->pdata[i];
    s->measurements = g_ptr_array_new();
    for (guint k = 0; k < rep->measurements->len; k++)
      if (((VigilMeasurement *)rep->measurements->pdata[k])->slice == s->slice)
        g_ptr_array_add(s->measurements, rep->measurements->pdata[k]);
  }
  rep->date = g_date_time_new_now_local();
  return rep;
}

void vigil_report_free(VigilReport *rep) {
  if (!rep)
    return;
  g_free(rep->note), g_free(rep->series_uid), g_free(rep->study_uid);
  g_free(rep->patient_name), g_free(rep->patient_id), g_free(rep->study_date);
  g_free(rep->modality), g_free(rep->series_description);
  g_free(rep->class_name), g_free(rep->model_identity);
  vigil_calibration_free(rep->calibration);
  g_ptr_array_unref(rep->slices);
  g_ptr_array_unref(rep->references);
  g_date_time_unref(rep->date);
  g_ptr_array_unref(rep->notes);
  g_ptr_array_unref(rep->measurements);
  g_free(rep);
}

guint vigil_report_n_slices(const VigilReport *rep) {
  return rep->slices->len;
}

int vigil_report_get_slice(const VigilReport *rep, guint index) {
  g_return_val_if_fail(index < rep->slices->len, -1);
  return ((const VigilReportSlice *)rep->slices->pdata[index])->slice;
}

/* ---- decoding ---- */

/* A reference that does not decode is named without a thumbnail. */
static void load_thumbnail(VigilReportReference *r) {
  VigilWindowLevel w = {0};
  g_autoptr(GError) error = NULL;
  r->thumb = r->path ? vigil_scan_load_slice(r->path, r->series_uid, r->slice, &w, &error) : NULL;
  if (r->thumb)
    r->center = w.center, r->width = w.width;
  else
    r->thumb_error = g_strdup(error ? error->message : "no file");
}

/* The contour level in map units: the request's fraction of the map's
 * scale (the middle without a contour), as the window draws it. */
double vigil_report_contour_level(const VigilReport *rep, const VigilReportSlice *s) {
  const double t = isnan(rep->threshold) ? 0.5 : rep->threshold;
  return s->shown.lo + t * (s->shown.hi - s->shown.lo);
}

static void measure_region(const VigilReport *rep, VigilReportSlice *s) {
  VigilMap map = {s->shown.side, s->shown.side, s->shown.values};
  vigil_map_region(&map, vigil_report_contour_level(rep, s), s->image->width, s->image->height,
                   s->image->pixel_spacing, &s->region);
}

gboolean vigil_report_prepare(VigilReport *rep, GCancellable *cancellable, GError **error) {
  if (rep->prepared)
    return TRUE;
  for (guint i = 0; i < rep->slices->len; i++) {
    VigilReportSlice *s = rep->slices->pdata[i];
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    if (!s->image && !(s->image = vigil_series_get_slice(rep->series, (guint)s->slice, error))) {
      g_prefix_error(error, "slice %d: ", s->slice);
      return FALSE;
    }
    measure_region(rep, s);
  }
  for (guint i = 0; i < rep->references->len; i++) {
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    VigilReportReference *r = rep->references->pdata[i];
    if (!r->thumb && !r->thumb_error)
      load_thumbnail(r);
  }
  rep->prepared = TRUE;
  return TRUE;
}

/* ---- PNG: the annotated view of the first slice, facts in text chunks ---- */

static void add_text(GPtrArray *text, const char *key, const char *value) {
  g_ptr_array_add(text, g_strdup(key));
  g_ptr_array_add(text, g_strdup(value ? value : ""));
}

static void add_identification(GPtrArray *t, const VigilReport *rep) {
  if (rep->anonymise) {
    add_text(t, "vigil.identification", "anonymised");
    return;
  }
  add_text(t, "vigil.patient_name", rep->patient_name);
  add_text(t, "vigil.patient_id", rep->patient_id);
  add_text(t, "vigil.study_date", rep->study_date);
  add_text(t, "vigil.modality", rep->modality);
  add_text(t, "vigil.series_description", rep->series_description);
  add_text(t, "vigil.series", rep->series_uid);
}

/* The slice's measurements, one line each. */
static void add_measurements(GPtrArray *t, const VigilReport *rep, int slice) {
  g_autoptr(GString) lines = g_string_new(NULL);
  for (guint i = 0; i < rep->measurements->len; i++) {
    const VigilMeasurement *m = rep->measurements->pdata[i];
    g_autofree char *text = m->slice == slice ? vigil_measurement_describe(m) : NULL;
    if (text)
      g_string_append_printf(lines, "%s%s", lines->len ? "\n" : "", text);
  }
  if (lines->len)
    add_text(t, "vigil.measurements", lines->str);
}

static GPtrArray *png_text(const VigilReport *rep, const VigilReportSlice *s) {
  GPtrArray *t = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *date = g_date_time_format_iso8601(rep->date);
  g_autofree char *slice = g_strdup_printf("%d", s->slice);
  g_autofree char *window = g_strdup_printf("%g,%g", s->view_center, s->view_width);
  g_autofree char *zero = vigil_report_format_score(s->detection->zero_score);
  add_text(t, "Software", "Vigil " VIGIL_VERSION);
  add_text(t, "vigil.notice", VIGIL_REPORT_NOTICE);
  add_text(t, "vigil.date", date);
  add_identification(t, rep);
  add_text(t, "vigil.slice", slice);
  add_text(t, "vigil.window", window);
  add_text(t, "vigil.class", s->class_name);
  add_text(t, "vigil.mode", s->few ? "few-shot" : "zero-shot");
  add_text(t, "vigil.model", s->model_identity);
  if (vigil_report_identity_random(s->model_identity))
    add_text(t, "vigil.warning", "random model, results meaningless");
  g_autofree char *calibration = vigil_report_calibration_text(rep);
  g_autofree char *calibrated =
      isnan(s->calibrated) ? g_strdup("none") : g_strdup_printf("%.6f", s->calibrated);
  g_autofree char *region = vigil_map_region_describe(&s->region);
  add_text(t, "vigil.calibration", vigil_report_calibrated(rep) ? calibration : "uncalibrated");
  add_text(t, "vigil.calibrated_score", calibrated);
  add_text(t, "vigil.map_scale", s->shown.calibrated ? "calibrated" : "raw");
  add_text(t, "vigil.region", region);
  add_text(t, "vigil.zero_det_score", zero);
  if (s->few) {
    g_autofree char *few = vigil_report_format_score(s->detection->few_score);
    add_text(t, "vigil.few_det_score", few);
  }
  if (s->stale)
    add_text(t, "vigil.stale", "made under other analysis settings than the current ones");
  if (rep->note)
    add_text(t, "vigil.note", rep->note);
  add_measurements(t, rep, s->slice);
  g_ptr_array_add(t, NULL);
  return t;
}

void vigil_report_view_request(const VigilReport *rep, const VigilReportSlice *s, VigilMap *map,
                               VigilExportRequest *r) {
  double lo, hi;
  const float *values = vigil_report_slice_map(s, &lo, &hi);
  *map = (VigilMap){s->detection->side, s->detection->side, (float *)values};
  *r = (VigilExportRequest){
      .image = s->image,
      .window_center = s->view_center,
      .window_width = s->view_width,
      .map = map,
      .map_lo = lo,
      .map_hi = hi,
      .opacity = rep->opacity,
      .threshold = isnan(rep->threshold) ? NAN : vigil_report_contour_level(rep, s),
      .colormap = rep->colormap,
      .legend_label = slice_legend(s),
      .measurements = s->measurements,
  };
}

gboolean vigil_report_write_png(VigilReport *rep, const char *path, GCancellable *cancellable,
                                GError **error) {
  if (!vigil_report_prepare(rep, cancellable, error))
    return FALSE;
  const VigilReportSlice *s = rep->slices->pdata[0];
  VigilMap map;
  VigilExportRequest r;
  vigil_report_view_request(rep, s, &map, &r);
  g_autoptr(GPtrArray) text = png_text(rep, s);
  r.text = (const char *const *)text->pdata;
  g_autoptr(GError) local = NULL;
  if (vigil_export_png(&r, path, &local))
    return TRUE;
  g_set_error(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_WRITE, "cannot write the PNG %s: %s",
              path, local->message);
  return FALSE;
}
