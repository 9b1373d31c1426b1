#include "vigil-job.h"

struct _VigilJob {
  GObject parent_instance;
  char *title;
  VigilJobFunc func;
  gpointer data;
  GDestroyNotify destroy;
  GMainContext *context; /* where notifications go */
  double fraction;
  char *message;
};

G_DEFINE_FINAL_TYPE(VigilJob, vigil_job, G_TYPE_OBJECT)

/* Jobs started and not yet returned from their worker, for vigil_job_wait_all. */
static GMutex running_lock;
static GCond running_cond;
static int running;

enum { PROP_0, PROP_TITLE, PROP_FRACTION, PROP_MESSAGE, N_PROPS };
static GParamSpec *props[N_PROPS];

VigilJob *vigil_job_new(const char *title, VigilJobFunc func, gpointer data,
                        GDestroyNotify destroy) {
  VigilJob *job = g_object_new(VIGIL_TYPE_JOB, "title", title, NULL);
  job->func = func;
  job->data = data;
  job->destroy = destroy;
  return job;
}

typedef struct {
  VigilJob *job;
  double fraction;
  char *message;
} Progress;

static gboolean deliver_progress(gpointer user_data) {
  Progress *p = user_data;
  p->job->fraction = p->fraction;
  g_free(p->job->message);
  p->job->message = g_steal_pointer(&p->message);
  g_object_notify_by_pspec(G_OBJECT(p->job), props[PROP_FRACTION]);
  g_object_notify_by_pspec(G_OBJECT(p->job), props[PROP_MESSAGE]);
  return G_SOURCE_REMOVE;
}

static void free_progress(gpointer user_data) {
  Progress *p = user_data;
  g_object_unref(p->job);
  g_free(p->message);
  g_free(p);
}

void vigil_job_report_progress(VigilJob *job, double fraction, const char *message) {
  g_return_if_fail(VIGIL_IS_JOB(job));
  Progress *p = g_new0(Progress, 1);
  p->job = g_object_ref(job);
  p->fraction = fraction < 0 ? -1 : MIN(fraction, 1.0);
  p->message = g_strdup(message);
  /* Always through a source: g_main_context_invoke would run it right here,
   * on the worker, whenever the context happens not to be owned (between
   * iterations of a hand-run loop), and UI handlers must not run there. */
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, deliver_progress, p, free_progress);
  g_source_attach(source, job->context);
  g_source_unref(source);
}

const char *vigil_job_get_title(VigilJob *job) {
  return job->title;
}
double vigil_job_get_fraction(VigilJob *job) {
  return job->fraction;
}
const char *vigil_job_get_message(VigilJob *job) {
  return job->message;
}

static void run_in_thread(GTask *task, gpointer source, gpointer task_data,
                          GCancellable *cancellable) {
  (void)task_data;
  VigilJob *job = source;
  GError *error = NULL;
  const gboolean ok = !g_cancellable_set_error_if_cancelled(cancellable, &error) &&
                      job->func(job, job->data, cancellable, &error);
  /* Done before the result is delivered, so its callback sees the job gone. */
  g_mutex_lock(&running_lock);
  running--;
  g_cond_broadcast(&running_cond);
  g_mutex_unlock(&running_lock);
  if (ok)
    g_task_return_boolean(task, TRUE);
  else
    g_task_return_error(task, error);
}

gboolean vigil_job_wait_all(gint64 timeout_us) {
  const gint64 end = g_get_monotonic_time() + timeout_us;
  g_mutex_lock(&running_lock);
  while (running > 0 && g_cond_wait_until(&running_cond, &running_lock, end))
    ;
  const gboolean idle = running == 0;
  g_mutex_unlock(&running_lock);
  return idle;
}

void vigil_job_run_async(VigilJob *job, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data) {
  g_return_if_fail(VIGIL_IS_JOB(job));
  g_autoptr(GTask) task = g_task_new(job, cancellable, callback, user_data);
  g_task_set_source_tag(task, vigil_job_run_async);
  g_task_set_name(task, job->title);
  g_task_set_return_on_cancel(task, FALSE); /* the worker owns its data until it stops */
  g_mutex_lock(&running_lock);
  running++;
  g_mutex_unlock(&running_lock);
  g_task_run_in_thread(task, run_in_thread);
}

gboolean vigil_job_run_finish(VigilJob *job, GAsyncResult *result, GError **error) {
  g_return_val_if_fail(g_task_is_valid(result, job), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

static void vigil_job_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  VigilJob *job = VIGIL_JOB(object);
  switch (id) {
  case PROP_TITLE: g_value_set_string(value, job->title); break;
  case PROP_FRACTION: g_value_set_double(value, job->fraction); break;
  case PROP_MESSAGE: g_value_set_string(value, job->message); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void vigil_job_set_property(GObject *object, guint id, const GValue *value,
                                   GParamSpec *pspec) {
  VigilJob *job = VIGIL_JOB(object);
  switch (id) {
  case PROP_TITLE:
    g_free(job->title);
    job->title = g_value_dup_string(value);
    break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void vigil_job_finalize(GObject *object) {
  VigilJob *job = VIGIL_JOB(object);
  if (job->destroy)
    job->destroy(job->data);
  g_main_context_unref(job->context);
  g_free(job->title);
  g_free(job->message);
  G_OBJECT_CLASS(vigil_job_parent_class)->finalize(object);
}

static void vigil_job_class_init(VigilJobClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = vigil_job_finalize;
  object_class->get_property = vigil_job_get_property;
  object_class->set_property = vigil_job_set_property;
  props[PROP_TITLE] =
      g_param_spec_string("title", NULL, NULL, NULL,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_FRACTION] = g_param_spec_double("fraction", NULL, NULL, -1, 1, 0,
                                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_MESSAGE] =
      g_param_spec_string("message", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
}

static void vigil_job_init(VigilJob *job) {
  job->context = g_main_context_ref_thread_default();
}
