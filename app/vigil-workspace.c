/* VigilWorkspace: the files opened and their indexing, what is shown, and
 * the session file (restore and autosave). The model and the analysis jobs
 * are in vigil-workspace-analysis.c. */
#include "vigil-domain.h"
#include "vigil-workspace-private.h"

#define AUTOSAVE_DELAY_MS 1500

G_DEFINE_FINAL_TYPE(VigilWorkspace, vigil_workspace, G_TYPE_OBJECT)

static guint signals[WS_N_SIGNALS];

void _vigil_workspace_emit(VigilWorkspace *self, WsSignal signal, ...) {
  va_list args;
  va_start(args, signal);
  g_signal_emit_valist(self, signals[signal], 0, args);
  va_end(args);
}

void _vigil_workspace_message(VigilWorkspace *self, const char *message) {
  _vigil_workspace_emit(self, WS_MESSAGE, message);
}

VigilWorkspace *vigil_workspace_new(void) {
  return g_object_new(VIGIL_TYPE_WORKSPACE, NULL);
}

GListModel *vigil_workspace_get_files(VigilWorkspace *self) {
  return G_LIST_MODEL(self->files);
}

VigilIndexer *vigil_workspace_get_indexer(VigilWorkspace *self) {
  return self->indexer;
}

VigilScan *vigil_workspace_get_scan(VigilWorkspace *self) {
  return self->scan;
}

void vigil_workspace_get_index_times(VigilWorkspace *self, guint *shown_after_ms,
                                     guint *indexed_after_ms, gboolean *shown_while_indexing) {
  *shown_after_ms = self->shown_after_ms;
  *indexed_after_ms = self->indexed_after_ms;
  *shown_while_indexing = self->shown_while_indexing;
}

/* ---- what is shown ---------------------------------------------------------- */

void vigil_workspace_show_series(VigilWorkspace *self, VigilSeries *series) {
  self->series = series;
  self->slice = series ? (int)series->slices->len / 2 : 0;
  vigil_analysis_session_set_series(self->analysis, series);
  vigil_analysis_session_set_slice(self->analysis, self->slice);
  _vigil_workspace_emit(self, WS_SHOW_SERIES, series);
}

VigilSeries *vigil_workspace_get_series(VigilWorkspace *self) {
  return self->series;
}

void vigil_workspace_set_view(VigilWorkspace *self, int slice, double center, double width) {
  gboolean moved = slice != self->slice;
  self->slice = slice;
  self->view_center = center;
  self->view_width = width;
  vigil_analysis_session_set_slice(self->analysis, slice);
  if (moved)
    vigil_workspace_changed(self);
}

int vigil_workspace_get_slice(VigilWorkspace *self) {
  return self->slice;
}

/* ---- indexing --------------------------------------------------------------- */

static guint ms_since(VigilWorkspace *self) {
  return (guint)((g_get_monotonic_time() - self->index_started_us) / 1000);
}

static void on_series_added(VigilIndexer *ix, VigilStudy *study, VigilSeries *series,
                            VigilWorkspace *self) {
  (void)ix;
  _vigil_workspace_emit(self, WS_SERIES_ADDED, study, series);
}

static void on_series_changed(VigilIndexer *ix, VigilSeries *series, VigilWorkspace *self) {
  (void)ix;
  _vigil_workspace_emit(self, WS_SERIES_CHANGED, series);
}

/* The first settled series in scan order, or NULL. */
static VigilSeries *first_settled(VigilWorkspace *self) {
  for (guint i = 0; i < self->scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(self->scan->studies, i);
    for (guint j = 0; j < study->series->len; j++)
      if (vigil_indexer_is_settled(self->indexer, g_ptr_array_index(study->series, j)))
        return g_ptr_array_index(study->series, j);
  }
  return NULL;
}

/* The first settled series is shown at once, if nothing is. */
static void on_progress(VigilIndexer *ix, VigilWorkspace *self) {
  VigilSeries *first = self->series ? NULL : first_settled(self);
  if (first) {
    self->shown_while_indexing = !vigil_indexer_is_finished(ix);
    vigil_workspace_show_series(self, first);
    self->shown_after_ms = ms_since(self);
  }
  _vigil_workspace_emit(self, WS_INDEX_PROGRESS);
}

static void report_issues(VigilWorkspace *self, VigilScan *scan) {
  if (scan->issues->len == 0)
    return;
  const VigilScanIssue *issue = g_ptr_array_index(scan->issues, 0);
  /* Some errors name their file already; the others get it in front. */
  const char *message = issue->error->message;
  g_autofree char *named = g_str_has_prefix(message, issue->path)
                               ? g_strdup(message)
                               : g_strdup_printf("%s: %s", issue->path, message);
  g_autofree char *text =
      scan->issues->len == 1
          ? g_strdup(named)
          : g_strdup_printf("%u files could not be opened, e.g. %s", scan->issues->len, named);
  _vigil_workspace_message(self, text);
}

/* A restored session's view: its series from its slice, in its window. */
static void restore_view(VigilWorkspace *self, const VigilSession *s) {
  VigilSeries *series = s->series_uid ? vigil_scan_find_series(self->scan, s->series_uid) : NULL;
  if (!series)
    return;
  if (series != self->series)
    vigil_workspace_show_series(self, series);
  int slice = CLAMP(s->slice, 0, MAX((int)series->slices->len - 1, 0));
  vigil_workspace_set_view(self, slice, s->has_window ? s->window_center : self->view_center,
                           s->has_window ? s->window_width : self->view_width);
  _vigil_workspace_emit(self, WS_RESTORE_VIEW, s);
}

static void on_finished(VigilIndexer *ix, VigilWorkspace *self) {
  VigilScan *scan = vigil_indexer_get_scan(ix);
  self->indexed_after_ms = ms_since(self);
  report_issues(self, scan);
  if (vigil_scan_n_series(scan) == 0)
    _vigil_workspace_message(self, "No scans found in what was opened");
  if (self->pending)
    restore_view(self, self->pending);
  _vigil_workspace_continue_references(self);
  vigil_workspace_changed(self);
  _vigil_workspace_emit(self, WS_SCAN_FINISHED);
}

static void stop_indexing(VigilWorkspace *self) {
  if (!self->indexer)
    return;
  vigil_indexer_cancel(self->indexer);
  g_signal_handlers_disconnect_by_data(self->indexer, self);
  g_clear_object(&self->indexer); /* jobs still reading hold their own reference */
  self->scan = NULL;
}

/* Reads every opened file again into a new scan. */
static void rescan(VigilWorkspace *self) {
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->files));
  g_auto(GStrv) paths = g_new0(char *, n + 1);
  for (guint i = 0; i < n; i++) {
    g_autoptr(GFile) file = g_list_model_get_item(G_LIST_MODEL(self->files), i);
    paths[i] = g_file_get_path(file);
    if (!paths[i])
      paths[i] = g_file_get_uri(file); /* reported as unreadable by the scan */
  }
  vigil_workspace_show_series(self, NULL); /* nothing may point into the old scan once it goes */
  vigil_reference_queue_set_scan(self->references, NULL);
  stop_indexing(self);
  self->shown_while_indexing = FALSE;
  self->shown_after_ms = self->indexed_after_ms = 0;
  self->index_started_us = g_get_monotonic_time();
  self->indexer = vigil_indexer_new((const char *const *)paths, VIGIL_SLICE_CACHE_DEFAULT);
  self->scan = vigil_indexer_get_scan(self->indexer);
  vigil_reference_queue_set_scan(self->references, self->scan);
  g_signal_connect(self->indexer, "series-added", G_CALLBACK(on_series_added), self);
  g_signal_connect(self->indexer, "series-changed", G_CALLBACK(on_series_changed), self);
  g_signal_connect(self->indexer, "progress", G_CALLBACK(on_progress), self);
  g_signal_connect(self->indexer, "finished", G_CALLBACK(on_finished), self);
  _vigil_workspace_emit(self, WS_SCAN_STARTED);
  _vigil_workspace_emit(self, WS_INDEX_PROGRESS);
  vigil_indexer_start(self->indexer);
}

static void files_changed(VigilWorkspace *self) {
  _vigil_workspace_emit(self, WS_FILES_CHANGED);
  if (g_list_model_get_n_items(G_LIST_MODEL(self->files)))
    rescan(self);
}

void vigil_workspace_add_files(VigilWorkspace *self, GFile **files, int n_files) {
  g_return_if_fail(VIGIL_IS_WORKSPACE(self) && self->files);
  for (int i = 0; i < n_files; i++)
    g_list_store_append(self->files, files[i]);
  files_changed(self);
}

static void replace_paths(VigilWorkspace *self, const GPtrArray *paths) {
  g_list_store_remove_all(self->files);
  for (guint i = 0; i < paths->len; i++) {
    g_autoptr(GFile) file = g_file_new_for_path(g_ptr_array_index(paths, i));
    g_list_store_append(self->files, file);
  }
  files_changed(self);
}

/* ---- the session file ------------------------------------------------------- */

static VigilSession *capture(VigilWorkspace *self) {
  VigilSession *s = vigil_session_new();
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->files));
  for (guint i = 0; i < n; i++) {
    g_autoptr(GFile) file = g_list_model_get_item(G_LIST_MODEL(self->files), i);
    char *path = g_file_get_path(file);
    if (path)
      g_ptr_array_add(s->open_paths, path);
  }
  /* The analysis settings and references, from the model (the window keeps it current). */
  vigil_analysis_session_save_to(self->analysis, s);
  vigil_measurements_save_to(self->measurements, s);
  if (self->series) {
    s->series_uid = g_strdup(self->series->uid);
    s->slice = self->slice;
    s->window_center = self->view_center;
    s->window_width = self->view_width;
    s->has_window = self->view_width > 0;
    _vigil_workspace_emit(self, WS_CAPTURE_VIEW, s); /* the zoom, and what else the view knows */
  }
  return s;
}

gboolean vigil_workspace_save_session(VigilWorkspace *self, const char *path, GError **error) {
  g_autoptr(VigilSession) s = capture(self);
  return vigil_session_save(s, path, error);
}

static gboolean autosave(gpointer data) {
  VigilWorkspace *self = data;
  self->autosave_source = 0;
  if (self->pending || g_list_model_get_n_items(G_LIST_MODEL(self->files)) == 0)
    return G_SOURCE_REMOVE; /* nothing yet, or still restoring: keep the last autosave */
  g_autofree char *path = vigil_session_autosave_path();
  g_autoptr(GError) error = NULL;
  if (!vigil_workspace_save_session(self, path, &error))
    g_warning("autosave failed: %s", error->message);
  return G_SOURCE_REMOVE;
}

void vigil_workspace_changed(VigilWorkspace *self) {
  if (!self->files || self->autosave_source)
    return;
  self->autosave_source = g_timeout_add(AUTOSAVE_DELAY_MS, autosave, self);
}

void vigil_workspace_flush_autosave(VigilWorkspace *self) {
  if (!self->autosave_source)
    return;
  g_source_remove(self->autosave_source);
  autosave(self);
}

gboolean vigil_workspace_is_restoring(VigilWorkspace *self) {
  return self->pending != NULL;
}

/* The analysis settings of a session into the model: the domain (and its
 * class) or the class the user typed, and the mode. */
static void restore_settings(VigilWorkspace *self, const VigilSession *session) {
  const VigilDomain *d = vigil_domain_find(session->domain);
  vigil_analysis_session_set_domain(self->analysis, d ? d->id : NULL);
  vigil_analysis_session_set_class_name(self->analysis, d ? d->class_name : session->custom_class);
  vigil_analysis_session_set_few_shot(self->analysis, g_strcmp0(session->mode, "few-shot") == 0);
  vigil_analysis_session_restore_from(self->analysis, session); /* the note, the marks */
  _vigil_workspace_calibration_restore(self, session);
  _vigil_workspace_emit(self, WS_RESTORE_SETTINGS, session); /* the panel shows them */
  vigil_measurements_restore_from(self->measurements, session);
}

static void restore(VigilWorkspace *self, VigilSession *session) {
  g_clear_pointer(&self->pending, vigil_session_free);
  self->pending = session;
  self->pending_ref = 0;
  restore_settings(self, session);
  replace_paths(self, session->open_paths);
}

gboolean vigil_workspace_open_session(VigilWorkspace *self, GFile *file) {
  g_autofree char *path = g_file_get_path(file);
  if (!path || !g_str_has_suffix(path, ".vigil"))
    return FALSE;
  g_autoptr(GError) error = NULL;
  VigilSession *session = vigil_session_load(path, &error);
  if (session)
    restore(self, session);
  else
    _vigil_workspace_message(self, error->message);
  return TRUE; /* it was a session file, maybe not a good one */
}

static void end_restore(VigilWorkspace *self) {
  vigil_reference_queue_set_quiet(self->references, FALSE);
  g_clear_pointer(&self->pending, vigil_session_free);
  vigil_workspace_changed(self);
}

/* The references queue ran dry: its messages are told, and a restore that
 * queued its references is over. */
static void on_references_settled(VigilReferenceQueue *queue, const char *added, const char *failed,
                                  VigilWorkspace *self) {
  (void)queue;
  if (added)
    _vigil_workspace_message(self, added);
  if (failed)
    _vigil_workspace_message(self, failed);
  if (self->pending && self->pending_ref > 0 && self->pending_ref >= self->pending->references->len)
    end_restore(self);
}

/* Queues one reference of the session; FALSE (told) when it is gone. */
static gboolean queue_reference(VigilWorkspace *self, const VigilSliceRef *ref) {
  VigilSeries *series = vigil_scan_find_series(self->scan, ref->series_uid);
  if (series && ref->slice < (int)series->slices->len) {
    /* The shown series' slices in the window restored. */
    VigilWindowLevel view = {self->view_center, self->view_width};
    gboolean shown = series == self->series && view.width > 0;
    vigil_reference_queue_add_series(self->references, ref->series_uid, ref->slice,
                                     shown ? &view : NULL);
    return TRUE;
  }
  if (!series && ref->path && *ref->path) { /* e.g. a file dropped on the strip */
    vigil_reference_queue_add_path(self->references, ref->path, ref->series_uid, ref->slice);
    return TRUE;
  }
  g_autofree char *msg =
      g_strdup_printf("Reference %s slice %d is no longer there", ref->path, ref->slice + 1);
  _vigil_workspace_message(self, msg);
  return FALSE;
}

void _vigil_workspace_continue_references(VigilWorkspace *self) {
  VigilSession *s = self->pending;
  if (!s || !self->scan || !vigil_indexer_is_finished(self->indexer) ||
      !vigil_workspace_model_ready(self)) {
    if (s && s->references->len == 0 && self->scan && vigil_indexer_is_finished(self->indexer))
      g_clear_pointer(&self->pending, vigil_session_free);
    return;
  }
  if (self->pending_ref > 0)
    return; /* queued already: on_references_settled ends the restore */
  vigil_reference_queue_set_quiet(self->references, TRUE); /* the session's, not news */
  gboolean queued = FALSE;
  for (; self->pending_ref < s->references->len; self->pending_ref++)
    queued |= queue_reference(self, g_ptr_array_index(s->references, self->pending_ref));
  if (!queued || !vigil_reference_queue_is_busy(self->references))
    end_restore(self); /* nothing queued, or all of it refused at once */
}

/* ---- the object -------------------------------------------------------------- */

static void vigil_workspace_dispose(GObject *object) {
  VigilWorkspace *self = VIGIL_WORKSPACE(object);
  g_clear_handle_id(&self->autosave_source, g_source_remove);
  g_clear_pointer(&self->pending, vigil_session_free);
  stop_indexing(self);
  self->series = NULL;
  _vigil_workspace_analysis_dispose(self);
  g_clear_object(&self->files); /* jobs finishing later find the workspace closed */
  g_clear_object(&self->measurements);
  G_OBJECT_CLASS(vigil_workspace_parent_class)->dispose(object);
}

static void vigil_workspace_init(VigilWorkspace *self) {
  self->files = g_list_store_new(G_TYPE_FILE);
  _vigil_workspace_analysis_init(self);
  g_signal_connect(self->references, "batch-finished", G_CALLBACK(on_references_settled), self);
  /* Every change of the references or the report is worth keeping. */
  g_signal_connect_swapped(self->analysis, "references-changed",
                           G_CALLBACK(vigil_workspace_changed), self);
  g_signal_connect_swapped(self->analysis, "report-changed", G_CALLBACK(vigil_workspace_changed),
                           self);
  self->measurements = vigil_measurements_new();
  g_signal_connect_swapped(self->measurements, "changed", G_CALLBACK(vigil_workspace_changed),
                           self);
}

VigilMeasurements *vigil_workspace_get_measurements(VigilWorkspace *self) {
  return self->measurements;
}

static guint new_signal(GObjectClass *klass, const char *name, guint n, ...) {
  va_list args;
  va_start(args, n);
  guint id = g_signal_new_valist(name, G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, NULL, NULL,
                                 NULL, NULL, G_TYPE_NONE, n, args);
  va_end(args);
  return id;
}

static void vigil_workspace_class_init(VigilWorkspaceClass *klass) {
  GObjectClass *o = G_OBJECT_CLASS(klass);
  o->dispose = vigil_workspace_dispose;
  signals[WS_FILES_CHANGED] = new_signal(o, "files-changed", 0);
  signals[WS_SCAN_STARTED] = new_signal(o, "scan-started", 0);
  signals[WS_SERIES_ADDED] = new_signal(o, "series-added", 2, G_TYPE_POINTER, G_TYPE_POINTER);
  signals[WS_SERIES_CHANGED] = new_signal(o, "series-changed", 1, G_TYPE_POINTER);
  signals[WS_INDEX_PROGRESS] = new_signal(o, "index-progress", 0);
  signals[WS_SCAN_FINISHED] = new_signal(o, "scan-finished", 0);
  signals[WS_SHOW_SERIES] = new_signal(o, "show-series", 1, G_TYPE_POINTER);
  signals[WS_RESTORE_SETTINGS] = new_signal(o, "restore-settings", 1, G_TYPE_POINTER);
  signals[WS_RESTORE_VIEW] = new_signal(o, "restore-view", 1, G_TYPE_POINTER);
  signals[WS_CAPTURE_VIEW] = new_signal(o, "capture-view", 1, G_TYPE_POINTER);
  signals[WS_MESSAGE] = new_signal(o, "message", 1, G_TYPE_STRING);
  signals[WS_MODEL_CHANGED] = new_signal(o, "model-changed", 1, G_TYPE_STRING);
  signals[WS_ANALYSIS_STATE] = new_signal(o, "analysis-state", 2, G_TYPE_BOOLEAN, G_TYPE_STRING);
  signals[WS_ANALYSIS_PROGRESS] =
      new_signal(o, "analysis-progress", 2, G_TYPE_DOUBLE, G_TYPE_STRING);
  signals[WS_ANALYSED] = new_signal(o, "analysed", 1, G_TYPE_POINTER);
}
