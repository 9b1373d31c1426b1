/* VigilReferenceQueue with a random tiny model on the CPU, no display: a
 * batch of sources (files, a series of the open scan, bad files) adds the
 * good ones to the analysis model and tells what it added and refused in
 * two sentences; duplicates and a missing model are refused; quiet batches
 * (restoring a session) add without announcing; cancelling leaves nothing
 * behind, in the model or in the analyzer's bank. */
#include "test-util.h"
#include "vigil-png.h"
#include "vigil-reference-queue.h"

static char *dir, *clip_path, *adapters_path;

typedef struct {
  gboolean finished;
  char *added, *failed;
  GArray *ready_ids;
} Outcome;

static void on_ready(VigilReferenceQueue *q, guint64 id, const VigilImage *image, double center,
                     double width, Outcome *o) {
  (void)q;
  g_assert_nonnull(image);
  g_assert_cmpfloat(width, >, 0);
  (void)center;
  g_array_append_val(o->ready_ids, id);
}

static void on_finished(VigilReferenceQueue *q, const char *added, const char *failed, Outcome *o) {
  (void)q;
  o->finished = TRUE;
  g_free(o->added), g_free(o->failed);
  o->added = g_strdup(added);
  o->failed = g_strdup(failed);
}

static void outcome_clear(Outcome *o) {
  g_clear_pointer(&o->added, g_free);
  g_clear_pointer(&o->failed, g_free);
  g_array_set_size(o->ready_ids, 0);
  o->finished = FALSE;
}

static void wait_finished(Outcome *o) {
  while (!o->finished)
    g_main_context_iteration(NULL, TRUE);
}

static void keep_result(GObject *source, GAsyncResult *result, gpointer user_data) {
  (void)source;
  *(GAsyncResult **)user_data = g_object_ref(result);
}

static VigilAnalyzer *analyzer_with_model(gboolean load) {
  VigilAnalyzer *an = vigil_analyzer_new();
  if (!load)
    return an;
  g_autoptr(VigilJob) job =
      vigil_analyzer_load(an, clip_path, adapters_path, "cpu", VIGIL_PRECISION_F32, 0);
  g_autoptr(GAsyncResult) result = NULL;
  vigil_job_run_async(job, NULL, keep_result, &result);
  while (!result)
    g_main_context_iteration(NULL, TRUE);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_job_run_finish(job, result, &error));
  return an;
}

static char *write_png(const char *name, int seed) {
  guint8 pixels[48 * 48];
  for (int i = 0; i < 48 * 48; i++)
    pixels[i] = (guint8)((i * 7 + seed * 31) % 251);
  char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_png_save_u8(path, pixels, 48, 48, 1, &error));
  return path;
}

typedef struct {
  VigilAnalyzer *analyzer;
  VigilAnalysisSession *session;
  VigilReferenceQueue *queue;
  VigilScan *scan;
  Outcome outcome;
} Fixture;

static void fixture_set_up(Fixture *f, gboolean load) {
  f->analyzer = analyzer_with_model(load);
  f->session = vigil_analysis_session_new();
  f->queue = vigil_reference_queue_new(f->analyzer, f->session);
  g_autofree char *open = write_png("open.png", 1);
  const char *paths[] = {open, NULL};
  f->scan = vigil_scan_open(paths, VIGIL_SLICE_CACHE_DEFAULT);
  vigil_reference_queue_set_scan(f->queue, f->scan);
  f->outcome.ready_ids = g_array_new(FALSE, FALSE, sizeof(guint64));
  g_signal_connect(f->queue, "reference-ready", G_CALLBACK(on_ready), &f->outcome);
  g_signal_connect(f->queue, "batch-finished", G_CALLBACK(on_finished), &f->outcome);
}

static void fixture_tear_down(Fixture *f) {
  g_object_unref(f->queue);
  g_object_unref(f->session);
  g_object_unref(f->analyzer);
  vigil_scan_free(f->scan);
  outcome_clear(&f->outcome);
  g_array_unref(f->outcome.ready_ids);
}

static const char *open_series_uid(Fixture *f) {
  VigilStudy *study = g_ptr_array_index(f->scan->studies, 0);
  return ((VigilSeries *)g_ptr_array_index(study->series, 0))->uid;
}

static void test_batch(void) {
  Fixture f = {0};
  fixture_set_up(&f, TRUE);
  g_autofree char *good = write_png("good.png", 2);
  g_autofree char *junk = g_build_filename(dir, "junk.dcm", NULL);
  g_assert_true(g_file_set_contents(junk, "not a scan", -1, NULL));
  g_autofree char *missing = g_build_filename(dir, "missing.png", NULL);
  vigil_reference_queue_add_path(f.queue, good, NULL, -1);
  vigil_reference_queue_add_path(f.queue, junk, NULL, -1);
  vigil_reference_queue_add_series(f.queue, open_series_uid(&f), 0, NULL);
  vigil_reference_queue_add_path(f.queue, missing, NULL, -1);
  g_assert_true(vigil_reference_queue_is_busy(f.queue));
  wait_finished(&f.outcome);
  g_assert_false(vigil_reference_queue_is_busy(f.queue));
  g_assert_cmpstr(f.outcome.added, ==, "Added 2 normal references");
  g_assert_true(g_str_has_prefix(f.outcome.failed, "2 files were not added as references: "
                                                   "junk.dcm, missing.png (junk.dcm: "));
  g_assert_cmpuint(vigil_analysis_session_n_references(f.session), ==, 2);
  g_assert_cmpuint(vigil_analyzer_reference_count(f.analyzer), ==, 2);
  g_assert_cmpuint(f.outcome.ready_ids->len, ==, 2);
  const VigilAnalysisReference *r0 = vigil_analysis_session_get_reference(f.session, 0);
  const VigilAnalysisReference *r1 = vigil_analysis_session_get_reference(f.session, 1);
  g_assert_cmpstr(r0->path, ==, good);
  g_assert_cmpstr(r0->label, ==, "good.png");
  g_assert_cmpint(r0->slice, ==, 0);
  g_assert_cmpstr(r1->series_uid, ==, open_series_uid(&f));
  g_assert_cmpuint(r0->id, ==, g_array_index(f.outcome.ready_ids, guint64, 0));
  g_assert_cmpuint(r1->id, ==, g_array_index(f.outcome.ready_ids, guint64, 1));

  /* The same slice again is refused, and nothing is added. */
  outcome_clear(&f.outcome);
  vigil_reference_queue_add_series(f.queue, open_series_uid(&f), 0, NULL);
  wait_finished(&f.outcome);
  g_assert_null(f.outcome.added);
  g_assert_cmpstr(f.outcome.failed, ==,
                  "open.png was not added as a reference: "
                  "it is already a reference");
  g_assert_cmpuint(vigil_analysis_session_n_references(f.session), ==, 2);

  /* A series that is not open is refused by name. */
  outcome_clear(&f.outcome);
  vigil_reference_queue_add_series(f.queue, "1.2.3.no.such.series", -1, NULL);
  wait_finished(&f.outcome);
  g_assert_cmpstr(f.outcome.failed, ==,
                  "A series was not added as a reference: "
                  "it is no longer open");
  fixture_tear_down(&f);
}

static void test_quiet(void) {
  Fixture f = {0};
  fixture_set_up(&f, TRUE);
  g_autofree char *good = write_png("quiet.png", 3);
  vigil_reference_queue_set_quiet(f.queue, TRUE);
  vigil_reference_queue_add_path(f.queue, good, NULL, -1);
  wait_finished(&f.outcome);
  g_assert_null(f.outcome.added);
  g_assert_null(f.outcome.failed);
  g_assert_cmpuint(vigil_analysis_session_n_references(f.session), ==, 1);
  fixture_tear_down(&f);
}

static void test_no_model(void) {
  Fixture f = {0};
  fixture_set_up(&f, FALSE);
  vigil_reference_queue_add_series(f.queue, open_series_uid(&f), 0, NULL);
  wait_finished(&f.outcome);
  g_assert_cmpstr(f.outcome.failed, ==,
                  "open.png was not added as a reference: "
                  "the model is not loaded");
  g_assert_cmpuint(vigil_analysis_session_n_references(f.session), ==, 0);
  fixture_tear_down(&f);
}

/* Cancelled while encoding or opening: nothing reaches the model or the bank. */
static void test_cancel(void) {
  Fixture f = {0};
  fixture_set_up(&f, TRUE);
  g_autofree char *good = write_png("cancel.png", 4);
  vigil_reference_queue_add_series(f.queue, open_series_uid(&f), 0, NULL); /* encoding */
  vigil_reference_queue_add_path(f.queue, good, NULL, -1);                 /* waiting */
  vigil_reference_queue_cancel(f.queue);
  wait_finished(&f.outcome);
  g_assert_null(f.outcome.added);
  g_assert_null(f.outcome.failed);
  for (int i = 0; i < 50; i++)
    g_main_context_iteration(NULL, FALSE);
  g_assert_false(vigil_reference_queue_is_busy(f.queue));
  g_assert_cmpuint(vigil_analysis_session_n_references(f.session), ==, 0);
  g_assert_cmpuint(vigil_analyzer_reference_count(f.analyzer), ==, 0);
  /* The queue works again afterwards. */
  outcome_clear(&f.outcome);
  vigil_reference_queue_add_path(f.queue, good, NULL, -1);
  wait_finished(&f.outcome);
  g_assert_cmpstr(f.outcome.added, ==, "Added cancel.png as a normal reference");
  fixture_tear_down(&f);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  dir = test_make_tmp_dir("vigil-refqueue-XXXXXX");
  test_write_random_model(dir, "tiny", 7, &clip_path, &adapters_path);
  g_test_add_func("/reference-queue/batch", test_batch);
  g_test_add_func("/reference-queue/quiet", test_quiet);
  g_test_add_func("/reference-queue/no-model", test_no_model);
  g_test_add_func("/reference-queue/cancel", test_cancel);
  int rc = g_test_run();
  test_remove_tree(dir);
  g_free(dir), g_free(clip_path), g_free(adapters_path);
  return rc;
}
