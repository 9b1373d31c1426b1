/* VigilWindow's state, shared by the files that implement it:
 *   vigil-window.c             viewing, the sidebar, the window's actions
 *   vigil-window-index.c       indexing what was opened, in the background
 *   vigil-window-analysis.c    the model, analysing slices and series, results
 *   vigil-window-references.c  the normal references (few-shot)
 *   vigil-window-session.c     saving and restoring .vigil sessions
 *   vigil-window-report.c      the Report dialog, exporting and sending reports
 * (vigil-application.c reaches the window through vigil-window.h only.) */
#pragma once

#include "vigil-analysis-panel.h"
#include "vigil-analysis-session.h"
#include "vigil-session.h"
#include "vigil-analyzer.h"
#include "vigil-indexer.h"
#include "vigil-prefetcher.h"
#include "vigil-reference-queue.h"
#include "vigil-reference-strip.h"
#include "vigil-report-dialog.h"
#include "vigil-scan.h"
#include "vigil-series-list.h"
#include "vigil-slice-view.h"
#include "vigil-window.h"

struct _VigilWindow {
  AdwApplicationWindow parent_instance;
  GtkStack *content_stack;
  VigilSeriesList *series_list;
  VigilSliceView *slice_view;
  GtkScale *slice_scale;
  GtkAdjustment *slice_adjustment;
  VigilAnalysisPanel *analysis_panel;
  VigilReferenceStrip *reference_strip; /* observes `analysis` */
  VigilReportDialog *report_dialog;     /* while open; observes `analysis` */
  AdwWindowTitle *window_title;
  AdwToastOverlay *toasts;
  GtkMenuButton *window_presets;
  GMenu *recent_submenu; /* filled with the application's recent menu */
  GtkProgressBar *index_progress;
  GListStore *files;

  VigilScan *scan;     /* the indexer's: grows while it reads */
  VigilSeries *series; /* shown; owned by scan */
  VigilIndexer *indexer;
  VigilPrefetcher *prefetcher;
  GSimpleAction *indexing_action; /* borrowed from the action map */
  gboolean shown_while_indexing;  /* the first series came up before indexing ended */
  gint64 index_started_us;
  guint shown_after_ms, indexed_after_ms; /* since index_started_us; 0 until then */

  VigilAnalyzer *analyzer;
  GCancellable *analysis_cancellable; /* the running analysis job, or NULL */
  char *fallback_shown;               /* the engine's fallback reason last shown */
  VigilAnalysisSession *analysis;     /* context, references and results per slice */
  gboolean result_shown;   /* the last show_cached found a current result for the shown slice */
  gboolean series_running; /* Analyse Series is stepping through slices */
  VigilReferenceQueue *references;  /* references on their way into `analysis` */
  GCancellable *report_cancellable; /* the report being written or sent, or NULL */
  VigilSession *pending; /* a session being restored: view after the scan, refs after the model */
  guint pending_ref;     /* next of pending->references to add */
  guint autosave_source;
  float *shown_map; /* the overlay as shown (selected layers summed), or NULL */
  int shown_side;
  double shown_lo, shown_hi;
};

void _vigil_window_toast(VigilWindow *self, const char *message);
void _vigil_window_replace_files(VigilWindow *self, const char *const *paths);
/* Shows `series` (NULL: nothing) from its middle slice with its default window. */
void _vigil_window_show_series(VigilWindow *self, VigilSeries *series);
/* The shown series gained slices while indexing: keep the view, refresh the count. */
void _vigil_window_series_grew(VigilWindow *self);

/* vigil-window-index.c */
void _vigil_window_index_init(VigilWindow *self);
void _vigil_window_index_dispose(VigilWindow *self);
/* Cancels any indexing and starts reading `paths` into a new, empty sidebar. */
void _vigil_window_index_start(VigilWindow *self, const char *const *paths);

/* vigil-window-analysis.c */
void _vigil_window_analysis_init(VigilWindow *self);
void _vigil_window_analysis_dispose(VigilWindow *self);
gboolean _vigil_window_analysis_model_ready(VigilWindow *self);
/* TRUE (with the window) when the domain fixes what the model sees (CT presets). */
gboolean _vigil_window_analysis_fixed_window(VigilWindow *self, double *center, double *width);
/* The slice changed: drop a result that belongs to another slice. */
void _vigil_window_analysis_slice_changed(VigilWindow *self);

/* vigil-window-references.c */
void _vigil_window_references_init(VigilWindow *self);
void _vigil_window_references_dispose(VigilWindow *self);

/* vigil-window-session.c */
void _vigil_window_session_init(VigilWindow *self);
void _vigil_window_session_dispose(VigilWindow *self);
/* Opening a .vigil file: TRUE when `file` was one and is being restored. */
gboolean _vigil_window_session_open(VigilWindow *self, GFile *file);
/* After a scan: apply a pending session's view. After the model: its references. */
void _vigil_window_session_scanned(VigilWindow *self);
void _vigil_window_session_continue_references(VigilWindow *self);
/* Something worth keeping changed: autosave soon. */
void _vigil_window_session_changed(VigilWindow *self);

/* vigil-window-report.c */
void _vigil_window_report_dispose(VigilWindow *self);

/* vigil-window-actions.c: every window action and every shortcut, in one place. */
void _vigil_window_actions_init(VigilWindow *self);
/* win.open and win.open-folder: widget actions (a file chooser each). */
void _vigil_window_class_actions_init(GtkWidgetClass *widget_class);
void _vigil_window_open_dialog(GtkWidget *widget, const char *action, GVariant *param);
void _vigil_window_open_folder_dialog(GtkWidget *widget, const char *action, GVariant *param);

/* The actions' handlers, in the files that do the work. */
void _vigil_window_action_analyse_slice(GSimpleAction *action, GVariant *param,
                                        gpointer user_data); /* vigil-window-analysis.c */
void _vigil_window_action_analyse_series(GSimpleAction *action, GVariant *param,
                                         gpointer user_data); /* vigil-window-analysis.c */
void _vigil_window_action_cancel_analysis(GSimpleAction *action, GVariant *param,
                                          gpointer user_data); /* vigil-window-analysis.c */
void _vigil_window_action_load_model(GSimpleAction *action, GVariant *param,
                                     gpointer user_data); /* vigil-window-analysis.c */
void _vigil_window_action_export_view(GSimpleAction *action, GVariant *param,
                                      gpointer user_data); /* vigil-window-analysis.c */
void _vigil_window_action_export_dialog(GSimpleAction *action, GVariant *param,
                                        gpointer user_data); /* vigil-window-analysis.c */
void _vigil_window_action_add_reference(GSimpleAction *action, GVariant *param,
                                        gpointer user_data); /* vigil-window-references.c */
void _vigil_window_action_add_reference_files(GSimpleAction *action, GVariant *param,
                                              gpointer user_data); /* vigil-window-references.c */
void _vigil_window_action_add_reference_series(GSimpleAction *action, GVariant *param,
                                               gpointer user_data); /* vigil-window-references.c */
void _vigil_window_action_remove_reference(GSimpleAction *action, GVariant *param,
                                           gpointer user_data); /* vigil-window-references.c */
void _vigil_window_action_reset_view(GSimpleAction *action, GVariant *param,
                                     gpointer user_data); /* vigil-window-references.c */
void _vigil_window_action_save_session(GSimpleAction *action, GVariant *param,
                                       gpointer user_data); /* vigil-window-session.c */
void _vigil_window_action_save_dialog(GSimpleAction *action, GVariant *param,
                                      gpointer user_data); /* vigil-window-session.c */
void _vigil_window_action_restore_autosave(GSimpleAction *action, GVariant *param,
                                           gpointer user_data); /* vigil-window-session.c */
void _vigil_window_action_report_dialog(GSimpleAction *action, GVariant *param,
                                        gpointer user_data); /* vigil-window-report.c */
void _vigil_window_action_export_report(GSimpleAction *action, GVariant *param,
                                        gpointer user_data); /* vigil-window-report.c */
void _vigil_window_action_send_report(GSimpleAction *action, GVariant *param,
                                      gpointer user_data); /* vigil-window-report.c */
void _vigil_window_action_mark_slice(GSimpleAction *action, GVariant *param,
                                     gpointer user_data); /* vigil-window-report.c */
void _vigil_window_action_set_note(GSimpleAction *action, GVariant *param,
                                   gpointer user_data); /* vigil-window-report.c */
void _vigil_window_action_window_preset(GSimpleAction *action, GVariant *param,
                                        gpointer user_data); /* vigil-window.c */
void _vigil_window_action_print_layout(GSimpleAction *action, GVariant *param,
                                       gpointer user_data); /* vigil-window.c */
