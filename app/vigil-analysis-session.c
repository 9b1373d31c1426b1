/* VigilAnalysisSession: see vigil-analysis-session.h.
 * Signals:
 *   context-changed    the key changed: every result is stale now
 *   results-changed    (int slice) a result was stored, -1 when many changed
 *   references-changed the references were added, removed or cleared */
#include "vigil-analysis-session.h"

#include <math.h>

struct _VigilAnalysisSession {
  GObject parent_instance;
  char *model_key, *model_identity;
  VigilSeries *series; /* borrowed */
  char *series_uid;    /* the series `results` belong to */
  int slice;
  char *class_name;
  char *domain;
  char *note;
  VigilCalibration *calibration;
  GHashTable *marks; /* series UID ("" for none) -> GArray of int, sorted */
  gboolean few_shot;
  double window_center, window_width;
  char *window_text;
  GPtrArray *references; /* VigilAnalysisReference* */
  guint references_version;
  guint changes;            /* context changes so far */
  guint references_change;  /* the last of them that the references made */
  gboolean references_busy; /* a references change is updating the key */
  char *key;                /* the context, rebuilt by update_key */
  GHashTable *results;      /* slice -> VigilAnalysisResult* */
};

G_DEFINE_FINAL_TYPE(VigilAnalysisSession, vigil_analysis_session, G_TYPE_OBJECT)

enum {
  CONTEXT_CHANGED,
  RESULTS_CHANGED,
  REFERENCES_CHANGED,
  SLICE_CHANGED,
  CALIBRATION_CHANGED,
  REPORT_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void save_marks(VigilAnalysisSession *self, VigilSession *session);

static void reference_free(gpointer data) {
  VigilAnalysisReference *r = data;
  g_free(r->label), g_free(r->path), g_free(r->series_uid);
  g_free(r);
}

static void result_free(gpointer data) {
  VigilAnalysisResult *r = data;
  vigil_detection_free(r->detection);
  g_free(r->window_text), g_free(r->class_name), g_free(r->model_identity);
  g_array_unref(r->references);
  g_date_time_unref(r->when);
  g_free(r);
}

/* The one place where staleness is decided: results made under another key
 * are stale, and the key says everything a result depends on. */
static void update_key(VigilAnalysisSession *self) {
  const guint n = self->series ? self->series->slices->len : 0;
  g_autofree char *key =
      g_strdup_printf("%s|%s|%u|%s|%d|%.17g|%.17g|%u", self->model_key ? self->model_key : "",
                      self->series ? self->series->uid : "", n,
                      self->class_name ? self->class_name : "", self->few_shot, self->window_center,
                      self->window_width, self->few_shot ? self->references_version : 0);
  if (g_strcmp0(key, self->key) == 0)
    return;
  g_free(self->key);
  self->key = g_steal_pointer(&key);
  self->changes++;
  if (self->references_busy)
    self->references_change = self->changes;
  GHashTableIter it;
  gpointer value;
  gboolean any = FALSE;
  g_hash_table_iter_init(&it, self->results);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    VigilAnalysisResult *r = value;
    any |= !r->stale;
    if (!r->stale)
      r->staled = self->changes;
    r->stale = TRUE;
  }
  g_signal_emit(self, signals[CONTEXT_CHANGED], 0);
  if (any)
    g_signal_emit(self, signals[RESULTS_CHANGED], 0, -1);
}

static void clear_references(VigilAnalysisSession *self);

static void set_string(char **slot, const char *value) {
  char *copy = g_strdup(value);
  g_free(*slot);
  *slot = copy;
}

void vigil_analysis_session_set_model(VigilAnalysisSession *self, const char *key,
                                      const char *identity) {
  g_return_if_fail(VIGIL_IS_ANALYSIS_SESSION(self));
  const gboolean changed = g_strcmp0(key, self->model_key) != 0;
  set_string(&self->model_key, key);
  set_string(&self->model_identity, identity);
  if (changed) /* a new engine starts an empty bank */
    clear_references(self);
  update_key(self);
}

const char *vigil_analysis_session_get_model_key(VigilAnalysisSession *self) {
  return self->model_key;
}

const char *vigil_analysis_session_get_model_identity(VigilAnalysisSession *self) {
  return self->model_identity;
}

void vigil_analysis_session_set_series(VigilAnalysisSession *self, VigilSeries *series) {
  g_return_if_fail(VIGIL_IS_ANALYSIS_SESSION(self));
  self->series = series;
  /* Results are per slice of one series: another series' results are not
   * kept (the scan may free it), they are recomputed when asked for again. */
  if (g_strcmp0(series ? series->uid : NULL, self->series_uid) != 0) {
    set_string(&self->series_uid, series ? series->uid : NULL);
    if (g_hash_table_size(self->results) > 0) {
      g_hash_table_remove_all(self->results);
      g_signal_emit(self, signals[RESULTS_CHANGED], 0, -1);
    }
  }
  update_key(self);
}

VigilSeries *vigil_analysis_session_get_series(VigilAnalysisSession *self) {
  return self->series;
}

void vigil_analysis_session_set_slice(VigilAnalysisSession *self, int slice) {
  if (self->slice == slice)
    return;
  self->slice = slice;
  g_signal_emit(self, signals[SLICE_CHANGED], 0);
}

int vigil_analysis_session_get_slice(VigilAnalysisSession *self) {
  return self->slice;
}

void vigil_analysis_session_set_class_name(VigilAnalysisSession *self, const char *class_name) {
  set_string(&self->class_name, class_name && *class_name ? class_name : NULL);
  update_key(self);
}

const char *vigil_analysis_session_get_class_name(VigilAnalysisSession *self) {
  return self->class_name;
}

void vigil_analysis_session_set_domain(VigilAnalysisSession *self, const char *domain) {
  set_string(&self->domain, domain);
}

const char *vigil_analysis_session_get_domain(VigilAnalysisSession *self) {
  return self->domain;
}

void vigil_analysis_session_set_few_shot(VigilAnalysisSession *self, gboolean few_shot) {
  self->few_shot = few_shot;
  update_key(self);
}

gboolean vigil_analysis_session_get_few_shot(VigilAnalysisSession *self) {
  return self->few_shot;
}

void vigil_analysis_session_set_window(VigilAnalysisSession *self, double center, double width,
                                       const char *text) {
  self->window_center = center;
  self->window_width = width;
  set_string(&self->window_text, text);
  update_key(self);
}

const char *vigil_analysis_session_get_window(VigilAnalysisSession *self, double *center,
                                              double *width) {
  if (center)
    *center = self->window_center;
  if (width)
    *width = self->window_width;
  return self->window_text;
}

const char *vigil_analysis_session_get_key(VigilAnalysisSession *self) {
  return self->key;
}

/* ---- references ---- */

/* Staleness first, so that whoever hears of the change sees the new context. */
static void references_changed(VigilAnalysisSession *self) {
  self->references_version++;
  self->references_busy = TRUE;
  update_key(self);
  self->references_busy = FALSE;
  g_signal_emit(self, signals[REFERENCES_CHANGED], 0);
}

void vigil_analysis_session_add_reference(VigilAnalysisSession *self, guint64 id, const char *label,
                                          const char *path, const char *series_uid, int slice) {
  VigilAnalysisReference *r = g_new0(VigilAnalysisReference, 1);
  r->id = id;
  r->label = g_strdup(label);
  r->path = g_strdup(path);
  r->series_uid = g_strdup(series_uid);
  r->slice = slice;
  g_ptr_array_add(self->references, r);
  references_changed(self);
}

gboolean vigil_analysis_session_remove_reference(VigilAnalysisSession *self, guint64 id) {
  for (guint i = 0; i < self->references->len; i++)
    if (((VigilAnalysisReference *)g_ptr_array_index(self->references, i))->id == id) {
      g_ptr_array_remove_index(self->references, i);
      references_changed(self);
      return TRUE;
    }
  return FALSE;
}

static void clear_references(VigilAnalysisSession *self) {
  if (self->references->len == 0)
    return;
  g_ptr_array_set_size(self->references, 0);
  references_changed(self);
}

guint vigil_analysis_session_n_references(VigilAnalysisSession *self) {
  return self->references->len;
}

const VigilAnalysisReference *vigil_analysis_session_get_reference(VigilAnalysisSession *self,
                                                                   guint index) {
  return index < self->references->len ? g_ptr_array_index(self->references, index) : NULL;
}

const VigilAnalysisReference *vigil_analysis_session_find_reference(VigilAnalysisSession *self,
                                                                    guint64 id) {
  for (guint i = 0; i < self->references->len; i++) {
    const VigilAnalysisReference *r = g_ptr_array_index(self->references, i);
    if (r->id == id)
      return r;
  }
  return NULL;
}

/* ---- results ---- */

static VigilAnalysisResult *result_new(VigilAnalysisSession *self, int slice, VigilDetection *d) {
  VigilAnalysisResult *r = g_new0(VigilAnalysisResult, 1);
  r->slice = slice;
  r->detection = d;
  r->window_center = self->window_center;
  r->window_width = self->window_width;
  r->window_text = g_strdup(self->window_text);
  r->class_name = g_strdup(self->class_name);
  r->few_shot = self->few_shot;
  r->model_identity = g_strdup(self->model_identity);
  r->references = g_array_new(FALSE, FALSE, sizeof(guint64));
  for (guint i = 0; self->few_shot && i < self->references->len; i++)
    g_array_append_val(r->references,
                       ((VigilAnalysisReference *)g_ptr_array_index(self->references, i))->id);
  r->when = g_date_time_new_now_local();
  return r;
}

gboolean vigil_analysis_session_store(VigilAnalysisSession *self, const char *key, int slice,
                                      VigilDetection *detection) {
  g_return_val_if_fail(VIGIL_IS_ANALYSIS_SESSION(self), FALSE);
  if (!detection)
    return FALSE;
  const guint n = self->series ? self->series->slices->len : 0;
  if (g_strcmp0(key, self->key) != 0 || slice < 0 || (guint)slice >= n) {
    /* settings or references changed while it ran: recomputed when asked again */
    g_log("Vigil", G_LOG_LEVEL_INFO, "stale result of slice %d discarded", slice);
    vigil_detection_free(detection);
    return FALSE;
  }
  g_hash_table_replace(self->results, GINT_TO_POINTER(slice), result_new(self, slice, detection));
  g_signal_emit(self, signals[RESULTS_CHANGED], 0, slice);
  return TRUE;
}

gboolean vigil_analysis_session_staled_by_references(VigilAnalysisSession *self, int slice) {
  const VigilAnalysisResult *r = g_hash_table_lookup(self->results, GINT_TO_POINTER(slice));
  return r && r->stale && r->staled == self->changes && self->references_change == self->changes;
}

const VigilAnalysisResult *vigil_analysis_session_get_any_result(VigilAnalysisSession *self,
                                                                 int slice) {
  return g_hash_table_lookup(self->results, GINT_TO_POINTER(slice));
}

const VigilAnalysisResult *vigil_analysis_session_get_result(VigilAnalysisSession *self,
                                                             int slice) {
  const VigilAnalysisResult *r = vigil_analysis_session_get_any_result(self, slice);
  return r && !r->stale ? r : NULL;
}

GArray *vigil_analysis_session_missing_slices(VigilAnalysisSession *self, guint max) {
  GArray *out = g_array_new(FALSE, FALSE, sizeof(int));
  const int n = self->series ? (int)self->series->slices->len : 0;
  for (int s = 0; s < n && out->len < max; s++)
    if (!vigil_analysis_session_get_result(self, s))
      g_array_append_val(out, s);
  return out;
}

GPtrArray *vigil_analysis_session_current_results(VigilAnalysisSession *self) {
  GPtrArray *out = g_ptr_array_new();
  const int n = self->series ? (int)self->series->slices->len : 0;
  for (int s = 0; s < n; s++) {
    const VigilAnalysisResult *r = vigil_analysis_session_get_result(self, s);
    if (r)
      g_ptr_array_add(out, (gpointer)r);
  }
  return out;
}

/* ---- the session file ---- */

void vigil_analysis_session_save_to(VigilAnalysisSession *self, VigilSession *session) {
  g_free(session->domain);
  g_free(session->custom_class);
  session->domain = g_strdup(self->domain);
  session->custom_class = self->domain ? NULL : g_strdup(self->class_name);
  g_free(session->mode);
  session->mode = g_strdup(self->few_shot ? "few-shot" : "zero-shot");
  g_free(session->note);
  session->note = g_strdup(self->note);
  save_marks(self, session);
  g_free(session->calibration);
  session->calibration =
      self->calibration && self->calibration->source != VIGIL_CALIBRATION_UNCALIBRATED
          ? vigil_calibration_to_json(self->calibration)
          : NULL;
  g_ptr_array_set_size(session->references, 0);
  for (guint i = 0; i < self->references->len; i++) {
    const VigilAnalysisReference *r = g_ptr_array_index(self->references, i);
    vigil_session_add_reference(session, r->path, r->series_uid, r->slice);
  }
}

/* ---- calibration ---- */

void vigil_analysis_session_set_calibration(VigilAnalysisSession *self,
                                            VigilCalibration *calibration) {
  if (!self->calibration && !calibration)
    return;
  g_clear_pointer(&self->calibration, vigil_calibration_free);
  self->calibration = calibration;
  g_signal_emit(self, signals[CALIBRATION_CHANGED], 0);
}

const VigilCalibration *vigil_analysis_session_get_calibration(VigilAnalysisSession *self) {
  return self->calibration;
}

double vigil_analysis_session_calibrated(VigilAnalysisSession *self,
                                         const VigilAnalysisResult *result) {
  if (!self->calibration || !result)
    return NAN;
  return vigil_calibration_apply(
      self->calibration,
      vigil_calibration_raw_score(result->detection, self->calibration->few_shot));
}

/* ---- what the report adds ---- */

void vigil_analysis_session_set_note(VigilAnalysisSession *self, const char *note) {
  if (g_strcmp0(self->note, note && *note ? note : NULL) == 0)
    return;
  set_string(&self->note, note && *note ? note : NULL);
  g_signal_emit(self, signals[REPORT_CHANGED], 0);
}

const char *vigil_analysis_session_get_note(VigilAnalysisSession *self) {
  return self->note;
}

static GArray *marks_of(VigilAnalysisSession *self, const char *series_uid, gboolean create) {
  const char *key = series_uid ? series_uid : "";
  GArray *marks = g_hash_table_lookup(self->marks, key);
  if (!marks && create) {
    marks = g_array_new(FALSE, FALSE, sizeof(int));
    g_hash_table_insert(self->marks, g_strdup(key), marks);
  }
  return marks;
}

static int compare_ints(gconstpointer a, gconstpointer b) {
  return *(const int *)a - *(const int *)b;
}

static gboolean set_mark(VigilAnalysisSession *self, const char *series_uid, int slice,
                         gboolean marked) {
  GArray *marks = marks_of(self, series_uid, marked);
  for (guint i = 0; marks && i < marks->len; i++)
    if (g_array_index(marks, int, i) == slice) {
      if (!marked)
        g_array_remove_index(marks, i);
      return !marked;
    }
  if (!marked || slice < 0)
    return FALSE;
  g_array_append_val(marks, slice);
  g_array_sort(marks, compare_ints);
  return TRUE;
}

void vigil_analysis_session_set_marked(VigilAnalysisSession *self, int slice, gboolean marked) {
  if (set_mark(self, self->series_uid, slice, marked))
    g_signal_emit(self, signals[REPORT_CHANGED], 0);
}

gboolean vigil_analysis_session_is_marked(VigilAnalysisSession *self, int slice) {
  GArray *marks = marks_of(self, self->series_uid, FALSE);
  for (guint i = 0; marks && i < marks->len; i++)
    if (g_array_index(marks, int, i) == slice)
      return TRUE;
  return FALSE;
}

GArray *vigil_analysis_session_marked_slices(VigilAnalysisSession *self) {
  GArray *marks = marks_of(self, self->series_uid, FALSE);
  GArray *copy = g_array_new(FALSE, FALSE, sizeof(int));
  if (marks)
    g_array_append_vals(copy, marks->data, marks->len);
  return copy;
}

void vigil_analysis_session_restore_from(VigilAnalysisSession *self, const VigilSession *session) {
  set_string(&self->note, session->note && *session->note ? session->note : NULL);
  g_hash_table_remove_all(self->marks);
  for (guint i = 0; i < session->marked->len; i++) {
    const VigilSliceRef *r = g_ptr_array_index(session->marked, i);
    set_mark(self, r->series_uid, r->slice, TRUE);
  }
  g_signal_emit(self, signals[REPORT_CHANGED], 0);
}

static void save_marks(VigilAnalysisSession *self, VigilSession *session) {
  g_ptr_array_set_size(session->marked, 0);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, self->marks);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    GArray *marks = value;
    for (guint i = 0; i < marks->len; i++)
      vigil_session_add_marked(session, *(char *)key ? key : NULL, g_array_index(marks, int, i));
  }
}

/* ---- GObject ---- */

static void vigil_analysis_session_finalize(GObject *object) {
  VigilAnalysisSession *self = VIGIL_ANALYSIS_SESSION(object);
  g_free(self->model_key), g_free(self->model_identity), g_free(self->class_name);
  g_free(self->domain), g_free(self->note);
  g_hash_table_unref(self->marks);
  g_clear_pointer(&self->calibration, vigil_calibration_free);
  g_free(self->window_text), g_free(self->key), g_free(self->series_uid);
  g_ptr_array_unref(self->references);
  g_hash_table_unref(self->results);
  G_OBJECT_CLASS(vigil_analysis_session_parent_class)->finalize(object);
}

static void vigil_analysis_session_class_init(VigilAnalysisSessionClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = vigil_analysis_session_finalize;
  signals[CONTEXT_CHANGED] = g_signal_new("context-changed", G_TYPE_FROM_CLASS(klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[RESULTS_CHANGED] =
      g_signal_new("results-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  signals[REFERENCES_CHANGED] =
      g_signal_new("references-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 0);
  signals[SLICE_CHANGED] = g_signal_new("slice-changed", G_TYPE_FROM_CLASS(klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[CALIBRATION_CHANGED] =
      g_signal_new("calibration-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                   NULL, NULL, G_TYPE_NONE, 0);
  signals[REPORT_CHANGED] = g_signal_new("report-changed", G_TYPE_FROM_CLASS(klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void vigil_analysis_session_init(VigilAnalysisSession *self) {
  self->references = g_ptr_array_new_with_free_func(reference_free);
  self->results = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, result_free);
  self->marks =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
  self->window_center = NAN;
  self->window_width = NAN;
  update_key(self);
}

VigilAnalysisSession *vigil_analysis_session_new(void) {
  return g_object_new(VIGIL_TYPE_ANALYSIS_SESSION, NULL);
}
