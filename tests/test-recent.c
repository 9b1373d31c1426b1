/* The Open Recent menu lists only this app's items, newest first, at most
 * VIGIL_RECENT_MAX, and follows the recent manager's changes. Runs in the
 * private XDG_DATA_HOME that gui-session.sh sets up. */
#include <gtk/gtk.h>

#include "vigil-recent.h"

static void on_changed(GtkRecentManager *manager, gboolean *changed) {
  (void)manager;
  *changed = TRUE;
}

/* The manager saves and emits "changed" from an idle; the menu follows it. */
static void wait_changed(GtkRecentManager *manager) {
  gboolean changed = FALSE;
  gulong id = g_signal_connect(manager, "changed", G_CALLBACK(on_changed), &changed);
  gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (!changed && g_get_monotonic_time() < deadline)
    g_main_context_iteration(NULL, FALSE), g_usleep(1000);
  g_signal_handler_disconnect(manager, id);
  g_assert_true(changed);
}

static void add(GtkRecentManager *manager, const char *uri, const char *app) {
  GtkRecentData data = {
      .mime_type = "application/octet-stream", .app_name = (char *)app, .app_exec = (char *)app};
  g_assert_true(gtk_recent_manager_add_full(manager, uri, &data));
  wait_changed(manager);
}

static char *target_of(GMenuModel *menu, int i) {
  g_autoptr(GVariant) target = g_menu_model_get_item_attribute_value(
      menu, i, G_MENU_ATTRIBUTE_TARGET, G_VARIANT_TYPE_STRING);
  return target ? g_variant_dup_string(target, NULL) : NULL;
}

static void test_menu(void) {
  GtkRecentManager *manager = gtk_recent_manager_get_default();
  g_autoptr(GMenu) menu = vigil_recent_menu_new(manager, "vigil-test");
  GMenuModel *model = G_MENU_MODEL(menu);
  /* Empty: one greyed-out placeholder without an action. */
  g_assert_cmpint(g_menu_model_get_n_items(model), ==, 1);
  g_assert_null(target_of(model, 0));

  add(manager, "file:///scans/a/ct.dcm", "vigil-test");
  add(manager, "file:///scans/other.ods", "a-spreadsheet");
  g_usleep(1100 * 1000); /* recent items have a resolution of one second */
  add(manager, "file:///scans/b/ct.dcm", "vigil-test");
  g_assert_cmpint(g_menu_model_get_n_items(model), ==, 2);
  g_autofree char *first = target_of(model, 0), *second = target_of(model, 1);
  g_assert_cmpstr(first, ==, "file:///scans/b/ct.dcm");
  g_assert_cmpstr(second, ==, "file:///scans/a/ct.dcm");
  g_autofree char *label = NULL;
  g_assert_true(g_menu_model_get_item_attribute(model, 0, G_MENU_ATTRIBUTE_LABEL, "s", &label));
  g_assert_cmpstr(label, ==, "ct.dcm — /scans/b");
  g_autofree char *action = NULL;
  g_assert_true(g_menu_model_get_item_attribute(model, 0, G_MENU_ATTRIBUTE_ACTION, "s", &action));
  g_assert_cmpstr(action, ==, "app.open-recent");

  for (int i = 0; i < VIGIL_RECENT_MAX + 3; i++) {
    g_autofree char *uri = g_strdup_printf("file:///scans/many/%02d.png", i);
    add(manager, uri, "vigil-test");
  }
  g_assert_cmpint(g_menu_model_get_n_items(model), ==, VIGIL_RECENT_MAX);

  g_assert_true(gtk_recent_manager_remove_item(manager, "file:///scans/a/ct.dcm", NULL));
  wait_changed(manager);
  for (int i = 0; i < g_menu_model_get_n_items(model); i++) {
    g_autofree char *uri = target_of(model, i);
    g_assert_cmpstr(uri, !=, "file:///scans/a/ct.dcm");
  }
}

int main(int argc, char **argv) {
  gtk_test_init(&argc, &argv, NULL);
  g_test_add_func("/recent/menu", test_menu);
  return g_test_run();
}
