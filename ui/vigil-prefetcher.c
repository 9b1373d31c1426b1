/* VigilPrefetcher: see vigil-prefetcher.h. */
#include "vigil-prefetcher.h"

#include "vigil-job.h"
#include "vigil-window-level.h"

#define BEHIND 2 /* slices kept ready against the direction of scrolling */

struct _VigilPrefetcher {
  GObject parent_instance;
  gboolean running;
  struct Work *waiting;
  gint generation; /* bumped by clear: later deliveries of older work are dropped */
  const VigilSeries *last_series;
  int last_index, direction;
  GMainContext *context;
};

G_DEFINE_FINAL_TYPE(VigilPrefetcher, vigil_prefetcher, G_TYPE_OBJECT)

typedef struct Work {
  VigilPrefetcher *prefetcher;
  GObject *owner;
  VigilSliceView *view;
  gint generation;
  double center, width; /* the view's window when asked */
  VigilSeries series;   /* shallow copy; slices = the ones to prepare, nearest first */
  GArray *textures;     /* gboolean per slice: window it too (the view lacks it) */
} Work;

static void work_free(gpointer data) {
  Work *w = data;
  g_object_unref(w->prefetcher);
  g_clear_object(&w->owner);
  g_object_unref(w->view);
  g_clear_pointer(&w->series.slices, g_ptr_array_unref);
  g_array_unref(w->textures);
  g_free(w);
}

typedef struct {
  VigilPrefetcher *prefetcher;
  VigilSliceView *view;
  gint generation;
  gconstpointer key;
  double center, width;
  int img_width, img_height;
  GBytes *bgra;
} Delivery;

static void delivery_free(gpointer data) {
  Delivery *d = data;
  g_object_unref(d->prefetcher);
  g_object_unref(d->view);
  g_bytes_unref(d->bgra);
  g_free(d);
}

static gboolean deliver(gpointer data) {
  Delivery *d = data;
  if (d->generation != d->prefetcher->generation)
    return G_SOURCE_REMOVE; /* the series changed: the key may name other pixels now */
  vigil_slice_view_add_pixels(d->view, d->key, d->center, d->width, d->bgra, d->img_width,
                              d->img_height);
  return G_SOURCE_REMOVE;
}

/* Decodes (into the series cache) and windows one slice, handing the
 * texture's pixels to the UI thread. */
static void prepare(Work *w, guint i) {
  g_autoptr(GError) ignored = NULL; /* showing the slice will report it */
  if (!g_array_index(w->textures, gboolean, i)) {
    vigil_series_warm(&w->series, i, &ignored);
    return;
  }
  g_autoptr(VigilImage) image = vigil_series_get_slice(&w->series, i, &ignored);
  if (!image)
    return;
  Delivery *d = g_new0(Delivery, 1);
  d->prefetcher = g_object_ref(w->prefetcher);
  d->view = g_object_ref(w->view);
  d->generation = w->generation;
  d->key = g_ptr_array_index(w->series.slices, i);
  d->center = w->center;
  d->width = w->width;
  d->img_width = image->width;
  d->img_height = image->height;
  d->bgra = g_bytes_new_take(vigil_window_level_to_bgra32(image, w->center, w->width),
                             (gsize)image->width * image->height * 4);
  vigil_job_defer(w->prefetcher->context, deliver, d, delivery_free);
}

static gboolean prepare_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                                  GError **error) {
  (void)job, (void)error;
  Work *w = data;
  for (guint i = 0; i < w->series.slices->len; i++) {
    if (w->generation != g_atomic_int_get(&w->prefetcher->generation) ||
        g_cancellable_is_cancelled(cancellable)) /* another series, or quitting */
      break;
    prepare(w, i);
  }
  return TRUE;
}

static void run(VigilPrefetcher *self, Work *w);

static void on_prepared(GObject *source, GAsyncResult *result, gpointer user_data) {
  VigilPrefetcher *self = user_data;
  vigil_job_run_finish(VIGIL_JOB(source), result, NULL);
  self->running = FALSE;
  Work *next = g_steal_pointer(&self->waiting);
  if (next)
    run(self, next);
  g_object_unref(self);
}

static void run(VigilPrefetcher *self, Work *w) {
  self->running = TRUE;
  g_autoptr(VigilJob) job = vigil_job_new("Prefetch slices", prepare_in_thread, w, work_free);
  vigil_job_run_async(job, NULL, on_prepared, g_object_ref(self));
}

static void add_slice(Work *w, VigilSeries *series, int index) {
  const VigilSlice *slice = g_ptr_array_index(series->slices, index);
  gboolean texture = !vigil_slice_view_has_texture(w->view, slice, w->center, w->width);
  g_ptr_array_add(w->series.slices, (gpointer)slice);
  g_array_append_val(w->textures, texture);
}

void vigil_prefetcher_request(VigilPrefetcher *self, GObject *owner, VigilSeries *series, int index,
                              int ahead, VigilSliceView *view) {
  if (series == self->last_series && index != self->last_index)
    self->direction = index > self->last_index ? 1 : -1;
  else if (series != self->last_series)
    self->direction = 1;
  self->last_series = series;
  self->last_index = index;
  /* The worker gets the slice pointers now: the owner may re-sort the series. */
  Work *w = g_new0(Work, 1);
  w->prefetcher = g_object_ref(self);
  w->owner = owner ? g_object_ref(owner) : NULL;
  w->view = g_object_ref(view);
  w->generation = self->generation;
  vigil_slice_view_get_window(view, &w->center, &w->width);
  w->series = *series;
  w->series.slices = g_ptr_array_new();
  w->textures = g_array_new(FALSE, FALSE, sizeof(gboolean));
  const int n = (int)series->slices->len;
  for (int k = 1; k <= MAX(ahead, BEHIND); k++) {
    int fwd = index + self->direction * k, back = index - self->direction * k;
    if (k <= ahead && fwd >= 0 && fwd < n)
      add_slice(w, series, fwd);
    if (k <= BEHIND && back >= 0 && back < n)
      add_slice(w, series, back);
  }
  if (self->running) {
    g_clear_pointer(&self->waiting, work_free);
    self->waiting = w;
  } else {
    run(self, w);
  }
}

void vigil_prefetcher_clear(VigilPrefetcher *self) {
  g_clear_pointer(&self->waiting, work_free);
  g_atomic_int_inc(&self->generation);
  self->last_series = NULL;
}

VigilPrefetcher *vigil_prefetcher_new(void) {
  return g_object_new(VIGIL_TYPE_PREFETCHER, NULL);
}

static void vigil_prefetcher_finalize(GObject *object) {
  VigilPrefetcher *self = VIGIL_PREFETCHER(object);
  vigil_prefetcher_clear(self);
  g_main_context_unref(self->context);
  G_OBJECT_CLASS(vigil_prefetcher_parent_class)->finalize(object);
}

static void vigil_prefetcher_class_init(VigilPrefetcherClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = vigil_prefetcher_finalize;
}

static void vigil_prefetcher_init(VigilPrefetcher *self) {
  self->context = g_main_context_ref_thread_default();
}
