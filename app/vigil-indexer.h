/* VigilIndexer: opens files and folders in the background. A worker reads
 * headers file by file and hands them over in batches; the indexer groups
 * them into its scan on the thread that created it, so signal handlers may
 * read the scan freely. A series is "settled" once the worker has moved on to
 * another series (or finished): a folder usually holds a series' files
 * together, so it is then complete enough to show. */
#pragma once

#include <gio/gio.h>

#include "vigil-scan.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_INDEXER (vigil_indexer_get_type())
G_DECLARE_FINAL_TYPE(VigilIndexer, vigil_indexer, VIGIL, INDEXER, GObject)

/* Signals (all on the creating thread):
 *   series-added (gpointer VigilStudy*, gpointer VigilSeries*): a new series;
 *   series-changed (gpointer VigilSeries*): it gained slices and was re-sorted;
 *   progress (): files_done/files_total or settled series changed;
 *   finished (): everything was read (not emitted after cancel). */
VigilIndexer *vigil_indexer_new(const char *const *paths, gsize cache_bytes);
void vigil_indexer_start(VigilIndexer *self);
/* Tests: wait `ms` before each file (before start). The environment variable
 * VIGIL_INDEX_DELAY_MS sets it for the app, so GUI tests can watch indexing. */
void vigil_indexer_set_file_delay(VigilIndexer *self, guint ms);
/* Stops the worker; no signal is emitted afterwards. */
void vigil_indexer_cancel(VigilIndexer *self);

/* Owned by the indexer and alive as long as it is. */
VigilScan *vigil_indexer_get_scan(VigilIndexer *self);
gboolean vigil_indexer_is_finished(VigilIndexer *self);
gboolean vigil_indexer_is_settled(VigilIndexer *self, const VigilSeries *series);
guint vigil_indexer_get_files_done(VigilIndexer *self);
guint vigil_indexer_get_files_total(VigilIndexer *self); /* 0 until the files are listed */

G_END_DECLS
