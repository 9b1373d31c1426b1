/* Where a slice lies in a view: image pixels <-> widget points under the
 * view's zoom, pan and transform (vigil-orientation.h). Image coordinates are
 * in pixels, (0, 0) the top-left corner of the top-left pixel. Pixel spacing
 * sets the aspect ratio; zoom 1 fits the (turned) image in the view. */
#pragma once

#include <glib.h>

#include "vigil-orientation.h"

G_BEGIN_DECLS

typedef struct {
  int width, height;       /* image pixels */
  double scale_x, scale_y; /* widget px per image pixel along its columns, its rows */
  double cx, cy;           /* the widget point of the image's centre */
  int m[4];                /* image -> screen (vigil_view_transform_matrix) */
} VigilViewGeometry;

/* spacing: mm between rows, between columns (0: square pixels). */
void vigil_view_geometry_init(VigilViewGeometry *g, int width, int height, const double spacing[2],
                              double view_width, double view_height, double zoom, double pan_x,
                              double pan_y, const VigilViewTransform *t);
void vigil_view_geometry_to_widget(const VigilViewGeometry *g, double ix, double iy, double *x,
                                   double *y);
void vigil_view_geometry_to_image(const VigilViewGeometry *g, double x, double y, double *ix,
                                  double *iy);
/* The part of the image (x, y, width, height in pixels, clipped to it) that a
 * widget rectangle shows; FALSE when none. */
gboolean vigil_view_geometry_visible(const VigilViewGeometry *g, double view_width,
                                     double view_height, double out[4]);

G_END_DECLS
