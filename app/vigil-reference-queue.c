/* VigilReferenceQueue: see vigil-reference-queue.h. */
#include "vigil-reference-queue.h"

#include "vigil-scan-images.h"

struct _VigilReferenceQueue {
  GObject parent_instance;
  VigilAnalyzer *analyzer;
  VigilAnalysisSession *session;
  VigilScan *scan; /* borrowed */
  gboolean fixed, quiet;
  VigilWindowLevel fixed_window;
  GQueue sources; /* Source*, waiting */
  gboolean busy;  /* one is being opened or encoded */
  GCancellable *cancellable;
  GPtrArray *added, *failed; /* this batch: labels; (name, reason) pairs */
};

G_DEFINE_FINAL_TYPE(VigilReferenceQueue, vigil_reference_queue, G_TYPE_OBJECT)

enum { SIGNAL_REFERENCE_READY, SIGNAL_BATCH_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* What the user asked for. */
typedef struct {
  char *series_uid; /* NULL: the first series of `path` */
  char *path;       /* NULL: from the open scan */
  int slice;        /* -1: the middle */
  gboolean has_view;
  VigilWindowLevel view;
} Source;

/* A slice on its way into the bank, and what the model will know of it. */
typedef struct {
  VigilReferenceQueue *queue;
  GCancellable *cancellable; /* the queue's when it started */
  Source *source;
  char *label, *path, *series_uid;
  int slice;
  VigilImage *image;
  VigilWindowLevel view;
} Work;

static void source_free(Source *s) {
  g_free(s->series_uid), g_free(s->path);
  g_free(s);
}

static void work_free(gpointer data) {
  Work *w = data;
  g_object_unref(w->queue);
  g_object_unref(w->cancellable);
  source_free(w->source);
  g_free(w->label), g_free(w->path), g_free(w->series_uid);
  vigil_image_free(w->image);
  g_free(w);
}

static void process_next(VigilReferenceQueue *self);

static void note_failed(VigilReferenceQueue *self, const char *name, const char *reason) {
  g_log("Vigil", G_LOG_LEVEL_INFO, "not a reference: %s: %s", name, reason);
  g_ptr_array_add(self->failed, g_strdup(name));
  g_ptr_array_add(self->failed, g_strdup(reason));
}

static char *added_message(GPtrArray *added) {
  if (added->len == 1)
    return g_strdup_printf("Added %s as a normal reference", (char *)added->pdata[0]);
  if (added->len > 1)
    return g_strdup_printf("Added %u normal references", added->len);
  return NULL;
}

static char *failed_message(GPtrArray *failed) {
  const char *name = failed->len ? failed->pdata[0] : NULL, *why = name ? failed->pdata[1] : NULL;
  if (failed->len == 2)
    return g_strdup_printf("%s was not added as a reference: %s", name, why);
  if (failed->len < 2)
    return NULL;
  g_autoptr(GString) names = g_string_new(name);
  for (guint i = 2; i < failed->len; i += 2)
    g_string_append_printf(names, ", %s", (char *)failed->pdata[i]);
  return g_strdup_printf("%u files were not added as references: %s (%s: %s)", failed->len / 2,
                         names->str, name, why);
}

/* One source is done (added or not): on to the next, or tell the batch. */
static void source_done(VigilReferenceQueue *self) {
  self->busy = FALSE;
  process_next(self);
  if (self->busy)
    return;
  g_autofree char *added = added_message(self->added);
  g_autofree char *failed = failed_message(self->failed);
  g_ptr_array_set_size(self->added, 0);
  g_ptr_array_set_size(self->failed, 0);
  g_signal_emit(self, signals[SIGNAL_BATCH_FINISHED], 0, added, failed);
}

static gboolean was_cancelled(const Work *w, const GError *error) {
  return g_cancellable_is_cancelled(w->cancellable) ||
         g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void on_encoded(GObject *source, GAsyncResult *result, gpointer user_data) {
  Work *w = user_data;
  VigilReferenceQueue *self = w->queue;
  g_autoptr(GError) error = NULL;
  gboolean ok = vigil_job_run_finish(VIGIL_JOB(source), result, &error);
  /* Set once the bank took it (ids start at 1), even when the job then
   * reports the cancellation that came while it ran. */
  guint64 id = vigil_analyzer_take_reference_id(self->analyzer, VIGIL_JOB(source));
  if (was_cancelled(w, error)) {
    if (id)
      vigil_analyzer_remove_reference(self->analyzer, id, NULL); /* no orphan in the bank */
  } else if (ok) {
    /* Thumbnails first: whoever draws the model's references has it when they change. */
    g_signal_emit(self, signals[SIGNAL_REFERENCE_READY], 0, id, w->image, w->view.center,
                  w->view.width);
    vigil_analysis_session_add_reference(self->session, id, w->label, w->path, w->series_uid,
                                         w->slice);
    if (!self->quiet)
      g_ptr_array_add(self->added, g_strdup(w->label));
  } else {
    note_failed(self, w->label, error ? error->message : "it could not be encoded");
  }
  g_object_ref(self);
  work_free(w);
  source_done(self);
  g_object_unref(self);
}

static gboolean is_reference(VigilReferenceQueue *self, const char *series_uid, int slice) {
  for (guint i = 0; i < vigil_analysis_session_n_references(self->session); i++) {
    const VigilAnalysisReference *r = vigil_analysis_session_get_reference(self->session, i);
    if (r->slice == slice && g_strcmp0(r->series_uid, series_uid) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Encodes w->image on a worker into the bank (w is taken). */
static void encode(VigilReferenceQueue *self, Work *w) {
  if (!vigil_analyzer_get_engine(self->analyzer)) {
    note_failed(self, w->label, "the model is not loaded");
  } else if (is_reference(self, w->series_uid, w->slice)) {
    /* The same slice twice would only weigh it double (and a session keeps it once). */
    note_failed(self, w->label, "it is already a reference");
  } else {
    VigilWindowLevel seen = self->fixed ? self->fixed_window : w->view;
    g_autoptr(VigilJob) job =
        vigil_analyzer_add_reference(self->analyzer, w->image, seen.center, seen.width);
    vigil_job_run_async(job, w->cancellable, on_encoded, w);
    return;
  }
  work_free(w);
  source_done(self);
}

static char *series_label(const VigilSeries *series, const char *path, int slice) {
  g_autofree char *name = path ? g_path_get_basename(path) : NULL;
  const char *what = series->description && *series->description ? series->description
                     : name                                      ? name
                                                                 : "";
  if (series->slices->len == 1)
    return g_strdup(what);
  return g_strdup_printf("%s, slice %d of %u", what, slice + 1, series->slices->len);
}

/* Decodes the source's slice of `series` into w (the label names it either way). */
static gboolean take_slice(Work *w, const VigilSeries *series, const char *path, GError **error) {
  const Source *s = w->source;
  w->slice = s->slice >= 0 ? s->slice : (int)series->slices->len / 2;
  w->label = series_label(series, path, w->slice);
  w->path = g_strdup(path);
  w->series_uid = g_strdup(series->uid);
  if (w->slice >= (int)series->slices->len) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "it has no slice %d", w->slice + 1);
    return FALSE;
  }
  w->image = vigil_series_get_slice((VigilSeries *)series, (guint)w->slice, error);
  if (!w->image)
    return FALSE;
  w->view = s->has_view ? s->view : vigil_series_default_window(series, w->image, NULL);
  return TRUE;
}

/* ---- files: opened on a worker, like the scans ----------------------------- */

static gboolean series_failed(const VigilScan *scan, const char *uid, GError **error) {
  if (uid)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no series %s in it any more", uid);
  else if (scan->issues->len > 0)
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        ((VigilScanIssue *)g_ptr_array_index(scan->issues, 0))->error->message);
  else
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "no DICOM, PNG, JPEG or NIfTI image in it");
  return FALSE;
}

static gboolean open_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                               GError **error) {
  (void)job, (void)cancellable;
  Work *w = data;
  const char *paths[] = {w->source->path, NULL};
  g_autoptr(VigilScan) scan = vigil_scan_open(paths, 64u << 20);
  VigilSeries *series = NULL;
  for (guint i = 0; i < scan->studies->len && !series; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len && !series; j++) {
      VigilSeries *s = g_ptr_array_index(study->series, j);
      if (!w->source->series_uid || g_strcmp0(s->uid, w->source->series_uid) == 0)
        series = s;
    }
  }
  if (!series)
    return series_failed(scan, w->source->series_uid, error);
  return take_slice(w, series, w->source->path, error);
}

static void on_file_opened(GObject *source, GAsyncResult *result, gpointer user_data) {
  Work *w = user_data;
  VigilReferenceQueue *self = w->queue;
  g_autoptr(GError) error = NULL;
  if (vigil_job_run_finish(VIGIL_JOB(source), result, &error) && !was_cancelled(w, NULL)) {
    encode(self, w);
    return;
  }
  if (!was_cancelled(w, error)) {
    g_autofree char *name = g_path_get_basename(w->source->path);
    note_failed(self, name, error->message);
  }
  g_object_ref(self);
  work_free(w);
  source_done(self);
  g_object_unref(self);
}

/* The job runs open_in_thread; w stays ours until on_file_opened. */
static void open_file(VigilReferenceQueue *self, Work *w) {
  g_autoptr(VigilJob) job = vigil_job_new("Open reference", open_in_thread, w, NULL);
  vigil_job_run_async(job, w->cancellable, on_file_opened, w);
}

/* ---- the queue ------------------------------------------------------------- */

/* A series of the open scan: its slice is decoded here, as the viewer does. */
static void add_from_scan(VigilReferenceQueue *self, Work *w, VigilSeries *series) {
  g_autoptr(GError) error = NULL;
  const char *path =
      series->slices->len ? ((VigilSlice *)g_ptr_array_index(series->slices, 0))->path : "";
  if (take_slice(w, series, path, &error)) {
    encode(self, w);
    return;
  }
  note_failed(self, w->label, error->message);
  work_free(w);
  source_done(self);
}

static void process_next(VigilReferenceQueue *self) {
  Source *s;
  if (self->busy || !(s = g_queue_pop_head(&self->sources)))
    return;
  self->busy = TRUE;
  Work *w = g_new0(Work, 1);
  w->queue = g_object_ref(self);
  w->cancellable = g_object_ref(self->cancellable);
  w->source = s;
  VigilSeries *series =
      s->series_uid && self->scan ? vigil_scan_find_series(self->scan, s->series_uid) : NULL;
  if (series) {
    add_from_scan(self, w, series);
  } else if (s->path) {
    open_file(self, w);
  } else {
    note_failed(self, "A series", "it is no longer open");
    work_free(w);
    source_done(self);
  }
}

static void enqueue(VigilReferenceQueue *self, const char *path, const char *series_uid, int slice,
                    const VigilWindowLevel *view) {
  Source *s = g_new0(Source, 1);
  s->path = g_strdup(path);
  s->series_uid = g_strdup(series_uid);
  s->slice = slice;
  s->has_view = view != NULL;
  if (view)
    s->view = *view;
  g_queue_push_tail(&self->sources, s);
  process_next(self);
}

void vigil_reference_queue_add_series(VigilReferenceQueue *self, const char *series_uid, int slice,
                                      const VigilWindowLevel *view) {
  enqueue(self, NULL, series_uid, slice, view);
}

void vigil_reference_queue_add_path(VigilReferenceQueue *self, const char *path,
                                    const char *series_uid, int slice) {
  enqueue(self, path, series_uid, slice, NULL);
}

gboolean vigil_reference_queue_is_busy(VigilReferenceQueue *self) {
  return self->busy || !g_queue_is_empty(&self->sources);
}

void vigil_reference_queue_cancel(VigilReferenceQueue *self) {
  g_queue_clear_full(&self->sources, (GDestroyNotify)source_free);
  g_cancellable_cancel(self->cancellable);
  g_object_unref(self->cancellable);
  self->cancellable = g_cancellable_new();
}

void vigil_reference_queue_set_scan(VigilReferenceQueue *self, VigilScan *scan) {
  self->scan = scan;
}

void vigil_reference_queue_set_fixed_window(VigilReferenceQueue *self, gboolean fixed,
                                            double center, double width) {
  self->fixed = fixed;
  self->fixed_window = (VigilWindowLevel){center, width};
}

void vigil_reference_queue_set_quiet(VigilReferenceQueue *self, gboolean quiet) {
  self->quiet = quiet;
}

VigilReferenceQueue *vigil_reference_queue_new(VigilAnalyzer *analyzer,
                                               VigilAnalysisSession *session) {
  VigilReferenceQueue *self = g_object_new(VIGIL_TYPE_REFERENCE_QUEUE, NULL);
  self->analyzer = g_object_ref(analyzer);
  self->session = g_object_ref(session);
  return self;
}

static void vigil_reference_queue_finalize(GObject *object) {
  VigilReferenceQueue *self = VIGIL_REFERENCE_QUEUE(object);
  g_queue_clear_full(&self->sources, (GDestroyNotify)source_free);
  g_object_unref(self->cancellable);
  g_clear_object(&self->analyzer);
  g_clear_object(&self->session);
  g_ptr_array_unref(self->added);
  g_ptr_array_unref(self->failed);
  G_OBJECT_CLASS(vigil_reference_queue_parent_class)->finalize(object);
}

static void vigil_reference_queue_class_init(VigilReferenceQueueClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = vigil_reference_queue_finalize;
  signals[SIGNAL_REFERENCE_READY] = g_signal_new(
      "reference-ready", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 4, G_TYPE_UINT64, G_TYPE_POINTER, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  signals[SIGNAL_BATCH_FINISHED] =
      g_signal_new("batch-finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void vigil_reference_queue_init(VigilReferenceQueue *self) {
  g_queue_init(&self->sources);
  self->cancellable = g_cancellable_new();
  self->added = g_ptr_array_new_with_free_func(g_free);
  self->failed = g_ptr_array_new_with_free_func(g_free);
}
