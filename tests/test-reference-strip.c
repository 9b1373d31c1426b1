/* The reference strip follows the analysis model: thumbnails appear and go
 * with the model's references, its remove buttons and drops become signals. */
#include <adwaita.h>

#include "vigil-reference-strip.h"

static GtkWidget *find_button(GtkWidget *root, const char *tooltip) {
  if (GTK_IS_BUTTON(root) && g_strcmp0(gtk_widget_get_tooltip_text(root), tooltip) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_button(c, tooltip);
    if (found)
      return found;
  }
  return NULL;
}

static void on_remove(VigilReferenceStrip *strip, guint64 id, gpointer user_data) {
  (void)strip;
  *(guint64 *)user_data = id;
}

static gboolean on_dropped(VigilReferenceStrip *strip, const GValue *value, gpointer user_data) {
  (void)strip;
  *(char **)user_data = g_value_dup_string(value);
  return TRUE;
}

static GtkDropTarget *drop_target_of(GtkWidget *widget) {
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(widget);
  for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
    g_autoptr(GObject) c = g_list_model_get_item(controllers, i);
    if (GTK_IS_DROP_TARGET(c))
      return GTK_DROP_TARGET(c);
  }
  return NULL;
}

static void test_follows_model(void) {
  GtkWidget *window = gtk_window_new();
  VigilReferenceStrip *strip = VIGIL_REFERENCE_STRIP(vigil_reference_strip_new());
  gtk_window_set_child(GTK_WINDOW(window), GTK_WIDGET(strip));
  g_autoptr(VigilAnalysisSession) session = vigil_analysis_session_new();
  vigil_analysis_session_set_model(session, "m", "model");
  vigil_reference_strip_set_session(strip, session);
  g_assert_cmpuint(vigil_reference_strip_get_count(strip), ==, 0);

  g_autoptr(GdkPaintable) thumb = gdk_paintable_new_empty(16, 16);
  vigil_reference_strip_set_thumbnail(strip, 7, thumb);
  vigil_analysis_session_add_reference(session, 7, "slice 12", "/ct", "1.2", 12);
  vigil_analysis_session_add_reference(session, 9, "normal.png", "/n.png", NULL, 0);
  g_assert_cmpuint(vigil_reference_strip_get_count(strip), ==, 2);

  guint64 removed = 0;
  g_signal_connect(strip, "remove-reference", G_CALLBACK(on_remove), &removed);
  GtkWidget *remove = find_button(GTK_WIDGET(strip), "Remove reference normal.png");
  g_assert_nonnull(remove);
  g_signal_emit_by_name(remove, "clicked");
  g_assert_cmpuint(removed, ==, 9);
  vigil_analysis_session_remove_reference(session, 9);
  g_assert_cmpuint(vigil_reference_strip_get_count(strip), ==, 1);
  g_assert_null(find_button(GTK_WIDGET(strip), "Remove reference normal.png"));

  /* A new model starts an empty bank: the strip empties with it. */
  vigil_analysis_session_set_model(session, "other", "other model");
  g_assert_cmpuint(vigil_reference_strip_get_count(strip), ==, 0);
  gtk_window_destroy(GTK_WINDOW(window));
}

static void test_drop(void) {
  VigilReferenceStrip *strip =
      VIGIL_REFERENCE_STRIP(g_object_ref_sink(vigil_reference_strip_new()));
  const GType types[] = {G_TYPE_STRING};
  vigil_reference_strip_set_drop_types(strip, types, 1);
  g_autofree char *got = NULL;
  g_signal_connect(strip, "dropped", G_CALLBACK(on_dropped), &got);
  GtkDropTarget *target = drop_target_of(GTK_WIDGET(strip));
  g_assert_nonnull(target);
  GValue value = G_VALUE_INIT;
  g_value_init(&value, G_TYPE_STRING);
  g_value_set_string(&value, "/tmp/normal.png");
  gboolean handled = FALSE;
  g_signal_emit_by_name(target, "drop", &value, 1.0, 1.0, &handled);
  g_value_unset(&value);
  g_assert_true(handled);
  g_assert_cmpstr(got, ==, "/tmp/normal.png");
  g_object_unref(strip);
}

int main(int argc, char **argv) {
  gtk_test_init(&argc, &argv, NULL);
  adw_init();
  g_test_add_func("/reference-strip/follows-model", test_follows_model);
  g_test_add_func("/reference-strip/drop", test_drop);
  return g_test_run();
}
