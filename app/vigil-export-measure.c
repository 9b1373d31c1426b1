/* Measurements drawn into exported views (the annotated PNG, the report's
 * pages and Secondary Captures), as the viewer draws them: yellow outlines
 * and a short label beside the rightmost point. */
#include <math.h>

#include "vigil-export.h"

static void trace(cairo_t *cr, const VigilMeasurement *m, double sx, double sy) {
  const VigilMeasurePoint *p = (const VigilMeasurePoint *)m->points->data;
  if (m->kind == VIGIL_MEASURE_ELLIPSE && m->points->len == 2) {
    const double rx = fabs(p[1].x - p[0].x) / 2 * sx, ry = fabs(p[1].y - p[0].y) / 2 * sy;
    if (rx <= 0 || ry <= 0)
      return;
    cairo_save(cr);
    cairo_translate(cr, (p[0].x + p[1].x) / 2 * sx, (p[0].y + p[1].y) / 2 * sy);
    cairo_scale(cr, rx, ry);
    cairo_new_sub_path(cr);
    cairo_arc(cr, 0, 0, 1, 0, 2 * G_PI);
    cairo_restore(cr);
    return;
  }
  if (m->kind == VIGIL_MEASURE_REGION) { /* the maximum: a cross */
    for (guint i = 0; i < m->points->len; i++) {
      cairo_move_to(cr, p[i].x * sx - 6, p[i].y * sy),
          cairo_line_to(cr, p[i].x * sx + 6, p[i].y * sy);
      cairo_move_to(cr, p[i].x * sx, p[i].y * sy - 6),
          cairo_line_to(cr, p[i].x * sx, p[i].y * sy + 6);
    }
    return;
  }
  cairo_new_sub_path(cr);
  for (guint i = 0; i < m->points->len; i++)
    cairo_line_to(cr, p[i].x * sx, p[i].y * sy);
  if (m->kind == VIGIL_MEASURE_FREEHAND)
    cairo_close_path(cr);
}

/* The label's lines beside the rightmost point, or left of the leftmost one
 * when they would leave the drawing (x0..x1), and inside it, with a shadow. */
static void label(cairo_t *cr, const VigilMeasurement *m, double sx, double sy, double size,
                  double x0, double x1) {
  double lx = INFINITY, rx = -INFINITY, ly = 0, ry = 0;
  for (guint i = 0; i < m->points->len; i++) {
    const VigilMeasurePoint *p = &g_array_index(m->points, VigilMeasurePoint, i);
    if (p->x > rx)
      rx = p->x, ry = p->y;
    if (p->x < lx)
      lx = p->x, ly = p->y;
  }
  if (!isfinite(rx))
    return;
  g_autofree char *text = vigil_measurement_label(m);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  cairo_set_font_size(cr, size);
  double widest = 0;
  for (guint i = 0; lines[i]; i++) {
    cairo_text_extents_t e;
    cairo_text_extents(cr, lines[i], &e);
    widest = MAX(widest, e.x_advance);
  }
  const gboolean left = rx * sx + size * 0.7 + widest > x1;
  const double x =
      MAX(x0, MIN(left ? lx * sx - size * 0.7 - widest : rx * sx + size * 0.7, x1 - widest));
  const double y = (left ? ly : ry) * sy + size * 1.3;
  for (guint i = 0; lines[i]; i++)
    for (int pass = 0; pass < 2; pass++) {
      cairo_set_source_rgb(cr, pass ? 1 : 0, pass ? 0.9 : 0, pass ? 0.3 : 0);
      cairo_move_to(cr, x + !pass, y + size * 1.2 * i + !pass);
      cairo_show_text(cr, lines[i]);
    }
}

void vigil_export_draw_measurements(cairo_t *cr, const GPtrArray *measurements, double sx,
                                    double sy) {
  double x0, y0, x1, y1; /* what can be drawn: the view, or the clipped image of a page */
  cairo_clip_extents(cr, &x0, &y0, &x1, &y1);
  const double size = CLAMP((x1 - x0) / 40, 6, 12);
  cairo_save(cr);
  cairo_set_line_width(cr, size / 8);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (guint i = 0; measurements && i < measurements->len; i++) {
    const VigilMeasurement *m = measurements->pdata[i];
    cairo_set_source_rgba(cr, 1.0, 0.85, 0.1, 0.95);
    trace(cr, m, sx, sy);
    cairo_stroke(cr);
    label(cr, m, sx, sy, size, x0, x1);
  }
  cairo_restore(cr);
}
