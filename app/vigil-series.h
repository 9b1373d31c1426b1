/* Studies and series: what opening files, folders or a DICOMDIR gives.
 * A series is an ordered stack of slices with geometry; each slice decodes on
 * demand through a pixel source (a small vtable, so DICOM, NIfTI or PNG
 * stacks look the same) into an LRU cache with a memory cap. Opening reads
 * headers only: a 1000-slice CT opens without decoding a slice. */
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

typedef struct {
  char *path;
  GError *error; /* VIGIL_SCAN_ERROR: why this file was left out */
} VigilScanIssue;

typedef struct {
  GPtrArray *studies; /* VigilStudy* */
  GPtrArray *issues;  /* VigilScanIssue*: files that could not be opened */
  guint n_files;      /* files looked at */
  GPtrArray *infos;   /* VigilSliceInfo*: owns every slice's `info` */
} VigilScan;

#define VIGIL_SLICE_CACHE_DEFAULT (256u << 20)

/* The distinct transfer syntaxes of a series' slices, in slice order, joined
 * with ", " (a series may mix them); g_free it. */
char *vigil_series_transfer_syntaxes(const VigilSeries *series);
/* How many of its slices say their pixels went through lossy compression
 * (VigilSliceInfo.lossy), and the first such slice's header (NULL if none). */
guint vigil_series_lossy_slices(const VigilSeries *series, const VigilSliceInfo **first);

/* Opens files, folders (recursively; dot-files and DICOMDIR files inside are
 * skipped) and DICOMDIRs (the files they reference). Never fails as a whole:
 * each unreadable path is an issue and everything else opens. cache_bytes
 * caps the decoded slices kept (VIGIL_SLICE_CACHE_DEFAULT is a fine value). */
VigilScan *vigil_scan_open(const char *const *paths, gsize cache_bytes);
void vigil_scan_free(VigilScan *scan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilScan, vigil_scan_free)
guint vigil_scan_n_series(const VigilScan *scan);

/* Opening step by step, so a worker can read headers while the UI thread
 * groups them (see VigilIndexer). None of these are thread-safe: a scan
 * belongs to one thread at a time. */
VigilScan *vigil_scan_new(void);
/* The files under `paths` in reading order; unreadable paths become issues. */
GPtrArray *vigil_scan_collect(VigilScan *scan, const char *const *paths);
/* A DICOM header to group (caller owns it), or NULL when `path` was added to
 * `scan` as an image file or an issue. */
VigilSliceInfo *vigil_scan_read_header(VigilScan *scan, const char *path, VigilSliceCache *cache);
/* Moves everything in `from` (studies, issues, infos) into `into`; frees `from`. */
void vigil_scan_merge(VigilScan *into, VigilScan *from);

/* Groups DICOM headers into a scan's studies and series as they arrive. */
typedef struct _VigilScanBuilder VigilScanBuilder;
VigilScanBuilder *vigil_scan_builder_new(VigilScan *scan, VigilSliceCache *cache);
void vigil_scan_builder_free(VigilScanBuilder *builder);
/* Takes `info`; returns the series its slices joined (NULL: a duplicate,
 * noted as an issue), with *is_new set when that series was created now. */
VigilSeries *vigil_scan_builder_add(VigilScanBuilder *builder, VigilSliceInfo *info,
                                    gboolean *is_new);
/* Sorts the series added to since the last call and notes their warnings. */
void vigil_scan_builder_settle(VigilScanBuilder *builder);

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
