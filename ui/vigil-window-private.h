/* VigilWindow's state, shared by the files that implement it: viewing
 * (vigil-window.c) and analysis (vigil-window-analysis.c). */
#pragma once

#include "vigil-analysis-panel.h"
#include "vigil-analyzer.h"
#include "vigil-series.h"
#include "vigil-slice-view.h"
#include "vigil-window.h"

struct _VigilWindow {
  AdwApplicationWindow parent_instance;
  GtkStack *content_stack;
  GtkListBox *file_list;
  VigilSliceView *slice_view;
  GtkScale *slice_scale;
  GtkAdjustment *slice_adjustment;
  VigilAnalysisPanel *analysis_panel;
  AdwWindowTitle *window_title;
  AdwToastOverlay *toasts;
  GListStore *files;

  VigilScan *scan;
  VigilSeries *series; /* shown; owned by scan */
  GCancellable *scan_cancellable;

  VigilAnalyzer *analyzer;
  GCancellable *analysis_cancellable; /* the running analysis job, or NULL */
  char *loaded_model;                 /* "clip|adapters|device" of the engine loaded */
  VigilDetection *result;             /* of the shown slice, or NULL */
  int result_slice;
  GHashTable *references; /* id (guint64 as pointer) -> label */
  float *shown_map;       /* the overlay as shown (selected layers summed), or NULL */
  int shown_side;
  double shown_lo, shown_hi;
};

void vigil_window_toast(VigilWindow *self, const char *message);

/* vigil-window-analysis.c */
void vigil_window_analysis_init(VigilWindow *self);
void vigil_window_analysis_class_init(GtkWidgetClass *widget_class);
void vigil_window_analysis_dispose(VigilWindow *self);
/* The slice changed: drop a result that belongs to another slice. */
void vigil_window_analysis_slice_changed(VigilWindow *self);
