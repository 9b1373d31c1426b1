/* widget = c + M * ((ix - W/2) * scale_x, (iy - H/2) * scale_y); M is a
 * signed permutation, so its inverse is its transpose. */
#include "vigil-view-geometry.h"

#include <math.h>

void vigil_view_geometry_init(VigilViewGeometry *g, int width, int height, const double spacing[2],
                              double view_width, double view_height, double zoom, double pan_x,
                              double pan_y, const VigilViewTransform *t) {
  const double row = spacing[0], col = spacing[1];
  const double stretch = col > 0 && row > 0 ? col / row : 1.0; /* x relative to y */
  g->width = width, g->height = height;
  vigil_view_transform_matrix(t, g->m);
  const gboolean turned = g->m[0] == 0;
  const double w = turned ? height : width * stretch, h = turned ? width * stretch : height;
  double base = fmin(view_width / w, view_height / h) * zoom;
  if (!(base > 0) || !isfinite(base))
    base = 1;
  g->scale_x = base * stretch;
  g->scale_y = base;
  g->cx = view_width / 2 + pan_x;
  g->cy = view_height / 2 + pan_y;
}

void vigil_view_geometry_to_widget(const VigilViewGeometry *g, double ix, double iy, double *x,
                                   double *y) {
  const double px = (ix - g->width / 2.0) * g->scale_x, py = (iy - g->height / 2.0) * g->scale_y;
  *x = g->cx + g->m[0] * px + g->m[1] * py;
  *y = g->cy + g->m[2] * px + g->m[3] * py;
}

void vigil_view_geometry_to_image(const VigilViewGeometry *g, double x, double y, double *ix,
                                  double *iy) {
  const double dx = x - g->cx, dy = y - g->cy;
  *ix = (g->m[0] * dx + g->m[2] * dy) / g->scale_x + g->width / 2.0;
  *iy = (g->m[1] * dx + g->m[3] * dy) / g->scale_y + g->height / 2.0;
}

gboolean vigil_view_geometry_visible(const VigilViewGeometry *g, double view_width,
                                     double view_height, double out[4]) {
  double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  for (int i = 0; i < 4; i++) {
    double ix, iy;
    vigil_view_geometry_to_image(g, i & 1 ? view_width : 0, i & 2 ? view_height : 0, &ix, &iy);
    x0 = fmin(x0, ix), x1 = fmax(x1, ix), y0 = fmin(y0, iy), y1 = fmax(y1, iy);
  }
  x0 = fmax(x0, 0), y0 = fmax(y0, 0), x1 = fmin(x1, g->width), y1 = fmin(y1, g->height);
  out[0] = x0, out[1] = y0, out[2] = x1 - x0, out[3] = y1 - y0;
  return x1 > x0 && y1 > y0;
}
