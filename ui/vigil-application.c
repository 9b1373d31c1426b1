/* VigilApplication: actions, the open path, About, and settings. */
#include "vigil-application.h"

#include "vigil-config.h"
#include "vigil-preferences-window.h"
#include "vigil-recent.h"
#include "vigil-window.h"

struct _VigilApplication {
  AdwApplication parent_instance;
  GSettings *settings;
  GMenu *recent_menu;
};

G_DEFINE_FINAL_TYPE(VigilApplication, vigil_application, ADW_TYPE_APPLICATION)

/* --help's text is also the man page's (help2man reads it at build time). */
static void add_help(GApplication *app) {
  static const GOptionEntry options[] = {
      {"version", 0, 0, G_OPTION_ARG_NONE, NULL, "Print the version and exit", NULL},
      {NULL},
  };
  g_application_add_main_option_entries(app, options);
  g_application_set_option_context_parameter_string(app, "[FILE|FOLDER...]");
  g_application_set_option_context_summary(
      app, "Vigil: a medical scan viewer that shows where a slice looks abnormal (MVFA).\n\n"
           "Opens DICOM files, series folders and DICOMDIRs, NIfTI volumes (.nii, .nii.gz),\n"
           "PNG and JPEG slices, and Vigil sessions (.vigil). Analysis runs on this computer\n"
           "with the CLIP and MVFA weights that 'vigil-cli model import' installs.");
  g_application_set_option_context_description(
      app, "Files:\n"
           "  $XDG_DATA_HOME/vigil/models   the model folder (model.json, weights, calibrations)\n"
           "  $XDG_CACHE_HOME/vigil         text features, Vulkan pipelines, the PACS outbox\n"
           "  $XDG_STATE_HOME/vigil         the autosaved session\n\n"
           "Vigil is a research tool, not a certified medical device.");
}

static int on_local_options(GApplication *app, GVariantDict *options, gpointer data) {
  (void)app, (void)data;
  if (g_variant_dict_contains(options, "version")) {
    g_print("vigil %s\n", VIGIL_VERSION);
    return 0;
  }
  return -1;
}

VigilApplication *vigil_application_new(void) {
  VigilApplication *app =
      g_object_new(VIGIL_TYPE_APPLICATION, "application-id", VIGIL_APP_ID, "flags",
                   G_APPLICATION_HANDLES_OPEN, "resource-base-path", "/org/vigil/Vigil", NULL);
  add_help(G_APPLICATION(app));
  g_signal_connect(app, "handle-local-options", G_CALLBACK(on_local_options), NULL);
  return app;
}

GSettings *vigil_application_get_settings(VigilApplication *self) {
  g_return_val_if_fail(VIGIL_IS_APPLICATION(self), NULL);
  return self->settings;
}

GMenu *vigil_application_get_recent_menu(VigilApplication *self) {
  g_return_val_if_fail(VIGIL_IS_APPLICATION(self), NULL);
  if (!self->recent_menu)
    self->recent_menu = vigil_recent_menu_new(gtk_recent_manager_get_default(), g_get_prgname());
  return self->recent_menu;
}

AdwColorScheme vigil_application_color_scheme(const char *setting) {
  if (g_strcmp0(setting, "light") == 0)
    return ADW_COLOR_SCHEME_FORCE_LIGHT;
  if (g_strcmp0(setting, "dark") == 0)
    return ADW_COLOR_SCHEME_FORCE_DARK;
  return ADW_COLOR_SCHEME_DEFAULT;
}

static void apply_color_scheme(GSettings *settings, const char *key, gpointer user_data) {
  (void)key, (void)user_data;
  g_autofree char *value = g_settings_get_string(settings, "color-scheme");
  adw_style_manager_set_color_scheme(adw_style_manager_get_default(),
                                     vigil_application_color_scheme(value));
}

static VigilWindow *ensure_window(VigilApplication *self) {
  GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(self));
  if (!window)
    window = GTK_WINDOW(vigil_window_new(self));
  return VIGIL_WINDOW(window);
}

static void vigil_application_activate(GApplication *app) {
  gtk_window_present(GTK_WINDOW(ensure_window(VIGIL_APPLICATION(app))));
}

static void vigil_application_open(GApplication *app, GFile **files, int n_files,
                                   const char *hint) {
  (void)hint;
  VigilWindow *window = ensure_window(VIGIL_APPLICATION(app));
  vigil_window_open_files(window, files, n_files);
  gtk_window_present(GTK_WINDOW(window));
}

/* app.open(as): paths as given on a command line, relative to the app's cwd. */
static void on_open_action(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action;
  g_autofree const char **paths = g_variant_get_strv(param, NULL);
  guint n = g_strv_length((char **)paths);
  if (n == 0)
    return;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(files, g_file_new_for_commandline_arg(paths[i]));
  g_application_open(G_APPLICATION(user_data), (GFile **)files->pdata, (int)n, "");
}

/* app.open-recent(s): a URI from the recent menu. A scan moved away since is
 * said so, and the recent entry goes (it would fail again). */
static void on_open_recent_action(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action;
  VigilApplication *self = VIGIL_APPLICATION(user_data);
  const char *uri = g_variant_get_string(param, NULL);
  g_autoptr(GFile) file = g_file_new_for_uri(uri);
  if (!g_file_query_exists(file, NULL)) {
    g_autofree char *name = g_file_get_parse_name(file);
    g_autofree char *msg = g_strdup_printf("%s no longer exists; removed from Open Recent", name);
    gtk_recent_manager_remove_item(gtk_recent_manager_get_default(), uri, NULL);
    VigilWindow *window = ensure_window(self);
    gtk_window_present(GTK_WINDOW(window));
    vigil_window_show_message(window, msg);
    return;
  }
  GFile *files[] = {file};
  g_application_open(G_APPLICATION(self), files, 1, "");
}

static void on_about_action(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  GtkApplication *app = GTK_APPLICATION(user_data);
  const char *developers[] = {"The Vigil developers", NULL};
  GtkWindow *active = gtk_application_get_active_window(app);
  g_autofree char *identity =
      VIGIL_IS_WINDOW(active) ? vigil_window_dup_model_identity(VIGIL_WINDOW(active)) : NULL;
  g_autofree char *debug = g_strdup_printf("Model:\n%s\n", identity ? identity : "none loaded");
  /* libadwaita 1.5 brought the dialog that replaces (and 1.6 deprecates) the window. */
#if ADW_CHECK_VERSION(1, 5, 0)
  GObject *about = g_object_new(ADW_TYPE_ABOUT_DIALOG, NULL);
#else
  GObject *about = g_object_new(ADW_TYPE_ABOUT_WINDOW, "transient-for", active, NULL);
#endif
  // clang-format off
  g_object_set(about,
      "application-name", "Vigil",
      "application-icon", VIGIL_APP_ID,
      "version", VIGIL_VERSION,
      "developer-name", "The Vigil developers",
      "developers", developers,
      "license-type", GTK_LICENSE_GPL_3_0,
      "comments", "Medical scan viewer with MVFA anomaly detection. Nothing leaves your "
                  "computer. A research tool, not a certified medical device.",
      "debug-info", debug,
      "debug-info-filename", "vigil-model.txt",
      NULL);
  // clang-format on
#if ADW_CHECK_VERSION(1, 5, 0)
  adw_dialog_present(ADW_DIALOG(about), GTK_WIDGET(active));
#else
  gtk_window_present(GTK_WINDOW(about));
#endif
}

static void on_preferences_action(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  VigilApplication *self = VIGIL_APPLICATION(user_data);
  if (!self->settings) {
    g_warning("cannot show preferences: the settings schema is not installed");
    return;
  }
  GtkWindow *parent = gtk_application_get_active_window(GTK_APPLICATION(self));
  gtk_window_present(GTK_WINDOW(vigil_preferences_window_new(parent, self->settings)));
}

static void on_quit_action(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  GtkApplication *app = GTK_APPLICATION(user_data);
  /* Close windows first so each can save its state. */
  GList *windows = gtk_application_get_windows(app);
  while (windows) {
    GList *next = windows->next;
    gtk_window_close(GTK_WINDOW(windows->data));
    windows = next;
  }
  g_application_quit(G_APPLICATION(app));
}

static const GActionEntry app_actions[] = {
    {.name = "open", .activate = on_open_action, .parameter_type = "as"},
    {.name = "open-recent", .activate = on_open_recent_action, .parameter_type = "s"},
    {.name = "about", .activate = on_about_action},
    {.name = "preferences", .activate = on_preferences_action},
    {.name = "quit", .activate = on_quit_action},
};

static void vigil_application_startup(GApplication *app) {
  VigilApplication *self = VIGIL_APPLICATION(app);
  G_APPLICATION_CLASS(vigil_application_parent_class)->startup(app);

  GSettingsSchemaSource *source = g_settings_schema_source_get_default();
  g_autoptr(GSettingsSchema) schema =
      source ? g_settings_schema_source_lookup(source, VIGIL_APP_ID, TRUE) : NULL;
  if (schema) {
    self->settings = g_settings_new(VIGIL_APP_ID);
    g_signal_connect(self->settings, "changed::color-scheme", G_CALLBACK(apply_color_scheme), NULL);
    apply_color_scheme(self->settings, "color-scheme", NULL);
  } else
    g_warning("settings schema %s is not installed; preferences will not be kept", VIGIL_APP_ID);

  g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions), app);
  vigil_window_set_accels(GTK_APPLICATION(app));
}

static void vigil_application_finalize(GObject *object) {
  g_clear_object(&VIGIL_APPLICATION(object)->settings);
  g_clear_object(&VIGIL_APPLICATION(object)->recent_menu);
  G_OBJECT_CLASS(vigil_application_parent_class)->finalize(object);
}

static void vigil_application_class_init(VigilApplicationClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = vigil_application_finalize;
  G_APPLICATION_CLASS(klass)->activate = vigil_application_activate;
  G_APPLICATION_CLASS(klass)->open = vigil_application_open;
  G_APPLICATION_CLASS(klass)->startup = vigil_application_startup;
}

static void vigil_application_init(VigilApplication *self) {
  (void)self;
}
