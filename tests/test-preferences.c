/* The preferences window edits GSettings and follows changes made elsewhere. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vigil-backend.h"
#include "vigil-precision.h"
#include "vigil-preferences-window.h"

static GSettings *settings;

static GtkWidget *find_row(GtkWidget *root, const char *title_prefix) {
  if (ADW_IS_ACTION_ROW(root) || ADW_IS_COMBO_ROW(root)) {
    const char *title = adw_preferences_row_get_title(ADW_PREFERENCES_ROW(root));
    if (title && g_str_has_prefix(title, title_prefix))
      return root;
  }
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_row(c, title_prefix);
    if (found)
      return found;
  }
  return NULL;
}

static GtkWidget *find_widget(GtkWidget *root, GType type, const char *text) {
  const char *label = GTK_IS_BUTTON(root) ? gtk_button_get_label(GTK_BUTTON(root))
                      : ADW_IS_PREFERENCES_ROW(root)
                          ? adw_preferences_row_get_title(ADW_PREFERENCES_ROW(root))
                          : NULL;
  if (G_TYPE_CHECK_INSTANCE_TYPE(root, type) && g_strcmp0(label, text) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_widget(c, type, text);
    if (found)
      return found;
  }
  return NULL;
}

static guint n_nodes(void) {
  g_autoptr(GVariant) v = g_settings_get_value(settings, "pacs-nodes");
  return (guint)g_variant_n_children(v);
}

/* PACS nodes: added, edited and removed in the page land in the settings;
 * the node chosen for sending follows the "Send reports to" row. */
static void test_pacs_nodes(void) {
  GtkWidget *window = vigil_preferences_window_new(NULL, settings);
  GtkWidget *add = find_widget(window, GTK_TYPE_BUTTON, "_Add Node");
  g_assert_nonnull(add);
  g_assert_cmpuint(n_nodes(), ==, 0);
  g_signal_emit_by_name(add, "clicked");
  g_signal_emit_by_name(add, "clicked");
  g_assert_cmpuint(n_nodes(), ==, 2);
  GtkWidget *host = find_widget(window, ADW_TYPE_ENTRY_ROW, "Host");
  GtkWidget *aet = find_widget(window, ADW_TYPE_ENTRY_ROW, "Called AE title (the node's)");
  g_assert_nonnull(host);
  gtk_editable_set_text(GTK_EDITABLE(host), "pacs.example.org");
  gtk_editable_set_text(GTK_EDITABLE(aet), "ARCHIVE");
  g_autoptr(GVariant) v = g_settings_get_value(settings, "pacs-nodes");
  const char *name, *called, *hostname;
  gint32 port;
  g_variant_get_child(v, 0, "(&s&s&si)", &name, &called, &hostname, &port);
  g_assert_cmpstr(name, ==, "PACS 1");
  g_assert_cmpstr(called, ==, "ARCHIVE");
  g_assert_cmpstr(hostname, ==, "pacs.example.org");
  g_assert_cmpint(port, ==, 104);
  AdwComboRow *chosen = ADW_COMBO_ROW(find_row(window, "Send reports to"));
  adw_combo_row_set_selected(chosen, 1);
  g_autofree char *node = g_settings_get_string(settings, "pacs-node");
  g_assert_cmpstr(node, ==, "PACS 2");
  GtkWidget *remove = find_widget(window, GTK_TYPE_BUTTON, "_Remove");
  g_signal_emit_by_name(remove, "clicked");
  g_assert_cmpuint(n_nodes(), ==, 1);
  g_settings_reset(settings, "pacs-nodes"); /* a change from elsewhere: the rows follow */
  g_assert_null(find_widget(window, ADW_TYPE_ENTRY_ROW, "Host"));
  g_settings_reset(settings, "pacs-node");
  gtk_window_destroy(GTK_WINDOW(window));
}

static void test_rows_follow_settings(void) {
  GtkWidget *window = vigil_preferences_window_new(NULL, settings);
  AdwActionRow *clip = ADW_ACTION_ROW(find_row(window, "CLIP weights"));
  g_assert_nonnull(clip);
  g_assert_cmpstr(adw_action_row_get_subtitle(clip), ==, "Not set");
  g_settings_set_string(settings, "clip-weights", "/models/clip <L14>.safetensors");
  /* Markup-escaped when set, so the label shows the name as it is. */
  g_assert_cmpstr(adw_action_row_get_subtitle(clip), ==,
                  "clip <L14>.safetensors — /models/clip <L14>.safetensors");

  AdwActionRow *liver = ADW_ACTION_ROW(find_row(window, "Liver CT"));
  g_assert_nonnull(liver);
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
  g_variant_builder_add(&b, "{ss}", "liver-ct", "/models/Liver.pth");
  g_settings_set_value(settings, "adapter-checkpoints", g_variant_builder_end(&b));
  g_assert_cmpstr(adw_action_row_get_subtitle(liver), ==, "Liver.pth — /models/Liver.pth");
  gtk_window_destroy(GTK_WINDOW(window));
}

/* With nothing chosen, the rows show what `vigil-cli model import` put in
 * the model folder (the app uses those); a chosen file comes first. */
static void test_model_folder(void) {
  g_autofree char *dir = g_dir_make_tmp("vigil-prefs-XXXXXX", NULL);
  g_autofree char *index = g_build_filename(dir, "model.json", NULL);
  g_assert_true(
      g_file_set_contents(index,
                          "{\"format\": \"vigil-models\", \"version\": 1, \"clip\": {\"file\": "
                          "\"clip.safetensors\"}, \"adapters\": {\"brain-mri\": {\"file\": "
                          "\"adapters/brain-mri.pth\"}}}",
                          -1, NULL));
  g_autofree char *old = g_strdup(g_getenv("VIGIL_MODEL_DIR"));
  g_setenv("VIGIL_MODEL_DIR", dir, TRUE);
  g_settings_reset(settings, "clip-weights");
  g_settings_reset(settings, "adapter-checkpoints");
  GtkWidget *window = vigil_preferences_window_new(NULL, settings);
  AdwActionRow *clip = ADW_ACTION_ROW(find_row(window, "CLIP weights"));
  AdwActionRow *brain = ADW_ACTION_ROW(find_row(window, "Brain MRI"));
  AdwActionRow *liver = ADW_ACTION_ROW(find_row(window, "Liver CT"));
  g_autofree char *want_clip =
      g_strdup_printf("Model folder: clip.safetensors — %s/clip.safetensors", dir);
  g_autofree char *want_brain =
      g_strdup_printf("Model folder: brain-mri.pth — %s/adapters/brain-mri.pth", dir);
  g_assert_cmpstr(adw_action_row_get_subtitle(clip), ==, want_clip);
  g_assert_cmpstr(adw_action_row_get_subtitle(brain), ==, want_brain);
  g_assert_cmpstr(adw_action_row_get_subtitle(liver), ==, "Not set");
  g_settings_set_string(settings, "clip-weights", "/models/mine.safetensors");
  g_assert_cmpstr(adw_action_row_get_subtitle(clip), ==,
                  "mine.safetensors — /models/mine.safetensors");
  gtk_window_destroy(GTK_WINDOW(window));
  g_settings_reset(settings, "clip-weights");
  g_unlink(index);
  g_rmdir(dir);
  if (old)
    g_setenv("VIGIL_MODEL_DIR", old, TRUE);
  else
    g_unsetenv("VIGIL_MODEL_DIR");
}

static void test_device_choice(void) {
  GtkWidget *window = vigil_preferences_window_new(NULL, settings);
  AdwComboRow *device = ADW_COMBO_ROW(find_row(window, "Compute device"));
  g_assert_nonnull(device);
  GListModel *model = adw_combo_row_get_model(device);
  guint n = g_list_model_get_n_items(model);
  g_assert_cmpuint(n, >=, 3); /* Automatic, lavapipe, CPU */
  const char *second = gtk_string_list_get_string(GTK_STRING_LIST(model), 1);
  g_assert_nonnull(strstr(second, "llvmpipe"));
  /* What Automatic would run on, and why: not lavapipe, a software driver. */
  const char *subtitle = adw_action_row_get_subtitle(ADW_ACTION_ROW(device));
  g_assert_nonnull(subtitle);
  g_assert_true(g_str_has_prefix(subtitle, "Automatic uses the CPU: no GPU; llvmpipe"));
  g_assert_nonnull(strstr(subtitle, "runs Vulkan in software"));
  adw_combo_row_set_selected(device, n - 1);
  g_autofree char *value = g_settings_get_string(settings, "compute-device");
  g_assert_cmpstr(value, ==, "cpu");
  adw_combo_row_set_selected(device, 1);
  g_free(value);
  value = g_settings_get_string(settings, "compute-device");
  g_assert_cmpstr(value, ==, "vulkan:0");
  g_settings_set_string(settings, "compute-device", "auto");
  g_assert_cmpuint(adw_combo_row_get_selected(device), ==, 0);
  gtk_window_destroy(GTK_WINDOW(window));
}

static void test_style_choice(void) {
  GtkWidget *window = vigil_preferences_window_new(NULL, settings);
  AdwComboRow *style = ADW_COMBO_ROW(find_row(window, "Color scheme"));
  g_assert_nonnull(style);
  g_assert_cmpuint(adw_combo_row_get_selected(style), ==, 0);
  adw_combo_row_set_selected(style, 2);
  g_autofree char *value = g_settings_get_string(settings, "color-scheme");
  g_assert_cmpstr(value, ==, "dark");
  g_settings_set_string(settings, "color-scheme", "light");
  g_assert_cmpuint(adw_combo_row_get_selected(style), ==, 1);
  g_settings_reset(settings, "color-scheme");
  g_assert_cmpuint(adw_combo_row_get_selected(style), ==, 0);
  gtk_window_destroy(GTK_WINDOW(window));
}

/* The precision row (F32, F16, BF16) and its setting follow each other, and
 * the row says whether this computer has BF16. */
static void test_precision(void) {
  GtkWidget *window = vigil_preferences_window_new(NULL, settings);
  AdwComboRow *row = ADW_COMBO_ROW(find_row(window, "Precision"));
  g_assert_nonnull(row);
  g_assert_cmpuint(adw_combo_row_get_selected(row), ==, 0);
  adw_combo_row_set_selected(row, 2);
  g_autofree char *bf16 = g_settings_get_string(settings, "precision");
  g_assert_cmpstr(bf16, ==, "bf16");
  adw_combo_row_set_selected(row, 1);
  g_autofree char *f16 = g_settings_get_string(settings, "precision");
  g_assert_cmpstr(f16, ==, "f16");
  g_settings_set_string(settings, "precision", "f32");
  g_assert_cmpuint(adw_combo_row_get_selected(row), ==, 0);
  const char *subtitle = adw_action_row_get_subtitle(ADW_ACTION_ROW(row));
  g_autofree char *why = NULL;
  if (vigil_precision_bf16_available(&why))
    g_assert_nonnull(strstr(subtitle, "which this computer has"));
  else
    g_assert_nonnull(strstr(subtitle, why));
  g_settings_reset(settings, "precision");
  gtk_window_destroy(GTK_WINDOW(window));
}

static GtkWidget *find_spin(GtkWidget *w) {
  if (GTK_IS_SPIN_BUTTON(w))
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *hit = find_spin(c);
    if (hit)
      return hit;
  }
  return NULL;
}

/* The CPU threads row follows its setting both ways and says what 0 means here. */
static void test_cpu_threads(void) {
  GtkWidget *window = vigil_preferences_window_new(NULL, settings);
  GtkWidget *row = find_row(window, "CPU threads");
  g_assert_nonnull(row);
  GtkSpinButton *spin = GTK_SPIN_BUTTON(find_spin(row));
  g_assert_nonnull(spin);
  g_assert_cmpfloat(gtk_spin_button_get_value(spin), ==, 0);
  gtk_spin_button_set_value(spin, 3);
  g_assert_cmpint(g_settings_get_int(settings, "cpu-threads"), ==, 3);
  g_settings_set_int(settings, "cpu-threads", 5);
  g_assert_cmpfloat(gtk_spin_button_get_value(spin), ==, 5);
  g_autofree char *here = g_strdup_printf("(%d here)", vigil_backend_cpu_default_threads());
  g_assert_nonnull(strstr(adw_action_row_get_subtitle(ADW_ACTION_ROW(row)), here));
  g_settings_reset(settings, "cpu-threads");
  gtk_window_destroy(GTK_WINDOW(window));
}

int main(int argc, char **argv) {
  gtk_test_init(&argc, &argv, NULL);
  adw_init();
  settings = g_settings_new("org.vigil.Vigil");
  g_test_add_func("/preferences/pacs-nodes", test_pacs_nodes);
  g_test_add_func("/preferences/rows-follow-settings", test_rows_follow_settings);
  g_test_add_func("/preferences/model-folder", test_model_folder);
  g_test_add_func("/preferences/device-choice", test_device_choice);
  g_test_add_func("/preferences/style-choice", test_style_choice);
  g_test_add_func("/preferences/precision", test_precision);
  g_test_add_func("/preferences/cpu-threads", test_cpu_threads);
  int rc = g_test_run();
  g_object_unref(settings);
  return rc;
}
