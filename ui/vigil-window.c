/* VigilWindow: the main window. Opening scans indexes them on a worker
 * (headers only), lists studies and series in the sidebar, and shows the
 * chosen series in the slice view; analysis lives in vigil-window-analysis.c. */
#include <string.h>

#include "vigil-job.h"
#include "vigil-scan-images.h"
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
  return G_LIST_MODEL(self->files);
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

static void show_slice(VigilWindow *self, gboolean reset_window) {
  if (!self->series)
    return;
  int index = vigil_slice_view_get_slice(self->slice_view);
  g_autoptr(GError) error = NULL;
  VigilImage *image = vigil_series_get_slice(self->series, (guint)index, &error);
  if (!image) {
    _vigil_window_toast(self, error->message);
    vigil_slice_view_set_image(self->slice_view, NULL, FALSE);
    return;
  }
  if (reset_window) {
    VigilWindowLevel w = vigil_series_default_window(self->series, image, NULL);
    vigil_slice_view_set_default_window(self->slice_view, w.center, w.width);
  }
  const VigilSlice *slice = g_ptr_array_index(self->series->slices, index);
  vigil_slice_view_set_image_keyed(self->slice_view, image, slice, reset_window);
  vigil_prefetcher_request(self->prefetcher, G_OBJECT(self->indexer), self->series, index,
                           PREFETCH_AHEAD, self->slice_view);
  _vigil_window_analysis_slice_changed(self);
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
  if (!self->series || !image)
    return;
  const VigilWindowLevelPreset *preset = vigil_window_level_preset_find(self->series->modality, id);
  VigilWindowLevel w;
  if (preset)
    w = preset->window;
  else if (g_str_equal(id, "auto"))
    w = vigil_window_level_auto_percentiles(image, 1, 99);
  else if (g_str_equal(id, "default"))
    w = vigil_series_default_window(self->series, image, NULL);
  else {
    g_autofree char *msg = g_strdup_printf("No window preset '%s' for this series", id);
    _vigil_window_toast(self, msg);
    return;
  }
  vigil_slice_view_set_window(self->slice_view, w.center, w.width);
}

void _vigil_window_show_series(VigilWindow *self, VigilSeries *series) {
  self->series = series;
  vigil_prefetcher_clear(self->prefetcher);
  vigil_slice_view_forget_textures(self->slice_view); /* slice addresses may be reused */
  if (!series) {
    vigil_slice_view_set_image(self->slice_view, NULL, FALSE);
    vigil_slice_view_set_slice_count(self->slice_view, 0);
    gtk_widget_set_visible(GTK_WIDGET(self->slice_scale), FALSE);
    _vigil_window_analysis_slice_changed(self);
    return;
  }
  int n = (int)series->slices->len;
  vigil_slice_view_set_slice_count(self->slice_view, n);
  gtk_adjustment_set_upper(self->slice_adjustment, MAX(n - 1, 0));
  gtk_widget_set_visible(GTK_WIDGET(self->slice_scale), n > 1);
  vigil_slice_view_set_value_unit(self->slice_view,
                                  g_strcmp0(series->modality, "CT") == 0 ? "HU" : NULL);
  g_signal_handlers_block_matched(self->slice_view, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  vigil_slice_view_set_slice(self->slice_view, n / 2);
  g_signal_handlers_unblock_matched(self->slice_view, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  vigil_slice_view_fit(self->slice_view);
  build_presets_menu(self, series);
  show_slice(self, TRUE);
  if (series->warning)
    _vigil_window_toast(self, series->warning);
}

void _vigil_window_series_grew(VigilWindow *self) {
  int n = (int)self->series->slices->len;
  vigil_slice_view_set_slice_count(self->slice_view, n);
  gtk_adjustment_set_upper(self->slice_adjustment, MAX(n - 1, 0));
  gtk_widget_set_visible(GTK_WIDGET(self->slice_scale), n > 1);
  show_slice(self, FALSE); /* the same index may hold another slice after re-sorting */
}

static void on_slice_changed(VigilWindow *self) {
  show_slice(self, FALSE);
  _vigil_window_session_changed(self);
}

static void on_series_selected(VigilSeriesList *list, VigilSeries *series, VigilWindow *self) {
  (void)list;
  if (series != self->series)
    _vigil_window_show_series(self, series);
}

static void rescan(VigilWindow *self) {
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->files));
  g_auto(GStrv) paths = g_new0(char *, n + 1);
  for (guint i = 0; i < n; i++) {
    g_autoptr(GFile) file = g_list_model_get_item(G_LIST_MODEL(self->files), i);
    paths[i] = g_file_get_path(file);
    if (!paths[i])
      paths[i] = g_file_get_uri(file); /* reported as unreadable by the scan */
  }
  _vigil_window_index_start(self, (const char *const *)paths);
}

static void files_changed(VigilWindow *self) {
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->files));
  g_autofree char *subtitle = g_strdup_printf(g_dngettext(NULL, "%u item", "%u items", n), n);
  adw_window_title_set_subtitle(self->window_title, n ? subtitle : "");
  gtk_stack_set_visible_child_name(self->content_stack, n ? "viewer" : "empty");
  if (n)
    rescan(self);
}

void vigil_window_open_files(VigilWindow *self, GFile **files, int n_files) {
  g_return_if_fail(VIGIL_IS_WINDOW(self));
  GtkRecentManager *recent = gtk_recent_manager_get_default();
  for (int i = 0; i < n_files; i++) {
    if (_vigil_window_session_open(self, files[i]))
      return; /* the session names what to open */
  }
  for (int i = 0; i < n_files; i++) {
    g_list_store_append(self->files, files[i]);
    g_autofree char *uri = g_file_get_uri(files[i]);
    gtk_recent_manager_add_item(recent, uri);
  }
  files_changed(self);
}

void _vigil_window_replace_files(VigilWindow *self, const char *const *paths) {
  g_list_store_remove_all(self->files);
  for (const char *const *p = paths; p && *p; p++) {
    g_autoptr(GFile) file = g_file_new_for_path(*p);
    g_list_store_append(self->files, file);
  }
  files_changed(self);
}

static void on_chooser_response(GtkNativeDialog *dialog, int response, gpointer user_data) {
  (void)user_data;
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GListModel) chosen = gtk_file_chooser_get_files(GTK_FILE_CHOOSER(dialog));
    guint n = g_list_model_get_n_items(chosen);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_object_unref);
    for (guint i = 0; i < n; i++)
      g_ptr_array_add(files, g_list_model_get_item(chosen, i));
    g_application_open(g_application_get_default(), (GFile **)files->pdata, (int)n, "");
  }
  g_object_unref(dialog);
}

void _vigil_window_open_dialog(GtkWidget *widget, const char *action, GVariant *param) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(widget);
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new(
      "Open Scans", GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  gtk_file_chooser_set_select_multiple(GTK_FILE_CHOOSER(chooser), TRUE);
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(chooser), TRUE);
  g_signal_connect(chooser, "response", G_CALLBACK(on_chooser_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

void _vigil_window_open_folder_dialog(GtkWidget *widget, const char *action, GVariant *param) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(widget);
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new(
      "Open Folder", GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Open", "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(chooser), TRUE);
  g_signal_connect(chooser, "response", G_CALLBACK(on_chooser_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
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
  _vigil_window_session_dispose(self);
  _vigil_window_report_dispose(self);
  _vigil_window_analysis_dispose(self);
  _vigil_window_index_dispose(self);
  if (self->prefetcher)
    vigil_prefetcher_clear(self->prefetcher);
  g_clear_object(&self->prefetcher);
  g_clear_object(&self->files);
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
               {"analysis-panel", GTK_WIDGET(self->analysis_panel)}};
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
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, toasts);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, window_presets);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, recent_submenu);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, index_progress);
  _vigil_window_class_actions_init(widget_class);
}

static void vigil_window_init(VigilWindow *self) {
  g_type_ensure(VIGIL_TYPE_SLICE_VIEW);
  g_type_ensure(VIGIL_TYPE_ANALYSIS_PANEL);
  g_type_ensure(VIGIL_TYPE_REFERENCE_STRIP);
  g_type_ensure(VIGIL_TYPE_SERIES_LIST);
  gtk_widget_init_template(GTK_WIDGET(self));
  /* The slider and the view move together. */
  g_object_bind_property(self->slice_adjustment, "value", self->slice_view, "slice",
                         G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  self->files = g_list_store_new(G_TYPE_FILE);
  self->prefetcher = vigil_prefetcher_new();
  g_signal_connect(self->series_list, "series-selected", G_CALLBACK(on_series_selected), self);
  g_signal_connect_swapped(self->slice_view, "notify::slice", G_CALLBACK(on_slice_changed), self);
  _vigil_window_actions_init(self);
  _vigil_window_analysis_init(self);
  _vigil_window_session_init(self);
  _vigil_window_index_init(self);

  GtkDropTarget *drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
}
