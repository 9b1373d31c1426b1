/* VigilWindow's widgets, shared by the files that implement it. What the
 * window works on is a VigilWorkspace (app/vigil-workspace.h); each file
 * translates between its widgets and the workspace (connects to its
 * signals, calls its methods) and never calls another file:
 *   vigil-window.c             the view, the sidebar's choice, opening files, toasts
 *   vigil-window-actions.c     every action and shortcut
 *   vigil-window-index.c       the sidebar and the progress of indexing
 *   vigil-window-analysis.c    the panel, the model's status, maps and scores
 *   vigil-window-references.c  the normal references strip, drops, the context menu
 *   vigil-window-session.c     Save Session, restoring the panel's settings, the autosave offer
 *   vigil-window-report.c      the Report dialog, exporting and sending reports
 *   vigil-window-view.c        turns, flips, inversion and corner text per series; cine
 *   vigil-window-measure.c     measuring tools, the measurement list, the DICOM tag browser
 * (vigil-application.c reaches the window through vigil-window.h only.) */
#pragma once

#include "vigil-analysis-panel.h"
#include "vigil-analysis-session.h"
#include "vigil-session.h"
#include "vigil-analyzer.h"
#include "vigil-cine.h"
#include "vigil-measure-tool.h"
#include "vigil-measurement-list.h"
#include "vigil-tag-browser.h"
#include "vigil-indexer.h"
#include "vigil-prefetcher.h"
#include "vigil-reference-queue.h"
#include "vigil-reference-strip.h"
#include "vigil-report-dialog.h"
#include "vigil-scan.h"
#include "vigil-series-list.h"
#include "vigil-series-profile.h"
#include "vigil-slice-view.h"
#include "vigil-window.h"
#include "vigil-workspace.h"

struct _VigilWindow {
  AdwApplicationWindow parent_instance;
  GtkStack *content_stack;
  VigilSeriesList *series_list;
  VigilSliceView *slice_view;
  GtkScale *slice_scale;
  GtkAdjustment *slice_adjustment;
  VigilAnalysisPanel *analysis_panel;
  VigilSeriesProfile *series_profile;   /* observes `analysis` */
  VigilReferenceStrip *reference_strip; /* observes `analysis` */
  VigilReportDialog *report_dialog;     /* while open; observes `analysis` */
  AdwWindowTitle *window_title;
  AdwToastOverlay *toasts;
  GtkMenuButton *window_presets;
  GMenu *recent_submenu; /* filled with the application's recent menu */
  GtkProgressBar *index_progress;
  GSimpleAction *indexing_action; /* borrowed from the action map */
  /* The view's helper (in ui/: it makes textures): decodes slices ahead of scrolling. */
  VigilPrefetcher *prefetcher;
  /* The view's helpers (vigil-window-view.c): plays series; each series' transform by UID. */
  VigilCine *cine;
  GHashTable *view_transforms; /* char* -> VigilViewTransform* */
  VigilMeasurementList *measurement_list;
  VigilMeasureTool *measure_tool; /* draws and takes drags on slice_view */
  VigilTagBrowser *tag_browser;   /* while open */

  /* What the window works on (app/vigil-workspace.h): the files, the scan,
   * what is shown, the analysis, the session file. The parts connect to
   * its signals and call its methods; they never call each other. */
  VigilWorkspace *workspace;
};

void _vigil_window_toast(VigilWindow *self, const char *message);
/* The application's settings, or NULL (a window without an application). */
GSettings *_vigil_window_settings(VigilWindow *self);

/* vigil-window-index.c */
void _vigil_window_index_init(VigilWindow *self);
void _vigil_window_index_dispose(VigilWindow *self);

/* vigil-window-analysis.c */
void _vigil_window_analysis_init(VigilWindow *self);
void _vigil_window_analysis_dispose(VigilWindow *self);

/* vigil-window-references.c */
void _vigil_window_references_init(VigilWindow *self);
void _vigil_window_references_dispose(VigilWindow *self);

/* vigil-window-session.c */
void _vigil_window_session_init(VigilWindow *self);

/* vigil-window-report.c */
void _vigil_window_report_dispose(VigilWindow *self);

/* vigil-window-view.c */
void _vigil_window_view_init(VigilWindow *self);
void _vigil_window_view_dispose(VigilWindow *self);
/* vigil-window-measure.c */
void _vigil_window_measure_init(VigilWindow *self);
void _vigil_window_measure_dispose(VigilWindow *self);

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
void _vigil_window_action_measure_tool(GSimpleAction *action, GVariant *state,
                                       gpointer user_data); /* vigil-window-measure.c */
void _vigil_window_action_add_measurement(GSimpleAction *action, GVariant *param,
                                          gpointer user_data); /* vigil-window-measure.c */
void _vigil_window_action_delete_measurement(GSimpleAction *action, GVariant *param,
                                             gpointer user_data); /* vigil-window-measure.c */
void _vigil_window_action_measure_region(GSimpleAction *action, GVariant *param,
                                         gpointer user_data); /* vigil-window-measure.c */
void _vigil_window_action_tag_browser(GSimpleAction *action, GVariant *param,
                                      gpointer user_data); /* vigil-window-measure.c */
void _vigil_window_action_find_tag(GSimpleAction *action, GVariant *param,
                                   gpointer user_data); /* vigil-window-measure.c */
void _vigil_window_action_window_preset(GSimpleAction *action, GVariant *param,
                                        gpointer user_data); /* vigil-window.c */
void _vigil_window_action_print_layout(GSimpleAction *action, GVariant *param,
                                       gpointer user_data); /* vigil-window.c */
void _vigil_window_action_rotate(GSimpleAction *action, GVariant *param,
                                 gpointer user_data); /* vigil-window-view.c */
void _vigil_window_action_flip(GSimpleAction *action, GVariant *param,
                               gpointer user_data); /* vigil-window-view.c */
void _vigil_window_change_invert(GSimpleAction *action, GVariant *value,
                                 gpointer user_data); /* vigil-window-view.c */
void _vigil_window_change_corner_text(GSimpleAction *action, GVariant *value,
                                      gpointer user_data); /* vigil-window-view.c */
void _vigil_window_change_cine(GSimpleAction *action, GVariant *value,
                               gpointer user_data); /* vigil-window-view.c */
void _vigil_window_change_cine_rate(GSimpleAction *action, GVariant *value,
                                    gpointer user_data); /* vigil-window-view.c */
void _vigil_window_action_print_annotations(GSimpleAction *action, GVariant *param,
                                            gpointer user_data); /* vigil-window-view.c */
