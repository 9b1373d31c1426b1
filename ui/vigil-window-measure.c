/* VigilWindow's measurements and DICOM tags: the measure tool on the slice
 * view (ui/vigil-measure-tool.c), the side list of the series' measurements,
 * the one-click measurement of the heatmap's region above threshold, and
 * the tag browser of the slice shown. The measurements live in the
 * workspace, which keeps them in the session. */
#include <math.h>

#include "vigil-window-private.h"

static VigilMeasurements *measurements_of(VigilWindow *self) {
  return vigil_workspace_get_measurements(self->workspace);
}

static void toast_error(VigilWindow *self, GError *error) {
  _vigil_window_toast(self, error->message);
}

static const char *const tool_ids[] = {"ruler", "ellipse", "freehand"};

static gboolean kind_from_name(const char *name, VigilMeasureKind *kind) {
  for (guint i = 0; i < G_N_ELEMENTS(tool_ids); i++)
    if (g_str_equal(name, tool_ids[i])) {
      *kind = (VigilMeasureKind)i; /* VIGIL_MEASURE_RULER, _ELLIPSE, _FREEHAND */
      return TRUE;
    }
  return FALSE;
}

/* win.measure-tool(s): "none" (a drag pans), "ruler", "ellipse", "freehand". */
void _vigil_window_action_measure_tool(GSimpleAction *action, GVariant *state, gpointer user_data) {
  VigilWindow *self = user_data;
  VigilMeasureKind kind;
  const char *name = g_variant_get_string(state, NULL);
  gboolean known = kind_from_name(name, &kind);
  if (!known && !g_str_equal(name, "none")) {
    g_autofree char *msg = g_strdup_printf("No measuring tool '%s'", name);
    _vigil_window_toast(self, msg);
    return;
  }
  vigil_measure_tool_set_tool(self->measure_tool, known ? (VigilTool)kind : VIGIL_TOOL_NONE);
  g_simple_action_set_state(action, state);
}

/* win.add-measurement((sad)): KIND and x0, y0, x1, y1, ... in image
 * coordinates on the slice shown, as a drag with the tool would; for
 * scripts and tests. */
void _vigil_window_action_add_measurement(GSimpleAction *action, GVariant *param,
                                          gpointer user_data) {
  (void)action;
  VigilWindow *self = user_data;
  const char *name;
  g_autoptr(GVariant) coords = NULL;
  g_variant_get(param, "(&s@ad)", &name, &coords);
  gsize n = 0;
  const double *xy = g_variant_get_fixed_array(coords, &n, sizeof(double));
  VigilMeasureKind kind;
  g_autoptr(GError) error = NULL;
  if (!kind_from_name(name, &kind) || n % 2)
    _vigil_window_toast(self,
                        "A measurement needs a kind (ruler, ellipse, freehand) and x, y pairs");
  else if (!vigil_measure_tool_measure(self->measure_tool, kind, (const VigilMeasurePoint *)xy,
                                       (guint)(n / 2), &error))
    toast_error(self, error);
}

/* win.delete-measurement(u): measurement ID, or 0 for the one selected in the list. */
void _vigil_window_action_delete_measurement(GSimpleAction *action, GVariant *param,
                                             gpointer user_data) {
  (void)action;
  VigilWindow *self = user_data;
  guint id = g_variant_get_uint32(param);
  if (id == 0)
    id = vigil_measurement_list_get_selected(self->measurement_list);
  if (id == 0 || !vigil_measurements_remove(measurements_of(self), id))
    _vigil_window_toast(self, "Select a measurement in the list to delete it");
  else
    g_message("measurement: deleted %u", id);
}

/* win.measure-region: the heatmap above the panel's threshold, as the view
 * draws its contour (turned on first when it was off, so what is measured
 * is what the view shows). */
void _vigil_window_action_measure_region(GSimpleAction *action, GVariant *param,
                                         gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = user_data;
  VigilMap map;
  double lo, hi;
  g_autoptr(GError) error = NULL;
  if (!vigil_slice_view_get_overlay(self->slice_view, &map, &lo, &hi)) {
    _vigil_window_toast(self, "Analyse this slice first: there is no heatmap to measure");
    return;
  }
  vigil_analysis_panel_set_contour(self->analysis_panel, TRUE); /* the view redraws the map */
  vigil_slice_view_get_overlay(self->slice_view, &map, &lo, &hi);
  const double t = vigil_analysis_panel_get_threshold(self->analysis_panel);
  if (!vigil_measure_tool_measure_region(self->measure_tool, &map, lo + t * (hi - lo), &error))
    toast_error(self, error);
}

/* ---- the tag browser ---- */

static void show_tags(VigilWindow *self) {
  if (!self->tag_browser)
    return;
  VigilSeries *series = vigil_workspace_get_series(self->workspace);
  int index = vigil_slice_view_get_slice(self->slice_view);
  if (!series || index < 0 || (guint)index >= series->slices->len) {
    vigil_tag_browser_show(self->tag_browser, NULL, NULL);
    return;
  }
  const VigilSlice *slice = g_ptr_array_index(series->slices, index);
  if (slice->source == &vigil_dicom_pixel_source) {
    vigil_tag_browser_show(self->tag_browser, slice->path, NULL);
    return;
  }
  g_autofree char *base = g_path_get_basename(slice->path);
  g_autofree char *format = g_str_equal(slice->source->name, "nifti")
                                ? g_strdup("NIfTI")
                                : g_ascii_strup(slice->source->name, -1);
  g_autofree char *msg = g_strdup_printf(
      "%s is a %s file, not DICOM: it has no DICOM attributes to show.", base, format);
  vigil_tag_browser_show(self->tag_browser, NULL, msg);
}

static void open_tags(VigilWindow *self) {
  if (!self->tag_browser) {
    self->tag_browser = vigil_tag_browser_new(GTK_WINDOW(self));
    g_object_add_weak_pointer(G_OBJECT(self->tag_browser), (gpointer *)&self->tag_browser);
    show_tags(self);
  }
  gtk_window_present(GTK_WINDOW(self->tag_browser));
}

/* win.tag-browser: the DICOM attributes of the slice shown. */
void _vigil_window_action_tag_browser(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  open_tags(user_data);
}

/* win.find-tag(s): the tag browser, searched for a keyword, tag or value. */
void _vigil_window_action_find_tag(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action;
  VigilWindow *self = user_data;
  open_tags(self);
  vigil_tag_browser_search(self->tag_browser, g_variant_get_string(param, NULL));
}

/* ---- following the workspace and the view ---- */

static void on_show_series(VigilWorkspace *ws, VigilSeries *series, VigilWindow *self) {
  (void)ws;
  const char *uid = series ? series->uid : NULL;
  vigil_measure_tool_set_series(self->measure_tool, uid,
                                series && g_strcmp0(series->modality, "CT") == 0 ? "HU" : NULL);
  vigil_measurement_list_set_series(self->measurement_list, uid);
  show_tags(self);
}

static void on_slice_activated(VigilMeasurementList *list, int slice, VigilWindow *self) {
  (void)list;
  vigil_slice_view_set_slice(self->slice_view, slice);
}

static void on_selection_changed(VigilMeasurementList *list, guint id, VigilWindow *self) {
  (void)list;
  vigil_measure_tool_set_selected(self->measure_tool, id);
}

static void on_tool_message(VigilMeasureTool *tool, const char *message, VigilWindow *self) {
  (void)tool;
  _vigil_window_toast(self, message);
}

void _vigil_window_measure_init(VigilWindow *self) {
  self->measure_tool = vigil_measure_tool_new(self->slice_view, measurements_of(self));
  vigil_measurement_list_set_model(self->measurement_list, measurements_of(self));
  g_signal_connect(self->workspace, "show-series", G_CALLBACK(on_show_series), self);
  g_signal_connect_swapped(self->slice_view, "notify::slice", G_CALLBACK(show_tags), self);
  g_signal_connect(self->measurement_list, "slice-activated", G_CALLBACK(on_slice_activated), self);
  g_signal_connect(self->measurement_list, "selection-changed", G_CALLBACK(on_selection_changed),
                   self);
  g_signal_connect(self->measure_tool, "message", G_CALLBACK(on_tool_message), self);
}

void _vigil_window_measure_dispose(VigilWindow *self) {
  if (self->tag_browser)
    gtk_window_destroy(GTK_WINDOW(self->tag_browser));
  if (self->measurement_list) /* its rows go with the template: no selection news then */
    g_signal_handlers_disconnect_by_data(self->measurement_list, self);
  if (self->slice_view) {
    g_signal_handlers_disconnect_by_func(self->slice_view, show_tags, self);
    vigil_slice_view_set_image_painter(self->slice_view, NULL, NULL);
    vigil_slice_view_set_widget_painter(self->slice_view, NULL, NULL);
  }
  g_clear_object(&self->measure_tool);
}
