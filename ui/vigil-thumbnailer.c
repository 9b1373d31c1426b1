/* VigilThumbnailer: see vigil-thumbnailer.h. */
#include "vigil-thumbnailer.h"

#include "vigil-job.h"
#include "vigil-scan-images.h"
#include "vigil-window-level.h"

#define THUMB_SIZE 64 /* rendered; rows show them at 48 px, sharp on 2x screens too */

struct _VigilThumbnailer {
  GObject parent_instance;
  GHashTable *cache; /* "path#frame" -> GdkTexture */
  GQueue queue;      /* Request*, waiting */
  gboolean running;
  guint rendered;
};

G_DEFINE_FINAL_TYPE(VigilThumbnailer, vigil_thumbnailer, G_TYPE_OBJECT)

static guint ready_signal;

typedef struct {
  VigilThumbnailer *thumbnailer;
  GObject *owner;
  VigilSeriesItem *item;
  char *key;
  VigilSeries view; /* shallow copy of the series, slices = {first, middle} */
  guint8 *rgb;      /* result */
  int width, height;
} Request;

static void request_free(gpointer data) {
  Request *r = data;
  g_clear_pointer(&r->view.slices, g_ptr_array_unref);
  g_object_unref(r->thumbnailer);
  g_object_unref(r->owner);
  g_object_unref(r->item);
  g_free(r->key);
  g_free(r->rgb);
  g_free(r);
}

/* Area average of an RGB image into at most THUMB_SIZE pixels a side. */
static guint8 *shrink(const guint8 *rgb, int w, int h, int *tw, int *th) {
  double scale = MIN(1.0, (double)THUMB_SIZE / MAX(w, h));
  *tw = MAX(1, (int)(w * scale + 0.5));
  *th = MAX(1, (int)(h * scale + 0.5));
  guint8 *out = g_new(guint8, (gsize)*tw * *th * 3);
  for (int y = 0; y < *th; y++) {
    int y0 = y * h / *th, y1 = MAX(y0 + 1, (y + 1) * h / *th);
    for (int x = 0; x < *tw; x++) {
      int x0 = x * w / *tw, x1 = MAX(x0 + 1, (x + 1) * w / *tw);
      guint sum[3] = {0, 0, 0};
      for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++)
          for (int c = 0; c < 3; c++)
            sum[c] += rgb[((gsize)yy * w + xx) * 3 + c];
      guint n = (guint)((y1 - y0) * (x1 - x0));
      for (int c = 0; c < 3; c++)
        out[((gsize)y * *tw + x) * 3 + c] = (guint8)((sum[c] + n / 2) / n);
    }
  }
  return out;
}

static gboolean render_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                                 GError **error) {
  (void)job, (void)cancellable;
  Request *r = data;
  /* Through the series cache: the middle slice is what opening the series shows. */
  g_autoptr(VigilImage) image = vigil_series_get_slice(&r->view, 1, error);
  if (!image)
    return FALSE;
  VigilWindowLevel w = vigil_series_default_window(&r->view, image, NULL);
  g_autofree guint8 *rgb = vigil_window_level_to_rgb8(image, w.center, w.width);
  r->rgb = shrink(rgb, image->width, image->height, &r->width, &r->height);
  return TRUE;
}

static void run_next(VigilThumbnailer *self);

static void set_thumbnail(Request *r, GdkTexture *texture) {
  vigil_series_item_set_thumbnail(r->item, GDK_PAINTABLE(texture));
  r->thumbnailer->rendered++;
  g_signal_emit(r->thumbnailer, ready_signal, 0, r->item);
}

static void on_rendered(GObject *source, GAsyncResult *result, gpointer user_data) {
  VigilThumbnailer *self = user_data;
  Request *r = g_object_get_data(source, "vigil-request");
  g_autoptr(GError) error = NULL;
  if (vigil_job_run_finish(VIGIL_JOB(source), result, &error)) {
    GBytes *bytes = g_bytes_new_take(g_steal_pointer(&r->rgb), (gsize)r->width * r->height * 3);
    GdkTexture *texture =
        gdk_memory_texture_new(r->width, r->height, GDK_MEMORY_R8G8B8, bytes, (gsize)r->width * 3);
    g_bytes_unref(bytes);
    g_hash_table_insert(self->cache, g_strdup(r->key), texture);
    set_thumbnail(r, texture);
  } else {
    g_debug("no thumbnail for %s: %s", r->key, error->message); /* the row keeps its icon */
  }
  self->running = FALSE;
  run_next(self);
  g_object_unref(self);
}

static void run_next(VigilThumbnailer *self) {
  Request *r;
  while (!self->running && (r = g_queue_pop_head(&self->queue))) {
    GdkTexture *cached = g_hash_table_lookup(self->cache, r->key);
    if (cached) { /* rendered since it was queued */
      set_thumbnail(r, cached);
      request_free(r);
      continue;
    }
    self->running = TRUE;
    g_autoptr(VigilJob) job = vigil_job_new("Thumbnail", render_in_thread, r, request_free);
    g_object_set_data(G_OBJECT(job), "vigil-request", r);
    vigil_job_run_async(job, NULL, on_rendered, g_object_ref(self));
  }
}

void vigil_thumbnailer_request(VigilThumbnailer *self, GObject *owner, VigilSeriesItem *item) {
  VigilSeries *series = vigil_series_item_get_series(item);
  if (series->slices->len == 0)
    return;
  const VigilSlice *mid = g_ptr_array_index(series->slices, series->slices->len / 2);
  g_autofree char *key = g_strdup_printf("%s#%d", mid->path, mid->frame);
  GdkTexture *cached = g_hash_table_lookup(self->cache, key);
  if (cached) {
    vigil_series_item_set_thumbnail(item, GDK_PAINTABLE(cached));
    self->rendered++;
    g_signal_emit(self, ready_signal, 0, item);
    return;
  }
  /* The worker sees a fixed copy: the owner may re-sort the series meanwhile. */
  Request *r = g_new0(Request, 1);
  r->thumbnailer = g_object_ref(self);
  r->owner = g_object_ref(owner);
  r->item = g_object_ref(item);
  r->key = g_steal_pointer(&key);
  r->view = *series;
  r->view.slices = g_ptr_array_new();
  g_ptr_array_add(r->view.slices, g_ptr_array_index(series->slices, 0));
  g_ptr_array_add(r->view.slices, (gpointer)mid);
  g_queue_push_tail(&self->queue, r);
  run_next(self);
}

void vigil_thumbnailer_clear_queue(VigilThumbnailer *self) {
  g_queue_clear_full(&self->queue, request_free);
}

guint vigil_thumbnailer_get_rendered(VigilThumbnailer *self) {
  return self->rendered;
}

VigilThumbnailer *vigil_thumbnailer_new(void) {
  return g_object_new(VIGIL_TYPE_THUMBNAILER, NULL);
}

static void vigil_thumbnailer_finalize(GObject *object) {
  VigilThumbnailer *self = VIGIL_THUMBNAILER(object);
  vigil_thumbnailer_clear_queue(self);
  g_hash_table_destroy(self->cache);
  G_OBJECT_CLASS(vigil_thumbnailer_parent_class)->finalize(object);
}

static void vigil_thumbnailer_class_init(VigilThumbnailerClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = vigil_thumbnailer_finalize;
  ready_signal = g_signal_new("thumbnail-ready", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                              NULL, NULL, NULL, G_TYPE_NONE, 1, VIGIL_TYPE_SERIES_ITEM);
}

static void vigil_thumbnailer_init(VigilThumbnailer *self) {
  self->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
  g_queue_init(&self->queue);
}
