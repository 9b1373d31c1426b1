/* Drawing pieces of VigilSliceView (see vigil-slice-paint.h). */
#include "vigil-slice-paint.h"

#include <math.h>

/* The cairo renderer of GTK 4.8 converts a texture through floats on every
 * frame; a cairo node paints the cached ARGB32 surface directly, with the
 * same extend and filter as a texture node. It is drawn in widget space with
 * the image's whole transform on its cairo context, since 4.8 misplaces a
 * cairo node appended under a scaled snapshot. */
gboolean vigil_slice_paint_windowed(GtkWidget *widget, GtkSnapshot *snapshot, VigilWindowed *shown,
                                    const VigilViewGeometry *g) {
  GtkNative *native = gtk_widget_get_native(widget);
  GskRenderer *renderer = native ? gtk_native_get_renderer(native) : NULL;
  if (!renderer || !GSK_IS_CAIRO_RENDERER(renderer))
    return FALSE;
  const double vw = gtk_widget_get_width(widget), vh = gtk_widget_get_height(widget);
  double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  for (int i = 0; i < 4; i++) { /* the image's corners on the widget */
    double x, y;
    vigil_view_geometry_to_widget(g, i & 1 ? g->width : 0, i & 2 ? g->height : 0, &x, &y);
    x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
  }
  graphene_rect_t bounds; /* a cairo node as large as a 40x zoom would be huge: what shows */
  if (!graphene_rect_intersection(&GRAPHENE_RECT_INIT(x0, y0, x1 - x0, y1 - y0),
                                  &GRAPHENE_RECT_INIT(0, 0, vw, vh), &bounds))
    return TRUE;
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &bounds);
  double ox, oy;
  vigil_view_geometry_to_widget(g, 0, 0, &ox, &oy);
  cairo_matrix_t m;
  cairo_matrix_init(&m, g->m[0] * g->scale_x, g->m[2] * g->scale_x, g->m[1] * g->scale_y,
                    g->m[3] * g->scale_y, ox, oy);
  cairo_transform(cr, &m);
  cairo_set_source_surface(cr, vigil_windowed_surface(shown), 0, 0);
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
  cairo_rectangle(cr, 0, 0, vigil_windowed_width(shown), vigil_windowed_height(shown));
  cairo_fill(cr);
  cairo_destroy(cr);
  return TRUE;
}

/* Translations, quarter turns and scales only: a 2D transform, which the
 * cairo renderer draws (a general matrix it paints as a pink box). */
void vigil_slice_paint_push_transform(GtkSnapshot *snapshot, const VigilViewGeometry *g,
                                      const VigilViewTransform *t) {
  gtk_snapshot_save(snapshot);
  gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(g->cx, g->cy));
  if (t->quarter_turns)
    gtk_snapshot_rotate(snapshot, 90.0f * t->quarter_turns); /* clockwise */
  gtk_snapshot_scale(snapshot, (t->flip_h ? -1 : 1) * g->scale_x,
                     (t->flip_v ? -1 : 1) * g->scale_y);
  gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(-g->width / 2.0, -g->height / 2.0));
}

void vigil_slice_paint_push_invert(GtkSnapshot *snapshot) {
  graphene_matrix_t m;
  graphene_vec4_t offset;
  graphene_matrix_init_from_float(
      &m, (const float[16]){-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1});
  graphene_vec4_init(&offset, 1, 1, 1, 0);
  gtk_snapshot_push_color_matrix(snapshot, &m, &offset);
}

void vigil_slice_paint_contour(GtkSnapshot *snapshot, const VigilMap *map, double threshold,
                               const graphene_rect_t *r, double tx, double ty) {
  if (isnan(threshold))
    return;
  g_autoptr(GArray) seg = vigil_map_contour(map, threshold);
  const double sx = r->size.width / map->width, sy = r->size.height / map->height;
  /* GTK 4.8 has no path nodes: each cell edge is a thin rectangle. */
  const GdkRGBA white = {1, 1, 1, 0.95};
  const float *v = (const float *)seg->data;
  for (guint i = 0; i + 3 < seg->len; i += 4) {
    double x0 = r->origin.x + v[i] * sx, y0 = r->origin.y + v[i + 1] * sy;
    double x1 = r->origin.x + v[i + 2] * sx, y1 = r->origin.y + v[i + 3] * sy;
    graphene_rect_t line = GRAPHENE_RECT_INIT(MIN(x0, x1) - tx, MIN(y0, y1) - ty,
                                              fabs(x1 - x0) + 2 * tx, fabs(y1 - y0) + 2 * ty);
    gtk_snapshot_append_color(snapshot, &white, &line);
  }
}

void vigil_slice_paint_text(GtkWidget *widget, GtkSnapshot *snapshot, const char *text, double x,
                            double y, double ax, double ay, gboolean bold) {
  if (!*text)
    return;
  PangoLayout *pl = gtk_widget_create_pango_layout(widget, text);
  if (bold) {
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
    pango_layout_set_attributes(pl, attrs);
    pango_attr_list_unref(attrs);
  }
  pango_layout_set_alignment(pl, ax > 0.5 ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
  int tw, th;
  pango_layout_get_pixel_size(pl, &tw, &th);
  x -= tw * ax, y -= th * ay;
  const GdkRGBA shadow = {0, 0, 0, 0.8}, fg = {0.92, 0.92, 0.92, 1};
  for (int pass = 0; pass < 2; pass++) { /* a dark offset copy first */
    gtk_snapshot_save(snapshot);
    gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(x + (pass ? 0 : 1), y + (pass ? 0 : 1)));
    gtk_snapshot_append_layout(snapshot, pl, pass ? &fg : &shadow);
    gtk_snapshot_restore(snapshot);
  }
  g_object_unref(pl);
}

/* The bar with its values (the map's scale: calibrated 0..1 with the
 * threshold at 0.5, or the raw range) and the contour level marked. */
void vigil_slice_paint_legend(GtkWidget *widget, GtkSnapshot *snapshot, VigilColormap colormap,
                              double lo, double hi, double threshold, const char *title) {
  const double h = gtk_widget_get_height(widget), w = gtk_widget_get_width(widget);
  const double top = 48, bottom = h - 48, x = w - 26;
  if (bottom - top < 40)
    return;
  const int steps = 64;
  for (int i = 0; i < steps; i++) {
    guint8 rgb[3];
    vigil_colormap_rgb(colormap, 1.0 - (i + 0.5) / steps, rgb);
    GdkRGBA c = {rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0, 1};
    double y0 = top + (bottom - top) * i / steps;
    gtk_snapshot_append_color(snapshot, &c,
                              &GRAPHENE_RECT_INIT(x, y0, 12, (bottom - top) / steps + 0.5));
  }
  for (int i = 0; i <= 2; i++) { /* bottom, middle, top */
    g_autofree char *v = g_strdup_printf("%.3g", lo + (hi - lo) * i / 2);
    vigil_slice_paint_text(widget, snapshot, v, x - 4, bottom - (bottom - top) * i / 2, 1, 0.5,
                           FALSE);
  }
  if (title)
    vigil_slice_paint_text(widget, snapshot, title, x + 12, top - 14, 1, 0.5, FALSE);
  if (isnan(threshold) || hi <= lo)
    return;
  const double f = CLAMP((threshold - lo) / (hi - lo), 0, 1);
  const GdkRGBA white = {1, 1, 1, 0.95};
  gtk_snapshot_append_color(snapshot, &white,
                            &GRAPHENE_RECT_INIT(x - 3, bottom - (bottom - top) * f - 1, 18, 2));
}
