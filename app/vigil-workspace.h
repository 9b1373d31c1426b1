/* VigilWorkspace: what one window works on, without GTK. It owns the files
 * opened and the indexer reading them (with its scan), the series and slice
 * shown (as values: the view mirrors them), the analyzer with the analysis
 * model and the references queue, the running analysis job, and the session
 * file: restoring a .vigil (the settings at once, the view once the scan is
 * read, the references once the model is loaded too) and autosaving.
 * The window only translates: it calls the methods below and connects to
 * the signals, so its parts never call each other.
 * Driven from one thread (the UI's); jobs run on workers and hand back.
 * Signals:
 *   files-changed ()               the opened files changed
 *   scan-started ()                a new scan replaces the old one (nothing shown)
 *   series-added (gpointer VigilStudy*, gpointer VigilSeries*)
 *   series-changed (gpointer VigilSeries*)  it gained slices and was re-sorted
 *   index-progress ()              files read or series settled
 *   scan-finished ()               everything was read
 *   show-series (gpointer VigilSeries*)  the shown series changed (NULL: none);
 *                                  the view shows its middle slice in its default window
 *   restore-settings (gpointer const VigilSession*)  a session's analysis settings,
 *                                  in the analysis model already, for the panel to show
 *   restore-view (gpointer const VigilSession*)  its view, once its series is shown
 *   capture-view (gpointer VigilSession*)  saving: fill in the view (zoom, window)
 *   message (const char*)          something to tell the user
 *   model-changed (const char *problem)  loaded (NULL) or not, or it fell back to the CPU
 *   analysis-state (gboolean running, const char *title)  a job started or ended
 *   analysis-progress (double fraction, const char *text)
 *   analysed (gpointer GArray* of int)  results of these slices were stored */
#pragma once

#include <gio/gio.h>

#include "vigil-analysis-session.h"
#include "vigil-analyzer.h"
#include "vigil-indexer.h"
#include "vigil-measurements.h"
#include "vigil-reference-queue.h"
#include "vigil-session.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_WORKSPACE (vigil_workspace_get_type())
G_DECLARE_FINAL_TYPE(VigilWorkspace, vigil_workspace, VIGIL, WORKSPACE, GObject)

VigilWorkspace *vigil_workspace_new(void);

/* ---- what is open ---- */

/* The opened files (GFile), as the user opened them. */
GListModel *vigil_workspace_get_files(VigilWorkspace *self);
/* Adds files and folders and reads them all again into a new scan. */
void vigil_workspace_add_files(VigilWorkspace *self, GFile **files, int n_files);
/* TRUE when `file` is a .vigil session: it is then restored (or its error told). */
gboolean vigil_workspace_open_session(VigilWorkspace *self, GFile *file);
/* The indexer reading the files and its scan (NULL before anything is opened).
 * The indexer owns the scan: hold it to keep the scan's slices alive. */
VigilIndexer *vigil_workspace_get_indexer(VigilWorkspace *self);
VigilScan *vigil_workspace_get_scan(VigilWorkspace *self);
/* Milliseconds from opening to the first series shown and to the end of
 * indexing (0 until then), and whether that series came before the end. */
void vigil_workspace_get_index_times(VigilWorkspace *self, guint *shown_after_ms,
                                     guint *indexed_after_ms, gboolean *shown_while_indexing);

/* ---- what is shown ---- */

/* Shows `series` (of the scan; NULL: nothing): emits show-series. */
void vigil_workspace_show_series(VigilWorkspace *self, VigilSeries *series);
VigilSeries *vigil_workspace_get_series(VigilWorkspace *self);
/* What the view shows now, as the window reports it: the slice, and the
 * window its slices are shown with. A new slice is worth autosaving. */
void vigil_workspace_set_view(VigilWorkspace *self, int slice, double center, double width);
int vigil_workspace_get_slice(VigilWorkspace *self);

/* ---- the analysis ---- */

VigilAnalyzer *vigil_workspace_get_analyzer(VigilWorkspace *self);
VigilAnalysisSession *vigil_workspace_get_analysis(VigilWorkspace *self);
VigilReferenceQueue *vigil_workspace_get_references(VigilWorkspace *self);
/* Loads this model (on a worker) unless it is the one loaded; model-changed
 * follows. cpu_threads: the CPU backend's threads (0: one per physical core). */
void vigil_workspace_load_model(VigilWorkspace *self, const char *clip, const char *adapters,
                                const char *device, VigilPrecision precision, int cpu_threads);
gboolean vigil_workspace_model_ready(VigilWorkspace *self);
/* Analyses slice `slice` of the shown series, or (-1) every slice without a
 * current result, a batch per job, in the analysis model's current context
 * (class, mode, the window the model sees). FALSE (with a message) when
 * there is no series or no model, or a job runs. */
gboolean vigil_workspace_analyse(VigilWorkspace *self, int slice);
/* A job (loading or analysing) runs, or Analyse Series is stepping. */
gboolean vigil_workspace_is_busy(VigilWorkspace *self);
void vigil_workspace_cancel_analysis(VigilWorkspace *self);
/* Removes a reference from the bank and the model, without waiting for a
 * running analysis (it applies the removal before it scores). */
gboolean vigil_workspace_remove_reference(VigilWorkspace *self, guint64 id, GError **error);

/* The measurements (rulers, regions) of every series, kept in the session. */
VigilMeasurements *vigil_workspace_get_measurements(VigilWorkspace *self);

/* ---- the report being written or sent (the window's report part runs it) ---- */

/* Its cancellable (held by the workspace), or NULL when one runs already. */
GCancellable *vigil_workspace_begin_report(VigilWorkspace *self);
/* It ended: FALSE when none ran (the workspace was closed meanwhile). */
gboolean vigil_workspace_end_report(VigilWorkspace *self);
gboolean vigil_workspace_is_reporting(VigilWorkspace *self);
void vigil_workspace_cancel_report(VigilWorkspace *self);

/* ---- the session file ---- */

/* Something worth keeping changed: autosave soon. */
void vigil_workspace_changed(VigilWorkspace *self);
/* Writes a pending autosave now (the window closes). */
void vigil_workspace_flush_autosave(VigilWorkspace *self);
gboolean vigil_workspace_save_session(VigilWorkspace *self, const char *path, GError **error);
/* A session is being restored (its references may still be on their way). */
gboolean vigil_workspace_is_restoring(VigilWorkspace *self);

G_END_DECLS
