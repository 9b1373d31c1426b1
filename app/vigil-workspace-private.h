/* VigilWorkspace's state, shared by its files:
 *   vigil-workspace.c              the files, indexing, what is shown, sessions
 *   vigil-workspace-analysis.c     the model and the analysis jobs
 *   vigil-workspace-calibration.c  which calibration the scores use */
#pragma once

#include "vigil-measurements.h"
#include "vigil-workspace.h"

typedef enum {
  WS_FILES_CHANGED,
  WS_SCAN_STARTED,
  WS_SERIES_ADDED,
  WS_SERIES_CHANGED,
  WS_INDEX_PROGRESS,
  WS_SCAN_FINISHED,
  WS_SHOW_SERIES,
  WS_RESTORE_SETTINGS,
  WS_RESTORE_VIEW,
  WS_CAPTURE_VIEW,
  WS_MESSAGE,
  WS_MODEL_CHANGED,
  WS_ANALYSIS_STATE,
  WS_ANALYSIS_PROGRESS,
  WS_ANALYSED,
  WS_N_SIGNALS
} WsSignal;

struct _VigilWorkspace {
  GObject parent_instance;
  GListStore *files; /* GFile: what the user opened; NULL once disposed */

  VigilIndexer *indexer;
  VigilScan *scan;                /* the indexer's: grows while it reads */
  VigilSeries *series;            /* shown; owned by scan */
  int slice;                      /* shown */
  double view_center, view_width; /* the window the slices are shown with */
  gint64 index_started_us;
  guint shown_after_ms, indexed_after_ms; /* since index_started_us; 0 until then */
  gboolean shown_while_indexing;          /* the first series came up before indexing ended */

  VigilAnalyzer *analyzer;
  char *adapters_path;                   /* of the loaded model: calibrations live beside it */
  char *calibration_path;                /* the calibration file last looked for */
  VigilCalibration *labelled;            /* read from calibration_path, or NULL */
  char *references_key;                  /* what from_references was made for */
  VigilCalibration *from_references[2];  /* zero-, few-shot; NULL while being made */
  GCancellable *calibration_cancellable; /* the reference calibration job, or NULL */
  VigilCalibration *saved;               /* the calibration a restored session used, or NULL */
  VigilAnalysisSession *analysis;        /* context, references and results per slice */
  VigilReferenceQueue *references;       /* references on their way into `analysis` */
  GCancellable *job_cancellable;         /* the running job (loading or analysing), or NULL */
  gboolean series_running;               /* Analyse Series is stepping through slices */
  char *fallback_shown;                  /* the engine's fallback reason last told */
  GCancellable *report_cancellable;      /* the report being written or sent, or NULL */
  VigilMeasurements *measurements;       /* rulers and regions, per series and slice */

  VigilSession *pending; /* a session being restored: view after the scan, refs after the model */
  guint pending_ref;     /* next of pending->references to add */
  guint autosave_source;

  gint64 model_load_us; /* when a model load began, until its first map (G_MESSAGES_DEBUG) */
};

void _vigil_workspace_emit(VigilWorkspace *self, WsSignal signal, ...);
void _vigil_workspace_message(VigilWorkspace *self, const char *message);
/* vigil-workspace.c: queues a restored session's references once the scan
 * and the model are there. */
void _vigil_workspace_continue_references(VigilWorkspace *self);
/* vigil-workspace-calibration.c */
void _vigil_workspace_calibration_init(VigilWorkspace *self);
void _vigil_workspace_calibration_dispose(VigilWorkspace *self);
/* The loaded weights changed: files and references are read again. */
void _vigil_workspace_calibration_forget_model(VigilWorkspace *self);
void _vigil_workspace_refresh_calibration(VigilWorkspace *self);
/* A session being restored: the labelled calibration it used stands in
 * when the file beside the adapters is gone (same weights, class, mode). */
void _vigil_workspace_calibration_restore(VigilWorkspace *self, const VigilSession *session);
/* vigil-workspace-analysis.c */
void _vigil_workspace_analysis_init(VigilWorkspace *self);
void _vigil_workspace_analysis_dispose(VigilWorkspace *self);
