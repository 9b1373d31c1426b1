/* VigilIndexer: background indexing gives the same studies and series as
 * opening in one go, tells about each series once and in time, settles
 * series before the end, and stops cleanly when cancelled or dropped. */
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "dicom-test-util.h"
#include "vigil-indexer.h"

static char *fixtures;
static GThread *main_thread;

typedef struct {
  guint added, changed, progress, finished;
  guint settled_early;  /* progress signals with a settled series before the end */
  guint done_backwards; /* files_done went down */
  guint last_done;
  guint added_after_cancel;
  gboolean cancelled;
} Seen;

static void on_added(VigilIndexer *ix, VigilStudy *study, VigilSeries *series, Seen *seen) {
  g_assert_true(g_thread_self() == main_thread); /* never on the worker */
  g_assert_nonnull(study);
  g_assert_true(g_ptr_array_find(study->series, series, NULL));
  g_assert_false(vigil_indexer_is_finished(ix));
  seen->added++;
  seen->added_after_cancel += seen->cancelled;
}

static void on_changed(VigilIndexer *ix, VigilSeries *series, Seen *seen) {
  (void)ix, (void)series;
  seen->changed++;
}

static void on_progress(VigilIndexer *ix, Seen *seen) {
  g_assert_true(g_thread_self() == main_thread);
  seen->progress++;
  guint done = vigil_indexer_get_files_done(ix);
  seen->done_backwards += done < seen->last_done;
  seen->last_done = done;
  VigilScan *scan = vigil_indexer_get_scan(ix);
  for (guint i = 0; i < scan->studies->len && !vigil_indexer_is_finished(ix); i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len; j++)
      if (vigil_indexer_is_settled(ix, g_ptr_array_index(study->series, j))) {
        seen->settled_early++;
        return;
      }
  }
}

static void on_finished(VigilIndexer *ix, Seen *seen) {
  (void)ix;
  seen->finished++;
}

static VigilIndexer *start(const char *path, guint delay_ms, Seen *seen) {
  const char *paths[] = {path, NULL};
  VigilIndexer *ix = vigil_indexer_new(paths, VIGIL_SLICE_CACHE_DEFAULT);
  vigil_indexer_set_file_delay(ix, delay_ms);
  g_signal_connect(ix, "series-added", G_CALLBACK(on_added), seen);
  g_signal_connect(ix, "series-changed", G_CALLBACK(on_changed), seen);
  g_signal_connect(ix, "progress", G_CALLBACK(on_progress), seen);
  g_signal_connect(ix, "finished", G_CALLBACK(on_finished), seen);
  vigil_indexer_start(ix);
  return ix;
}

static gboolean flag_timeout(gpointer data) {
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for `ms` or until *until is set. */
static void spin(guint ms, const guint *until) {
  gboolean timed_out = FALSE;
  guint id = g_timeout_add(ms, flag_timeout, &timed_out);
  while (!timed_out && !(until && *until))
    g_main_context_iteration(NULL, TRUE);
  if (!timed_out)
    g_source_remove(id);
}

static VigilSeries *find(VigilScan *scan, const char *uid, guint n_slices) {
  for (guint i = 0; i < scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len; j++) {
      VigilSeries *s = g_ptr_array_index(study->series, j);
      if (g_str_equal(s->uid, uid) && s->slices->len == n_slices)
        return s;
    }
  }
  return NULL;
}

static void test_same_as_open(void) {
  Seen seen = {0};
  g_autoptr(VigilIndexer) ix = start(fixtures, 0, &seen);
  spin(60000, &seen.finished);
  g_assert_cmpuint(seen.finished, ==, 1);
  const char *paths[] = {fixtures, NULL};
  g_autoptr(VigilScan) want = vigil_scan_open(paths, VIGIL_SLICE_CACHE_DEFAULT);
  VigilScan *got = vigil_indexer_get_scan(ix);
  g_assert_cmpuint(vigil_scan_n_series(want), >, 5);
  g_assert_cmpuint(vigil_scan_n_series(got), ==, vigil_scan_n_series(want));
  g_assert_cmpuint(seen.added, ==, vigil_scan_n_series(want));
  g_assert_cmpuint(got->studies->len, ==, want->studies->len);
  g_assert_cmpuint(got->issues->len, ==, want->issues->len);
  g_assert_cmpuint(got->n_files, ==, want->n_files);
  g_assert_cmpuint(vigil_indexer_get_files_done(ix), ==, want->n_files);
  g_assert_cmpuint(vigil_indexer_get_files_total(ix), ==, want->n_files);
  g_assert_cmpuint(seen.done_backwards, ==, 0);
  /* Same series, same slices in the same order, same warnings. */
  for (guint i = 0; i < want->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(want->studies, i);
    for (guint j = 0; j < study->series->len; j++) {
      VigilSeries *w = g_ptr_array_index(study->series, j);
      VigilSeries *g = find(got, w->uid, w->slices->len);
      g_assert_nonnull(g);
      g_assert_cmpstr(g->warning, ==, w->warning);
      g_assert_cmpint(g->order, ==, w->order);
      for (guint k = 0; k < w->slices->len; k++) {
        const VigilSlice *a = g_ptr_array_index(w->slices, k), *b = g_ptr_array_index(g->slices, k);
        g_assert_cmpstr(a->path, ==, b->path);
        g_assert_cmpint(a->frame, ==, b->frame);
      }
    }
  }
}

/* Slowed down, series settle (and could be shown) long before the end. */
static void test_settles_early(void) {
  Seen seen = {0};
  g_autoptr(VigilIndexer) ix = start(fixtures, 2, &seen);
  spin(60000, &seen.finished);
  g_assert_cmpuint(seen.finished, ==, 1);
  g_assert_cmpuint(seen.settled_early, >, 0);
  g_assert_cmpuint(seen.progress, >, 2);
}

static void test_cancel(void) {
  Seen seen = {0};
  VigilIndexer *ix = start(fixtures, 20, &seen);
  spin(60000, &seen.added);
  g_assert_cmpuint(seen.added, >, 0);
  vigil_indexer_cancel(ix);
  seen.cancelled = TRUE;
  guint total = vigil_indexer_get_files_total(ix);
  g_assert_cmpuint(vigil_indexer_get_files_done(ix), <, total);
  g_object_unref(ix); /* the worker still holds it; it must wind down alone */
  spin(600, NULL);
  g_assert_cmpuint(seen.finished, ==, 0);
  g_assert_cmpuint(seen.added_after_cancel, ==, 0);
}

static void test_nothing_there(void) {
  Seen seen = {0};
  g_autoptr(VigilIndexer) ix = start("/nonexistent/vigil-indexer", 0, &seen);
  spin(10000, &seen.finished);
  g_assert_cmpuint(seen.finished, ==, 1);
  VigilScan *scan = vigil_indexer_get_scan(ix);
  g_assert_cmpuint(vigil_scan_n_series(scan), ==, 0);
  g_assert_cmpuint(scan->issues->len, ==, 1);
  const VigilScanIssue *issue = g_ptr_array_index(scan->issues, 0);
  g_assert_cmpstr(issue->error->message, ==, "no such file or folder");
}

/* A pipe in a folder would block reading forever: folders skip it, and
 * naming it is an issue, in one go and in the background alike. */
static void test_pipe(void) {
  g_autofree char *dir = g_dir_make_tmp("vigil-indexer-XXXXXX", NULL);
  g_autofree char *pipe = g_build_filename(dir, "a-pipe", NULL);
  g_autofree char *src = g_build_filename(fixtures, "u16.dcm", NULL);
  g_autofree char *dst = g_build_filename(dir, "u16.dcm", NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(src, &bytes, &len, NULL));
  g_assert_true(g_file_set_contents(dst, bytes, (gssize)len, NULL));
  g_assert_cmpint(mkfifo(pipe, 0600), ==, 0);
  const char *folder[] = {dir, NULL}, *named[] = {pipe, NULL};
  g_autoptr(VigilScan) scan = vigil_scan_open(folder, VIGIL_SLICE_CACHE_DEFAULT);
  g_assert_cmpuint(scan->n_files, ==, 1);
  g_assert_cmpuint(vigil_scan_n_series(scan), ==, 1);
  g_assert_cmpuint(scan->issues->len, ==, 0);
  g_autoptr(VigilScan) direct = vigil_scan_open(named, VIGIL_SLICE_CACHE_DEFAULT);
  g_assert_cmpuint(direct->issues->len, ==, 1);
  const VigilScanIssue *issue = g_ptr_array_index(direct->issues, 0);
  g_assert_true(g_str_has_prefix(issue->error->message, "not a regular file"));
  Seen seen = {0};
  g_autoptr(VigilIndexer) ix = start(dir, 0, &seen);
  spin(10000, &seen.finished);
  g_assert_cmpuint(seen.finished, ==, 1);
  g_assert_cmpuint(vigil_scan_n_series(vigil_indexer_get_scan(ix)), ==, 1);
  g_unlink(pipe);
  g_unlink(dst);
  g_rmdir(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  main_thread = g_thread_self();
  fixtures = dicom_fixtures_make();
  g_test_add_func("/indexer/same-as-open", test_same_as_open);
  g_test_add_func("/indexer/settles-early", test_settles_early);
  g_test_add_func("/indexer/cancel", test_cancel);
  g_test_add_func("/indexer/nothing-there", test_nothing_there);
  g_test_add_func("/indexer/pipe", test_pipe);
  int result = g_test_run();
  dicom_fixtures_remove(fixtures);
  g_free(fixtures);
  return result;
}
