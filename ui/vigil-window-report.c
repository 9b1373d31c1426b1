/* VigilWindow's reports: the Report dialog, writing a report into a folder,
 * sending its DICOM objects to the PACS set in Preferences, marking slices
 * and the findings note. The report is gathered from the analysis model on
 * this thread and written (and sent) on a worker, one at a time, with
 * progress and Cancel in the dialog.
 *
 * Sending goes through an outbox ($XDG_CACHE_HOME/vigil/outbox): the objects
 * are written there and removed once the node has stored them all. When a
 * send fails they stay, and the next Send to PACS sends the same objects
 * again (same UIDs, so a node that stored some of them is not given
 * duplicates), even after a restart. Part of VigilWindow (see
 * vigil-window-private.h). */
#include <glib/gstdio.h>

#include "vigil-pacs-nodes.h"
#include "vigil-job.h"
#include "vigil-file-dialog.h"
#include "vigil-window-private.h"

typedef struct {
  VigilWindow *window; /* for progress; a reference */
  VigilReport *report; /* NULL when resending the outbox */
  GObject *scan_owner; /* the indexer: keeps the series alive for the writers */
  char *dir;
  VigilReportFormats formats;
  gboolean send;
  VigilPacsNode *node;
  char *name, *calling_aet;
  VigilPacsPeer peer;
  GPtrArray *written, *dicom;
} ReportWork;

static void report_work_free(gpointer data) {
  ReportWork *w = data;
  g_object_unref(w->window);
  g_clear_pointer(&w->report, vigil_report_free);
  g_clear_object(&w->scan_owner);
  vigil_pacs_node_free(w->node);
  g_free(w->dir), g_free(w->name), g_free(w->calling_aet);
  g_ptr_array_unref(w->written);
  g_ptr_array_unref(w->dicom);
  g_free(w);
}

static char *outbox_dir(void) {
  return g_build_filename(g_get_user_cache_dir(), "vigil", "outbox", NULL);
}

/* The DICOM objects waiting in the outbox from a failed send, by name. */
static GPtrArray *outbox_files(const char *dir) {
  GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)))
    if (g_str_has_suffix(name, ".dcm"))
      g_ptr_array_add(files, g_build_filename(dir, name, NULL));
  g_ptr_array_sort(files, (GCompareFunc)g_strcmp0);
  return files;
}

static void empty_outbox(const char *dir) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_unlink(path);
  }
}

typedef struct {
  VigilWindow *window;
  char *status;
} Progress;

static gboolean show_progress(gpointer data) {
  Progress *p = data;
  VigilWorkspace *ws = p->window->workspace;
  if (ws && vigil_workspace_is_reporting(ws) && p->window->report_dialog)
    vigil_report_dialog_set_busy(p->window->report_dialog, p->status);
  g_object_unref(p->window);
  g_free(p->status);
  g_free(p);
  return G_SOURCE_REMOVE;
}

/* On the worker: hands the dialog "Sending 3 of 7…". */
static void on_sent_one(guint index, guint n_files, const char *path, gboolean stored,
                        const char *status, gpointer user_data) {
  (void)path, (void)stored, (void)status;
  ReportWork *w = user_data;
  Progress *p = g_new0(Progress, 1);
  p->window = g_object_ref(w->window);
  p->status =
      g_strdup_printf("Sending to %s: %u of %u…", w->name, MIN(index + 2, n_files), n_files);
  g_idle_add(show_progress, p);
}

static gboolean write_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                                GError **error) {
  (void)job;
  ReportWork *w = data;
  if (w->report && !vigil_report_write_bundle(w->report, w->dir, w->formats, w->written, w->dicom,
                                              cancellable, error))
    return FALSE;
  if (!w->send)
    return TRUE;
  if (w->dicom->len == 0) {
    g_set_error_literal(error, VIGIL_REPORT_ERROR, VIGIL_REPORT_ERROR_NO_RESULTS,
                        "This report has no DICOM objects to send");
    return FALSE;
  }
  g_ptr_array_add(w->dicom, NULL);
  gboolean ok = vigil_pacs_send(&w->peer, (const char *const *)w->dicom->pdata, on_sent_one, w,
                                cancellable, error);
  g_ptr_array_remove_index(w->dicom, w->dicom->len - 1);
  if (ok)
    empty_outbox(w->dir); /* stored: nothing waits any more */
  return ok;
}

/* The PACS node Send uses, from the preferences, into w (FALSE with a message). */
static gboolean read_peer(VigilWindow *self, ReportWork *w, GError **error) {
  GSettings *settings = _vigil_window_settings(self);
  if (!settings) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No preferences to read");
    return FALSE;
  }
  w->node = vigil_pacs_nodes_chosen(settings, error);
  if (!w->node)
    return FALSE;
  w->calling_aet = g_settings_get_string(settings, "pacs-calling-aet");
  w->peer = vigil_pacs_node_peer(w->node, w->calling_aet);
  w->name = vigil_pacs_node_describe(w->node);
  return vigil_pacs_peer_validate(&w->peer, error);
}

/* The request: the dialog's choices when it is open, else the defaults; the
 * overlay as the panel shows it, every slice in the window shown. */
static VigilReport *gather(VigilWindow *self, VigilReportFormats *formats, GError **error) {
  VigilReportRequest request;
  vigil_report_request_init(&request);
  *formats = VIGIL_REPORT_FORMAT_FILES | VIGIL_REPORT_FORMAT_DICOM;
  if (self->report_dialog) {
    vigil_report_dialog_fill_request(self->report_dialog, &request);
    *formats = vigil_report_dialog_get_formats(self->report_dialog);
  } else {
    g_autoptr(GPtrArray) results =
        vigil_analysis_session_current_results(vigil_workspace_get_analysis(self->workspace));
    request.selection = results->len > 1 ? VIGIL_REPORT_TOP_K : VIGIL_REPORT_CURRENT;
    request.top_k = 3;
    request.note = vigil_analysis_session_get_note(vigil_workspace_get_analysis(self->workspace));
  }
  request.colormap = vigil_analysis_panel_get_colormap(self->analysis_panel);
  request.opacity = vigil_analysis_panel_get_opacity(self->analysis_panel);
  request.threshold = vigil_analysis_panel_get_threshold(self->analysis_panel);
  VigilSeries *series = vigil_workspace_get_series(self->workspace);
  guint n = series ? series->slices->len : 0;
  g_autofree VigilReportWindow *windows = g_new0(VigilReportWindow, MAX(n, 1));
  double center, width;
  vigil_slice_view_get_window(self->slice_view, &center, &width);
  for (guint i = 0; i < n; i++)
    windows[i] = (VigilReportWindow){(int)i, center, width};
  request.windows = windows;
  request.n_windows = n;
  g_autoptr(GPtrArray) measured = vigil_measurements_of(
      vigil_workspace_get_measurements(self->workspace), series ? series->uid : NULL, -1);
  request.measurements = measured;
  vigil_analysis_session_set_slice(vigil_workspace_get_analysis(self->workspace),
                                   vigil_slice_view_get_slice(self->slice_view));
  return vigil_report_new(vigil_workspace_get_analysis(self->workspace), &request, error);
}

/* What the dialog says when nothing runs: objects waiting from a failed send. */
static void update_dialog(VigilWindow *self) {
  if (!self->report_dialog)
    return;
  vigil_report_dialog_set_settings(self->report_dialog, _vigil_window_settings(self));
  g_autofree char *dir = outbox_dir();
  g_autoptr(GPtrArray) waiting = outbox_files(dir);
  g_autofree char *note =
      waiting->len ? g_strdup_printf("%u DICOM objects from a failed send are kept in %s; "
                                     "Send to PACS sends them again.",
                                     waiting->len, dir)
                   : NULL;
  vigil_report_dialog_set_note(self->report_dialog, note);
  vigil_report_dialog_set_busy(self->report_dialog, vigil_workspace_is_reporting(self->workspace)
                                                        ? "Writing the report…"
                                                        : NULL);
}

static void on_report_done(GObject *source, GAsyncResult *result, gpointer user_data) {
  VigilWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  ReportWork *w = g_object_get_data(source, "vigil-report-work");
  gboolean ok = vigil_job_run_finish(VIGIL_JOB(source), result, &error);
  if (self->workspace && vigil_workspace_end_report(self->workspace)) { /* else it closed */
    g_autofree char *msg = NULL;
    if (ok && w->send)
      msg = g_strdup_printf("Sent %u DICOM objects to %s", w->dicom->len, w->name);
    else if (ok && w->report && vigil_report_get_notes(w->report)->len)
      msg =
          g_strdup_printf("Report written to %s (%u files); left out: %s", w->dir, w->written->len,
                          (const char *)vigil_report_get_notes(w->report)->pdata[0]);
    else if (ok)
      msg = g_strdup_printf("Report written to %s (%u files)", w->dir, w->written->len);
    else if (w->send && w->dicom->len)
      msg = g_strdup_printf("%s. The %u DICOM objects are kept; Send to PACS sends them again.",
                            error->message, w->dicom->len);
    else
      msg = g_strdup(error->message);
    _vigil_window_toast(self, msg);
    update_dialog(self);
  }
  g_object_unref(self);
}

static ReportWork *report_work_new(VigilWindow *self) {
  ReportWork *w = g_new0(ReportWork, 1);
  w->window = g_object_ref(self);
  w->written = g_ptr_array_new_with_free_func(g_free);
  w->dicom = g_ptr_array_new_with_free_func(g_free);
  w->scan_owner = vigil_workspace_get_indexer(self->workspace)
                      ? g_object_ref(G_OBJECT(vigil_workspace_get_indexer(self->workspace)))
                      : NULL;
  return w;
}

/* The work for Send to PACS: the outbox's objects from a failed send, else
 * the report's DICOM objects written there first. */
static gboolean prepare_send(VigilWindow *self, ReportWork *w, GError **error) {
  if (!read_peer(self, w, error))
    return FALSE;
  w->send = TRUE;
  w->dir = outbox_dir();
  g_autoptr(GPtrArray) waiting = outbox_files(w->dir);
  if (waiting->len) {
    g_ptr_array_extend_and_steal(w->dicom, g_steal_pointer(&waiting));
    _vigil_window_toast(self, "Sending the DICOM objects kept from the failed send again");
    return TRUE;
  }
  VigilReportFormats formats;
  w->report = gather(self, &formats, error);
  if (!w->report)
    return FALSE;
  w->formats = (formats & VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY) | VIGIL_REPORT_FORMAT_DICOM;
  return TRUE;
}

static void run_report(VigilWindow *self, const char *dir, gboolean send) {
  if (vigil_workspace_is_reporting(self->workspace)) {
    _vigil_window_toast(self, "A report is being written: wait for it to finish");
    return;
  }
  ReportWork *w = report_work_new(self);
  g_autoptr(GError) error = NULL;
  if (send) {
    prepare_send(self, w, &error);
  } else {
    w->dir = g_strdup(dir);
    w->report = gather(self, &w->formats, &error);
  }
  if (error) {
    _vigil_window_toast(self, error->message);
    report_work_free(w);
    return;
  }
  GCancellable *cancellable = vigil_workspace_begin_report(self->workspace);
  if (self->report_dialog)
    vigil_report_dialog_set_busy(self->report_dialog,
                                 send ? "Preparing to send…" : "Writing the report…");
  g_autoptr(VigilJob) job = vigil_job_new("Report", write_in_thread, w, report_work_free);
  g_object_set_data(G_OBJECT(job), "vigil-report-work", w);
  vigil_job_run_async(job, cancellable, on_report_done, g_object_ref(self));
}

/* win.export-report(s): the report into this folder; what the dialog's
 * folder chooser calls once the user agreed to replace an earlier report. */
void _vigil_window_action_export_report(GSimpleAction *action, GVariant *param,
                                        gpointer user_data) {
  (void)action;
  run_report(VIGIL_WINDOW(user_data), g_variant_get_string(param, NULL), FALSE);
}

/* win.send-report: its DICOM objects to the PACS of the preferences. */
void _vigil_window_action_send_report(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  run_report(VIGIL_WINDOW(user_data), NULL, TRUE);
}

/* win.mark-slice: the shown slice in (or out of) the report's marked slices. */
void _vigil_window_action_mark_slice(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  if (!vigil_workspace_get_series(self->workspace)) {
    _vigil_window_toast(self, "Open a scan first");
    return;
  }
  int slice = vigil_slice_view_get_slice(self->slice_view);
  vigil_analysis_session_set_series(vigil_workspace_get_analysis(self->workspace),
                                    vigil_workspace_get_series(self->workspace));
  gboolean marked =
      !vigil_analysis_session_is_marked(vigil_workspace_get_analysis(self->workspace), slice);
  vigil_analysis_session_set_marked(vigil_workspace_get_analysis(self->workspace), slice, marked);
  g_autoptr(GArray) all =
      vigil_analysis_session_marked_slices(vigil_workspace_get_analysis(self->workspace));
  g_autofree char *msg = g_strdup_printf("Slice %d %s the report (%u marked)", slice + 1,
                                         marked ? "marked for" : "taken out of", all->len);
  _vigil_window_toast(self, msg);
}

/* win.set-note(s): the findings note (the dialog edits it too). */
void _vigil_window_action_set_note(GSimpleAction *action, GVariant *param, gpointer user_data) {
  (void)action;
  vigil_analysis_session_set_note(vigil_workspace_get_analysis(VIGIL_WINDOW(user_data)->workspace),
                                  g_variant_get_string(param, NULL));
}

/* ---- the dialog ------------------------------------------------------------ */

/* A report already in `dir` (one of the names the bundle writes)? */
static gboolean holds_report(const char *dir) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)))
    if (g_str_has_prefix(name, "report.") || g_str_equal(name, "report-pdf.dcm") ||
        (g_str_has_prefix(name, "slice-") && g_str_has_suffix(name, ".dcm")))
      return TRUE;
  return FALSE;
}

/* The "response" of an AdwAlertDialog or an AdwMessageDialog. */
static void on_replace_response(GObject *dialog, const char *response, gpointer user_data) {
  VigilWindow *self = user_data;
  const char *dir = g_object_get_data(G_OBJECT(dialog), "vigil-dir");
  if (g_str_equal(response, "replace"))
    g_action_group_activate_action(G_ACTION_GROUP(self), "export-report",
                                   g_variant_new_string(dir));
}

/* The app never overwrites without asking. */
static void export_to(VigilWindow *self, const char *dir) {
  if (!holds_report(dir)) {
    g_action_group_activate_action(G_ACTION_GROUP(self), "export-report",
                                   g_variant_new_string(dir));
    return;
  }
  GtkWindow *parent = self->report_dialog ? GTK_WINDOW(self->report_dialog) : GTK_WINDOW(self);
  g_autofree char *body = g_strdup_printf("%s already holds a Vigil report. Its files are "
                                          "replaced by this one.",
                                          dir);
  /* AdwAlertDialog from libadwaita 1.5 on (1.6 deprecates AdwMessageDialog). */
#if ADW_CHECK_VERSION(1, 5, 0)
  AdwAlertDialog *ask = ADW_ALERT_DIALOG(adw_alert_dialog_new("Replace the Report?", body));
  adw_alert_dialog_add_responses(ask, "cancel", "_Cancel", "replace", "_Replace", NULL);
  adw_alert_dialog_set_response_appearance(ask, "replace", ADW_RESPONSE_DESTRUCTIVE);
  adw_alert_dialog_set_default_response(ask, "cancel");
#else
  AdwMessageDialog *ask =
      ADW_MESSAGE_DIALOG(adw_message_dialog_new(parent, "Replace the Report?", body));
  adw_message_dialog_add_responses(ask, "cancel", "_Cancel", "replace", "_Replace", NULL);
  adw_message_dialog_set_response_appearance(ask, "replace", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response(ask, "cancel");
#endif
  g_object_set_data_full(G_OBJECT(ask), "vigil-dir", g_strdup(dir), g_free);
  g_signal_connect(ask, "response", G_CALLBACK(on_replace_response), self);
#if ADW_CHECK_VERSION(1, 5, 0)
  adw_dialog_present(ADW_DIALOG(ask), GTK_WIDGET(parent));
#else
  gtk_window_present(GTK_WINDOW(ask));
#endif
}

static void on_folder_chosen(GListModel *files, gpointer user_data) {
  g_autofree char *path = vigil_file_dialog_first_path(files);
  if (path)
    export_to(user_data, path);
}

static void on_dialog_export(VigilReportDialog *dialog, VigilWindow *self) {
  const VigilFileDialog d = {
      VIGIL_FILE_SELECT_FOLDER, FALSE, "Export Report To", "_Export", NULL, NULL};
  vigil_file_dialog_show(GTK_WINDOW(dialog), &d, on_folder_chosen, self);
}

static void on_dialog_send(VigilReportDialog *dialog, VigilWindow *self) {
  (void)dialog;
  g_action_group_activate_action(G_ACTION_GROUP(self), "send-report", NULL);
}

static void on_dialog_cancel(VigilReportDialog *dialog, VigilWindow *self) {
  (void)dialog;
  vigil_workspace_cancel_report(self->workspace);
}

static void on_dialog_destroyed(VigilWindow *self) {
  self->report_dialog = NULL;
}

/* win.report-dialog: what goes into the report, and where. */
void _vigil_window_action_report_dialog(GSimpleAction *action, GVariant *param,
                                        gpointer user_data) {
  (void)action, (void)param;
  VigilWindow *self = VIGIL_WINDOW(user_data);
  if (!self->report_dialog) {
    vigil_analysis_session_set_series(vigil_workspace_get_analysis(self->workspace),
                                      vigil_workspace_get_series(self->workspace));
    self->report_dialog = VIGIL_REPORT_DIALOG(
        vigil_report_dialog_new(GTK_WINDOW(self), vigil_workspace_get_analysis(self->workspace)));
    g_signal_connect(self->report_dialog, "export", G_CALLBACK(on_dialog_export), self);
    g_signal_connect(self->report_dialog, "send", G_CALLBACK(on_dialog_send), self);
    g_signal_connect(self->report_dialog, "cancel", G_CALLBACK(on_dialog_cancel), self);
    g_signal_connect_swapped(self->report_dialog, "destroy", G_CALLBACK(on_dialog_destroyed), self);
  }
  update_dialog(self);
  gtk_window_present(GTK_WINDOW(self->report_dialog));
  g_message("report dialog shown");
}

void _vigil_window_report_dispose(VigilWindow *self) {
  if (self->workspace)
    vigil_workspace_cancel_report(self->workspace);
  if (self->report_dialog)
    gtk_window_destroy(GTK_WINDOW(self->report_dialog));
}
