/* VigilWorkspace without a display, with a random tiny model on the CPU:
 * opening a folder indexes it and shows its first series; restoring a
 * .vigil applies its settings at once, its view once the scan is read and
 * its references once the model is loaded too (quietly, telling only what
 * is gone); saving captures the view the window reports; analysing a slice
 * and the whole series stores results in the analysis model. */
#include <glib/gstdio.h>
#include <string.h>

#include "test-util.h"
#include "vigil-png.h"
#include "vigil-workspace.h"

static char *dir, *scans, *outside, *clip_path, *adapters_path;

typedef struct {
  guint scan_started, series_added, scan_finished, show_series, model_changed, analysed;
  guint restore_settings, restore_view;
  char *model_problem;
  GPtrArray *messages;
  char *restored_uid; /* the view restored: its series and slice */
  int restored_slice;
} Seen;

static void count(guint *n) {
  (*n)++;
}

static void on_message(VigilWorkspace *ws, const char *message, Seen *seen) {
  (void)ws;
  g_ptr_array_add(seen->messages, g_strdup(message));
}

static void on_model_changed(VigilWorkspace *ws, const char *problem, Seen *seen) {
  (void)ws;
  g_free(seen->model_problem);
  seen->model_problem = g_strdup(problem);
  seen->model_changed++;
}

static void on_restore_settings(VigilWorkspace *ws, const VigilSession *s, Seen *seen) {
  /* The model has them already; the window's panel shows them. */
  VigilAnalysisSession *analysis = vigil_workspace_get_analysis(ws);
  g_assert_cmpstr(s->custom_class, ==, "tumour");
  g_assert_cmpstr(vigil_analysis_session_get_class_name(analysis), ==, "tumour");
  g_assert_true(vigil_analysis_session_get_few_shot(analysis));
  seen->restore_settings++;
}

static void on_restore_view(VigilWorkspace *ws, const VigilSession *s, Seen *seen) {
  /* The series is shown before its view is restored. */
  g_assert_cmpstr(vigil_workspace_get_series(ws)->uid, ==, s->series_uid);
  g_free(seen->restored_uid);
  seen->restored_uid = g_strdup(s->series_uid);
  seen->restored_slice = s->slice;
  seen->restore_view++;
}

/* The window fills in what only the view knows. */
static void on_capture_view(VigilWorkspace *ws, VigilSession *s, gpointer data) {
  (void)ws, (void)data;
  s->zoom = 2.5;
}

static VigilWorkspace *workspace_new(Seen *seen) {
  VigilWorkspace *ws = vigil_workspace_new();
  seen->messages = g_ptr_array_new_with_free_func(g_free);
  g_signal_connect_swapped(ws, "scan-started", G_CALLBACK(count), &seen->scan_started);
  g_signal_connect_swapped(ws, "series-added", G_CALLBACK(count), &seen->series_added);
  g_signal_connect_swapped(ws, "scan-finished", G_CALLBACK(count), &seen->scan_finished);
  g_signal_connect_swapped(ws, "show-series", G_CALLBACK(count), &seen->show_series);
  g_signal_connect_swapped(ws, "analysed", G_CALLBACK(count), &seen->analysed);
  g_signal_connect(ws, "message", G_CALLBACK(on_message), seen);
  g_signal_connect(ws, "model-changed", G_CALLBACK(on_model_changed), seen);
  g_signal_connect(ws, "restore-settings", G_CALLBACK(on_restore_settings), seen);
  g_signal_connect(ws, "restore-view", G_CALLBACK(on_restore_view), seen);
  g_signal_connect(ws, "capture-view", G_CALLBACK(on_capture_view), NULL);
  return ws;
}

static void workspace_free(VigilWorkspace *ws, Seen *seen) {
  g_object_run_dispose(G_OBJECT(ws));
  g_object_unref(ws);
  g_ptr_array_unref(seen->messages);
  g_free(seen->model_problem);
  g_free(seen->restored_uid);
}

static void wait_for(const guint *counter, guint want) {
  while (*counter < want)
    g_main_context_iteration(NULL, TRUE);
}

static gboolean has_message(Seen *seen, const char *prefix) {
  for (guint i = 0; i < seen->messages->len; i++)
    if (g_str_has_prefix(g_ptr_array_index(seen->messages, i), prefix))
      return TRUE;
  return FALSE;
}

static char *write_png(const char *folder, const char *name, int seed) {
  guint8 pixels[48 * 48];
  for (int i = 0; i < 48 * 48; i++)
    pixels[i] = (guint8)((i * 7 + seed * 31) % 251);
  char *path = g_build_filename(folder, name, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_png_save_u8(path, pixels, 48, 48, 1, &error));
  return path;
}

static void load_model(VigilWorkspace *ws, Seen *seen) {
  guint before = seen->model_changed;
  vigil_workspace_load_model(ws, clip_path, adapters_path, "cpu", VIGIL_PRECISION_F32, 0);
  g_assert_true(vigil_workspace_is_busy(ws));
  wait_for(&seen->model_changed, before + 1);
  g_assert_null(seen->model_problem);
  g_assert_true(vigil_workspace_model_ready(ws));
  g_assert_false(vigil_workspace_is_busy(ws));
  /* The same model again is not loaded again. */
  vigil_workspace_load_model(ws, clip_path, adapters_path, "cpu", VIGIL_PRECISION_F32, 0);
  g_assert_false(vigil_workspace_is_busy(ws));
}

static void open_folder(VigilWorkspace *ws, Seen *seen) {
  g_autoptr(GFile) folder = g_file_new_for_path(scans);
  vigil_workspace_add_files(ws, &folder, 1);
  g_assert_cmpuint(seen->scan_started, ==, 1);
  wait_for(&seen->scan_finished, 1);
}

static void test_open(void) {
  Seen seen = {0};
  VigilWorkspace *ws = workspace_new(&seen);
  g_autoptr(GFile) session = g_file_new_for_path(scans); /* not a .vigil */
  g_assert_false(vigil_workspace_open_session(ws, session));
  open_folder(ws, &seen);
  g_assert_cmpuint(g_list_model_get_n_items(vigil_workspace_get_files(ws)), ==, 1);
  g_assert_cmpuint(seen.series_added, ==, 2);
  g_assert_cmpuint(vigil_scan_n_series(vigil_workspace_get_scan(ws)), ==, 2);
  /* The first series came up by itself, once. */
  g_assert_cmpuint(seen.show_series, ==, 2); /* NULL as the scan started, then the first */
  g_assert_nonnull(vigil_workspace_get_series(ws));
  g_assert_true(vigil_analysis_session_get_series(vigil_workspace_get_analysis(ws)) ==
                vigil_workspace_get_series(ws));
  guint shown_ms, indexed_ms;
  gboolean early;
  vigil_workspace_get_index_times(ws, &shown_ms, &indexed_ms, &early);
  g_assert_cmpuint(shown_ms, <=, indexed_ms);
  g_assert_cmpuint(seen.messages->len, ==, 0);
  g_assert_false(vigil_workspace_is_restoring(ws));
  workspace_free(ws, &seen);
}

/* A session naming the folder, its second series, and three references: a
 * slice of the first series, a file outside, and a series that is gone. */
static const VigilSeries *nth_series(VigilScan *scan, guint n) {
  for (guint i = 0; i < scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    if (n < study->series->len)
      return g_ptr_array_index(study->series, n);
    n -= study->series->len;
  }
  g_assert_not_reached();
}

static char *write_session(const char *name, VigilScan *scan) {
  const VigilSeries *first = nth_series(scan, 0), *second = nth_series(scan, 1);
  g_autoptr(VigilSession) s = vigil_session_new();
  g_ptr_array_add(s->open_paths, g_strdup(scans));
  s->custom_class = g_strdup("tumour");
  g_free(s->mode); /* "zero-shot" by default */
  s->mode = g_strdup("few-shot");
  s->series_uid = g_strdup(second->uid);
  s->slice = 0;
  s->zoom = 1;
  s->window_center = 100, s->window_width = 50, s->has_window = TRUE;
  const VigilSlice *slice = g_ptr_array_index(first->slices, 0);
  vigil_session_add_reference(s, slice->path, first->uid, 0);
  vigil_session_add_reference(s, outside, NULL, 0);
  vigil_session_add_reference(s, "/no/such/file.png", "1.2.3.gone", 0);
  char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_session_save(s, path, &error));
  return path;
}

static void test_restore(void) {
  const char *paths[] = {scans, NULL};
  g_autoptr(VigilScan) scan = vigil_scan_open(paths, VIGIL_SLICE_CACHE_DEFAULT);
  g_autofree char *path = write_session("restore.vigil", scan);
  Seen seen = {0};
  VigilWorkspace *ws = workspace_new(&seen);
  VigilAnalysisSession *analysis = vigil_workspace_get_analysis(ws);
  g_autoptr(GFile) file = g_file_new_for_path(path);
  g_assert_true(vigil_workspace_open_session(ws, file));
  /* The settings at once; the view once the scan is read. */
  g_assert_cmpuint(seen.restore_settings, ==, 1);
  g_assert_cmpuint(seen.restore_view, ==, 0);
  g_assert_true(vigil_workspace_is_restoring(ws));
  wait_for(&seen.scan_finished, 1);
  g_assert_cmpuint(seen.restore_view, ==, 1);
  g_assert_cmpint(vigil_workspace_get_slice(ws), ==, seen.restored_slice);
  /* The references wait for the model. */
  g_assert_true(vigil_workspace_is_restoring(ws));
  g_assert_cmpuint(vigil_analysis_session_n_references(analysis), ==, 0);
  load_model(ws, &seen);
  while (vigil_workspace_is_restoring(ws))
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpuint(vigil_analysis_session_n_references(analysis), ==, 2);
  g_assert_cmpstr(vigil_analysis_session_get_reference(analysis, 1)->path, ==, outside);
  /* Quiet: what was restored is not news, what is gone is. */
  g_assert_true(has_message(&seen, "file.png was not added as a reference: "));
  g_assert_false(has_message(&seen, "Added"));

  /* Saving captures the files, the references and the view. */
  vigil_workspace_set_view(ws, 0, 40, 400);
  g_autofree char *saved = g_build_filename(dir, "saved.vigil", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_workspace_save_session(ws, saved, &error));
  g_autoptr(VigilSession) back = vigil_session_load(saved, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(back->open_paths->len, ==, 1);
  g_assert_cmpstr(g_ptr_array_index(back->open_paths, 0), ==, scans);
  g_assert_cmpstr(back->series_uid, ==, seen.restored_uid);
  g_assert_cmpuint(back->references->len, ==, 2);
  g_assert_cmpstr(back->custom_class, ==, "tumour");
  g_assert_cmpfloat(back->window_width, ==, 400);
  g_assert_cmpfloat(back->zoom, ==, 2.5);
  workspace_free(ws, &seen);
}

/* Removing a reference is autosaved; the autosave restores it. */
static void test_autosave(void) {
  Seen seen = {0};
  VigilWorkspace *ws = workspace_new(&seen);
  open_folder(ws, &seen);
  g_autofree char *path = vigil_session_autosave_path();
  g_remove(path);
  vigil_workspace_flush_autosave(ws); /* the scan finishing asked for one */
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilSession) s = vigil_session_load(path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s->series_uid, ==, vigil_workspace_get_series(ws)->uid);
  g_assert_false(vigil_workspace_remove_reference(ws, 42, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  workspace_free(ws, &seen);
}

/* One report at a time; closing the workspace cancels it. */
static void test_report_slot(void) {
  VigilWorkspace *ws = vigil_workspace_new();
  GCancellable *c = vigil_workspace_begin_report(ws);
  g_assert_nonnull(c);
  g_assert_null(vigil_workspace_begin_report(ws));
  g_assert_true(vigil_workspace_is_reporting(ws));
  vigil_workspace_cancel_report(ws);
  g_assert_true(g_cancellable_is_cancelled(c));
  g_assert_true(vigil_workspace_end_report(ws));
  g_assert_false(vigil_workspace_end_report(ws));
  g_autoptr(GCancellable) running = g_object_ref(vigil_workspace_begin_report(ws));
  g_object_run_dispose(G_OBJECT(ws));
  g_assert_true(g_cancellable_is_cancelled(running));
  g_assert_false(vigil_workspace_end_report(ws)); /* the job ends after the window closed */
  g_assert_null(vigil_workspace_begin_report(ws));
  g_object_unref(ws);
}

static void test_analyse(void) {
  Seen seen = {0};
  VigilWorkspace *ws = workspace_new(&seen);
  g_assert_false(vigil_workspace_analyse(ws, 0));
  g_assert_true(has_message(&seen, "Open a scan first"));
  open_folder(ws, &seen);
  g_assert_false(vigil_workspace_analyse(ws, 0));
  g_assert_true(has_message(&seen, "The model is not loaded yet"));
  load_model(ws, &seen);
  VigilAnalysisSession *analysis = vigil_workspace_get_analysis(ws);
  vigil_analysis_session_set_class_name(analysis, "tumour");
  vigil_analysis_session_set_window(analysis, 127.5, 255, "W 255 L 128 (as shown)");
  g_assert_true(vigil_workspace_analyse(ws, 0));
  g_assert_true(vigil_workspace_is_busy(ws));
  wait_for(&seen.analysed, 1);
  g_assert_false(vigil_workspace_is_busy(ws));
  g_assert_nonnull(vigil_analysis_session_get_result(analysis, 0));
  /* The series: nothing is missing, so it says so at once. */
  g_assert_true(vigil_workspace_analyse(ws, -1));
  g_assert_false(vigil_workspace_is_busy(ws));
  g_assert_true(has_message(&seen, "The whole series is analysed"));
  /* A new context makes it stale: the series run analyses it again. */
  vigil_analysis_session_set_class_name(analysis, "lesion");
  g_assert_null(vigil_analysis_session_get_result(analysis, 0));
  g_assert_true(vigil_workspace_analyse(ws, -1));
  wait_for(&seen.analysed, 2);
  while (vigil_workspace_is_busy(ws))
    g_main_context_iteration(NULL, TRUE);
  g_assert_nonnull(vigil_analysis_session_get_result(analysis, 0));
  /* Other CPU threads are another engine: loaded again, with them. */
  const guint before = seen.model_changed;
  vigil_workspace_load_model(ws, clip_path, adapters_path, "cpu", VIGIL_PRECISION_F32, 1);
  g_assert_true(vigil_workspace_is_busy(ws));
  wait_for(&seen.model_changed, before + 1);
  g_autofree char *identity =
      vigil_engine_dup_identity(vigil_analyzer_get_engine(vigil_workspace_get_analyzer(ws)));
  g_assert_nonnull(strstr(identity, ", 1 threads)"));
  workspace_free(ws, &seen);
}

static void wait_references(VigilWorkspace *ws) {
  VigilReferenceQueue *q = vigil_workspace_get_references(ws);
  while (vigil_reference_queue_is_busy(q))
    g_main_context_iteration(NULL, TRUE);
}

/* Waits until the calibration in use has `source` (the job runs on a worker). */
static const VigilCalibration *wait_calibration(VigilAnalysisSession *a,
                                                VigilCalibrationSource source) {
  const VigilCalibration *c;
  while (!(c = vigil_analysis_session_get_calibration(a)) || c->source != source)
    g_main_context_iteration(NULL, TRUE);
  return c;
}

/* Without a labelled file the references calibrate both modes: fewer than
 * three say so, three give a reference calibration with a map part; a
 * labelled file beside the adapters wins over them. */
static void test_reference_calibration(void) {
  Seen seen = {0};
  VigilWorkspace *ws = workspace_new(&seen);
  open_folder(ws, &seen);
  load_model(ws, &seen);
  VigilAnalysisSession *analysis = vigil_workspace_get_analysis(ws);
  vigil_analysis_session_set_class_name(analysis, "tumour");
  vigil_analysis_session_set_window(analysis, 127.5, 255, "W 255 L 128 (as shown)");
  VigilReferenceQueue *q = vigil_workspace_get_references(ws);
  vigil_reference_queue_add_path(q, outside, NULL, 0);
  g_autofree char *more = write_png(dir, "ref2.png", 4), *third = write_png(dir, "ref3.png", 5);
  vigil_reference_queue_add_path(q, more, NULL, 0);
  wait_references(ws);
  const VigilCalibration *c = wait_calibration(analysis, VIGIL_CALIBRATION_UNCALIBRATED);
  g_autofree char *text = vigil_calibration_describe(c);
  g_assert_cmpstr(text, ==, "zero-shot, uncalibrated: 2 normal references (3 needed)");
  vigil_reference_queue_add_path(q, third, NULL, 0);
  wait_references(ws);
  c = wait_calibration(analysis, VIGIL_CALIBRATION_REFERENCES);
  g_assert_false(c->few_shot);
  g_assert_cmpint(c->normal, ==, 3);
  g_assert_true(vigil_calibration_has_map(c));
  vigil_analysis_session_set_few_shot(analysis, TRUE); /* the other mode, from the same job */
  c = vigil_analysis_session_get_calibration(analysis);
  g_assert_nonnull(c);
  g_assert_true(c->few_shot);
  g_assert_cmpint(c->source, ==, VIGIL_CALIBRATION_REFERENCES);
  /* A labelled file for this class and mode wins. */
  VigilCalibration *labelled = vigil_calibration_copy(c);
  labelled->source = VIGIL_CALIBRATION_LABELLED, labelled->abnormal = 2;
  g_autofree char *path = vigil_calibration_default_path(adapters_path, "tumour", TRUE);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_calibration_save(labelled, path, &error));
  vigil_calibration_free(labelled);
  vigil_analysis_session_set_class_name(analysis, "tumour "); /* another context... */
  vigil_analysis_session_set_class_name(analysis, "tumour");  /* ...and back: read again */
  c = wait_calibration(analysis, VIGIL_CALIBRATION_LABELLED);
  g_assert_cmpint(c->abnormal, ==, 2);
  /* The session keeps the calibration used; restored after the file is gone,
   * its copy stands in, and the user is told. */
  g_autofree char *saved = g_build_filename(dir, "calibrated.vigil", NULL);
  g_assert_true(vigil_workspace_save_session(ws, saved, &error));
  g_autoptr(VigilSession) back = vigil_session_load(saved, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(back->calibration, "\"labelled\""));
  workspace_free(ws, &seen);
  g_assert_cmpint(g_unlink(path), ==, 0);
  Seen again = {0};
  VigilWorkspace *restored = workspace_new(&again);
  g_autoptr(GFile) file = g_file_new_for_path(saved);
  g_assert_true(vigil_workspace_open_session(restored, file));
  wait_for(&again.scan_finished, 1);
  load_model(restored, &again);
  c = wait_calibration(vigil_workspace_get_analysis(restored), VIGIL_CALIBRATION_LABELLED);
  g_assert_cmpint(c->abnormal, ==, 2);
  g_assert_true(has_message(&again, "adapters.tumour.few-shot.calibration.json is gone: the "
                                    "scores use the calibration saved in the session"));
  while (vigil_workspace_is_restoring(restored))
    g_main_context_iteration(NULL, TRUE);
  workspace_free(restored, &again);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  dir = test_make_tmp_dir("vigil-workspace-XXXXXX");
  g_setenv("XDG_STATE_HOME", dir, TRUE); /* the autosave goes there */
  scans = g_build_filename(dir, "scans", NULL);
  g_assert_cmpint(g_mkdir(scans, 0700), ==, 0);
  g_free(write_png(scans, "a.png", 1));
  g_free(write_png(scans, "b.png", 2));
  outside = write_png(dir, "outside.png", 3);
  test_write_random_model(dir, "tiny", 7, &clip_path, &adapters_path);
  g_test_add_func("/workspace/open", test_open);
  g_test_add_func("/workspace/restore", test_restore);
  g_test_add_func("/workspace/autosave", test_autosave);
  g_test_add_func("/workspace/report-slot", test_report_slot);
  g_test_add_func("/workspace/analyse", test_analyse);
  g_test_add_func("/workspace/reference-calibration", test_reference_calibration);
  int rc = g_test_run();
  test_remove_tree(dir);
  g_free(dir), g_free(scans), g_free(outside), g_free(clip_path), g_free(adapters_path);
  return rc;
}
