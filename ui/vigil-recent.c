/* The "Open Recent" menu. GtkRecentManager holds every application's items;
 * only those Vigil registered are listed, so the menu never offers a
 * spreadsheet. Items are rebuilt on the manager's "changed" signal. */
#include "vigil-recent.h"

static int newest_first(gconstpointer a, gconstpointer b) {
  GtkRecentInfo *ia = *(GtkRecentInfo **)a, *ib = *(GtkRecentInfo **)b;
  GDateTime *ta = gtk_recent_info_get_modified(ia); /* owned by the info */
  GDateTime *tb = gtk_recent_info_get_modified(ib);
  int order = g_date_time_compare(tb, ta);
  return order ? order : g_strcmp0(gtk_recent_info_get_uri(ia), gtk_recent_info_get_uri(ib));
}

static GMenuItem *item_for(GtkRecentInfo *info) {
  const char *uri = gtk_recent_info_get_uri(info);
  g_autoptr(GFile) file = g_file_new_for_uri(uri);
  g_autofree char *path = g_file_get_path(file);
  g_autofree char *base = g_file_get_basename(file);
  g_autofree char *parent = path ? g_path_get_dirname(path) : g_strdup(uri);
  /* Two scans named alike in different folders stay apart. */
  g_autofree char *label = g_strdup_printf("%s — %s", base ? base : uri, parent);
  GMenuItem *item = g_menu_item_new(label, NULL);
  g_menu_item_set_action_and_target_value(item, "app.open-recent", g_variant_new_string(uri));
  return item;
}

void vigil_recent_menu_refresh(GMenu *menu, GtkRecentManager *manager, const char *app_name) {
  g_return_if_fail(G_IS_MENU(menu) && GTK_IS_RECENT_MANAGER(manager));
  GList *items = gtk_recent_manager_get_items(manager);
  g_autoptr(GPtrArray) ours = g_ptr_array_new();
  for (GList *l = items; l; l = l->next)
    if (gtk_recent_info_has_application(l->data, app_name))
      g_ptr_array_add(ours, l->data);
  g_ptr_array_sort(ours, newest_first);
  g_menu_remove_all(menu);
  for (guint i = 0; i < ours->len && i < VIGIL_RECENT_MAX; i++) {
    g_autoptr(GMenuItem) item = item_for(g_ptr_array_index(ours, i));
    g_menu_append_item(menu, item);
  }
  if (ours->len == 0) /* an item without an action shows greyed out */
    g_menu_append(menu, "No Recent Scans", NULL);
  g_list_free_full(items, (GDestroyNotify)gtk_recent_info_unref);
}

static void on_changed(GtkRecentManager *manager, gpointer user_data) {
  GMenu *menu = G_MENU(user_data);
  vigil_recent_menu_refresh(menu, manager, g_object_get_data(G_OBJECT(menu), "vigil-app-name"));
}

GMenu *vigil_recent_menu_new(GtkRecentManager *manager, const char *app_name) {
  g_return_val_if_fail(GTK_IS_RECENT_MANAGER(manager) && app_name, NULL);
  GMenu *menu = g_menu_new();
  g_object_set_data_full(G_OBJECT(menu), "vigil-app-name", g_strdup(app_name), g_free);
  vigil_recent_menu_refresh(menu, manager, app_name);
  g_signal_connect_object(manager, "changed", G_CALLBACK(on_changed), menu, 0);
  return menu;
}
