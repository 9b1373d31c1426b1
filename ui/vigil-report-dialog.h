/* VigilReportDialog: what goes into a report and where it goes. It observes
 * the analysis model for the user's findings note (edited here, kept in the
 * model and so in the session) and the marked slices, and emits what the
 * user asks for; the window does the work:
 *   export ()  write the report (the window asks for a folder)
 *   send ()    send its DICOM objects to the PACS set in Preferences
 *   cancel ()  stop the report being written or sent */
#pragma once

#include <adwaita.h>

#include "vigil-analysis-session.h"
#include "vigil-report.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_REPORT_DIALOG (vigil_report_dialog_get_type())
G_DECLARE_FINAL_TYPE(VigilReportDialog, vigil_report_dialog, VIGIL, REPORT_DIALOG, AdwWindow)

GtkWidget *vigil_report_dialog_new(GtkWindow *parent, VigilAnalysisSession *session);
/* The slices, paper, anonymisation and note as chosen (overlay settings are
 * the caller's). request->slices points into the dialog: use it before the
 * dialog changes again. */
void vigil_report_dialog_fill_request(VigilReportDialog *self, VigilReportRequest *request);
VigilReportFormats vigil_report_dialog_get_formats(VigilReportDialog *self);
/* While a report is written or sent: the status shown, the buttons off and
 * Cancel on (NULL: idle). */
void vigil_report_dialog_set_busy(VigilReportDialog *self, const char *status);
/* The preferences: the dialog offers their PACS nodes (vigil-pacs-nodes.h)
 * and keeps the one chosen there (NULL: none, Send is off). */
void vigil_report_dialog_set_settings(VigilReportDialog *self, GSettings *settings);
/* A note under the buttons when nothing runs (e.g. objects waiting to be sent again). */
void vigil_report_dialog_set_note(VigilReportDialog *self, const char *text);

G_END_DECLS
