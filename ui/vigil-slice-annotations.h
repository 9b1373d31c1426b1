/* What a radiologist reads around a slice, in the corners as Weasis, OHIF and
 * 3D Slicer put it (patient top left, study and institution top right, series
 * and slice bottom left, window/level and zoom bottom right), and the
 * orientation letters at the middle of each edge, which follow the view's
 * turns and flips. Not a widget: VigilSliceView draws it and keeps one. */
#pragma once

#include <gtk/gtk.h>

#include "vigil-dicom.h"
#include "vigil-heatmap.h"
#include "vigil-image.h"
#include "vigil-orientation.h"

G_BEGIN_DECLS

typedef struct _VigilSliceAnnotations VigilSliceAnnotations;

typedef enum {
  VIGIL_CORNER_TOP_LEFT,
  VIGIL_CORNER_TOP_RIGHT,
  VIGIL_CORNER_BOTTOM_LEFT,
  VIGIL_CORNER_BOTTOM_RIGHT,
  VIGIL_N_CORNERS
} VigilCorner;

/* What the view knows when it draws. */
typedef struct {
  int slice, slice_count;
  double center, width, zoom;
  gboolean rgb;
  const char *readout; /* the value under the pointer, or NULL */
  const VigilViewTransform *transform;
  gboolean legend; /* the heatmap's legend is at the right edge: letters keep clear of it */
} VigilAnnotationState;

VigilSliceAnnotations *vigil_slice_annotations_new(void);
void vigil_slice_annotations_free(VigilSliceAnnotations *a);

/* The shown slice's header (copied; NULL: none) and its location in mm along
 * the series (NAN: unknown; Slice Location wins when the file has one). */
void vigil_slice_annotations_set_info(VigilSliceAnnotations *a, const VigilSliceInfo *info,
                                      double location);

/* "(x, y)  value unit" at pixel (px, py), and the overlay's score there when
 * overlay->values is set (g_free it). */
char *vigil_slice_annotations_readout(const VigilImage *image, const VigilMap *overlay, int px,
                                      int py, const char *unit);

/* One corner's lines, or "" (g_free it). */
char *vigil_slice_annotations_corner(const VigilSliceAnnotations *a,
                                     const VigilAnnotationState *state, VigilCorner corner);
/* The letters at each edge ("" each without an orientation). */
void vigil_slice_annotations_edges(const VigilSliceAnnotations *a, const VigilViewTransform *t,
                                   char edges[VIGIL_N_EDGES][4]);
/* Everything drawn, one "name: text" line per corner and edge (tests, accessibility). */
char *vigil_slice_annotations_describe(const VigilSliceAnnotations *a,
                                       const VigilAnnotationState *state, gboolean corners);

/* Draws the letters, and the corner text when `corners` is set, over `widget`. */
void vigil_slice_annotations_draw(const VigilSliceAnnotations *a, GtkWidget *widget,
                                  GtkSnapshot *snapshot, const VigilAnnotationState *state,
                                  gboolean corners);

G_END_DECLS
