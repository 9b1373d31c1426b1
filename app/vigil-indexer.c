/* VigilIndexer: headers are read on a worker, grouped on the owner's thread.
 * See vigil-indexer.h. */
#include "vigil-indexer.h"

#include "vigil-job.h"

#define FLUSH_US (100 * 1000) /* hand over at least this often while reading */

struct _VigilIndexer {
  GObject parent_instance;
  char **paths;
  VigilScan *scan;
  VigilScanBuilder *builder;
  VigilSliceCache *cache;
  GCancellable *cancellable;
  GMainContext *context;
  guint files_done, files_total;
  gboolean finished;
  guint delay_us;                 /* per file, for tests */
  const VigilSeries *last_series; /* the series the latest file joined */
};

G_DEFINE_FINAL_TYPE(VigilIndexer, vigil_indexer, G_TYPE_OBJECT)

enum { SERIES_ADDED, SERIES_CHANGED, PROGRESS, FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* What the worker hands over: files read since the last batch. */
typedef struct {
  VigilIndexer *indexer;
  VigilScan *part;  /* issues and image-file studies */
  GPtrArray *infos; /* VigilSliceInfo*, in reading order */
  guint files_done, files_total;
  gboolean last;
} Batch;

static void batch_free(gpointer data) {
  Batch *batch = data;
  vigil_scan_free(batch->part);
  g_ptr_array_unref(batch->infos);
  g_object_unref(batch->indexer);
  g_free(batch);
}

static Batch *batch_new(VigilIndexer *self) {
  Batch *batch = g_new0(Batch, 1);
  batch->indexer = g_object_ref(self);
  batch->part = vigil_scan_new();
  batch->infos = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_slice_info_free);
  return batch;
}

static VigilStudy *study_of(VigilScan *scan, const VigilSeries *series) {
  for (guint i = 0; i < scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len; j++)
      if (g_ptr_array_index(study->series, j) == series)
        return study;
  }
  return NULL;
}

/* On the owner's thread: group the batch, then tell listeners. */
static gboolean deliver(gpointer data) {
  Batch *batch = data;
  VigilIndexer *self = batch->indexer;
  if (g_cancellable_is_cancelled(self->cancellable))
    return G_SOURCE_REMOVE;
  g_autoptr(GPtrArray) added = g_ptr_array_new();
  g_autoptr(GHashTable) grown = g_hash_table_new(NULL, NULL);
  gsize n_infos = 0;
  g_autofree gpointer *infos = g_ptr_array_steal(batch->infos, &n_infos);
  for (gsize i = 0; i < n_infos; i++) {
    gboolean is_new = FALSE;
    VigilSeries *series = vigil_scan_builder_add(self->builder, infos[i], &is_new);
    if (!series)
      continue;
    self->last_series = series;
    if (is_new)
      g_ptr_array_add(added, series);
    else if (!g_ptr_array_find(added, series, NULL))
      g_hash_table_add(grown, series);
  }
  vigil_scan_builder_settle(self->builder);
  VigilScan *part = g_steal_pointer(&batch->part);
  guint first_image_study = self->scan->studies->len;
  vigil_scan_merge(self->scan, part);
  self->files_done = batch->files_done;
  self->files_total = batch->files_total;
  for (guint i = 0; i < added->len; i++) {
    VigilSeries *series = g_ptr_array_index(added, i);
    g_signal_emit(self, signals[SERIES_ADDED], 0, study_of(self->scan, series), series);
  }
  for (guint i = first_image_study; i < self->scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(self->scan->studies, i);
    for (guint j = 0; j < study->series->len; j++)
      g_signal_emit(self, signals[SERIES_ADDED], 0, study, g_ptr_array_index(study->series, j));
  }
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, grown);
  while (g_hash_table_iter_next(&iter, &key, NULL))
    g_signal_emit(self, signals[SERIES_CHANGED], 0, key);
  self->finished = batch->last; /* series-added never comes after it */
  g_signal_emit(self, signals[PROGRESS], 0);
  if (self->finished)
    g_signal_emit(self, signals[FINISHED], 0);
  return G_SOURCE_REMOVE;
}

static void hand_over(VigilIndexer *self, Batch **batch, guint done, guint total, gboolean last) {
  (*batch)->files_done = done;
  (*batch)->files_total = total;
  (*batch)->last = last;
  vigil_job_defer(self->context, deliver, *batch, batch_free); /* grouped on the owner's thread */
  *batch = last ? NULL : batch_new(self);
}

/* VIGIL_INDEX_DELAY_MS slows reading per file so tests can watch indexing. */
static guint index_delay_us(void) {
  const char *env = g_getenv("VIGIL_INDEX_DELAY_MS");
  return env ? (guint)MIN(g_ascii_strtoull(env, NULL, 10), 10000) * 1000 : 0;
}

static gboolean index_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                                GError **error) {
  (void)job, (void)error;
  VigilIndexer *self = data;
  VigilSliceCache *cache = self->cache;
  Batch *batch = batch_new(self);
  g_autoptr(GPtrArray) files = vigil_scan_collect(batch->part, (const char *const *)self->paths);
  const guint total = files->len, delay = self->delay_us;
  batch->part->n_files = total;
  hand_over(self, &batch, 0, total, FALSE);
  gint64 last_flush = g_get_monotonic_time();
  g_autofree char *previous = NULL; /* study and series UID of the latest DICOM file */
  for (guint i = 0; i < total; i++) {
    if (g_cancellable_is_cancelled(cancellable))
      break;
    if (delay)
      g_usleep(delay);
    VigilSliceInfo *info = vigil_scan_read_header(batch->part, g_ptr_array_index(files, i), cache);
    g_autofree char *key = info && info->series_uid[0]
                               ? g_strconcat(info->study_uid, "|", info->series_uid, NULL)
                               : NULL;
    gboolean moved_on = info && previous && g_strcmp0(previous, key) != 0;
    if (info) {
      g_free(previous);
      previous = g_steal_pointer(&key);
    }
    if (moved_on || g_get_monotonic_time() - last_flush > FLUSH_US) {
      hand_over(self, &batch, i, total, FALSE); /* the series read so far is settled */
      last_flush = g_get_monotonic_time();
    }
    if (info)
      g_ptr_array_add(batch->infos, info);
  }
  if (g_cancellable_is_cancelled(cancellable)) {
    batch_free(batch);
    return TRUE;
  }
  hand_over(self, &batch, total, total, TRUE);
  return TRUE;
}

static void on_indexed(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(GError) error = NULL;
  if (!vigil_job_run_finish(VIGIL_JOB(source), result, &error) &&
      !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning("indexing: %s", error->message);
  g_object_unref(user_data);
}

VigilIndexer *vigil_indexer_new(const char *const *paths, gsize cache_bytes) {
  VigilIndexer *self = g_object_new(VIGIL_TYPE_INDEXER, NULL);
  self->paths = g_strdupv((char **)paths);
  self->delay_us = index_delay_us();
  self->cache = vigil_slice_cache_new(cache_bytes);
  self->builder = vigil_scan_builder_new(self->scan, self->cache);
  return self;
}

void vigil_indexer_start(VigilIndexer *self) {
  g_return_if_fail(VIGIL_IS_INDEXER(self));
  g_autoptr(VigilJob) job =
      vigil_job_new("Index scans", index_in_thread, g_object_ref(self), g_object_unref);
  vigil_job_run_async(job, self->cancellable, on_indexed, g_object_ref(self));
}

void vigil_indexer_set_file_delay(VigilIndexer *self, guint ms) {
  self->delay_us = MIN(ms, 10000) * 1000;
}

void vigil_indexer_cancel(VigilIndexer *self) {
  g_cancellable_cancel(self->cancellable);
}

VigilScan *vigil_indexer_get_scan(VigilIndexer *self) {
  return self->scan;
}

gboolean vigil_indexer_is_finished(VigilIndexer *self) {
  return self->finished;
}

gboolean vigil_indexer_is_settled(VigilIndexer *self, const VigilSeries *series) {
  return self->finished || (series && series != self->last_series);
}

guint vigil_indexer_get_files_done(VigilIndexer *self) {
  return self->files_done;
}

guint vigil_indexer_get_files_total(VigilIndexer *self) {
  return self->files_total;
}

static void vigil_indexer_finalize(GObject *object) {
  VigilIndexer *self = VIGIL_INDEXER(object);
  vigil_scan_builder_free(self->builder);
  vigil_scan_free(self->scan); /* series before the cache they share */
  vigil_slice_cache_unref(self->cache);
  g_strfreev(self->paths);
  g_object_unref(self->cancellable);
  g_main_context_unref(self->context);
  G_OBJECT_CLASS(vigil_indexer_parent_class)->finalize(object);
}

static void vigil_indexer_class_init(VigilIndexerClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = vigil_indexer_finalize;
  signals[SERIES_ADDED] =
      g_signal_new("series-added", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                   G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_POINTER);
  signals[SERIES_CHANGED] =
      g_signal_new("series-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[PROGRESS] = g_signal_new("progress", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 0);
  signals[FINISHED] = g_signal_new("finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 0);
}

static void vigil_indexer_init(VigilIndexer *self) {
  self->scan = vigil_scan_new();
  self->cancellable = g_cancellable_new();
  self->context = g_main_context_ref_thread_default();
}
