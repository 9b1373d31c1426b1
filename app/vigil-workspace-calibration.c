/* VigilWorkspace's calibration: what the shown scores mean. A labelled
 * calibration beside the adapters for the class and mode wins (checked
 * against the loaded weights, never applied to others); without one, the
 * normal references the user gave calibrate both modes on a worker
 * (vigil_calibration_from_references); with fewer than three the scores are
 * uncalibrated, and the panel says why. */
#include "vigil-job.h"
#include "vigil-workspace-private.h"

/* The restored session's labelled calibration, for these weights, class and mode. */
static gboolean saved_fits(VigilWorkspace *self, VigilEngine *engine, const char *class_name) {
  const VigilCalibration *c = self->saved;
  return c && c->source == VIGIL_CALIBRATION_LABELLED &&
         g_strcmp0(c->class_name, class_name) == 0 &&
         c->few_shot == vigil_analysis_session_get_few_shot(self->analysis) &&
         g_strcmp0(c->clip_sha256, vigil_engine_clip_digest(engine)) == 0 &&
         g_strcmp0(c->adapters_sha256, vigil_engine_adapters_digest(engine)) == 0;
}

void _vigil_workspace_calibration_restore(VigilWorkspace *self, const VigilSession *session) {
  g_clear_pointer(&self->saved, vigil_calibration_free);
  g_autoptr(GError) error = NULL;
  if (session->calibration &&
      !(self->saved = vigil_calibration_from_json(session->calibration, "the session's calibration",
                                                  NULL, &error)))
    _vigil_workspace_message(self, error->message);
  g_clear_pointer(&self->calibration_path, g_free); /* look again, with the saved one in mind */
}

/* The labelled file for this context, read once per path (the restored
 * session's copy where the file is gone). */
static void read_labelled(VigilWorkspace *self) {
  VigilEngine *engine = vigil_analyzer_get_engine(self->analyzer);
  const char *class_name = vigil_analysis_session_get_class_name(self->analysis);
  g_autofree char *path =
      engine && self->adapters_path && class_name
          ? vigil_calibration_default_path(self->adapters_path, class_name,
                                           vigil_analysis_session_get_few_shot(self->analysis))
          : NULL;
  if (path && g_strcmp0(path, self->calibration_path) == 0)
    return; /* the same file for this context: already read */
  g_free(self->calibration_path);
  self->calibration_path = g_strdup(path);
  g_clear_pointer(&self->labelled, vigil_calibration_free);
  if (path && g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_autoptr(GError) error = NULL;
    self->labelled = vigil_calibration_load(path, engine, &error);
    if (!self->labelled)
      _vigil_workspace_message(self, error->message);
  } else if (path && saved_fits(self, engine, class_name)) {
    self->labelled = vigil_calibration_copy(self->saved);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *text =
        g_strdup_printf("%s is gone: the scores use the calibration saved in the session", base);
    _vigil_workspace_message(self, text);
  }
}

/* What the reference calibrations depend on: the model, the class and the
 * references (by bank id, in order). NULL without a model or class. */
static char *references_key(VigilWorkspace *self) {
  const char *model = vigil_analysis_session_get_model_key(self->analysis);
  const char *class_name = vigil_analysis_session_get_class_name(self->analysis);
  if (!model || !class_name || !vigil_analyzer_get_engine(self->analyzer))
    return NULL;
  GString *key = g_string_new(NULL);
  g_string_printf(key, "%s|%s|", model, class_name);
  const guint n = vigil_analysis_session_n_references(self->analysis);
  for (guint i = 0; i < n; i++)
    g_string_append_printf(key, "%" G_GUINT64_FORMAT ",",
                           vigil_analysis_session_get_reference(self->analysis, i)->id);
  return g_string_free(key, FALSE);
}

static void apply(VigilWorkspace *self) {
  const gboolean few = vigil_analysis_session_get_few_shot(self->analysis);
  const VigilCalibration *c = self->labelled ? self->labelled
                              : few          ? self->from_references[1]
                                             : self->from_references[0];
  vigil_analysis_session_set_calibration(self->analysis, vigil_calibration_copy(c));
}

static void on_calibrated(GObject *source, GAsyncResult *result, gpointer user_data) {
  VigilWorkspace *self = user_data;
  g_autoptr(GError) error = NULL;
  const gboolean ok = vigil_job_run_finish(VIGIL_JOB(source), result, &error);
  const char *key = g_object_get_data(source, "vigil-key");
  if (self->files && g_strcmp0(key, self->references_key) == 0) { /* still this context */
    g_clear_object(&self->calibration_cancellable);
    if (ok) {
      VigilCalibration *zero, *few;
      vigil_analyzer_take_calibrations(self->analyzer, VIGIL_JOB(source), &zero, &few);
      self->from_references[0] = zero, self->from_references[1] = few;
      apply(self);
    } else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_autofree char *text =
          g_strdup_printf("Could not calibrate on the references: %s", error->message);
      _vigil_workspace_message(self, text);
    }
  }
  g_object_unref(self);
}

/* The reference calibrations for the current references: kept while they
 * fit, else made again (at once when too few to score, else on a worker). */
static void refresh_references(VigilWorkspace *self) {
  g_autofree char *key = references_key(self);
  if (g_strcmp0(key, self->references_key) == 0)
    return;
  g_cancellable_cancel(self->calibration_cancellable);
  g_clear_object(&self->calibration_cancellable);
  g_free(self->references_key);
  self->references_key = g_steal_pointer(&key);
  g_clear_pointer(&self->from_references[0], vigil_calibration_free);
  g_clear_pointer(&self->from_references[1], vigil_calibration_free);
  if (!self->references_key)
    return;
  const guint n = vigil_analysis_session_n_references(self->analysis);
  const char *class_name = vigil_analysis_session_get_class_name(self->analysis);
  if (n < VIGIL_CALIBRATION_MIN_REFERENCES) { /* no scoring: it only says how many are missing */
    vigil_calibration_from_references(vigil_analyzer_get_engine(self->analyzer), class_name, NULL,
                                      n, NULL, &self->from_references[0], &self->from_references[1],
                                      NULL);
    return;
  }
  g_autoptr(VigilJob) job = vigil_analyzer_calibrate(self->analyzer, class_name);
  g_object_set_data_full(G_OBJECT(job), "vigil-key", g_strdup(self->references_key), g_free);
  self->calibration_cancellable = g_cancellable_new();
  vigil_job_run_async(job, self->calibration_cancellable, on_calibrated, g_object_ref(self));
}

void _vigil_workspace_refresh_calibration(VigilWorkspace *self) {
  read_labelled(self);
  refresh_references(self);
  apply(self);
}

void _vigil_workspace_calibration_forget_model(VigilWorkspace *self) {
  g_clear_pointer(&self->calibration_path, g_free); /* other weights: read again */
  g_clear_pointer(&self->references_key, g_free);
}

void _vigil_workspace_calibration_init(VigilWorkspace *self) {
  g_signal_connect_swapped(self->analysis, "context-changed",
                           G_CALLBACK(_vigil_workspace_refresh_calibration), self);
  g_signal_connect_swapped(self->analysis, "references-changed",
                           G_CALLBACK(_vigil_workspace_refresh_calibration), self);
}

void _vigil_workspace_calibration_dispose(VigilWorkspace *self) {
  g_cancellable_cancel(self->calibration_cancellable);
  g_clear_object(&self->calibration_cancellable);
  g_clear_pointer(&self->calibration_path, g_free);
  g_clear_pointer(&self->references_key, g_free);
  g_clear_pointer(&self->labelled, vigil_calibration_free);
  g_clear_pointer(&self->saved, vigil_calibration_free);
  g_clear_pointer(&self->from_references[0], vigil_calibration_free);
  g_clear_pointer(&self->from_references[1], vigil_calibration_free);
}
