/* Windowed slices and their cache: see vigil-texture-cache.h. */
#include "vigil-texture-cache.h"

struct _VigilWindowed {
  GBytes *bytes;
  int width, height;
  GdkTexture *texture;      /* made on first use */
  cairo_surface_t *surface; /* made on first use; borrows `bytes` */
};

VigilWindowed *vigil_windowed_new(GBytes *bgra, int width, int height) {
  g_return_val_if_fail(g_bytes_get_size(bgra) == (gsize)width * height * 4, NULL);
  VigilWindowed *w = g_rc_box_new0(VigilWindowed);
  w->bytes = bgra;
  w->width = width;
  w->height = height;
  return w;
}

VigilWindowed *vigil_windowed_ref(VigilWindowed *w) {
  return g_rc_box_acquire(w);
}

static void windowed_clear(gpointer data) {
  VigilWindowed *w = data;
  g_clear_object(&w->texture);
  g_clear_pointer(&w->surface, cairo_surface_destroy);
  g_bytes_unref(w->bytes);
}

void vigil_windowed_unref(VigilWindowed *w) {
  if (w)
    g_rc_box_release_full(w, windowed_clear);
}

GdkTexture *vigil_windowed_texture(VigilWindowed *w) {
  if (!w->texture)
    w->texture = gdk_memory_texture_new(w->width, w->height, GDK_MEMORY_DEFAULT, w->bytes,
                                        (gsize)w->width * 4);
  return w->texture;
}

cairo_surface_t *vigil_windowed_surface(VigilWindowed *w) {
  if (!w->surface) {
    static cairo_user_data_key_t bytes_key;
    /* Alpha is always 255, so the pixels are valid premultiplied ARGB32 too. */
    w->surface =
        cairo_image_surface_create_for_data((guchar *)g_bytes_get_data(w->bytes, NULL),
                                            CAIRO_FORMAT_ARGB32, w->width, w->height, w->width * 4);
    cairo_surface_set_user_data(w->surface, &bytes_key, g_bytes_ref(w->bytes),
                                (cairo_destroy_func_t)g_bytes_unref);
  }
  return w->surface;
}

int vigil_windowed_width(VigilWindowed *w) {
  return w->width;
}

int vigil_windowed_height(VigilWindowed *w) {
  return w->height;
}

typedef struct {
  gconstpointer key;
  double center, width;
  VigilWindowed *windowed;
} Entry;

struct _VigilTextureCache {
  GQueue entries; /* Entry*, most recently used first */
  gsize bytes, max_bytes;
};

static gsize entry_bytes(const Entry *e) {
  return g_bytes_get_size(e->windowed->bytes);
}

static void entry_free(gpointer data) {
  Entry *e = data;
  vigil_windowed_unref(e->windowed);
  g_free(e);
}

VigilTextureCache *vigil_texture_cache_new(gsize max_bytes) {
  VigilTextureCache *cache = g_new0(VigilTextureCache, 1);
  g_queue_init(&cache->entries);
  cache->max_bytes = max_bytes;
  return cache;
}

void vigil_texture_cache_clear(VigilTextureCache *cache) {
  g_queue_clear_full(&cache->entries, entry_free);
  cache->bytes = 0;
}

void vigil_texture_cache_free(VigilTextureCache *cache) {
  if (!cache)
    return;
  vigil_texture_cache_clear(cache);
  g_free(cache);
}

static GList *find(VigilTextureCache *cache, gconstpointer key, double center, double width) {
  for (GList *l = cache->entries.head; l; l = l->next) {
    const Entry *e = l->data;
    if (e->key == key && e->center == center && e->width == width)
      return l;
  }
  return NULL;
}

VigilWindowed *vigil_texture_cache_lookup(VigilTextureCache *cache, gconstpointer key,
                                          double center, double width) {
  GList *l = find(cache, key, center, width);
  if (!l)
    return NULL;
  g_queue_unlink(&cache->entries, l);
  g_queue_push_head_link(&cache->entries, l);
  return vigil_windowed_ref(((Entry *)l->data)->windowed);
}

gboolean vigil_texture_cache_contains(VigilTextureCache *cache, gconstpointer key, double center,
                                      double width) {
  return find(cache, key, center, width) != NULL;
}

void vigil_texture_cache_insert(VigilTextureCache *cache, gconstpointer key, double center,
                                double width, VigilWindowed *w) {
  GList *old = find(cache, key, center, width);
  if (old) {
    cache->bytes -= entry_bytes(old->data);
    entry_free(old->data);
    g_queue_delete_link(&cache->entries, old);
  }
  Entry *e = g_new0(Entry, 1);
  e->key = key;
  e->center = center;
  e->width = width;
  e->windowed = vigil_windowed_ref(w);
  g_queue_push_head(&cache->entries, e);
  cache->bytes += entry_bytes(e);
  while (cache->bytes > cache->max_bytes && cache->entries.length > 1) {
    Entry *last = g_queue_pop_tail(&cache->entries);
    cache->bytes -= entry_bytes(last);
    entry_free(last);
  }
}

guint vigil_texture_cache_length(VigilTextureCache *cache) {
  return cache->entries.length;
}
