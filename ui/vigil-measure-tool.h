/* VigilMeasureTool: measuring on a VigilSliceView. With a tool chosen, a
 * primary drag on the view draws a ruler, an ellipse (its bounding box) or a
 * freehand outline instead of panning; the measurement is computed on the
 * slice shown (app/vigil-measurement.h) and added to a VigilMeasurements.
 * It draws the shown slice's measurements over the image (the view's image
 * painter) with their labels upright (its widget painter); Delete removes the
 * selected one (win.delete-measurement), Escape drops a drawing in progress.
 * Signals: message (const char*) something to tell the user;
 * measured (guint id) a measurement was added. */
#pragma once

#include "vigil-measurements.h"
#include "vigil-slice-view.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_MEASURE_TOOL (vigil_measure_tool_get_type())
G_DECLARE_FINAL_TYPE(VigilMeasureTool, vigil_measure_tool, VIGIL, MEASURE_TOOL, GObject)

typedef enum {
  VIGIL_TOOL_NONE = -1, /* navigate: a drag pans */
  VIGIL_TOOL_RULER = VIGIL_MEASURE_RULER,
  VIGIL_TOOL_ELLIPSE = VIGIL_MEASURE_ELLIPSE,
  VIGIL_TOOL_FREEHAND = VIGIL_MEASURE_FREEHAND,
} VigilTool;

/* Attaches to `view` (borrowed: it must outlive the tool's use) and adds to
 * `measurements` (referenced). */
VigilMeasureTool *vigil_measure_tool_new(VigilSliceView *view, VigilMeasurements *measurements);
void vigil_measure_tool_set_tool(VigilMeasureTool *self, VigilTool tool);
/* The series shown ("" or NULL: none) and the unit of its grey values ("HU"). */
void vigil_measure_tool_set_series(VigilMeasureTool *self, const char *series_uid,
                                   const char *unit);
/* The measurement drawn highlighted and removed by Delete (0: none). */
void vigil_measure_tool_set_selected(VigilMeasureTool *self, guint id);
/* Measures `kind` through `points` (image coordinates) on the shown slice
 * and adds it, as a drag does: its id, or 0 with `error` set. */
guint vigil_measure_tool_measure(VigilMeasureTool *self, VigilMeasureKind kind,
                                 const VigilMeasurePoint *points, guint n_points, GError **error);
/* Measures the heatmap's region above `threshold` (in map units) on the
 * shown slice, as vigil_map_region does, and adds it: its id, or 0 with
 * `error` set (no slice, or nothing above the threshold). */
guint vigil_measure_tool_measure_region(VigilMeasureTool *self, const VigilMap *map,
                                        double threshold, GError **error);

G_END_DECLS
