/* The analysis model without a display: the context key, results going
 * stale, references added and removed while a job runs, series changes,
 * what Analyse Series still has to do, and the session file round trip. */
#include <glib/gstdio.h>
#include <math.h>

#include "vigil-analysis-session.h"

/* A series as the session sees it: a UID and a slice count. */
static VigilSeries *fake_series(const char *uid, guint slices) {
  VigilSeries *s = g_new0(VigilSeries, 1);
  s->uid = g_strdup(uid);
  s->slices = g_ptr_array_new();
  g_ptr_array_set_size(s->slices, slices);
  return s;
}

static void fake_series_free(VigilSeries *s) {
  g_free(s->uid);
  g_ptr_array_unref(s->slices);
  g_free(s);
}

static VigilDetection *detection(double score) {
  VigilDetection *d = g_new0(VigilDetection, 1);
  d->zero_score = score;
  return d;
}

typedef struct {
  VigilAnalysisSession *session;
  VigilSeries *series;
  int context_changes, results_changes, references_changes, last_slice;
} Fixture;

static void on_context(VigilAnalysisSession *s, Fixture *f) {
  (void)s;
  f->context_changes++;
}
static void on_results(VigilAnalysisSession *s, int slice, Fixture *f) {
  (void)s;
  f->results_changes++;
  f->last_slice = slice;
}
static void on_references(VigilAnalysisSession *s, Fixture *f) {
  (void)s;
  f->references_changes++;
}

static void count_signal(guint *count) {
  ++*count;
}

static void setup(Fixture *f, gconstpointer data) {
  (void)data;
  f->session = vigil_analysis_session_new();
  f->series = fake_series("1.2.3", 5);
  g_signal_connect(f->session, "context-changed", G_CALLBACK(on_context), f);
  g_signal_connect(f->session, "results-changed", G_CALLBACK(on_results), f);
  g_signal_connect(f->session, "references-changed", G_CALLBACK(on_references), f);
  vigil_analysis_session_set_model(f->session, "clip|adapters|cpu|f32", "CLIP x (sha256 y)");
  vigil_analysis_session_set_series(f->session, f->series);
  vigil_analysis_session_set_class_name(f->session, "Brain");
  vigil_analysis_session_set_window(f->session, 40, 400, "W 400 L 40 (as shown)");
  f->context_changes = f->results_changes = f->references_changes = 0;
}

static void teardown(Fixture *f, gconstpointer data) {
  (void)data;
  g_object_unref(f->session);
  fake_series_free(f->series);
}

static void test_store_and_stale(Fixture *f, gconstpointer data) {
  (void)data;
  /* What the window told it, read back. */
  g_assert_true(vigil_analysis_session_get_series(f->session) == f->series);
  g_assert_cmpstr(vigil_analysis_session_get_class_name(f->session), ==, "Brain");
  g_assert_false(vigil_analysis_session_get_few_shot(f->session));
  double c = 0, w = 0;
  g_assert_cmpstr(vigil_analysis_session_get_window(f->session, &c, &w), ==,
                  "W 400 L 40 (as shown)");
  g_assert_cmpfloat(c, ==, 40);
  g_assert_cmpfloat(w, ==, 400);
  vigil_analysis_session_set_slice(f->session, 3); /* the slice shown is no context */
  g_assert_cmpint(vigil_analysis_session_get_slice(f->session), ==, 3);
  g_assert_cmpint(f->context_changes, ==, 0);
  /* A job keeps a copy: the session's own string goes with the context. */
  g_autofree char *job_key = g_strdup(vigil_analysis_session_get_key(f->session));
  g_assert_true(vigil_analysis_session_store(f->session, job_key, 2, detection(1.5)));
  g_assert_cmpint(f->last_slice, ==, 2);
  const VigilAnalysisResult *r = vigil_analysis_session_get_result(f->session, 2);
  g_assert_nonnull(r);
  g_assert_cmpfloat(r->detection->zero_score, ==, 1.5);
  g_assert_cmpstr(r->class_name, ==, "Brain");
  g_assert_cmpstr(r->window_text, ==, "W 400 L 40 (as shown)");
  g_assert_cmpstr(r->model_identity, ==, "CLIP x (sha256 y)");
  g_assert_nonnull(r->when);
  g_assert_false(r->stale);
  /* The same setting again changes nothing; another window makes it stale. */
  vigil_analysis_session_set_class_name(f->session, "Brain");
  g_assert_cmpint(f->context_changes, ==, 0);
  vigil_analysis_session_set_window(f->session, 50, 350, "W 350 L 50 (as shown)");
  g_assert_cmpint(f->context_changes, ==, 1);
  g_assert_cmpint(f->last_slice, ==, -1);
  g_assert_null(vigil_analysis_session_get_result(f->session, 2));
  r = vigil_analysis_session_get_any_result(f->session, 2);
  g_assert_true(r && r->stale);
  /* A result made under the old key arrives late: dropped. */
  g_assert_false(vigil_analysis_session_store(f->session, job_key, 3, detection(2)));
  g_assert_null(vigil_analysis_session_get_any_result(f->session, 3));
  /* Out of range slices are refused too. */
  const char *key = vigil_analysis_session_get_key(f->session);
  g_assert_false(vigil_analysis_session_store(f->session, key, 5, detection(2)));
  g_assert_false(vigil_analysis_session_store(f->session, key, -1, detection(2)));
}

static void test_context_parts(Fixture *f, gconstpointer data) {
  (void)data;
  g_autofree char *before = g_strdup(vigil_analysis_session_get_key(f->session));
  vigil_analysis_session_set_few_shot(f->session, TRUE);
  g_assert_cmpstr(before, !=, vigil_analysis_session_get_key(f->session));
  vigil_analysis_session_set_few_shot(f->session, FALSE);
  g_assert_cmpstr(before, ==, vigil_analysis_session_get_key(f->session));
  /* A series that grows while indexing may re-sort: its count is context. */
  g_ptr_array_set_size(f->series->slices, 6);
  vigil_analysis_session_set_series(f->session, f->series);
  g_assert_cmpstr(before, !=, vigil_analysis_session_get_key(f->session));
  /* A new model changes the context and empties the bank. */
  vigil_analysis_session_add_reference(f->session, 7, "ref", "/a.dcm", "1.2.3", 0);
  vigil_analysis_session_set_model(f->session, "clip|adapters|vulkan:0|f16", "other");
  g_assert_cmpuint(vigil_analysis_session_n_references(f->session), ==, 0);
  g_assert_cmpstr(vigil_analysis_session_get_model_identity(f->session), ==, "other");
}

/* Zero-shot maps do not depend on the references; few-shot ones do, and a
 * reference added or removed while a job runs makes its results stale. */
static void test_references_during_analysis(Fixture *f, gconstpointer data) {
  (void)data;
  g_autofree char *zero_key = g_strdup(vigil_analysis_session_get_key(f->session));
  vigil_analysis_session_add_reference(f->session, 11, "a", "/a.dcm", "1.2.3", 1);
  g_assert_cmpint(f->references_changes, ==, 1);
  g_assert_cmpstr(zero_key, ==, vigil_analysis_session_get_key(f->session));
  vigil_analysis_session_set_few_shot(f->session, TRUE);
  g_autofree char *job_key = g_strdup(vigil_analysis_session_get_key(f->session));
  g_assert_true(vigil_analysis_session_store(f->session, job_key, 0, detection(1)));
  g_assert_cmpuint(vigil_analysis_session_get_result(f->session, 0)->references->len, ==, 1);
  g_assert_false(vigil_analysis_session_staled_by_references(f->session, 0));
  /* A second job starts, then a reference comes in before it ends. */
  vigil_analysis_session_add_reference(f->session, 12, "b", "/b.png", NULL, 0);
  g_assert_null(vigil_analysis_session_get_result(f->session, 0));
  /* The shown result was current until this change, the references': out of date. */
  g_assert_true(vigil_analysis_session_staled_by_references(f->session, 0));
  vigil_analysis_session_set_window(f->session, 50, 350, "W 350 L 50");
  g_assert_false(vigil_analysis_session_staled_by_references(f->session, 0));
  vigil_analysis_session_add_reference(f->session, 13, "c", "/c.png", NULL, 0);
  /* Stale since an earlier change (the window): not the references' doing. */
  g_assert_false(vigil_analysis_session_staled_by_references(f->session, 0));
  g_assert_true(vigil_analysis_session_remove_reference(f->session, 13));
  g_assert_false(vigil_analysis_session_store(f->session, job_key, 1, detection(1)));
  /* Removing one: unknown ids are refused, known ones change the context. */
  g_assert_false(vigil_analysis_session_remove_reference(f->session, 99));
  g_autofree char *with_two = g_strdup(vigil_analysis_session_get_key(f->session));
  g_assert_true(vigil_analysis_session_remove_reference(f->session, 11));
  g_assert_cmpstr(with_two, !=, vigil_analysis_session_get_key(f->session));
  g_assert_cmpuint(vigil_analysis_session_n_references(f->session), ==, 1);
  g_assert_cmpuint(vigil_analysis_session_find_reference(f->session, 12)->slice, ==, 0);
  g_assert_null(vigil_analysis_session_find_reference(f->session, 11));
  g_assert_null(vigil_analysis_session_get_reference(f->session, 1));
}

static void test_series_change(Fixture *f, gconstpointer data) {
  (void)data;
  const char *key = vigil_analysis_session_get_key(f->session);
  g_assert_true(vigil_analysis_session_store(f->session, key, 0, detection(1)));
  VigilSeries *other = fake_series("9.9", 3);
  vigil_analysis_session_set_series(f->session, other);
  g_assert_null(vigil_analysis_session_get_any_result(f->session, 0));
  vigil_analysis_session_set_series(f->session, NULL);
  fake_series_free(other);
}

static void test_missing_slices(Fixture *f, gconstpointer data) {
  (void)data;
  const char *key = vigil_analysis_session_get_key(f->session);
  vigil_analysis_session_store(f->session, key, 0, detection(1));
  vigil_analysis_session_store(f->session, key, 2, detection(3));
  g_autoptr(GArray) missing = vigil_analysis_session_missing_slices(f->session, 2);
  g_assert_cmpuint(missing->len, ==, 2);
  g_assert_cmpint(g_array_index(missing, int, 0), ==, 1);
  g_assert_cmpint(g_array_index(missing, int, 1), ==, 3);
  g_autoptr(GPtrArray) done = vigil_analysis_session_current_results(f->session);
  g_assert_cmpuint(done->len, ==, 2);
  g_assert_cmpint(((VigilAnalysisResult *)g_ptr_array_index(done, 1))->slice, ==, 2);
}

static void test_save_and_restore(Fixture *f, gconstpointer data) {
  (void)data;
  vigil_analysis_session_set_few_shot(f->session, TRUE);
  vigil_analysis_session_add_reference(f->session, 1, "a", "/scans/ct", "1.2.3", 4);
  vigil_analysis_session_add_reference(f->session, 2, "b", "/refs/normal.png", NULL, 0);
  g_autoptr(VigilSession) out = vigil_session_new();
  vigil_analysis_session_save_to(f->session, out);
  g_autofree char *dir = g_dir_make_tmp("vigil-analysis-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "s.vigil", NULL);
  g_assert_true(vigil_session_save(out, path, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilSession) in = vigil_session_load(path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(in->mode, ==, "few-shot");
  g_assert_cmpstr(in->custom_class, ==, "Brain");
  g_assert_null(in->domain);
  /* A domain's class is saved as the domain, so a restore picks its window too. */
  vigil_analysis_session_set_domain(f->session, "ct-liver");
  g_assert_cmpstr(vigil_analysis_session_get_domain(f->session), ==, "ct-liver");
  vigil_analysis_session_save_to(f->session, out);
  g_assert_cmpstr(out->domain, ==, "ct-liver");
  g_assert_null(out->custom_class);

  /* The report's inputs: the note and the marks, per series, through a file and back. */
  guint report_changes = 0;
  g_signal_connect_swapped(f->session, "report-changed", G_CALLBACK(count_signal), &report_changes);
  vigil_analysis_session_set_note(f->session, "Lesion in segment VII");
  vigil_analysis_session_set_marked(f->session, 5, TRUE);
  vigil_analysis_session_set_marked(f->session, 2, TRUE);
  vigil_analysis_session_set_marked(f->session, 5, TRUE); /* no change */
  g_assert_cmpuint(report_changes, ==, 3);
  g_assert_true(vigil_analysis_session_is_marked(f->session, 2));
  g_assert_false(vigil_analysis_session_is_marked(f->session, 3));
  g_autoptr(GArray) marks = vigil_analysis_session_marked_slices(f->session);
  g_assert_cmpuint(marks->len, ==, 2);
  g_assert_cmpint(g_array_index(marks, int, 0), ==, 2); /* in slice order */
  vigil_analysis_session_save_to(f->session, out);
  g_assert_true(vigil_session_save(out, path, NULL));
  g_autoptr(VigilSession) again = vigil_session_load(path, NULL);
  g_assert_nonnull(again);
  g_autoptr(VigilAnalysisSession) restored = vigil_analysis_session_new();
  vigil_analysis_session_set_series(restored, vigil_analysis_session_get_series(f->session));
  vigil_analysis_session_restore_from(restored, again);
  g_assert_cmpstr(vigil_analysis_session_get_note(restored), ==, "Lesion in segment VII");
  g_assert_true(vigil_analysis_session_is_marked(restored, 5));
  vigil_analysis_session_set_marked(restored, 5, FALSE);
  g_assert_false(vigil_analysis_session_is_marked(restored, 5));
  vigil_analysis_session_set_series(restored, NULL); /* marks are per series */
  g_assert_false(vigil_analysis_session_is_marked(restored, 2));
  g_assert_cmpuint(in->references->len, ==, 2);
  VigilSliceRef *r0 = g_ptr_array_index(in->references, 0);
  VigilSliceRef *r1 = g_ptr_array_index(in->references, 1);
  g_assert_cmpstr(r0->path, ==, "/scans/ct");
  g_assert_cmpstr(r0->series_uid, ==, "1.2.3");
  g_assert_cmpint(r0->slice, ==, 4);
  g_assert_cmpstr(r1->path, ==, "/refs/normal.png");
  g_assert_null(r1->series_uid);
  g_unlink(path);
  g_rmdir(dir);
}

/* The calibration in use maps a result's raw score; none: NAN (uncalibrated). */
static void test_calibration(Fixture *f, gconstpointer data) {
  (void)data;
  guint changes = 0;
  g_signal_connect_swapped(f->session, "calibration-changed", G_CALLBACK(count_signal), &changes);
  g_assert_true(vigil_analysis_session_store(f->session, vigil_analysis_session_get_key(f->session),
                                             0, detection(0.6)));
  const VigilAnalysisResult *r = vigil_analysis_session_get_result(f->session, 0);
  g_assert_true(isnan(vigil_analysis_session_calibrated(f->session, r)));
  const double scores[] = {0.1, 0.2, 0.3, 0.5, 0.7, 0.9};
  const guint8 labels[] = {0, 0, 0, 1, 1, 1};
  g_autoptr(GError) error = NULL;
  VigilCalibration *c =
      vigil_calibration_new_labelled(NULL, "Brain", FALSE, 0, 6, scores, labels, &error);
  g_assert_no_error(error);
  vigil_analysis_session_set_calibration(f->session, c);
  g_assert_cmpuint(changes, ==, 1);
  g_assert_true(vigil_analysis_session_get_calibration(f->session) == c);
  const double want = CLAMP((0.6 - c->threshold) / (c->max - c->min) + 0.5, 0, 1);
  g_assert_cmpfloat_with_epsilon(vigil_analysis_session_calibrated(f->session, r), want, 1e-12);
  vigil_analysis_session_set_calibration(f->session, NULL);
  g_assert_cmpuint(changes, ==, 2);
  g_assert_true(isnan(vigil_analysis_session_calibrated(f->session, r)));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_log_set_handler("Vigil", G_LOG_LEVEL_INFO, g_log_default_handler, NULL);
#define ADD(path, fn) g_test_add("/analysis-session/" path, Fixture, NULL, setup, fn, teardown)
  ADD("store-and-stale", test_store_and_stale);
  ADD("calibration", test_calibration);
  ADD("context-parts", test_context_parts);
  ADD("references-during-analysis", test_references_during_analysis);
  ADD("series-change", test_series_change);
  ADD("missing-slices", test_missing_slices);
  ADD("save-and-restore", test_save_and_restore);
  return g_test_run();
}
