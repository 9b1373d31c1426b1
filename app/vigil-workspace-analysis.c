/* VigilWorkspace's analysis: loading the model, analysing slices of the
 * shown series on a worker (Analyse Series: a batch per job) and handing
 * the results to the analysis model under the context key the job started
 * with, so results of an outdated context are dropped there. One job runs
 * at a time; a Vulkan failure that moved the engine to the CPU is told once. */
#include "vigil-job.h"
#include "vigil-workspace-private.h"

VigilAnalyzer *vigil_workspace_get_analyzer(VigilWorkspace *self) {
  return self->analyzer;
}

VigilAnalysisSession *vigil_workspace_get_analysis(VigilWorkspace *self) {
  return self->analysis;
}

VigilReferenceQueue *vigil_workspace_get_references(VigilWorkspace *self) {
  return self->references;
}

gboolean vigil_workspace_model_ready(VigilWorkspace *self) {
  return self->analyzer && vigil_analyzer_get_engine(self->analyzer) != NULL;
}

gboolean vigil_workspace_is_busy(VigilWorkspace *self) {
  return self->job_cancellable != NULL || self->series_running;
}

void vigil_workspace_cancel_analysis(VigilWorkspace *self) {
  g_cancellable_cancel(self->job_cancellable);
}

static void on_job_progress(VigilJob *job, GParamSpec *pspec, VigilWorkspace *self) {
  (void)pspec;
  _vigil_workspace_emit(self, WS_ANALYSIS_PROGRESS, vigil_job_get_fraction(job),
                        vigil_job_get_message(job));
}

static void run(VigilWorkspace *self, VigilJob *job, GAsyncReadyCallback done) {
  g_clear_object(&self->job_cancellable);
  self->job_cancellable = g_cancellable_new();
  g_signal_connect_object(job, "notify::fraction", G_CALLBACK(on_job_progress), self, 0);
  _vigil_workspace_emit(self, WS_ANALYSIS_STATE, TRUE, vigil_job_get_title(job));
  vigil_job_run_async(job, self->job_cancellable, done, g_object_ref(self));
}

/* A Vulkan failure moves the engine to the CPU (at load or mid-analysis): told once. */
static void tell_fallback(VigilWorkspace *self) {
  VigilEngine *engine = vigil_analyzer_get_engine(self->analyzer);
  g_autofree char *fallback = engine ? vigil_engine_dup_fallback_reason(engine) : NULL;
  if (!fallback || g_strcmp0(fallback, self->fallback_shown) == 0)
    return;
  _vigil_workspace_message(self, fallback);
  g_free(self->fallback_shown);
  self->fallback_shown = g_steal_pointer(&fallback);
  _vigil_workspace_emit(self, WS_MODEL_CHANGED, NULL);
}

/* A finished job's outcome; FALSE (after telling the user) on failure, or
 * when the workspace was closed meanwhile. */
static gboolean finish(VigilWorkspace *self, GObject *source, GAsyncResult *result) {
  g_autoptr(GError) error = NULL;
  gboolean ok = vigil_job_run_finish(VIGIL_JOB(source), result, &error);
  if (!self->files)
    return FALSE;
  g_clear_object(&self->job_cancellable);
  _vigil_workspace_emit(self, WS_ANALYSIS_STATE, FALSE, NULL);
  if (!ok && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    _vigil_workspace_message(self, error->message);
  tell_fallback(self);
  return ok;
}

/* ---- the model ----------------------------------------------------------------- */

static void on_loaded(GObject *source, GAsyncResult *result, gpointer user_data) {
  VigilWorkspace *self = user_data;
  const char *key = g_object_get_data(source, "vigil-model-key");
  if (self->model_load_us)
    g_debug("model loaded in %.2f s", (g_get_monotonic_time() - self->model_load_us) / 1e6);
  if (finish(self, source, result)) {
    g_autofree char *identity =
        vigil_engine_dup_identity(vigil_analyzer_get_engine(self->analyzer));
    /* A new engine starts an empty bank: the model clears its references. */
    g_free(self->adapters_path);
    self->adapters_path = g_strdup(g_object_get_data(source, "vigil-adapters"));
    _vigil_workspace_calibration_forget_model(self);
    vigil_analysis_session_set_model(self->analysis, key, identity);
    _vigil_workspace_refresh_calibration(self);
    _vigil_workspace_emit(self, WS_MODEL_CHANGED, NULL);
    _vigil_workspace_continue_references(self);
  } else if (self->files) {
    _vigil_workspace_emit(self, WS_MODEL_CHANGED,
                          "The model could not be loaded; see the message, then check "
                          "Preferences.");
  }
  g_object_unref(self);
}

void vigil_workspace_load_model(VigilWorkspace *self, const char *clip, const char *adapters,
                                const char *device, VigilPrecision precision, int cpu_threads) {
  g_autofree char *key = g_strdup_printf("%s|%s|%s|%s|%d", clip, adapters, device,
                                         vigil_precision_name(precision), cpu_threads);
  if (g_strcmp0(key, vigil_analysis_session_get_model_key(self->analysis)) == 0)
    return;
  self->model_load_us = g_get_monotonic_time();
  g_autoptr(VigilJob) job =
      vigil_analyzer_load(self->analyzer, clip, adapters, device, precision, cpu_threads);
  g_object_set_data_full(G_OBJECT(job), "vigil-model-key", g_steal_pointer(&key), g_free);
  g_object_set_data_full(G_OBJECT(job), "vigil-adapters", g_strdup(adapters), g_free);
  run(self, job, on_loaded);
}

/* ---- analysing ----------------------------------------------------------------- */

/* Hands a finished job's results to the model, under the key the job
 * started with: results of an outdated context are dropped there. */
static void store_results(VigilWorkspace *self, GObject *source) {
  const char *key = g_object_get_data(source, "vigil-key");
  GArray *slices = g_object_get_data(source, "vigil-slices");
  for (guint i = 0; i < slices->len; i++)
    vigil_analysis_session_store(
        self->analysis, key, g_array_index(slices, int, i),
        vigil_analyzer_take_result_at(self->analyzer, VIGIL_JOB(source), i));
  _vigil_workspace_emit(self, WS_ANALYSED, slices);
  if (self->model_load_us) /* the time to first map, for measurements */
    g_debug("first map %.2f s after the model load began",
            (g_get_monotonic_time() - self->model_load_us) / 1e6);
  self->model_load_us = 0;
}

/* One job for these slices, in the model's context: their features come
 * from batched forwards. NULL (told) when a slice cannot be read. */
static VigilJob *analyse_job(VigilWorkspace *self, const int *slices, guint n) {
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_image_free);
  for (guint i = 0; i < n; i++) {
    g_autoptr(GError) error = NULL;
    VigilImage *image = vigil_series_get_slice(self->series, (guint)slices[i], &error);
    if (!image) {
      _vigil_workspace_message(self, error->message);
      return NULL;
    }
    g_ptr_array_add(images, image);
  }
  double center, width;
  vigil_analysis_session_get_window(self->analysis, &center, &width);
  VigilJob *job = vigil_analyzer_analyse_batch(
      self->analyzer, (const VigilImage *const *)images->pdata, n, center, width,
      vigil_analysis_session_get_class_name(self->analysis),
      vigil_analysis_session_get_few_shot(self->analysis));
  GArray *ids = g_array_sized_new(FALSE, FALSE, sizeof(int), n);
  g_array_append_vals(ids, slices, n);
  g_object_set_data_full(G_OBJECT(job), "vigil-slices", ids, (GDestroyNotify)g_array_unref);
  g_object_set_data_full(G_OBJECT(job), "vigil-key",
                         g_strdup(vigil_analysis_session_get_key(self->analysis)), g_free);
  return job;
}

static void on_analysed(GObject *source, GAsyncResult *result, gpointer user_data) {
  VigilWorkspace *self = user_data;
  if (finish(self, source, result))
    store_results(self, source);
  g_object_unref(self);
}

/* Analyse Series: a few slices per job (as many as the engine encodes in one
 * forward), skipping slices already done, so a cancelled run keeps what it
 * finished and a new run continues from there. */
static void series_step(VigilWorkspace *self);

static void on_series_step(GObject *source, GAsyncResult *result, gpointer user_data) {
  VigilWorkspace *self = user_data;
  if (finish(self, source, result)) {
    store_results(self, source);
    series_step(self);
  } else if (self->files) {
    self->series_running = FALSE;
  }
  g_object_unref(self);
}

static void series_step(VigilWorkspace *self) {
  const int n = self->series ? (int)self->series->slices->len : 0;
  const int batch = MAX(1, vigil_engine_batch_limit(vigil_analyzer_get_engine(self->analyzer)));
  g_autoptr(GArray) missing =
      vigil_analysis_session_missing_slices(self->analysis, (guint)MIN(batch, VG_CLIP_BATCH_MAX));
  const int *slices = (const int *)(void *)missing->data, count = (int)missing->len;
  if (count == 0) {
    self->series_running = FALSE;
    _vigil_workspace_message(self, "The whole series is analysed");
    return;
  }
  g_autoptr(VigilJob) job = analyse_job(self, slices, (guint)count);
  if (!job) {
    self->series_running = FALSE;
    return;
  }
  run(self, job, on_series_step);
  g_autofree char *text =
      count > 1 ? g_strdup_printf("Slices %d to %d of %d", slices[0] + 1, slices[count - 1] + 1, n)
                : g_strdup_printf("Slice %d of %d", slices[0] + 1, n);
  _vigil_workspace_emit(self, WS_ANALYSIS_PROGRESS, (double)slices[0] / n, text);
}

gboolean vigil_workspace_analyse(VigilWorkspace *self, int slice) {
  if (!self->series || !vigil_workspace_model_ready(self) || self->job_cancellable) {
    _vigil_workspace_message(self, !self->series ? "Open a scan first"
                                   : !vigil_workspace_model_ready(self)
                                       ? "The model is not loaded yet"
                                       : "An analysis is running");
    return FALSE;
  }
  if (slice < 0) {
    self->series_running = TRUE;
    series_step(self);
    return TRUE;
  }
  g_autoptr(VigilJob) job = analyse_job(self, &slice, 1);
  if (job)
    run(self, job, on_analysed);
  return job != NULL;
}

GCancellable *vigil_workspace_begin_report(VigilWorkspace *self) {
  if (self->report_cancellable || !self->files)
    return NULL;
  self->report_cancellable = g_cancellable_new();
  return self->report_cancellable;
}

gboolean vigil_workspace_end_report(VigilWorkspace *self) {
  if (!self->report_cancellable)
    return FALSE;
  g_clear_object(&self->report_cancellable);
  return TRUE;
}

gboolean vigil_workspace_is_reporting(VigilWorkspace *self) {
  return self->report_cancellable != NULL;
}

void vigil_workspace_cancel_report(VigilWorkspace *self) {
  g_cancellable_cancel(self->report_cancellable);
}

gboolean vigil_workspace_remove_reference(VigilWorkspace *self, guint64 id, GError **error) {
  if (!vigil_analysis_session_find_reference(self->analysis, id)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "There is no reference %" G_GUINT64_FORMAT,
                id);
    return FALSE;
  }
  /* Never blocks: a running analysis applies it before it scores. */
  if (!vigil_analyzer_remove_reference(self->analyzer, id, error))
    return FALSE;
  vigil_analysis_session_remove_reference(self->analysis, id);
  return TRUE;
}

void _vigil_workspace_analysis_init(VigilWorkspace *self) {
  self->analyzer = vigil_analyzer_new();
  self->analysis = vigil_analysis_session_new();
  self->references = vigil_reference_queue_new(self->analyzer, self->analysis);
  _vigil_workspace_calibration_init(self);
}

void _vigil_workspace_analysis_dispose(VigilWorkspace *self) {
  if (self->analysis)
    g_signal_handlers_disconnect_by_data(self->analysis, self);
  g_clear_pointer(&self->adapters_path, g_free);
  _vigil_workspace_calibration_dispose(self);
  g_cancellable_cancel(self->job_cancellable);
  g_clear_object(&self->job_cancellable);
  g_cancellable_cancel(self->report_cancellable);
  g_clear_object(&self->report_cancellable);
  if (self->references) {
    g_signal_handlers_disconnect_by_data(self->references, self);
    vigil_reference_queue_cancel(self->references);
    vigil_reference_queue_set_scan(self->references, NULL);
  }
  g_clear_object(&self->references); /* jobs still running hold their own reference */
  if (self->analysis)                /* the widgets observing it may hold it a little longer */
    g_signal_handlers_disconnect_by_data(self->analysis, self);
  g_clear_object(&self->analysis);
  g_clear_object(&self->analyzer);
  g_clear_pointer(&self->fallback_shown, g_free);
}
