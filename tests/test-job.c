/* VigilJob: work on a worker thread, progress in the caller's context, cancel, errors. */
#include <gio/gio.h>

#include "vigil-job.h"

typedef struct {
  int steps;
  gboolean fail;
  GThread *worker;
  GMutex gate; /* held by the test to pause the worker mid-way */
} Work;

static gboolean count_steps(VigilJob *job, gpointer data, GCancellable *cancellable,
                            GError **error) {
  Work *w = data;
  w->worker = g_thread_self();
  for (int i = 0; i < w->steps; i++) {
    g_mutex_lock(&w->gate);
    g_mutex_unlock(&w->gate);
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    vigil_job_report_progress(job, (i + 1.0) / w->steps, "step");
  }
  if (w->fail) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the model said no");
    return FALSE;
  }
  return TRUE;
}

typedef struct {
  gboolean done, ok;
  GError *error;
  int notifications;
  double last_fraction;
  GThread *notify_thread;
} Outcome;

static void on_done(GObject *source, GAsyncResult *result, gpointer user_data) {
  Outcome *o = user_data;
  o->ok = vigil_job_run_finish(VIGIL_JOB(source), result, &o->error);
  o->done = TRUE;
}

static void on_fraction(GObject *job, GParamSpec *pspec, gpointer user_data) {
  (void)pspec;
  Outcome *o = user_data;
  double f = vigil_job_get_fraction(VIGIL_JOB(job));
  g_assert_cmpfloat(f, >=, o->last_fraction); /* in order */
  o->last_fraction = f;
  o->notifications++;
  o->notify_thread = g_thread_self();
}

static void run(Work *w, GCancellable *cancellable, Outcome *o) {
  g_autoptr(VigilJob) job = vigil_job_new("Analyse slice", count_steps, w, NULL);
  g_signal_connect(job, "notify::fraction", G_CALLBACK(on_fraction), o);
  vigil_job_run_async(job, cancellable, on_done, o);
  while (!o->done)
    g_main_context_iteration(NULL, TRUE);
  while (g_main_context_iteration(NULL, FALSE)) /* late progress */
    ;
  g_assert_cmpstr(vigil_job_get_title(job), ==, "Analyse slice");
}

static void test_progress(void) {
  Work w = {.steps = 5};
  g_mutex_init(&w.gate);
  Outcome o = {0};
  run(&w, NULL, &o);
  g_assert_true(o.ok);
  g_assert_no_error(o.error);
  g_assert_cmpint(o.notifications, ==, 5);
  g_assert_cmpfloat(o.last_fraction, ==, 1.0);
  g_assert_true(o.notify_thread == g_thread_self()); /* delivered on this thread */
  g_assert_true(w.worker != g_thread_self());        /* worked on another */
}

static gboolean cancel_soon(gpointer data) {
  g_cancellable_cancel(data);
  return G_SOURCE_REMOVE;
}

static void test_cancel(void) {
  Work w = {.steps = 1000};
  g_mutex_init(&w.gate);
  g_mutex_lock(&w.gate); /* the worker waits at step 0 until we cancel */
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_idle_add(cancel_soon, cancellable);
  Outcome o = {0};
  g_autoptr(VigilJob) job = vigil_job_new("Analyse series", count_steps, &w, NULL);
  vigil_job_run_async(job, cancellable, on_done, &o);
  while (!g_cancellable_is_cancelled(cancellable))
    g_main_context_iteration(NULL, TRUE);
  g_mutex_unlock(&w.gate);
  while (!o.done)
    g_main_context_iteration(NULL, TRUE);
  g_assert_false(o.ok);
  g_assert_error(o.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error(&o.error);
}

static void test_error(void) {
  Work w = {.steps = 2, .fail = TRUE};
  g_mutex_init(&w.gate);
  Outcome o = {0};
  run(&w, NULL, &o);
  g_assert_false(o.ok);
  g_assert_error(o.error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr(o.error->message, ==, "the model said no");
  g_clear_error(&o.error);
}

static gboolean wait_for_flag(VigilJob *job, gpointer data, GCancellable *cancellable,
                              GError **error) {
  (void)job, (void)cancellable, (void)error;
  while (!g_atomic_int_get((int *)data))
    g_usleep(1000);
  return TRUE;
}

static void count_done(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_assert_true(vigil_job_run_finish(VIGIL_JOB(source), result, NULL));
  (*(int *)user_data)++;
}

/* wait_all reports a job still on its worker, and returns once it is done. */
static void test_wait_all(void) {
  int go = 0, done = 0;
  g_autoptr(VigilJob) job = vigil_job_new("Wait", wait_for_flag, &go, NULL);
  vigil_job_run_async(job, NULL, count_done, &done);
  g_assert_false(vigil_job_wait_all(50 * 1000));
  g_atomic_int_set(&go, 1);
  g_assert_true(vigil_job_wait_all(10 * G_USEC_PER_SEC));
  while (!done)
    g_main_context_iteration(NULL, TRUE);
  g_assert_true(vigil_job_wait_all(0));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/job/progress", test_progress);
  g_test_add_func("/job/cancel", test_cancel);
  g_test_add_func("/job/error", test_error);
  g_test_add_func("/job/wait-all", test_wait_all);
  return g_test_run();
}
