/* VigilWindow's normal references: adding them (the current slice, a series
 * or slice dragged from the sidebar, image files dropped on the strip or
 * named over D-Bus) through the reference queue (app/vigil-reference-queue.c),
 * removing them without waiting for a running analysis, and the slice view's
 * context menu. Part of VigilWindow (see vigil-window-private.h). */
#include "vigil-window-private.h"

/* The strip's picture of a new reference, in the window it was shown with. */
static gboolean analyse_again(gpointer data) {
  GActionGroup *group = G_ACTION_GROUP(data);
  if (g_action_group_get_action_enabled(group, "analyse-slice"))
    g_action_group_activate_action(group, "analyse-slice", NULL);
  return G_SOURCE_REMOVE;
}

/* The first normal reference turns few-shot on (MVFA's few-shot result fuses
 * both maps), and a slice that showed a result shows the few-shot one, with
 * no further step. Not while a session restores its own mode. */
static void few_shot_on_first(VigilWindow *self) {
  VigilAnalysisSession *analysis = vigil_workspace_get_analysis(self->workspace);
  if (vigil_analysis_session_n_references(analysis) > 0 ||
      vigil_analysis_panel_get_few_shot(self->analysis_panel) ||
      vigil_workspace_is_restoring(self->workspace))
    return;
  const gboolean had_result = vigil_analysis_session_get_result(
                                  analysis, vigil_slice_view_get_slice(self->slice_view)) != NULL;
  vigil_analysis_panel_set_few_shot(self->analysis_panel, TRUE);
  _vigil_window_toast(self, "Few-shot on: the slice is now also compared with your normal "
                            "reference");
  if (had_result) /* once the model holds the reference (it joins right after this) */
    g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, analyse_again, g_object_ref(self), g_object_unref);
}

static void on_reference_ready(VigilReferenceQueue *queue, guint64 id, const VigilImage *image,
                               double center, double width, VigilWindow *self) {
  (void)queue;
  /* RGB even for gray slices: GTK 4.8 has no 8-bit gray textures. */
  g_autoptr(GBytes) bytes = g_bytes_new_take(vigil_window_level_to_rgb8(image, center, width),
                                             (gsize)image->width * image->height * 3);
  g_autoptr(GdkTexture) thumb = gdk_memory_texture_new(
      image->width, image->height, GDK_MEMORY_R8G8B8, bytes, (gsize)image->width * 3);
  vigil_reference_strip_set_thumbnail(self->reference_strip, id, GDK_PAINTABLE(thumb));
  few_shot_on_first(self);
}

static gboolean model_or_toast(VigilWindow *self) {
  if (vigil_workspace_model_ready(self->workspace))
    return TRUE;
  _vigil_window_toast(self, "Load the model first (Preferences): references are encoded by it");
  return FALSE;
}

/* A series of the open scan; slice -1: the shown one if it is the shown
 * series (in the window it is shown with), else the middle. */
static void add_series(VigilWindow *self, const char *uid, int slice) {
  VigilWindowLevel view;
  VigilSeries *series = vigil_workspace_get_series(self->workspace);
  gboolean shown = series && g_strcmp0(series->uid, uid) == 0;
  if (shown)
    vigil_slice_view_get_window(self->slice_view, &view.center, &view.width);
  if (shown && slice < 0)
    slice = vigil_slice_view_get_slice(self->slice_view);
  vigil_reference_queue_add_series(vigil_workspace_get_references(self->workspace), uid, slice,
                                   shown ? &view : NULL);
}

/* ---- actions --------------------------------------------------------------- */

void _vigil_window_action_add_reference(GSimpleAction *action, GVariant *param,
                                        gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  VigilSeries *series = vigil_workspace_get_series(self->workspace);
  if (!series || !vigil_slice_view_get_image(self->slice_view)) {
    _vigil_window_toast(self, "Open a scan first");
    return;
  }
  if (model_or_toast(self))
    add_series(self, series->uid, vigil_slice_view_get_slice(self->slice_view));
}

/* win.add-reference-files(as): each file (or folder) becomes a reference;
 * a volume gives its middle slice. Dropping files on the strip calls it. */
void _vigil_window_action_add_reference_files(GSimpleAction *action, GVariant *param,
                                              gpointer user_data) {
  (void)action;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  if (!model_or_toast(self))
    return;
  g_autofree const char **paths = g_variant_get_strv(param, NULL);
  for (const char **p = paths; *p; p++)
    vigil_reference_queue_add_path(vigil_workspace_get_references(self->workspace), *p, NULL, -1);
}

/* win.add-reference-series((si)): a series of the open scan, slice -1 for
 * the shown (or middle) one. Dropping a sidebar row on the strip calls it. */
void _vigil_window_action_add_reference_series(GSimpleAction *action, GVariant *param,
                                               gpointer user_data) {
  (void)action;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  const char *uid;
  int slice;
  g_variant_get(param, "(&si)", &uid, &slice);
  if (model_or_toast(self))
    add_series(self, uid, slice);
}

/* The strip, the map and the session file follow the model. */
static void remove_reference(VigilWindow *self, guint64 id) {
  g_autoptr(GError) error = NULL;
  if (!vigil_workspace_remove_reference(self->workspace, id, &error))
    _vigil_window_toast(self, error->message);
}

/* win.remove-reference(t): by the id the strip shows it under. */
void _vigil_window_action_remove_reference(GSimpleAction *action, GVariant *param,
                                           gpointer user_data) {
  (void)action;
  remove_reference(VIGIL_WINDOW(user_data), g_variant_get_uint64(param));
}

static void on_remove_clicked(VigilReferenceStrip *strip, guint64 id, gpointer user_data) {
  (void)strip;
  remove_reference(user_data, id);
}

void _vigil_window_action_reset_view(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  vigil_slice_view_reset(VIGIL_WINDOW(user_data)->slice_view);
}

/* ---- drag and drop --------------------------------------------------------- */

static gboolean on_strip_drop(VigilReferenceStrip *strip, const GValue *value, gpointer user_data) {
  (void)strip;
  VigilWindow *self = user_data;
  if (G_VALUE_HOLDS(value, vigil_series_drag_get_type())) {
    const VigilSeriesDrag *d = g_value_get_boxed(value);
    g_action_group_activate_action(G_ACTION_GROUP(self), "add-reference-series",
                                   g_variant_new("(si)", d->series_uid, d->slice));
    return TRUE;
  }
  if (!G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST))
    return FALSE;
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  for (GSList *l = g_value_get_boxed(value); l; l = l->next) {
    char *path = g_file_get_path(l->data);
    if (path)
      g_ptr_array_add(paths, path);
    else
      _vigil_window_toast(self, "Only local files can become references");
  }
  if (paths->len == 0)
    return FALSE;
  g_ptr_array_add(paths, NULL);
  g_action_group_activate_action(
      G_ACTION_GROUP(self), "add-reference-files",
      g_variant_new_strv((const char *const *)paths->pdata, (gssize)paths->len - 1));
  return TRUE;
}

static void setup_dnd(VigilWindow *self) {
  const GType types[] = {GDK_TYPE_FILE_LIST, vigil_series_drag_get_type()};
  vigil_reference_strip_set_drop_types(self->reference_strip, types, G_N_ELEMENTS(types));
  g_signal_connect(self->reference_strip, "dropped", G_CALLBACK(on_strip_drop), self);
}

/* ---- the slice view's context menu ----------------------------------------- */

static void build_context_menu(VigilWindow *self) {
  g_autoptr(GMenu) menu = g_menu_new();
  g_autoptr(GMenu) first = g_menu_new();
  g_menu_append(first, "Add This Slice as Normal Reference", "win.add-reference");
  g_menu_append(first, "Analyse This Slice", "win.analyse-slice");
  g_menu_append(first, "Mark This Slice for the Report", "win.mark-slice");
  g_menu_append_section(menu, NULL, G_MENU_MODEL(first));
  g_autoptr(GMenu) view = g_menu_new();
  g_menu_append(view, "Reset View", "win.reset-view");
  GMenuModel *presets = gtk_menu_button_get_menu_model(self->window_presets);
  if (presets)
    g_menu_append_submenu(view, "Window Presets", presets);
  g_menu_append_section(menu, NULL, G_MENU_MODEL(view));
  vigil_slice_view_set_context_menu(self->slice_view, G_MENU_MODEL(menu));
}

void _vigil_window_references_init(VigilWindow *self) {
  g_signal_connect(vigil_workspace_get_references(self->workspace), "reference-ready",
                   G_CALLBACK(on_reference_ready), self);
  vigil_reference_strip_set_session(self->reference_strip,
                                    vigil_workspace_get_analysis(self->workspace));
  g_signal_connect(self->reference_strip, "remove-reference", G_CALLBACK(on_remove_clicked), self);
  setup_dnd(self);
  build_context_menu(self);
  g_signal_connect_swapped(self->window_presets, "notify::menu-model",
                           G_CALLBACK(build_context_menu), self);
}

void _vigil_window_references_dispose(VigilWindow *self) {
  /* The menu button drops its model as the template goes: not for us then. */
  if (self->window_presets)
    g_signal_handlers_disconnect_by_data(self->window_presets, self);
  if (self->workspace)
    g_signal_handlers_disconnect_by_data(vigil_workspace_get_references(self->workspace), self);
}
