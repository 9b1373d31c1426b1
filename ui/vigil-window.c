/* VigilWindow: the main window; an empty state until scans are opened. */
#include "vigil-window.h"

#include "vigil-analysis-panel.h"
#include "vigil-slice-view.h"

struct _VigilWindow {
  AdwApplicationWindow parent_instance;
  GtkStack *content_stack;
  GtkListBox *file_list;
  VigilSliceView *slice_view;
  GtkScale *slice_scale;
  GtkAdjustment *slice_adjustment;
  VigilAnalysisPanel *analysis_panel;
  AdwWindowTitle *window_title;
  GListStore *files;
};

G_DEFINE_FINAL_TYPE(VigilWindow, vigil_window, ADW_TYPE_APPLICATION_WINDOW)

static void restore_size(VigilWindow *self, VigilApplication *app);

VigilWindow *vigil_window_new(VigilApplication *app) {
  VigilWindow *self = g_object_new(VIGIL_TYPE_WINDOW, "application", app, NULL);
  restore_size(self, app);
  return self;
}

GListModel *vigil_window_get_files(VigilWindow *self) {
  return G_LIST_MODEL(self->files);
}

static GtkWidget *file_row(gpointer item, gpointer user_data) {
  (void)user_data;
  GFile *file = item;
  g_autofree char *name = g_file_get_basename(file);
  g_autofree char *path = g_file_get_parse_name(file);
  GtkWidget *row = adw_action_row_new();
  adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), name);
  adw_action_row_set_subtitle(ADW_ACTION_ROW(row), path);
  return row;
}

void vigil_window_open_files(VigilWindow *self, GFile **files, int n_files) {
  g_return_if_fail(VIGIL_IS_WINDOW(self));
  GtkRecentManager *recent = gtk_recent_manager_get_default();
  for (int i = 0; i < n_files; i++) {
    g_list_store_append(self->files, files[i]);
    g_autofree char *uri = g_file_get_uri(files[i]);
    gtk_recent_manager_add_item(recent, uri);
  }
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->files));
  g_autofree char *subtitle = g_strdup_printf(g_dngettext(NULL, "%u item", "%u items", n), n);
  adw_window_title_set_subtitle(self->window_title, n ? subtitle : "");
  gtk_stack_set_visible_child_name(self->content_stack, n ? "viewer" : "empty");
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

static void open_dialog(GtkWidget *widget, const char *action, GVariant *param) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(widget);
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new(
      "Open Scans", GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  gtk_file_chooser_set_select_multiple(GTK_FILE_CHOOSER(chooser), TRUE);
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(chooser), TRUE);
  g_signal_connect(chooser, "response", G_CALLBACK(on_chooser_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

static void open_folder_dialog(GtkWidget *widget, const char *action, GVariant *param) {
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
  g_clear_object(&self->files);
  gtk_widget_dispose_template(GTK_WIDGET(self), VIGIL_TYPE_WINDOW);
  G_OBJECT_CLASS(vigil_window_parent_class)->dispose(object);
}

static void vigil_window_class_init(VigilWindowClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = vigil_window_dispose;
  GTK_WINDOW_CLASS(klass)->close_request = on_close_request;

  gtk_widget_class_set_template_from_resource(widget_class, "/org/vigil/Vigil/vigil-window.ui");
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, content_stack);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, file_list);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, window_title);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, slice_view);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, slice_scale);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, slice_adjustment);
  gtk_widget_class_bind_template_child(widget_class, VigilWindow, analysis_panel);
  gtk_widget_class_install_action(widget_class, "win.open", NULL, open_dialog);
  gtk_widget_class_install_action(widget_class, "win.open-folder", NULL, open_folder_dialog);
}

static void vigil_window_init(VigilWindow *self) {
  g_type_ensure(VIGIL_TYPE_SLICE_VIEW);
  g_type_ensure(VIGIL_TYPE_ANALYSIS_PANEL);
  gtk_widget_init_template(GTK_WIDGET(self));
  /* The slider and the view move together. */
  g_object_bind_property(self->slice_adjustment, "value", self->slice_view, "slice",
                         G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  self->files = g_list_store_new(G_TYPE_FILE);
  gtk_list_box_bind_model(self->file_list, G_LIST_MODEL(self->files), file_row, NULL, NULL);

  GtkDropTarget *drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
}
