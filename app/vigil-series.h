/* Studies and series: what opening files, folders or a DICOMDIR gives
 * (vigil-scan.h opens them). A series is an ordered stack of slices with geometry; each slice
 * decodes on demand through a pixel source (a small vtable, so DICOM, NIfTI or PNG stacks look the
 * same) into an LRU cache with a memory cap. Opening reads headers only: a 1000-slice CT opens
 * without decoding a slice. */
#pragma once

#include <glib.h>

#include "vigil-dicom.h"
#include "vigil-image.h"

G_BEGIN_DECLS

typedef struct _VigilSlice VigilSlice;

/* How a slice's pixels are produced. `decode` returns a new image (caller
 * frees) or NULL with an error; it may be called from any thread. */
typedef struct {
  const char *name; /* "dicom", "nifti", ... */
  VigilImage *(*decode)(const VigilSlice *slice, GError **error);
} VigilPixelSource;

extern const VigilPixelSource vigil_dicom_pixel_source; /* decodes path's `frame` */

struct _VigilSlice {
  const VigilPixelSource *source;
  char *path;
  int frame;     /* frame (or plane) inside `path` */
  gpointer data; /* for the source; freed with `data_free` */
  GDestroyNotify data_free;
  /* Header, owned by the scan: DICOM's, or one in its shape for PNG, JPEG and
   * NIfTI slices (vigil-scan-images.c). Every slice a scan makes has one;
   * only a slice built by hand with vigil_slice_new starts without. */
  VigilSliceInfo *info;
  double location; /* mm along the series normal when ordered by position */
};

/* Slices decoded lately, shared by the series of one scan; thread-safe. */
typedef struct _VigilSliceCache VigilSliceCache;
VigilSliceCache *vigil_slice_cache_new(gsize max_bytes);
VigilSliceCache *vigil_slice_cache_ref(VigilSliceCache *cache);
void vigil_slice_cache_unref(VigilSliceCache *cache);
gsize vigil_slice_cache_bytes(VigilSliceCache *cache);   /* held now */
guint vigil_slice_cache_decodes(VigilSliceCache *cache); /* decode calls so far */
#define VIGIL_SLICE_CACHE_DEFAULT (256u << 20)           /* a fine cap for a viewer */

typedef enum {
  VIGIL_ORDER_POSITION, /* Image Position (Patient) projected on the slice normal */
  VIGIL_ORDER_INSTANCE, /* Instance Number, then frame */
  VIGIL_ORDER_FILE,     /* neither usable: path, then frame */
} VigilSliceOrder;

typedef struct {
  char *uid; /* Series Instance UID ("" when absent) */
  char *description, *modality;
  GPtrArray *slices; /* VigilSlice*, display order (owned) */
  int width, height;
  gboolean color;
  double normal[3];     /* unit slice normal; 0 when unknown */
  double slice_spacing; /* mm between neighbouring slices, 0 when unknown */
  VigilSliceOrder order;
  char *warning; /* NULL, or what is inconsistent about this series */
  VigilSliceCache *cache;
} VigilSeries;

typedef struct {
  char *uid; /* Study Instance UID */
  char *description, *date, *patient_name, *patient_id;
  GPtrArray *series; /* VigilSeries* (owned) */
} VigilStudy;

/* The distinct transfer syntaxes of a series' slices, in slice order, joined
 * with ", " (a series may mix them); g_free it. */
char *vigil_series_transfer_syntaxes(const VigilSeries *series);
/* How many of its slices say their pixels went through lossy compression
 * (VigilSliceInfo.lossy), and the first such slice's header (NULL if none). */
guint vigil_series_lossy_slices(const VigilSeries *series, const VigilSliceInfo **first);

/* Building blocks for other sources. vigil_slice_new takes a copy of path. */
VigilSlice *vigil_slice_new(const VigilPixelSource *source, const char *path, int frame,
                            gpointer data, GDestroyNotify data_free);
VigilSeries *vigil_series_new(const char *uid, VigilSliceCache *cache);
void vigil_series_free(VigilSeries *series);

/* Slice `index` in display order, decoded or from the cache. Returns a new
 * image the caller frees (the cache keeps its own copy). */
VigilImage *vigil_series_get_slice(VigilSeries *series, guint index, GError **error);

/* Decodes slice `index` into the cache unless it is there already, e.g. on a
 * worker ahead of scrolling. FALSE (with error) when it does not decode. */
gboolean vigil_series_warm(VigilSeries *series, guint index, GError **error);

/* Sorts series->slices and fills order, normal, slice_spacing, and warning
 * (duplicates, uneven spacing). Slices need `info` for position ordering. */
void vigil_series_sort(VigilSeries *series);

const char *vigil_slice_order_name(VigilSliceOrder order);

G_END_DECLS
