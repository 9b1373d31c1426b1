/* VigilWindow's sessions: Save Session writes a .vigil file; opening one
 * restores what was open, the view, the analysis settings and the normal
 * references (recomputed once the model is loaded). Every change is also
 * autosaved, so a crash loses nothing; the next start offers to restore it.
 * The workspace does the work (app/vigil-workspace.c); here are the
 * actions, the dialogs and the panel's part of a restore.
 * Part of VigilWindow (see vigil-window-private.h). */
#include "vigil-file-dialog.h"
#include "vigil-window-private.h"

/* A restored session's analysis settings, shown in the panel (which hands
 * them to the analysis model). */
static void on_restore_settings(VigilWorkspace *ws, const VigilSession *session,
                                VigilWindow *self) {
  (void)ws;
  if (session->domain)
    vigil_analysis_panel_set_domain(self->analysis_panel, session->domain);
  else if (session->custom_class)
    vigil_analysis_panel_set_custom_class(self->analysis_panel, session->custom_class);
  vigil_analysis_panel_set_few_shot(self->analysis_panel,
                                    g_strcmp0(session->mode, "few-shot") == 0);
}

/* win.save-session(s) */
void _vigil_window_action_save_session(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  g_autoptr(GError) error = NULL;
  const char *path = g_variant_get_string(param, NULL);
  if (vigil_workspace_save_session(self->workspace, path, &error)) {
    g_autofree char *name = g_path_get_basename(path);
    g_autofree char *msg = g_strdup_printf("Session saved as %s", name);
    _vigil_window_toast(self, msg);
  } else {
    _vigil_window_toast(self, error->message);
  }
}

static void on_save_chosen(GListModel *files, gpointer user_data) {
  g_autofree char *path = vigil_file_dialog_first_path(files);
  if (path && !g_str_has_suffix(path, ".vigil")) {
    char *with = g_strconcat(path, ".vigil", NULL);
    g_free(path);
    path = with;
  }
  if (path)
    g_action_group_activate_action(G_ACTION_GROUP(user_data), "save-session",
                                   g_variant_new_string(path));
}

void _vigil_window_action_save_dialog(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  const VigilFileDialog d = {VIGIL_FILE_SAVE, FALSE, "Save Session", "_Save", "study.vigil", NULL};
  vigil_file_dialog_show(GTK_WINDOW(user_data), &d, on_save_chosen, user_data);
}

/* win.restore-autosave: what the last run was doing. */
void _vigil_window_action_restore_autosave(GSimpleAction *action, GVariant *param,
                                           gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  g_autofree char *path = vigil_session_autosave_path();
  g_autoptr(GFile) file = g_file_new_for_path(path);
  vigil_workspace_open_session(self->workspace, file);
}

static gboolean offer_autosave(gpointer data) {
  VigilWindow *self = data;
  g_autofree char *path = vigil_session_autosave_path();
  if (self->workspace &&
      g_list_model_get_n_items(vigil_workspace_get_files(self->workspace)) == 0 &&
      g_file_test(path, G_FILE_TEST_EXISTS)) {
    AdwToast *toast = adw_toast_new("Continue where you left off?");
    adw_toast_set_button_label(toast, "_Restore");
    adw_toast_set_action_name(toast, "win.restore-autosave");
    adw_toast_set_timeout(toast, 0);
    adw_toast_overlay_add_toast(self->toasts, toast);
  }
  return G_SOURCE_REMOVE;
}

void _vigil_window_session_init(VigilWindow *self) {
  g_signal_connect(self->workspace, "restore-settings", G_CALLBACK(on_restore_settings), self);
  g_timeout_add_full(G_PRIORITY_DEFAULT, 500, offer_autosave, g_object_ref(self), g_object_unref);
}
