/* Opening paths into a scan: files, folders (recursively) and DICOMDIRs
 * read as studies and series (vigil-series.h), with the files that could not
 * be read kept as issues. In one call (vigil_scan_open) or step by step, so a
 * worker reads headers while another thread groups them (VigilIndexer). */
#pragma once

#include <glib.h>

#include "vigil-dicom.h"
#include "vigil-series.h"

G_BEGIN_DECLS

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

/* Opens files, folders (recursively; dot-files and DICOMDIR files inside are
 * skipped) and DICOMDIRs (the files they reference). Never fails as a whole:
 * each unreadable path is an issue and everything else opens. cache_bytes
 * caps the decoded slices kept (VIGIL_SLICE_CACHE_DEFAULT is a fine value). */
VigilScan *vigil_scan_open(const char *const *paths, gsize cache_bytes);
void vigil_scan_free(VigilScan *scan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilScan, vigil_scan_free)
guint vigil_scan_n_series(const VigilScan *scan);
/* The series with Series Instance UID `uid`, or NULL. */
VigilSeries *vigil_scan_find_series(const VigilScan *scan, const char *uid);
/* Where `series` is in scan order (studies, then their series), or -1. */
int vigil_scan_series_position(const VigilScan *scan, const VigilSeries *series);

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

G_END_DECLS
