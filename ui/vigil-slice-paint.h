/* Drawing pieces of VigilSliceView (not a widget): the windowed slice, the
 * image transform, inverted grey, the heatmap's contour and its legend. */
#pragma once

#include <gtk/gtk.h>

#include "vigil-heatmap.h"
#include "vigil-texture-cache.h"
#include "vigil-view-geometry.h"

G_BEGIN_DECLS

/* Under GTK's cairo renderer: the slice as a cairo node in widget space (see
 * the .c for why), TRUE; other renderers: FALSE, draw the texture instead. */
gboolean vigil_slice_paint_windowed(GtkWidget *widget, GtkSnapshot *snapshot, VigilWindowed *shown,
                                    const VigilViewGeometry *g);
/* Saves the snapshot and makes image pixels its coordinates (restore it). */
void vigil_slice_paint_push_transform(GtkSnapshot *snapshot, const VigilViewGeometry *g,
                                      const VigilViewTransform *t);
/* Pushes a color matrix that inverts colour, keeping alpha (pop it). */
void vigil_slice_paint_push_invert(GtkSnapshot *snapshot);
/* The contour of {map >= threshold} (none for NAN) over r, lines 2 * (tx, ty) wide. */
void vigil_slice_paint_contour(GtkSnapshot *snapshot, const VigilMap *map, double threshold,
                               const graphene_rect_t *r, double tx, double ty);
/* Light text with a dark shadow (legible on bright scans) at (x, y), its box
 * aligned there by (ax, ay) in 0..1; bold for the orientation letters. */
void vigil_slice_paint_text(GtkWidget *widget, GtkSnapshot *snapshot, const char *text, double x,
                            double y, double ax, double ay, gboolean bold);
/* The colour map's bar at the widget's right edge, its values from lo to hi,
 * the scale's name above (NULL: none) and the contour level (NAN: none). */
void vigil_slice_paint_legend(GtkWidget *widget, GtkSnapshot *snapshot, VigilColormap colormap,
                              double lo, double hi, double threshold, const char *title);

G_END_DECLS
