/* Studies and series from files, folders and DICOMDIRs; lazy slice decoding
 * through an LRU cache. See vigil-series.h. */
#include "vigil-series.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil-scan-error.h"

/* ---- slice cache ---- */

struct _VigilSliceCache {
  GMutex lock;
  gsize max_bytes, bytes;
  guint decodes;
  GHashTable *entries; /* VigilSlice* -> GList* link in `lru` */
  GQueue lru;          /* CacheEntry*, most recently used first */
};

typedef struct {
  const VigilSlice *slice;
  VigilImage *image;
  gsize bytes;
} CacheEntry;

static gsize image_bytes(const VigilImage *image) {
  return (gsize)image->width * image->height * vigil_image_channels(image) * sizeof(float);
}

/* Not through vigil_image_new: zeroing what memcpy overwrites costs a
 * noticeable share of a frame when scrolling through cached slices. */
static VigilImage *image_copy(const VigilImage *src) {
  float *values = g_try_malloc(image_bytes(src));
  if (!values)
    return NULL;
  VigilImage *copy = g_new(VigilImage, 1);
  *copy = *src;
  copy->values = values;
  memcpy(values, src->values, image_bytes(src));
  return copy;
}

VigilSliceCache *vigil_slice_cache_new(gsize max_bytes) {
  VigilSliceCache *cache = g_atomic_rc_box_new0(VigilSliceCache);
  g_mutex_init(&cache->lock);
  cache->max_bytes = max_bytes;
  cache->entries = g_hash_table_new(NULL, NULL);
  g_queue_init(&cache->lru);
  return cache;
}

VigilSliceCache *vigil_slice_cache_ref(VigilSliceCache *cache) {
  return g_atomic_rc_box_acquire(cache);
}

static void entry_free(gpointer data) {
  CacheEntry *entry = data;
  vigil_image_free(entry->image);
  g_free(entry);
}

static void cache_clear(gpointer data) {
  VigilSliceCache *cache = data;
  g_queue_clear_full(&cache->lru, entry_free);
  g_hash_table_destroy(cache->entries);
  g_mutex_clear(&cache->lock);
}

void vigil_slice_cache_unref(VigilSliceCache *cache) {
  if (cache)
    g_atomic_rc_box_release_full(cache, cache_clear);
}

gsize vigil_slice_cache_bytes(VigilSliceCache *cache) {
  g_mutex_lock(&cache->lock);
  gsize bytes = cache->bytes;
  g_mutex_unlock(&cache->lock);
  return bytes;
}

guint vigil_slice_cache_decodes(VigilSliceCache *cache) {
  g_mutex_lock(&cache->lock);
  guint n = cache->decodes;
  g_mutex_unlock(&cache->lock);
  return n;
}

static void cache_drop_link(VigilSliceCache *cache, GList *link) {
  CacheEntry *entry = link->data;
  g_hash_table_remove(cache->entries, entry->slice);
  cache->bytes -= entry->bytes;
  g_queue_delete_link(&cache->lru, link);
  entry_free(entry);
}

/* A copy of the cached image, or NULL (not cached). */
static VigilImage *cache_lookup(VigilSliceCache *cache, const VigilSlice *slice) {
  g_mutex_lock(&cache->lock);
  VigilImage *copy = NULL;
  GList *link = g_hash_table_lookup(cache->entries, slice);
  if (link) {
    g_queue_unlink(&cache->lru, link);
    g_queue_push_head_link(&cache->lru, link);
    copy = image_copy(((CacheEntry *)link->data)->image);
  }
  g_mutex_unlock(&cache->lock);
  return copy;
}

static void cache_insert(VigilSliceCache *cache, const VigilSlice *slice, VigilImage *image) {
  CacheEntry *entry = g_new0(CacheEntry, 1);
  entry->slice = slice;
  entry->image = image;
  entry->bytes = image_bytes(image);
  g_mutex_lock(&cache->lock);
  cache->decodes++;
  GList *old = g_hash_table_lookup(cache->entries, slice);
  if (old) /* decoded twice in parallel: keep the newer */
    cache_drop_link(cache, old);
  if (entry->bytes <= cache->max_bytes) {
    while (cache->bytes + entry->bytes > cache->max_bytes && cache->lru.tail)
      cache_drop_link(cache, cache->lru.tail);
    g_queue_push_head(&cache->lru, entry);
    g_hash_table_insert(cache->entries, (gpointer)slice, cache->lru.head);
    cache->bytes += entry->bytes;
    entry = NULL;
  }
  g_mutex_unlock(&cache->lock);
  if (entry)
    entry_free(entry);
}

static void cache_count_decode(VigilSliceCache *cache) {
  g_mutex_lock(&cache->lock);
  cache->decodes++;
  g_mutex_unlock(&cache->lock);
}

static void cache_forget(VigilSliceCache *cache, const VigilSlice *slice) {
  g_mutex_lock(&cache->lock);
  GList *link = g_hash_table_lookup(cache->entries, slice);
  if (link)
    cache_drop_link(cache, link);
  g_mutex_unlock(&cache->lock);
}

/* ---- slices, series, studies ---- */

static VigilImage *dicom_decode(const VigilSlice *slice, GError **error) {
  return vigil_dicom_decode_frame(slice->path, slice->frame, error);
}

const VigilPixelSource vigil_dicom_pixel_source = {"dicom", dicom_decode};

VigilSlice *vigil_slice_new(const VigilPixelSource *source, const char *path, int frame,
                            gpointer data, GDestroyNotify data_free) {
  VigilSlice *slice = g_new0(VigilSlice, 1);
  slice->source = source;
  slice->path = g_strdup(path);
  slice->frame = frame;
  slice->data = data;
  slice->data_free = data_free;
  return slice;
}

static void vigil_slice_free(VigilSlice *slice) {
  if (!slice)
    return;
  if (slice->data_free)
    slice->data_free(slice->data);
  g_free(slice->path);
  g_free(slice);
}

VigilSeries *vigil_series_new(const char *uid, VigilSliceCache *cache) {
  VigilSeries *series = g_new0(VigilSeries, 1);
  series->uid = g_strdup(uid ? uid : "");
  series->description = g_strdup("");
  series->modality = g_strdup("");
  series->slices = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_slice_free);
  series->cache = vigil_slice_cache_ref(cache);
  return series;
}

void vigil_series_free(VigilSeries *series) {
  if (!series)
    return;
  for (guint i = 0; i < series->slices->len; i++) /* a freed slice's address may be reused */
    cache_forget(series->cache, g_ptr_array_index(series->slices, i));
  g_ptr_array_unref(series->slices);
  vigil_slice_cache_unref(series->cache);
  g_free(series->uid);
  g_free(series->description);
  g_free(series->modality);
  g_free(series->warning);
  g_free(series);
}

VigilImage *vigil_series_get_slice(VigilSeries *series, guint index, GError **error) {
  if (index >= series->slices->len) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID,
                "slice %u is out of range: the series has %u", index, series->slices->len);
    return NULL;
  }
  const VigilSlice *slice = g_ptr_array_index(series->slices, index);
  VigilImage *image = cache_lookup(series->cache, slice);
  if (image)
    return image;
  image = slice->source->decode(slice, error);
  if (!image) {
    g_prefix_error(error, "%s (frame %d): ", slice->path, slice->frame);
    return NULL;
  }
  VigilImage *copy = image_bytes(image) <= series->cache->max_bytes ? image_copy(image) : NULL;
  if (copy)
    cache_insert(series->cache, slice, copy);
  else
    cache_count_decode(series->cache);
  return image;
}

gboolean vigil_series_warm(VigilSeries *series, guint index, GError **error) {
  if (index >= series->slices->len)
    return TRUE;
  const VigilSlice *slice = g_ptr_array_index(series->slices, index);
  g_mutex_lock(&series->cache->lock);
  gboolean cached = g_hash_table_contains(series->cache->entries, slice);
  g_mutex_unlock(&series->cache->lock);
  if (cached)
    return TRUE;
  VigilImage *image = vigil_series_get_slice(series, index, error);
  vigil_image_free(image);
  return image != NULL;
}

static void append_warning(VigilSeries *series, const char *text) {
  char *joined =
      series->warning ? g_strdup_printf("%s; %s", series->warning, text) : g_strdup(text);
  g_free(series->warning);
  series->warning = joined;
}

char *vigil_series_transfer_syntaxes(const VigilSeries *series) {
  g_autoptr(GPtrArray) seen = g_ptr_array_new();
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < series->slices->len; i++) {
    const VigilSlice *s = g_ptr_array_index(series->slices, i);
    const char *name = s->info ? s->info->transfer_syntax_name : NULL;
    if (!name || g_ptr_array_find_with_equal_func(seen, name, g_str_equal, NULL))
      continue;
    g_ptr_array_add(seen, (gpointer)name);
    g_string_append_printf(out, "%s%s", out->len ? ", " : "", name);
  }
  return g_string_free(out, FALSE);
}

guint vigil_series_lossy_slices(const VigilSeries *series, const VigilSliceInfo **first) {
  guint n = 0;
  if (first)
    *first = NULL;
  for (guint i = 0; i < series->slices->len; i++) {
    const VigilSlice *s = g_ptr_array_index(series->slices, i);
    if (s->info && s->info->lossy && n++ == 0 && first)
      *first = s->info;
  }
  return n;
}

const char *vigil_slice_order_name(VigilSliceOrder order) {
  switch (order) {
  case VIGIL_ORDER_POSITION: return "position";
  case VIGIL_ORDER_INSTANCE: return "instance number";
  default: return "file name";
  }
}

/* ---- ordering ---- */

static gboolean slice_normal(const VigilSliceInfo *info, double n[3]) {
  const double *r = info->orientation, *c = info->orientation + 3;
  n[0] = r[1] * c[2] - r[2] * c[1];
  n[1] = r[2] * c[0] - r[0] * c[2];
  n[2] = r[0] * c[1] - r[1] * c[0];
  double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  if (len < 1e-6)
    return FALSE;
  for (int i = 0; i < 3; i++)
    n[i] /= len;
  return TRUE;
}

static int instance_of(const VigilSlice *s) {
  return s->info && s->info->has_instance_number ? s->info->instance_number : 0;
}

static int cmp_file(gconstpointer a, gconstpointer b) {
  const VigilSlice *x = *(VigilSlice *const *)a, *y = *(VigilSlice *const *)b;
  int c = strcmp(x->path, y->path);
  return c ? c : (x->frame > y->frame) - (x->frame < y->frame);
}

static int cmp_instance(gconstpointer a, gconstpointer b) {
  const VigilSlice *x = *(VigilSlice *const *)a, *y = *(VigilSlice *const *)b;
  int ix = instance_of(x), iy = instance_of(y);
  return ix != iy ? (ix > iy) - (ix < iy) : cmp_file(a, b);
}

static int cmp_position(gconstpointer a, gconstpointer b) {
  const VigilSlice *x = *(VigilSlice *const *)a, *y = *(VigilSlice *const *)b;
  if (fabs(x->location - y->location) > 1e-4)
    return x->location > y->location ? 1 : -1;
  return cmp_instance(a, b);
}

/* Positions order the series only when every slice has one and they differ. */
static gboolean locate_by_position(VigilSeries *series) {
  GPtrArray *s = series->slices;
  VigilSlice *first = g_ptr_array_index(s, 0);
  double n[3];
  if (!first->info || !first->info->has_orientation || !slice_normal(first->info, n))
    return FALSE;
  double lo = INFINITY, hi = -INFINITY;
  for (guint i = 0; i < s->len; i++) {
    VigilSlice *slice = g_ptr_array_index(s, i);
    if (!slice->info || !slice->info->has_position)
      return FALSE;
    const double *p = slice->info->frame_positions ? slice->info->frame_positions + 3 * slice->frame
                                                   : slice->info->position;
    slice->location = p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
    lo = MIN(lo, slice->location);
    hi = MAX(hi, slice->location);
  }
  if (hi - lo < 1e-4)
    return FALSE;
  memcpy(series->normal, n, sizeof n);
  return TRUE;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Spacing from sorted locations; notes duplicates and uneven gaps. */
static void measure_spacing(VigilSeries *series) {
  GPtrArray *s = series->slices;
  g_autofree double *gaps = g_new0(double, s->len);
  guint n = 0, duplicates = 0;
  for (guint i = 1; i < s->len; i++) {
    const VigilSlice *a = g_ptr_array_index(s, i - 1), *b = g_ptr_array_index(s, i);
    double gap = b->location - a->location;
    if (gap < 1e-3)
      duplicates++;
    else
      gaps[n++] = gap;
  }
  if (duplicates) {
    g_autofree char *text = g_strdup_printf(
        "%u slice(s) share a position with their neighbour (duplicates or several acquisitions)",
        duplicates);
    append_warning(series, text);
  }
  if (!n)
    return;
  qsort(gaps, n, sizeof *gaps, cmp_double);
  series->slice_spacing = gaps[n / 2];
  if (gaps[n - 1] - gaps[0] > MAX(0.05 * series->slice_spacing, 0.01)) {
    g_autofree char *text = g_strdup_printf(
        "uneven slice spacing: %.3g to %.3g mm (missing slices?)", gaps[0], gaps[n - 1]);
    append_warning(series, text);
  }
}

void vigil_series_sort(VigilSeries *series) {
  GPtrArray *s = series->slices;
  if (s->len == 0)
    return;
  gboolean all_instances = TRUE;
  for (guint i = 0; i < s->len; i++) {
    const VigilSlice *slice = g_ptr_array_index(s, i);
    all_instances = all_instances && slice->info && slice->info->has_instance_number;
  }
  if (locate_by_position(series)) {
    series->order = VIGIL_ORDER_POSITION;
    g_ptr_array_sort(s, cmp_position);
    measure_spacing(series);
    return;
  }
  series->order = all_instances ? VIGIL_ORDER_INSTANCE : VIGIL_ORDER_FILE;
  g_ptr_array_sort(s, all_instances ? cmp_instance : cmp_file);
  for (guint i = 0; i < s->len; i++)
    ((VigilSlice *)g_ptr_array_index(s, i))->location = i;
  const VigilSlice *first = g_ptr_array_index(s, 0);
  if (first->info && first->info->slice_thickness > 0)
    series->slice_spacing = first->info->slice_thickness;
}
