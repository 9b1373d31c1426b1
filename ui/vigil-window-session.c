/* VigilWindow's sessions: Save Session writes a .vigil file; opening one
 * restores what was open, the view, the analysis settings and the normal
 * references (recomputed once the model is loaded). Every change is also
 * autosaved, so a crash loses nothing; the next start offers to restore it.
 * Part of VigilWindow (see vigil-window-private.h). */
#include "vigil-window-private.h"

#define AUTOSAVE_DELAY_MS 1500

static VigilSession *capture(VigilWindow *self) {
  VigilSession *s = vigil_session_new();
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->files));
  for (guint i = 0; i < n; i++) {
    g_autoptr(GFile) file = g_list_model_get_item(G_LIST_MODEL(self->files), i);
    char *path = g_file_get_path(file);
    if (path)
      g_ptr_array_add(s->open_paths, path);
  }
  /* The analysis settings and references, from the model (the panel keeps it current). */
  vigil_analysis_session_save_to(self->analysis, s);
  if (self->series) {
    s->series_uid = g_strdup(self->series->uid);
    s->slice = vigil_slice_view_get_slice(self->slice_view);
    s->zoom = vigil_slice_view_get_zoom(self->slice_view);
    vigil_slice_view_get_window(self->slice_view, &s->window_center, &s->window_width);
    s->has_window = TRUE;
  }
  return s;
}

static gboolean autosave(gpointer data) {
  VigilWindow *self = data;
  self->autosave_source = 0;
  if (self->pending || g_list_model_get_n_items(G_LIST_MODEL(self->files)) == 0)
    return G_SOURCE_REMOVE; /* nothing yet, or still restoring: keep the last autosave */
  g_autoptr(VigilSession) s = capture(self);
  g_autofree char *path = vigil_session_autosave_path();
  g_autoptr(GError) error = NULL;
  if (!vigil_session_save(s, path, &error))
    g_warning("autosave failed: %s", error->message);
  return G_SOURCE_REMOVE;
}

void _vigil_window_session_changed(VigilWindow *self) {
  if (!self->files || self->autosave_source)
    return;
  self->autosave_source = g_timeout_add(AUTOSAVE_DELAY_MS, autosave, self);
}

static void restore(VigilWindow *self, VigilSession *session) {
  g_clear_pointer(&self->pending, vigil_session_free);
  self->pending = session;
  self->pending_ref = 0;
  vigil_analysis_session_restore_from(self->analysis, session); /* the note, the marks */
  if (session->domain)
    vigil_analysis_panel_set_domain(self->analysis_panel, session->domain);
  else if (session->custom_class)
    vigil_analysis_panel_set_custom_class(self->analysis_panel, session->custom_class);
  vigil_analysis_panel_set_few_shot(self->analysis_panel,
                                    g_strcmp0(session->mode, "few-shot") == 0);
  _vigil_window_replace_files(self, (const char *const *)session->open_paths->pdata);
}

gboolean _vigil_window_session_open(VigilWindow *self, GFile *file) {
  g_autofree char *path = g_file_get_path(file);
  if (!path || !g_str_has_suffix(path, ".vigil"))
    return FALSE;
  g_autoptr(GError) error = NULL;
  VigilSession *session = vigil_session_load(path, &error);
  if (!session) {
    _vigil_window_toast(self, error->message);
    return TRUE; /* it was a session file, just not a good one */
  }
  /* replace_files wants a NULL-terminated list; the NULL sits past len. */
  g_ptr_array_add(session->open_paths, NULL);
  session->open_paths->len--;
  restore(self, session);
  return TRUE;
}

void _vigil_window_session_scanned(VigilWindow *self) {
  VigilSession *s = self->pending;
  if (!s)
    return;
  VigilSeries *series = s->series_uid ? vigil_scan_find_series(self->scan, s->series_uid) : NULL;
  if (series) {
    vigil_series_list_select(self->series_list, series);
    vigil_slice_view_set_slice(self->slice_view, s->slice);
    vigil_slice_view_set_zoom(self->slice_view, s->zoom);
    if (s->has_window)
      vigil_slice_view_set_window(self->slice_view, s->window_center, s->window_width);
  }
  _vigil_window_session_continue_references(self);
}

static void end_restore(VigilWindow *self) {
  vigil_reference_queue_set_quiet(self->references, FALSE);
  g_clear_pointer(&self->pending, vigil_session_free);
  _vigil_window_session_changed(self);
}

/* The references queue ran dry: a restore that queued its references is over. */
static void on_references_settled(VigilWindow *self) {
  if (self->pending && self->pending_ref > 0 && self->pending_ref >= self->pending->references->len)
    end_restore(self);
}

/* Queues the pending references once the scan and the model are there. */
void _vigil_window_session_continue_references(VigilWindow *self) {
  VigilSession *s = self->pending;
  if (!s || !self->scan || !_vigil_window_analysis_model_ready(self)) {
    if (s && s->references->len == 0 && self->scan)
      g_clear_pointer(&self->pending, vigil_session_free);
    return;
  }
  if (self->pending_ref > 0)
    return; /* queued already: on_references_settled ends the restore */
  vigil_reference_queue_set_quiet(self->references, TRUE); /* the session's, not news */
  gboolean queued = FALSE;
  for (; self->pending_ref < s->references->len; self->pending_ref++) {
    const VigilSliceRef *ref = g_ptr_array_index(s->references, self->pending_ref);
    VigilSeries *series = vigil_scan_find_series(self->scan, ref->series_uid);
    if (series && ref->slice < (int)series->slices->len) {
      VigilWindowLevel view; /* the shown series' slices in the window restored */
      if (series == self->series)
        vigil_slice_view_get_window(self->slice_view, &view.center, &view.width);
      vigil_reference_queue_add_series(self->references, ref->series_uid, ref->slice,
                                       series == self->series ? &view : NULL);
      queued = TRUE;
    } else if (!series && ref->path && *ref->path) { /* e.g. a file dropped on the strip */
      vigil_reference_queue_add_path(self->references, ref->path, ref->series_uid, ref->slice);
      queued = TRUE;
    } else {
      g_autofree char *msg =
          g_strdup_printf("Reference %s slice %d is no longer there", ref->path, ref->slice + 1);
      _vigil_window_toast(self, msg);
    }
  }
  if (!queued || !vigil_reference_queue_is_busy(self->references))
    end_restore(self); /* nothing queued, or all of it refused at once */
}

/* win.save-session(s) */
void _vigil_window_action_save_session(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  g_autoptr(VigilSession) s = capture(self);
  g_autoptr(GError) error = NULL;
  const char *path = g_variant_get_string(param, NULL);
  if (vigil_session_save(s, path, &error)) {
    g_autofree char *name = g_path_get_basename(path);
    g_autofree char *msg = g_strdup_printf("Session saved as %s", name);
    _vigil_window_toast(self, msg);
  } else {
    _vigil_window_toast(self, error->message);
  }
}

static void on_save_chosen(GtkNativeDialog *dialog, int response, gpointer user_data) {
  VigilWindow *self = user_data;
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = file ? g_file_get_path(file) : NULL;
    if (path && !g_str_has_suffix(path, ".vigil")) {
      char *with = g_strconcat(path, ".vigil", NULL);
      g_free(path);
      path = with;
    }
    if (path)
      g_action_group_activate_action(G_ACTION_GROUP(self), "save-session",
                                     g_variant_new_string(path));
  }
  g_object_unref(dialog);
}

void _vigil_window_action_save_dialog(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new(
      "Save Session", GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(chooser), "study.vigil");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(chooser), TRUE);
  g_signal_connect(chooser, "response", G_CALLBACK(on_save_chosen), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

/* win.restore-autosave: what the last run was doing. */
void _vigil_window_action_restore_autosave(GSimpleAction *action, GVariant *param,
                                           gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  g_autofree char *path = vigil_session_autosave_path();
  g_autoptr(GFile) file = g_file_new_for_path(path);
  _vigil_window_session_open(self, file);
}

static gboolean offer_autosave(gpointer data) {
  VigilWindow *self = data;
  g_autofree char *path = vigil_session_autosave_path();
  if (self->files && g_list_model_get_n_items(G_LIST_MODEL(self->files)) == 0 &&
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
  /* Every change of the references is worth keeping. */
  g_signal_connect_swapped(self->analysis, "references-changed",
                           G_CALLBACK(_vigil_window_session_changed), self);
  g_signal_connect_swapped(self->analysis, "report-changed",
                           G_CALLBACK(_vigil_window_session_changed), self);
  g_signal_connect_swapped(self->references, "batch-finished", G_CALLBACK(on_references_settled),
                           self);
  g_timeout_add_full(G_PRIORITY_DEFAULT, 500, offer_autosave, g_object_ref(self), g_object_unref);
}

void _vigil_window_session_dispose(VigilWindow *self) {
  if (self->autosave_source) {
    g_source_remove(self->autosave_source);
    autosave(self); /* write what is pending before the window goes */
  }
  g_clear_pointer(&self->pending, vigil_session_free);
}
