/* VigilPreferencesWindow: which model files to use and where to compute.
 * Everything is stored in GSettings at once; the analysis reloads from there. */
#include "vigil-preferences-window.h"

#include "vigil-backend.h"
#include "vigil-domain.h"
#include "vigil-file-dialog.h"
#include "vigil-model-dir.h"
#include "vigil-pacs-page.h"

struct _VigilPreferencesWindow {
  AdwPreferencesWindow parent_instance;
  AdwActionRow *clip_row;
  AdwPreferencesGroup *adapters_group;
  AdwComboRow *device_row;
  AdwComboRow *style_row;
  AdwComboRow *precision_row; /* positions are VigilPrecision values */
  AdwActionRow *threads_row;
  GtkSpinButton *threads_spin; /* bound to cpu-threads */
  GSettings *settings;
  GPtrArray *adapter_rows; /* AdwActionRow per domain, in vigil_domains() order */
  char **device_settings;  /* setting value per combo position */
  gboolean syncing;
};

/* color-scheme setting values, in the order of the style row's items. */
static const char *const style_settings[] = {"default", "light", "dark"};

G_DEFINE_FINAL_TYPE(VigilPreferencesWindow, vigil_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* The file set here, else the one `vigil-cli model import` put in the model
 * folder (used when none is set), else "Not set". */
static void show_path(AdwActionRow *row, const char *path, const char *from_folder) {
  const gboolean set = path && *path;
  if (set || from_folder) {
    const char *shown = set ? path : from_folder;
    g_autofree char *name = g_path_get_basename(shown);
    g_autofree char *text =
        g_markup_printf_escaped("%s%s — %s", set ? "" : "Model folder: ", name, shown);
    adw_action_row_set_subtitle(row, text);
  } else {
    adw_action_row_set_subtitle(row, "Not set");
  }
}

static void sync_from_settings(VigilPreferencesWindow *self) {
  self->syncing = TRUE;
  g_autofree char *clip = g_settings_get_string(self->settings, "clip-weights");
  g_autoptr(VigilModelDir) folder = vigil_model_dir_open(NULL, NULL);
  g_autofree char *folder_clip = folder ? vigil_model_dir_clip(folder) : NULL;
  show_path(self->clip_row, clip, folder_clip);
  g_autoptr(GVariant) map = g_settings_get_value(self->settings, "adapter-checkpoints");
  const VigilDomain *d = vigil_domains();
  for (guint i = 0; d[i].id; i++) {
    const char *path = NULL;
    g_variant_lookup(map, d[i].id, "&s", &path);
    g_autofree char *folder_path = folder ? vigil_model_dir_adapters(folder, d[i].id) : NULL;
    show_path(g_ptr_array_index(self->adapter_rows, i), path, folder_path);
  }
  g_autofree char *device = g_settings_get_string(self->settings, "compute-device");
  guint pos = 0;
  for (guint i = 0; self->device_settings[i]; i++)
    if (g_str_equal(self->device_settings[i], device))
      pos = i;
  adw_combo_row_set_selected(self->device_row, pos);
  g_autofree char *style = g_settings_get_string(self->settings, "color-scheme");
  for (guint i = 0; i < G_N_ELEMENTS(style_settings); i++)
    if (g_str_equal(style_settings[i], style))
      adw_combo_row_set_selected(self->style_row, i);
  g_autofree char *precision = g_settings_get_string(self->settings, "precision");
  VigilPrecision p = VIGIL_PRECISION_F32;
  vigil_precision_parse(precision, &p, NULL); /* the schema allows only valid names */
  adw_combo_row_set_selected(self->precision_row, p);
  self->syncing = FALSE;
}

static void set_adapter(GSettings *settings, const char *domain, const char *path) {
  g_autoptr(GVariant) old = g_settings_get_value(settings, "adapter-checkpoints");
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
  GVariantIter iter;
  const char *key, *value;
  g_variant_iter_init(&iter, old);
  while (g_variant_iter_next(&iter, "{&s&s}", &key, &value))
    if (!g_str_equal(key, domain))
      g_variant_builder_add(&b, "{ss}", key, value);
  if (path && *path)
    g_variant_builder_add(&b, "{ss}", domain, path);
  g_settings_set_value(settings, "adapter-checkpoints", g_variant_builder_end(&b));
}

typedef struct {
  VigilPreferencesWindow *self;
  char *domain; /* NULL for the CLIP weights */
} Choice;

static void free_choice(gpointer data, GClosure *closure) {
  (void)closure;
  Choice *c = data;
  g_free(c->domain);
  g_free(c);
}

static void on_file_chosen(GListModel *files, gpointer user_data) {
  Choice *c = user_data;
  g_autofree char *path = vigil_file_dialog_first_path(files);
  if (path && c->domain)
    set_adapter(c->self->settings, c->domain, path);
  else if (path)
    g_settings_set_string(c->self->settings, "clip-weights", path);
}

static void on_choose(GtkButton *button, gpointer user_data) {
  (void)button;
  Choice *c = user_data;
  GtkFileFilter *filter = gtk_file_filter_new();
  gtk_file_filter_set_name(filter, c->domain ? "Checkpoints (.pth, .safetensors)"
                                             : "Weights (.safetensors)");
  gtk_file_filter_add_suffix(filter, "safetensors");
  if (c->domain)
    gtk_file_filter_add_suffix(filter, "pth");
  const VigilFileDialog d = {
      VIGIL_FILE_OPEN, FALSE, c->domain ? "Choose MVFA Checkpoint" : "Choose CLIP Weights",
      "_Select",       NULL,  filter};
  /* The dialog outlives this handler; the Choice lives as long as the button. */
  vigil_file_dialog_show(GTK_WINDOW(c->self), &d, on_file_chosen, c);
  g_object_unref(filter);
}

static void on_clear(GtkButton *button, gpointer user_data) {
  (void)button;
  Choice *c = user_data;
  if (c->domain)
    set_adapter(c->self->settings, c->domain, NULL);
  else
    g_settings_set_string(c->self->settings, "clip-weights", "");
}

static void add_buttons(VigilPreferencesWindow *self, AdwActionRow *row, const char *domain,
                        const char *label) {
  GtkWidget *choose = gtk_button_new_from_icon_name("document-open-symbolic");
  GtkWidget *clear = gtk_button_new_from_icon_name("edit-clear-symbolic");
  g_autofree char *choose_name = g_strdup_printf("Choose %s", label);
  g_autofree char *clear_name = g_strdup_printf("Clear %s", label);
  gtk_widget_set_tooltip_text(choose, choose_name);
  gtk_widget_set_tooltip_text(clear, clear_name);
  gtk_accessible_update_property(GTK_ACCESSIBLE(choose), GTK_ACCESSIBLE_PROPERTY_LABEL, choose_name,
                                 -1);
  gtk_accessible_update_property(GTK_ACCESSIBLE(clear), GTK_ACCESSIBLE_PROPERTY_LABEL, clear_name,
                                 -1);
  for (int i = 0; i < 2; i++) {
    GtkWidget *button = i ? clear : choose;
    gtk_widget_set_valign(button, GTK_ALIGN_CENTER);
    gtk_widget_add_css_class(button, "flat");
    Choice *c = g_new0(Choice, 1);
    c->self = self;
    c->domain = g_strdup(domain);
    g_signal_connect_data(button, "clicked", G_CALLBACK(i ? on_clear : on_choose), c, free_choice,
                          0);
    adw_action_row_add_suffix(row, button);
  }
}

static void on_device_selected(GObject *row, GParamSpec *pspec, gpointer user_data) {
  (void)row, (void)pspec;
  VigilPreferencesWindow *self = user_data;
  guint pos = adw_combo_row_get_selected(self->device_row);
  if (!self->syncing && pos < g_strv_length(self->device_settings))
    g_settings_set_string(self->settings, "compute-device", self->device_settings[pos]);
}

static void on_style_selected(GObject *row, GParamSpec *pspec, gpointer user_data) {
  (void)row, (void)pspec;
  VigilPreferencesWindow *self = user_data;
  guint pos = adw_combo_row_get_selected(self->style_row);
  if (!self->syncing && pos < G_N_ELEMENTS(style_settings))
    g_settings_set_string(self->settings, "color-scheme", style_settings[pos]);
}

static void on_precision_selected(GObject *row, GParamSpec *pspec, gpointer user_data) {
  (void)row, (void)pspec;
  VigilPreferencesWindow *self = user_data;
  guint pos = adw_combo_row_get_selected(self->precision_row);
  if (!self->syncing && pos <= VIGIL_PRECISION_BF16)
    g_settings_set_string(self->settings, "precision", vigil_precision_name(pos));
}

/* What each choice is for, and whether this computer has BF16. */
static void describe_precision(VigilPreferencesWindow *self) {
  g_autofree char *why = NULL;
  const gboolean bf16 = vigil_precision_bf16_available(&why);
  g_autofree char *subtitle = g_strdup_printf(
      "F16 is faster on GPUs with tensor cores (maps move by about 0.1%%); BF16 on CPUs with AMX "
      "or AVX512_BF16 (about 0.5%%)%s%s",
      bf16 ? ", which this computer has" : ". Not here: ", bf16 ? "" : why);
  adw_action_row_set_subtitle(ADW_ACTION_ROW(self->precision_row), subtitle);
}

static void build_device_list(VigilPreferencesWindow *self) {
  g_auto(GStrv) names = vigil_backend_list_vulkan_devices();
  GtkStringList *labels = gtk_string_list_new(NULL);
  GStrvBuilder *values = g_strv_builder_new();
  gtk_string_list_append(labels, "Automatic");
  g_strv_builder_add(values, "auto");
  for (guint i = 0; names[i]; i++) {
    g_autofree char *label = g_strdup_printf("Vulkan: %s", names[i]);
    g_autofree char *value = g_strdup_printf("vulkan:%u", i);
    gtk_string_list_append(labels, label);
    g_strv_builder_add(values, value);
  }
  gtk_string_list_append(labels, "CPU");
  g_strv_builder_add(values, "cpu");
  self->device_settings = g_strv_builder_end(values);
  g_strv_builder_unref(values);
  adw_combo_row_set_model(self->device_row, G_LIST_MODEL(labels));
  g_object_unref(labels);
  g_autofree char *why = NULL;
  vigil_backend_auto_choice(&why);
  g_autofree char *subtitle = g_strdup_printf("Automatic uses %s", why);
  adw_action_row_set_subtitle(ADW_ACTION_ROW(self->device_row), subtitle);
}

GtkWidget *vigil_preferences_window_new(GtkWindow *parent, GSettings *settings) {
  g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);
  VigilPreferencesWindow *self =
      g_object_new(VIGIL_TYPE_PREFERENCES_WINDOW, "transient-for", parent, NULL);
  self->settings = g_object_ref(settings);
  add_buttons(self, self->clip_row, NULL, "CLIP weights");
  const VigilDomain *d = vigil_domains();
  for (guint i = 0; d[i].id; i++) {
    AdwActionRow *row = ADW_ACTION_ROW(adw_action_row_new());
    g_autofree char *title = g_strdup_printf("%s (%s.pth)", d[i].label, d[i].checkpoint);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
    add_buttons(self, row, d[i].id, d[i].label);
    adw_preferences_group_add(self->adapters_group, GTK_WIDGET(row));
    g_ptr_array_add(self->adapter_rows, row);
  }
  build_device_list(self);
  sync_from_settings(self);
  g_signal_connect_object(settings, "changed", G_CALLBACK(sync_from_settings), self,
                          G_CONNECT_SWAPPED);
  g_signal_connect(self->device_row, "notify::selected", G_CALLBACK(on_device_selected), self);
  g_signal_connect(self->style_row, "notify::selected", G_CALLBACK(on_style_selected), self);
  g_signal_connect(self->precision_row, "notify::selected", G_CALLBACK(on_precision_selected),
                   self);
  describe_precision(self);
  g_settings_bind(settings, "cpu-threads", self->threads_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_autofree char *threads =
      g_strdup_printf("For the CPU backend; 0 runs one per physical core (%d here)",
                      vigil_backend_cpu_default_threads());
  adw_action_row_set_subtitle(self->threads_row, threads);
  adw_preferences_window_add(ADW_PREFERENCES_WINDOW(self),
                             ADW_PREFERENCES_PAGE(vigil_pacs_page_new(settings)));
  return GTK_WIDGET(self);
}

static void vigil_preferences_window_dispose(GObject *object) {
  VigilPreferencesWindow *self = VIGIL_PREFERENCES_WINDOW(object);
  g_clear_object(&self->settings);
  g_clear_pointer(&self->adapter_rows, g_ptr_array_unref);
  g_clear_pointer(&self->device_settings, g_strfreev);
  gtk_widget_dispose_template(GTK_WIDGET(self), VIGIL_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS(vigil_preferences_window_parent_class)->dispose(object);
}

static void vigil_preferences_window_class_init(VigilPreferencesWindowClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = vigil_preferences_window_dispose;
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/vigil/Vigil/vigil-preferences-window.ui");
  gtk_widget_class_bind_template_child(widget_class, VigilPreferencesWindow, clip_row);
  gtk_widget_class_bind_template_child(widget_class, VigilPreferencesWindow, adapters_group);
  gtk_widget_class_bind_template_child(widget_class, VigilPreferencesWindow, device_row);
  gtk_widget_class_bind_template_child(widget_class, VigilPreferencesWindow, style_row);
  gtk_widget_class_bind_template_child(widget_class, VigilPreferencesWindow, precision_row);
  gtk_widget_class_bind_template_child(widget_class, VigilPreferencesWindow, threads_row);
  gtk_widget_class_bind_template_child(widget_class, VigilPreferencesWindow, threads_spin);
}

static void vigil_preferences_window_init(VigilPreferencesWindow *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  self->adapter_rows = g_ptr_array_new();
}
