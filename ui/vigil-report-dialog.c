/* VigilReportDialog: see vigil-report-dialog.h. */
#include "vigil-report-dialog.h"

#include "vigil-pacs-nodes.h"

#define TOP_K 3

enum { SLICES_CURRENT, SLICES_MARKED, SLICES_TOP };

struct _VigilReportDialog {
  AdwWindow parent_instance;
  AdwWindowTitle *title;
  GtkButton *export_button, *send_button;
  AdwComboRow *slices_row, *paper_row, *node_row;
  GSettings *settings; /* for the PACS nodes */
  gboolean filling_nodes;
  GtkStringList *slices_model;
  GtkSwitch *anonymise_switch;
  GtkTextView *note_view;
  GtkCheckButton *files_check, *dicom_check, *binary_check;
  GtkLabel *status_label;
  GtkButton *cancel_button;
  char *idle_note;
  VigilAnalysisSession *session;
  GArray *marked; /* what fill_request last handed out */
  gboolean busy, has_pacs;
};

G_DEFINE_FINAL_TYPE(VigilReportDialog, vigil_report_dialog, ADW_TYPE_WINDOW)

enum { SIGNAL_EXPORT, SIGNAL_SEND, SIGNAL_CANCEL, N_SIGNALS };
static guint signals[N_SIGNALS];

static void on_export_clicked(VigilReportDialog *self) {
  g_signal_emit(self, signals[SIGNAL_EXPORT], 0);
}

static void on_send_clicked(VigilReportDialog *self) {
  g_signal_emit(self, signals[SIGNAL_SEND], 0);
}

static void on_cancel_clicked(VigilReportDialog *self) {
  g_signal_emit(self, signals[SIGNAL_CANCEL], 0);
}

static void on_note_changed(VigilReportDialog *self) {
  GtkTextBuffer *buffer = gtk_text_view_get_buffer(self->note_view);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds(buffer, &start, &end);
  g_autofree char *text = gtk_text_buffer_get_text(buffer, &start, &end, FALSE);
  vigil_analysis_session_set_note(self->session, text);
}

/* The model changed: the note (if edited elsewhere) and the count of marks. */
static void on_report_changed(VigilReportDialog *self) {
  GtkTextBuffer *buffer = gtk_text_view_get_buffer(self->note_view);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds(buffer, &start, &end);
  g_autofree char *text = gtk_text_buffer_get_text(buffer, &start, &end, FALSE);
  const char *note = vigil_analysis_session_get_note(self->session);
  if (g_strcmp0(text, note ? note : "") != 0) {
    g_signal_handlers_block_by_func(buffer, on_note_changed, self);
    gtk_text_buffer_set_text(buffer, note ? note : "", -1);
    g_signal_handlers_unblock_by_func(buffer, on_note_changed, self);
  }
  g_autoptr(GArray) marked = vigil_analysis_session_marked_slices(self->session);
  g_autofree char *label = g_strdup_printf(
      g_dngettext(NULL, "Marked slices (%u marked)", "Marked slices (%u marked)", marked->len),
      marked->len);
  guint selected = adw_combo_row_get_selected(self->slices_row);
  const char *const items[] = {label, NULL};
  gtk_string_list_splice(self->slices_model, SLICES_MARKED, 1, items);
  adw_combo_row_set_selected(self->slices_row, selected);
}

static void update_buttons(VigilReportDialog *self) {
  gtk_widget_set_sensitive(GTK_WIDGET(self->export_button), !self->busy);
  gtk_widget_set_sensitive(GTK_WIDGET(self->send_button), !self->busy && self->has_pacs);
}

void vigil_report_dialog_set_busy(VigilReportDialog *self, const char *status) {
  self->busy = status != NULL;
  gtk_label_set_text(self->status_label, status ? status : self->idle_note ? self->idle_note : "");
  gtk_widget_set_visible(GTK_WIDGET(self->cancel_button), self->busy);
  update_buttons(self);
}

void vigil_report_dialog_set_note(VigilReportDialog *self, const char *text) {
  g_free(self->idle_note);
  self->idle_note = g_strdup(text);
  if (!self->busy)
    gtk_label_set_text(self->status_label, text ? text : "");
}

/* The nodes of the preferences in the "Send to" row, the chosen one selected. */
static void fill_nodes(VigilReportDialog *self) {
  g_autoptr(GPtrArray) nodes =
      self->settings ? vigil_pacs_nodes_read(self->settings) : g_ptr_array_new();
  g_autoptr(VigilPacsNode) chosen =
      self->settings ? vigil_pacs_nodes_chosen(self->settings, NULL) : NULL;
  g_autoptr(GtkStringList) names = gtk_string_list_new(NULL);
  guint selected = 0;
  for (guint i = 0; i < nodes->len; i++) {
    g_autofree char *label = vigil_pacs_node_describe(nodes->pdata[i]);
    gtk_string_list_append(names, label);
    if (chosen && g_strcmp0(((VigilPacsNode *)nodes->pdata[i])->name, chosen->name) == 0)
      selected = i;
  }
  self->filling_nodes = TRUE;
  adw_combo_row_set_model(self->node_row, G_LIST_MODEL(names));
  adw_combo_row_set_selected(self->node_row, selected);
  self->filling_nodes = FALSE;
  self->has_pacs = nodes->len > 0;
  gtk_widget_set_sensitive(GTK_WIDGET(self->node_row), self->has_pacs);
  g_autofree char *node = chosen ? vigil_pacs_node_describe(chosen) : NULL;
  g_autofree char *tip = node ? g_strdup_printf("Send the DICOM objects to %s", node)
                              : g_strdup("Add a PACS node in Preferences first");
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->send_button), tip);
  update_buttons(self);
}

static void on_node_chosen(VigilReportDialog *self) {
  if (self->filling_nodes || !self->settings)
    return;
  g_autoptr(GPtrArray) nodes = vigil_pacs_nodes_read(self->settings);
  guint i = adw_combo_row_get_selected(self->node_row);
  if (i < nodes->len)
    g_settings_set_string(self->settings, "pacs-node", ((VigilPacsNode *)nodes->pdata[i])->name);
}

void vigil_report_dialog_set_settings(VigilReportDialog *self, GSettings *settings) {
  if (self->settings != settings) {
    if (self->settings)
      g_signal_handlers_disconnect_by_data(self->settings, self);
    g_set_object(&self->settings, settings);
    if (settings) {
      g_signal_connect_swapped(settings, "changed::pacs-nodes", G_CALLBACK(fill_nodes), self);
      g_signal_connect_swapped(settings, "changed::pacs-node", G_CALLBACK(fill_nodes), self);
    }
  }
  fill_nodes(self);
}

void vigil_report_dialog_fill_request(VigilReportDialog *self, VigilReportRequest *request) {
  switch (adw_combo_row_get_selected(self->slices_row)) {
  case SLICES_MARKED:
    g_clear_pointer(&self->marked, g_array_unref);
    self->marked = vigil_analysis_session_marked_slices(self->session);
    request->selection = VIGIL_REPORT_MARKED;
    request->slices = (const int *)(void *)self->marked->data;
    request->n_slices = self->marked->len;
    break;
  case SLICES_TOP:
    request->selection = VIGIL_REPORT_TOP_K;
    request->top_k = TOP_K;
    break;
  default: request->selection = VIGIL_REPORT_CURRENT;
  }
  request->paper =
      adw_combo_row_get_selected(self->paper_row) == 1 ? VIGIL_PAPER_LETTER : VIGIL_PAPER_A4;
  request->anonymise = gtk_switch_get_active(self->anonymise_switch);
  request->note = vigil_analysis_session_get_note(self->session);
}

VigilReportFormats vigil_report_dialog_get_formats(VigilReportDialog *self) {
  VigilReportFormats formats = 0;
  if (gtk_check_button_get_active(self->files_check))
    formats |= VIGIL_REPORT_FORMAT_FILES;
  if (gtk_check_button_get_active(self->dicom_check))
    formats |= VIGIL_REPORT_FORMAT_DICOM;
  if (gtk_check_button_get_active(self->dicom_check) &&
      gtk_check_button_get_active(self->binary_check))
    formats |= VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY;
  return formats;
}

/* After Analyse Series the top slices are what a report is for; else the slice shown. */
static guint default_selection(VigilAnalysisSession *session) {
  g_autoptr(GPtrArray) results = vigil_analysis_session_current_results(session);
  return results->len > 1 ? SLICES_TOP : SLICES_CURRENT;
}

GtkWidget *vigil_report_dialog_new(GtkWindow *parent, VigilAnalysisSession *session) {
  VigilReportDialog *self = g_object_new(VIGIL_TYPE_REPORT_DIALOG, "transient-for", parent, NULL);
  self->session = g_object_ref(session);
  g_signal_connect_object(session, "report-changed", G_CALLBACK(on_report_changed), self,
                          G_CONNECT_SWAPPED);
  on_report_changed(self);
  adw_combo_row_set_selected(self->slices_row, default_selection(session));
  VigilSeries *series = vigil_analysis_session_get_series(session);
  if (series)
    adw_window_title_set_subtitle(self->title, series->description && *series->description
                                                   ? series->description
                                                   : series->modality);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer(self->note_view);
  g_signal_connect_swapped(buffer, "changed", G_CALLBACK(on_note_changed), self);
  g_signal_connect_swapped(self->node_row, "notify::selected", G_CALLBACK(on_node_chosen), self);
  fill_nodes(self);
  return GTK_WIDGET(self);
}

static void vigil_report_dialog_dispose(GObject *object) {
  VigilReportDialog *self = VIGIL_REPORT_DIALOG(object);
  g_clear_object(&self->session);
  if (self->settings)
    g_signal_handlers_disconnect_by_data(self->settings, self);
  g_clear_object(&self->settings);
  g_clear_pointer(&self->marked, g_array_unref);
  g_clear_pointer(&self->idle_note, g_free);
  gtk_widget_dispose_template(GTK_WIDGET(self), VIGIL_TYPE_REPORT_DIALOG);
  G_OBJECT_CLASS(vigil_report_dialog_parent_class)->dispose(object);
}

static void vigil_report_dialog_class_init(VigilReportDialogClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = vigil_report_dialog_dispose;
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/vigil/Vigil/vigil-report-dialog.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(widget_class, VigilReportDialog, name)
  CHILD(title), CHILD(export_button), CHILD(send_button), CHILD(slices_row), CHILD(paper_row);
  CHILD(node_row);
  CHILD(slices_model), CHILD(anonymise_switch), CHILD(note_view), CHILD(files_check);
  CHILD(dicom_check), CHILD(binary_check), CHILD(status_label), CHILD(cancel_button);
#undef CHILD
  gtk_widget_class_bind_template_callback(widget_class, on_export_clicked);
  gtk_widget_class_bind_template_callback(widget_class, on_send_clicked);
  gtk_widget_class_bind_template_callback(widget_class, on_cancel_clicked);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  signals[SIGNAL_EXPORT] = g_signal_new("export", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CANCEL] = g_signal_new("cancel", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_SEND] = g_signal_new("send", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                      NULL, NULL, G_TYPE_NONE, 0);
}

static void vigil_report_dialog_init(VigilReportDialog *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
}
