/* VigilWindow: the main window. What it works on is a VigilWorkspace (the
 * files opened, their scan, what is shown, the analysis, the session file);
 * this file opens files into it and shows the series and slice it names in
 * the slice view, reporting the view back. The other parts are listed in
 * vigil-window-private.h. */
#include <math.h>
#include <string.h>

#include "vigil-job.h"
#include "vigil-scan-images.h"
#include "vigil-file-dialog.h"
#include "vigil-window-private.h"

G_DEFINE_FINAL_TYPE(VigilWindow, vigil_window, ADW_TYPE_APPLICATION_WINDOW)

#define PREFETCH_AHEAD 8 /* slices decoded ahead of scrolling */

static void restore_size(VigilWindow *self, VigilApplication *app);

VigilWindow *vigil_window_new(VigilApplication *app) {
  VigilWindow *self = g_object_new(VIGIL_TYPE_WINDOW, "application", app, NULL);
  restore_size(self, app);
  g_menu_append_section(self->recent_submenu, NULL,
                        G_MENU_MODEL(vigil_application_get_recent_menu(app)));
  return self;
}

void vigil_window_show_message(VigilWindow *self, const char *message) {
  g_return_if_fail(VIGIL_IS_WINDOW(self));
  _vigil_window_toast(self, message);
}

GListModel *vigil_window_get_files(VigilWindow *self) {
  return vigil_workspace_get_files(self->workspace);
}

GSettings *_vigil_window_settings(VigilWindow *self) {
  GtkApplication *app = gtk_window_get_application(GTK_WINDOW(self));
  return app ? vigil_application_get_settings(VIGIL_APPLICATION(app)) : NULL;
}

void _vigil_window_toast(VigilWindow *self, const char *message) {
  /* Logged too, so a message outlives its toast (and tests can read it). */
  g_message("toast: %s", message);
  /* libadwaita 1.2 parses toast titles as markup; paths may hold '&' or '<'. */
  g_autofree char *escaped = g_markup_escape_text(message, -1);
  AdwToast *toast = adw_toast_new(escaped);
  adw_toast_set_timeout(toast, 6);
  adw_toast_overlay_add_toast(self->toasts, toast);
}

/* Tells the workspace what the view shows (the session file keeps it). */
static void report_view(VigilWindow *self) {
  double center, width;
  vigil_slice_view_get_window(self->slice_view, &center, &width);
  vigil_workspace_set_view(self->workspace, vigil_slice_view_get_slice(self->slice_view), center,
                           width);
}

static void show_slice(VigilWindow *self, gboolean reset_window) {
  VigilSeries *series = vigil_workspace_get_series(self->workspace);
  if (!series)
    return;
  int index = vigil_slice_view_get_slice(self->slice_view);
  g_autoptr(GError) error = NULL;
  VigilImage *image = vigil_series_get_slice(series, (guint)index, &error);
  if (!image) {
    _vigil_window_toast(self, error->message);
    vigil_slice_view_set_image(self->slice_view, NULL, FALSE);
    return;
  }
  if (reset_window) {
    VigilWindowLevel w = vigil_series_default_window(series, image, NULL);
    vigil_slice_view_set_default_window(self->slice_view, w.center, w.width);
  }
  const VigilSlice *slice = g_ptr_array_index(series->slices, index);
  vigil_slice_view_set_slice_info(self->slice_view, slice->info,
                                  series->order == VIGIL_ORDER_POSITION ? slice->location : NAN);
  vigil_slice_view_set_image_keyed(self->slice_view, image, slice, reset_window);
  vigil_prefetcher_request(self->prefetcher, G_OBJECT(vigil_workspace_get_indexer(self->workspace)),
                           series, index, PREFETCH_AHEAD, self->slice_view);
}

/* The W/L menu: the series' own window, automatic, and the modality's presets. */
static void build_presets_menu(VigilWindow *self, const VigilSeries *series) {
  g_autoptr(GMenu) menu = g_menu_new();
  g_menu_append(menu, "Default for This Series", "win.window-preset::default");
  g_menu_append(menu, "Automatic (1st–99th Percentile)", "win.window-preset::auto");
  gsize n = 0;
  const VigilWindowLevelPreset *presets = vigil_window_level_presets(series->modality, &n);
  g_autoptr(GMenu) section = g_menu_new();
  for (gsize i = 0; i < n; i++) {
    g_autofree char *label = g_strdup_printf("%s (W %.0f, L %.0f)", presets[i].label,
                                             presets[i].window.width, presets[i].window.center);
    g_autofree char *action = g_strdup_printf("win.window-preset::%s", presets[i].id);
    g_menu_append(section, label, action);
  }
  if (n)
    g_menu_append_section(menu, series->modality, G_MENU_MODEL(section));
  gtk_menu_button_set_menu_model(self->window_presets, G_MENU_MODEL(menu));
  gtk_widget_set_sensitive(GTK_WIDGET(self->window_presets), TRUE);
}

/* win.window-preset(s): "default", "auto" or a preset id of the series' modality. */
void _vigil_window_action_window_preset(GSimpleAction *action, GVariant *param,
                                        gpointer user_data) {
  (void)action;
  VigilWindow *self = user_data;
  const char *id = g_variant_get_string(param, NULL);
  const VigilImage *image = vigil_slice_view_get_image(self->slice_view);
  VigilSeries *series = vigil_workspace_get_series(self->workspace);
  if (!series || !image)
    return;
  const VigilWindowLevelPreset *preset = vigil_window_level_preset_find(series->modality, id);
  VigilWindowLevel w;
  if (preset)
    w = preset->window;
  else if (g_str_equal(id, "auto"))
    w = vigil_window_level_auto_percentiles(image, 1, 99);
  else if (g_str_equal(id, "default"))
    w = vigil_series_default_window(series, image, NULL);
  else {
    g_autofree char *msg = g_strdup_printf("No window preset '%s' for this series", id);
    _vigil_window_toast(self, msg);
    return;
  }
  vigil_slice_view_set_window(self->slice_view, w.center, w.width);
}

/* The workspace shows `series` (NULL: nothing) from its middle slice with
 * its default window. */
static void on_show_series(VigilWorkspace *ws, VigilSeries *series, VigilWindow *self) {
  (void)ws;
  vigil_prefetcher_clear(self->prefetcher);
  vigil_slice_view_forget_textures(self->slice_view); /* slice addresses may be reused */
  if (!series) {
    vigil_slice_view_set_image(self->slice_view, NULL, FALSE);
    vigil_slice_view_set_slice_count(self->slice_view, 0);
    gtk_widget_set_visible(GTK_WIDGET(self->slice_scale), FALSE);
    return;
  }
  int n = (int)series->slices->len;
  vigil_slice_view_set_slice_count(self->slice_view, n);
  gtk_adjustment_set_upper(self->slice_adjustment, MAX(n - 1, 0));
  gtk_widget_set_visible(GTK_WIDGET(self->slice_scale), n > 1);
  vigil_slice_view_set_value_unit(self->slice_view,
                                  g_strcmp0(series->modality, "CT") == 0 ? "HU" : NULL);
  g_signal_handlers_block_matched(self->slice_view, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  vigil_slice_view_set_slice(self->slice_view, vigil_workspace_get_slice(self->workspace));
  g_signal_handlers_unblock_matched(self->slice_view, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  vigil_slice_view_fit(self->slice_view);
  build_presets_menu(self, series);
  show_slice(self, TRUE);
  report_view(self);
  if (series->warning)
    _vigil_window_toast(self, series->warning);
}

/* The shown series gained slices while indexing: keep the view, refresh the count. */
static void on_series_changed(VigilWorkspace *ws, VigilSeries *series, VigilWindow *self) {
  if (series != vigil_workspace_get_series(ws))
    return;
  int n = (int)series->slices->len;
  vigil_slice_view_set_slice_count(self->slice_view, n);
  gtk_adjustment_set_upper(self->slice_adjustment, MAX(n - 1, 0));
  gtk_widget_set_visible(GTK_WIDGET(self->slice_scale), n > 1);
  show_slice(self, FALSE); /* the same index may hold another slice after re-sorting */
}

static void on_slice_changed(VigilWindow *self) {
  show_slice(self, FALSE);
  report_view(self);
}

static void on_series_selected(VigilSeriesList *list, VigilSeries *series, VigilWindow *self) {
  (void)list;
  if (series != vigil_workspace_get_series(self->workspace))
    vigil_workspace_show_series(self->workspace, series);
}

/* A restored session's view, once its series is shown. */
static void on_restore_view(VigilWorkspace *ws, const VigilSession *s, VigilWindow *self) {
  (void)ws;
  vigil_slice_view_set_slice(self->slice_view, s->slice);
  vigil_slice_view_set_zoom(self->slice_view, s->zoom);
  if (s->has_window)
    vigil_slice_view_set_window(self->slice_view, s->window_center, s->window_width);
}

/* Saving: what only the view knows. */
static void on_capture_view(VigilWorkspace *ws, VigilSession *s, VigilWindow *self) {
  (void)ws;
  s->slice = vigil_slice_view_get_slice(self->slice_view);
  s->zoom = vigil_slice_view_get_zoom(self->slice_view);
  vigil_slice_view_get_window(self->slice_view, &s->window_center, &s->window_width);
  s->has_window = TRUE;
}

static void on_message(VigilWorkspace *ws, const char *message, VigilWindow *self) {
  (void)ws;
  _vigil_window_toast(self, message);
}

static void on_files_changed(VigilWorkspace *ws, VigilWindow *self) {
  guint n = g_list_model_get_n_items(vigil_workspace_get_files(ws));
  g_autofree char *subtitle = g_strdup_printf(g_dngettext(NULL, "%u item", "%u items", n), n);
  adw_window_title_set_subtitle(self->window_title, n ? subtitle : "");
  gtk_stack_set_visible_child_name(self->content_stack, n ? "viewer" : "empty");
}

void vigil_window_open_files(VigilWindow *self, GFile **files, int n_files) {
  g_return_if_fail(VIGIL_IS_WINDOW(self));
  GtkRecentManager *recent = gtk_recent_manager_get_default();
  for (int i = 0; i < n_files; i++) {
    if (vigil_workspace_open_session(self->workspace, files[i]))
      return; /* the session names what to open */
  }
  for (int i = 0; i < n_files; i++) {
    g_autofree char *uri = g_file_get_uri(files[i]);
    gtk_recent_manager_add_item(recent, uri);
  }
  vigil_workspace_add_files(self->workspace, files, n_files);
}

static void on_files_chosen(GListModel *chosen, gpointer user_data) {
  (void)user_data;
  guint n = g_list_model_get_n_items(chosen);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(files, g_list_model_get_item(chosen, i));
  g_application_open(g_application_get_default(), (GFile **)files->pdata, (int)n, "");
}

void _vigil_window_open_dialog(GtkWidget *widget, const char *action, GVariant *param) {
  (void)action, (void)param;
  const VigilFileDialog d = {VIGIL_FILE_OPEN, TRUE, "Open Scans", "_Open", NULL, NULL};
  vigil_file_dialog_show(GTK_WINDOW(widget), &d, on_files_chosen, NULL);
}

void _vigil_window_open_folder_dialog(GtkWidget *widget, const char *action, GVariant *param) {
  (void)action, (void)param;
  const VigilFileDialog d = {VIGIL_FILE_SELECT_FOLDER, FALSE, "Open Folder", "_Open", NULL, NULL};
  vigil_file_dialog_show(GTK_WINDOW(widget), &d, on_files_chosen, NULL);
}

static gboolean on_drop(GtkDropTarget *target, const GValue *value, double x, double y,
                        gpointer user_data) {
  (void)target, (void)x, (void)y, (void)user_data;
  if (!G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST))
    return FALSE;
  GSList *list = g_value_get_boxed(value);
  g_autoptr(GPtrArray) files = g_ptr_array_new();
  for (GSList *l = list; l; l = l->next)
    g_ptr_array_add(files, l->data);
  if (files->len == 0)
    return FALSE;
  g_application_open(g_application_get_default(), (GFile **)files->pdata, (int)files->len, "");
  return TRUE;
}

static void restore_size(VigilWindow *self, VigilApplication *app) {
  GSettings *settings = vigil_application_get_settings(app);
  if (!settings)
    return;
  gtk_window_set_default_size(GTK_WINDOW(self), g_settings_get_int(settings, "window-width"),
                              g_settings_get_int(settings, "window-height"));
  if (g_settings_get_boolean(settings, "window-maximized"))
    gtk_window_maximize(GTK_WINDOW(self));
}

static gboolean on_close_request(GtkWindow *window) {
  GtkApplication *app = gtk_window_get_application(window);
  GSettings *settings = app ? vigil_application_get_settings(VIGIL_APPLICATION(app)) : NULL;
  if (settings) {
    int width, height;
    gtk_window_get_default_size(window, &width, &height);
    g_settings_set_int(settings, "window-width", width);
    g_settings_set_int(settings, "window-height", height);
    g_settings_set_boolean(settings, "window-maximized", gtk_window_is_maximized(window));
  }
  return GTK_WINDOW_CLASS(vigil_window_parent_class)->close_request(window);
}

static void vigil_window_dispose(GObject *object) {
  VigilWindow *self = VIGIL_WINDOW(object);
  if (self->workspace) {
    vigil_workspace_flush_autosave(self->workspace); /* while the view can still say its state */
    g_signal_handlers_disconnect_by_data(self->workspace, self);
  }
  _vigil_window_report_dispose(self);
  _vigil_window_view_dispose(self);
  _vigil_window_measure_dispose(self);
  _vigil_window_analysis_dispose(self);
  _vigil_window_references_dispose(self);
  _vigil_window_index_dispose(self);
  if (self->workspace) /* cancels what runs: jobs finishing later find it closed */
    g_object_run_dispose(G_OBJECT(self->workspace));
  g_clear_object(&self->workspace);
  if (self->prefetcher)
    vigil_prefetcher_clear(self->prefetcher);
  g_clear_object(&self->prefetcher);
  gtk_widget_dispose_template(GTK_WIDGET(self), VIGIL_TYPE_WINDOW);
  G_OBJECT_CLASS(vigil_window_parent_class)->dispose(object);
}

/* win.print-layout: where the main parts are, in window coordinates, for GUI
 * tests that must find them (and check what is in view) without guessing
 * from a screenshot. */
void _vigil_window_action_print_layout(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  const struct {
    const char *name;
    GtkWidget *widget;
  } parts[] = {{"slice-view", GTK_WIDGET(self->slice_view)},
               {"reference-strip", GTK_WIDGET(self->reference_strip)},
               {"series-profile", GTK_WIDGET(self->series_profile)},
               {"analysis-panel", GTK_WIDGET(self->analysis_panel)},
               {"measurement-list", GTK_WIDGET(self->measurement_list)}};
  GString *line = g_string_new(NULL);
  g_string_append_printf(line, "layout: window %d %d", gtk_widget_get_width(GTK_WIDGET(self)),
                         gtk_widget_get_height(GTK_WIDGET(self)));
  for (gsize i = 0; i < G_N_ELEMENTS(parts); i++) {
    graphene_rect_t r;
    if (!gtk_widget_get_mapped(parts[i].widget) ||
        !gtk_widget_compute_bounds(parts[i].widget, GTK_WIDGET(self), &r))
      graphene_rect_init(&r, 0, 0, 0, 0);
    g_string_append_printf(line, "; %s %.0f %.0f %.0f %.0f", parts[i].name, r.origin.x, r.origin.y,
                           r.size.width, r.size.height);
  }
  g_message("%s", line->str);
  g_string_free(line, TRUE);
}

static void vigil_window_class_init(VigilWindowClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = vigil_window_dispose;
  GTK_WINDOW_CLASS(klass)->close_request = on_close_request;

  gtk_widget_class_set_template_from_resource(widget_class, "/org/vigil/Vigil/vigil-window.ui");
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, content_stack);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, series_list);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, window_title);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, slice_view);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, slice_scale);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, slice_adjustment);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, analysis_panel);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, reference_strip);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, series_profile);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, toasts);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, window_presets);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, recent_submenu);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, index_progress);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, measurement_list);
  _vigil_window_class_actions_init(widget_class);
}

static void vigil_window_init(VigilWindow *self) {
  g_type_ensure(VIGIL_TYPE_SLICE_VIEW);
  g_type_ensure(VIGIL_TYPE_ANALYSIS_PANEL);
  g_type_ensure(VIGIL_TYPE_REFERENCE_STRIP);
  g_type_ensure(VIGIL_TYPE_SERIES_LIST);
  g_type_ensure(VIGIL_TYPE_SERIES_PROFILE);
  g_type_ensure(VIGIL_TYPE_MEASUREMENT_LIST);
  gtk_widget_init_template(GTK_WIDGET(self));
  /* The slider and the view move together. */
  g_object_bind_property(self->slice_adjustment, "value", self->slice_view, "slice",
                         G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  self->workspace = vigil_workspace_new();
  self->prefetcher = vigil_prefetcher_new();
  g_signal_connect(self->series_list, "series-selected", G_CALLBACK(on_series_selected), self);
  g_signal_connect_swapped(self->slice_view, "notify::slice", G_CALLBACK(on_slice_changed), self);
  const char *view_props[] = {"notify::zoom", "notify::window-center", "notify::window-width"};
  for (gsize i = 0; i < G_N_ELEMENTS(view_props); i++)
    g_signal_connect_swapped(self->slice_view, view_props[i], G_CALLBACK(report_view), self);
  /* The view first: the other parts read the slice it shows. */
  VigilWorkspace *ws = self->workspace;
  g_signal_connect(ws, "files-changed", G_CALLBACK(on_files_changed), self);
  g_signal_connect(ws, "show-series", G_CALLBACK(on_show_series), self);
  g_signal_connect(ws, "series-changed", G_CALLBACK(on_series_changed), self);
  g_signal_connect(ws, "restore-view", G_CALLBACK(on_restore_view), self);
  g_signal_connect(ws, "capture-view", G_CALLBACK(on_capture_view), self);
  g_signal_connect(ws, "message", G_CALLBACK(on_message), self);
  _vigil_window_actions_init(self);
  _vigil_window_analysis_init(self);
  _vigil_window_references_init(self);
  _vigil_window_session_init(self);
  _vigil_window_index_init(self);
  _vigil_window_view_init(self);
  _vigil_window_measure_init(self);

  GtkDropTarget *drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
}
