/* VigilJob: work that runs on a worker thread with progress and cancel, so
 * the UI thread never waits on the engine or on disk. Progress notifications
 * (notify::fraction, notify::message) arrive in the context that created the job. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_JOB (vigil_job_get_type())
G_DECLARE_FINAL_TYPE(VigilJob, vigil_job, VIGIL, JOB, GObject)

/* Runs on the worker thread; returns FALSE with `error` set on failure. It
 * should check `cancellable` between steps and stop with G_IO_ERROR_CANCELLED. */
typedef gboolean (*VigilJobFunc)(VigilJob *job, gpointer data, GCancellable *cancellable,
                                 GError **error);

VigilJob *vigil_job_new(const char *title, VigilJobFunc func, gpointer data,
                        GDestroyNotify destroy);

/* Thread-safe; from the worker. `fraction` in [0, 1], or < 0 when unknown. */
void vigil_job_report_progress(VigilJob *job, double fraction, const char *message);

const char *vigil_job_get_title(VigilJob *job);
double vigil_job_get_fraction(VigilJob *job);
const char *vigil_job_get_message(VigilJob *job);

void vigil_job_run_async(VigilJob *job, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data);
gboolean vigil_job_run_finish(VigilJob *job, GAsyncResult *result, GError **error);

/* Waits until no job is running or queued, at most `timeout_us`; FALSE if
 * some still are (a program must not run its exit handlers under them). */
gboolean vigil_job_wait_all(gint64 timeout_us);

G_END_DECLS
