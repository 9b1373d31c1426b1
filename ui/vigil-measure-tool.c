#include "vigil-measure-tool.h"

#include <math.h>

struct _VigilMeasureTool {
  GObject parent_instance;
  VigilSliceView *view; /* borrowed */
  VigilMeasurements *measurements;
  VigilTool tool;
  char *series_uid, *unit;
  guint selected;
  GArray *drawing; /* VigilMeasurePoint of the drag in progress (empty: none) */
};

G_DEFINE_FINAL_TYPE(VigilMeasureTool, vigil_measure_tool, G_TYPE_OBJECT)

enum { SIGNAL_MESSAGE, SIGNAL_MEASURED, N_SIGNALS };
static guint signals[N_SIGNALS];

#define LINE_WIDTH 1.5 /* widget pixels */
#define MIN_STEP 2.0   /* widget pixels between freehand points */

static GPtrArray *shown(VigilMeasureTool *self) {
  return vigil_measurements_of(self->measurements, self->series_uid,
                               vigil_slice_view_get_slice(self->view));
}

static void redraw(VigilMeasureTool *self) {
  gtk_widget_queue_draw(GTK_WIDGET(self->view));
}

/* Logs it (the log keeps it, tests read it) and adds it. */
static guint add(VigilMeasureTool *self, VigilMeasurement *m) {
  g_autofree char *text = vigil_measurement_describe(m);
  g_message("measurement: slice %d: %s", m->slice + 1, text);
  guint id = vigil_measurements_add(self->measurements, m);
  g_signal_emit(self, signals[SIGNAL_MEASURED], 0, id);
  return id;
}

static const VigilImage *shown_image(VigilMeasureTool *self, GError **error) {
  const VigilImage *image = vigil_slice_view_get_image(self->view);
  if (!image)
    g_set_error_literal(error, VIGIL_MEASUREMENT_ERROR, VIGIL_MEASUREMENT_ERROR_INVALID,
                        "No slice is shown to measure on");
  return image;
}

guint vigil_measure_tool_measure_region(VigilMeasureTool *self, const VigilMap *map,
                                        double threshold, GError **error) {
  const VigilImage *image = shown_image(self, error);
  if (!image)
    return 0;
  VigilMapRegion region;
  vigil_map_region(map, threshold, image->width, image->height, image->pixel_spacing, &region);
  if (region.cells == 0) {
    g_set_error_literal(error, VIGIL_MEASUREMENT_ERROR, VIGIL_MEASUREMENT_ERROR_EMPTY,
                        "Nothing on this slice's heatmap is above the threshold");
    return 0;
  }
  return add(self,
             vigil_measurement_new_region(self->series_uid, vigil_slice_view_get_slice(self->view),
                                          &region, image->spacing_source));
}

guint vigil_measure_tool_measure(VigilMeasureTool *self, VigilMeasureKind kind,
                                 const VigilMeasurePoint *points, guint n_points, GError **error) {
  const VigilImage *image = shown_image(self, error);
  if (!image)
    return 0;
  g_autoptr(VigilMeasurement) m = vigil_measurement_new(
      kind, self->series_uid, vigil_slice_view_get_slice(self->view), points, n_points);
  if (!vigil_measurement_compute(m, image, self->unit, error))
    return 0;
  return add(self, g_steal_pointer(&m));
}

/* ---- drawing ---- */

static void set_colour(cairo_t *cr, gboolean selected) {
  if (selected)
    cairo_set_source_rgba(cr, 0.2, 0.9, 1.0, 0.95);
  else
    cairo_set_source_rgba(cr, 1.0, 0.85, 0.1, 0.95);
}

/* Outlines are drawn in widget space through image_to_widget, which follows
 * every view transform: GTK 4.8's gtk_snapshot_append_cairo under a scaled
 * snapshot applies the translation scaled (it scales, then translates), so a
 * cairo node cannot be drawn in the image painter's coordinates. */
static gboolean to_widget(VigilMeasureTool *self, const VigilMeasurePoint *p, double *x,
                          double *y) {
  return vigil_slice_view_image_to_widget(self->view, p->x, p->y, x, y);
}

/* An ellipse as the unit circle under the affine map of its centre and
 * semi-axes, so it stays right when the view flips or rotates. */
static void trace_ellipse(VigilMeasureTool *self, cairo_t *cr, const VigilMeasurePoint *p) {
  const double cx = (p[0].x + p[1].x) / 2, cy = (p[0].y + p[1].y) / 2;
  const double rx = fabs(p[1].x - p[0].x) / 2, ry = fabs(p[1].y - p[0].y) / 2;
  const VigilMeasurePoint c = {cx, cy}, ax = {cx + rx, cy}, ay = {cx, cy + ry};
  double x0, y0, x1, y1, x2, y2;
  if (rx <= 0 || ry <= 0 || !to_widget(self, &c, &x0, &y0) || !to_widget(self, &ax, &x1, &y1) ||
      !to_widget(self, &ay, &x2, &y2))
    return;
  cairo_matrix_t m, saved;
  cairo_matrix_init(&m, x1 - x0, y1 - y0, x2 - x0, y2 - y0, x0, y0);
  cairo_get_matrix(cr, &saved);
  cairo_transform(cr, &m);
  cairo_new_sub_path(cr);
  cairo_arc(cr, 0, 0, 1, 0, 2 * G_PI);
  cairo_set_matrix(cr, &saved);
}

static void trace(VigilMeasureTool *self, cairo_t *cr, VigilMeasureKind kind,
                  const GArray *points) {
  const VigilMeasurePoint *p = (const VigilMeasurePoint *)points->data;
  if (kind == VIGIL_MEASURE_ELLIPSE && points->len == 2) {
    trace_ellipse(self, cr, p);
    return;
  }
  cairo_new_sub_path(cr);
  for (guint i = 0; i < points->len; i++) {
    double x, y;
    if (to_widget(self, &p[i], &x, &y))
      cairo_line_to(cr, x, y);
  }
  if (kind == VIGIL_MEASURE_FREEHAND)
    cairo_close_path(cr);
}

/* The heatmap region's maximum: a cross. */
static void cross(VigilMeasureTool *self, cairo_t *cr, const GArray *points) {
  double x, y;
  if (points->len == 0 || !to_widget(self, (const VigilMeasurePoint *)points->data, &x, &y))
    return;
  cairo_move_to(cr, x - 6, y), cairo_line_to(cr, x + 6, y);
  cairo_move_to(cr, x, y - 6), cairo_line_to(cr, x, y + 6);
}

static void paint_outlines(VigilMeasureTool *self, GtkSnapshot *snapshot, GPtrArray *list) {
  GtkWidget *view = GTK_WIDGET(self->view);
  cairo_t *cr = gtk_snapshot_append_cairo(
      snapshot, &GRAPHENE_RECT_INIT(0, 0, gtk_widget_get_width(view), gtk_widget_get_height(view)));
  cairo_set_line_width(cr, LINE_WIDTH);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (guint i = 0; i < list->len; i++) {
    const VigilMeasurement *m = list->pdata[i];
    set_colour(cr, m->id == self->selected);
    if (m->kind == VIGIL_MEASURE_REGION)
      cross(self, cr, m->points);
    else
      trace(self, cr, m->kind, m->points);
    cairo_stroke(cr);
  }
  if (self->drawing->len > 1) {
    set_colour(cr, TRUE);
    trace(self, cr, (VigilMeasureKind)self->tool, self->drawing);
    cairo_stroke(cr);
  }
  cairo_destroy(cr);
}

/* In image space (under the view's transform): a small square on each
 * ruler end and on the start of a shape being drawn, sized in widget pixels. */
static void add_handle(GtkSnapshot *snapshot, const VigilMeasurePoint *p, double half,
                       gboolean selected) {
  const GdkRGBA yellow = {1, 0.85, 0.1, 0.95}, cyan = {0.2, 0.9, 1, 0.95};
  gtk_snapshot_append_color(snapshot, selected ? &cyan : &yellow,
                            &GRAPHENE_RECT_INIT(p->x - half, p->y - half, 2 * half, 2 * half));
}

static void paint_image(GtkSnapshot *snapshot, double pixel_scale, gpointer data) {
  VigilMeasureTool *self = data;
  g_autoptr(GPtrArray) list = shown(self);
  const double half = 2.5 / pixel_scale;
  for (guint i = 0; i < list->len; i++) {
    const VigilMeasurement *m = list->pdata[i];
    for (guint k = 0; m->kind == VIGIL_MEASURE_RULER && k < m->points->len; k++)
      add_handle(snapshot, &g_array_index(m->points, VigilMeasurePoint, k), half,
                 m->id == self->selected);
  }
  if (self->drawing->len)
    add_handle(snapshot, &g_array_index(self->drawing, VigilMeasurePoint, 0), half, TRUE);
}

static void paint_label(VigilMeasureTool *self, GtkSnapshot *snapshot, const VigilMeasurement *m) {
  double ax = -INFINITY, ay = 0, x, y; /* beside the rightmost point */
  for (guint i = 0; i < m->points->len; i++) {
    const VigilMeasurePoint *p = &g_array_index(m->points, VigilMeasurePoint, i);
    if (p->x > ax)
      ax = p->x, ay = p->y;
  }
  if (!isfinite(ax) || !vigil_slice_view_image_to_widget(self->view, ax, ay, &x, &y))
    return;
  g_autofree char *text = vigil_measurement_label(m);
  PangoLayout *pl = gtk_widget_create_pango_layout(GTK_WIDGET(self->view), text);
  const GdkRGBA shadow = {0, 0, 0, 0.85}, fg = {1, 0.9, 0.3, 1}, sel = {0.5, 0.95, 1, 1};
  for (int pass = 0; pass < 2; pass++) {
    gtk_snapshot_save(snapshot);
    gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(x + 8 + !pass, y + 4 + !pass));
    gtk_snapshot_append_layout(snapshot, pl,
                               pass ? (m->id == self->selected ? &sel : &fg) : &shadow);
    gtk_snapshot_restore(snapshot);
  }
  g_object_unref(pl);
}

static void paint_widget(GtkSnapshot *snapshot, double pixel_scale, gpointer data) {
  (void)pixel_scale;
  VigilMeasureTool *self = data;
  g_autoptr(GPtrArray) list = shown(self);
  if (!vigil_slice_view_get_image(self->view) || (list->len == 0 && self->drawing->len == 0))
    return;
  paint_outlines(self, snapshot, list);
  for (guint i = 0; i < list->len; i++)
    paint_label(self, snapshot, list->pdata[i]);
}

/* ---- input ---- */

static gboolean to_image(VigilMeasureTool *self, double x, double y, VigilMeasurePoint *p) {
  return vigil_slice_view_widget_to_image(self->view, x, y, &p->x, &p->y);
}

static void on_drag_begin(GtkGestureDrag *drag, double x, double y, VigilMeasureTool *self) {
  VigilMeasurePoint p;
  g_array_set_size(self->drawing, 0);
  if (self->tool == VIGIL_TOOL_NONE || !to_image(self, x, y, &p)) {
    gtk_gesture_set_state(GTK_GESTURE(drag), GTK_EVENT_SEQUENCE_DENIED); /* the view pans */
    return;
  }
  gtk_gesture_set_state(GTK_GESTURE(drag), GTK_EVENT_SEQUENCE_CLAIMED);
  gtk_widget_grab_focus(GTK_WIDGET(self->view));
  g_array_append_val(self->drawing, p);
}

static void on_drag_update(GtkGestureDrag *drag, double dx, double dy, VigilMeasureTool *self) {
  double x0, y0;
  VigilMeasurePoint p;
  if (self->drawing->len == 0 || !gtk_gesture_drag_get_start_point(drag, &x0, &y0) ||
      !to_image(self, x0 + dx, y0 + dy, &p))
    return;
  if (self->tool != VIGIL_TOOL_FREEHAND) {
    g_array_set_size(self->drawing, 1);
    g_array_append_val(self->drawing, p);
  } else {
    double lx, ly;
    const VigilMeasurePoint *last =
        &g_array_index(self->drawing, VigilMeasurePoint, self->drawing->len - 1);
    vigil_slice_view_image_to_widget(self->view, last->x, last->y, &lx, &ly);
    if (hypot(x0 + dx - lx, y0 + dy - ly) >= MIN_STEP)
      g_array_append_val(self->drawing, p);
  }
  redraw(self);
}

static void on_drag_end(GtkGestureDrag *drag, double dx, double dy, VigilMeasureTool *self) {
  if (self->drawing->len == 0)
    return;
  on_drag_update(drag, dx, dy, self);
  g_autoptr(GArray) points = g_steal_pointer(&self->drawing);
  self->drawing = g_array_new(FALSE, FALSE, sizeof(VigilMeasurePoint));
  if (self->tool != VIGIL_TOOL_FREEHAND && points->len == 1) {
    VigilMeasurePoint click = g_array_index(points, VigilMeasurePoint, 0); /* zero length */
    g_array_append_val(points, click);
  }
  g_autoptr(GError) error = NULL;
  if (!vigil_measure_tool_measure(self, (VigilMeasureKind)self->tool,
                                  (const VigilMeasurePoint *)points->data, points->len, &error))
    g_signal_emit(self, signals[SIGNAL_MESSAGE], 0, error->message);
  redraw(self);
}

static gboolean on_key(GtkEventControllerKey *key, guint keyval, guint keycode,
                       GdkModifierType state, VigilMeasureTool *self) {
  (void)key, (void)keycode, (void)state;
  if (keyval == GDK_KEY_Escape && self->drawing->len) {
    g_array_set_size(self->drawing, 0);
    redraw(self);
    return TRUE;
  }
  if ((keyval == GDK_KEY_Delete || keyval == GDK_KEY_KP_Delete) && self->selected)
    return gtk_widget_activate_action(GTK_WIDGET(self->view), "win.delete-measurement", "u",
                                      self->selected); /* as the list's Delete does */
  return FALSE;
}

/* ---- the object ---- */

void vigil_measure_tool_set_tool(VigilMeasureTool *self, VigilTool tool) {
  self->tool = tool;
  g_array_set_size(self->drawing, 0);
  gtk_widget_set_cursor_from_name(GTK_WIDGET(self->view),
                                  tool == VIGIL_TOOL_NONE ? NULL : "crosshair");
  redraw(self);
}

void vigil_measure_tool_set_series(VigilMeasureTool *self, const char *series_uid,
                                   const char *unit) {
  g_free(self->series_uid);
  g_free(self->unit);
  self->series_uid = g_strdup(series_uid ? series_uid : "");
  self->unit = g_strdup(unit);
  redraw(self);
}

void vigil_measure_tool_set_selected(VigilMeasureTool *self, guint id) {
  self->selected = id;
  redraw(self);
}

VigilMeasureTool *vigil_measure_tool_new(VigilSliceView *view, VigilMeasurements *measurements) {
  VigilMeasureTool *self = g_object_new(VIGIL_TYPE_MEASURE_TOOL, NULL);
  self->view = view;
  self->measurements = g_object_ref(measurements);
  g_signal_connect_object(measurements, "changed", G_CALLBACK(redraw), self, G_CONNECT_SWAPPED);
  vigil_slice_view_set_image_painter(view, paint_image, self);
  vigil_slice_view_set_widget_painter(view, paint_widget, self);
  /* Capture phase: a drag with a tool is claimed before the view pans. */
  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), GDK_BUTTON_PRIMARY);
  gtk_event_controller_set_propagation_phase(GTK_EVENT_CONTROLLER(drag), GTK_PHASE_CAPTURE);
  g_signal_connect_object(drag, "drag-begin", G_CALLBACK(on_drag_begin), self, 0);
  g_signal_connect_object(drag, "drag-update", G_CALLBACK(on_drag_update), self, 0);
  g_signal_connect_object(drag, "drag-end", G_CALLBACK(on_drag_end), self, 0);
  gtk_widget_add_controller(GTK_WIDGET(view), GTK_EVENT_CONTROLLER(drag));
  GtkEventController *key = gtk_event_controller_key_new();
  gtk_event_controller_set_propagation_phase(key, GTK_PHASE_CAPTURE);
  g_signal_connect_object(key, "key-pressed", G_CALLBACK(on_key), self, 0);
  gtk_widget_add_controller(GTK_WIDGET(view), key);
  return self;
}

static void vigil_measure_tool_finalize(GObject *object) {
  VigilMeasureTool *self = VIGIL_MEASURE_TOOL(object);
  g_clear_object(&self->measurements);
  g_free(self->series_uid);
  g_free(self->unit);
  g_array_unref(self->drawing);
  G_OBJECT_CLASS(vigil_measure_tool_parent_class)->finalize(object);
}

static void vigil_measure_tool_class_init(VigilMeasureToolClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = vigil_measure_tool_finalize;
  signals[SIGNAL_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_MEASURED] = g_signal_new("measured", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void vigil_measure_tool_init(VigilMeasureTool *self) {
  self->tool = VIGIL_TOOL_NONE;
  self->series_uid = g_strdup("");
  self->drawing = g_array_new(FALSE, FALSE, sizeof(VigilMeasurePoint));
}
