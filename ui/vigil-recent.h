/* The "Open Recent" menu: scans and folders this app opened, newest first. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define VIGIL_RECENT_MAX 10

/* A menu of up to VIGIL_RECENT_MAX items of `manager` registered by
 * `app_name`, each activating "app.open-recent" with the item's URI. It
 * follows the manager's changes until the manager is finalized. */
GMenu *vigil_recent_menu_new(GtkRecentManager *manager, const char *app_name);

/* Rebuilds `menu` from `manager` now (also what the change handler does). */
void vigil_recent_menu_refresh(GMenu *menu, GtkRecentManager *manager, const char *app_name);

G_END_DECLS
