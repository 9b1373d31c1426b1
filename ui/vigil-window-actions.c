/* Every action of VigilWindow and every keyboard shortcut of the app, in one
 * place (as GNOME Text Editor keeps its window actions). The handlers live in
 * the files that do the work (vigil-window-private.h lists them). Actions in
 * the window's action map are exported over D-Bus too, which is how the GUI
 * tests and scripts drive the app; ui/gtk/help-overlay.ui lists every
 * shortcut below (the `shortcuts` test checks). */
#include "vigil-window-private.h"

static const GActionEntry window_actions[] = {
    /* analysis (vigil-window-analysis.c) */
    {.name = "analyse-slice", .activate = _vigil_window_action_analyse_slice},
    {.name = "analyse-series", .activate = _vigil_window_action_analyse_series},
    {.name = "cancel-analysis", .activate = _vigil_window_action_cancel_analysis},
    {.name = "load-model", .activate = _vigil_window_action_load_model, .parameter_type = "(ss)"},
    {.name = "export-view", .activate = _vigil_window_action_export_view, .parameter_type = "s"},
    {.name = "export-dialog", .activate = _vigil_window_action_export_dialog},
    /* normal references and the view (vigil-window-references.c) */
    {.name = "add-reference", .activate = _vigil_window_action_add_reference},
    {.name = "add-reference-files",
     .activate = _vigil_window_action_add_reference_files,
     .parameter_type = "as"},
    {.name = "add-reference-series",
     .activate = _vigil_window_action_add_reference_series,
     .parameter_type = "(si)"},
    {.name = "remove-reference",
     .activate = _vigil_window_action_remove_reference,
     .parameter_type = "t"},
    {.name = "reset-view", .activate = _vigil_window_action_reset_view},
    /* reports (vigil-window-report.c) */
    {.name = "report-dialog", .activate = _vigil_window_action_report_dialog},
    {.name = "export-report",
     .activate = _vigil_window_action_export_report,
     .parameter_type = "s"},
    {.name = "send-report", .activate = _vigil_window_action_send_report},
    {.name = "mark-slice", .activate = _vigil_window_action_mark_slice},
    {.name = "set-note", .activate = _vigil_window_action_set_note, .parameter_type = "s"},
    /* sessions (vigil-window-session.c) */
    {.name = "save-session", .activate = _vigil_window_action_save_session, .parameter_type = "s"},
    {.name = "save-session-dialog", .activate = _vigil_window_action_save_dialog},
    {.name = "restore-autosave", .activate = _vigil_window_action_restore_autosave},
    /* viewing (vigil-window.c) */
    {.name = "window-preset",
     .activate = _vigil_window_action_window_preset,
     .parameter_type = "s"},
    {.name = "print-layout", .activate = _vigil_window_action_print_layout},
    /* the view's look and cine (vigil-window-view.c) */
    {.name = "rotate", .activate = _vigil_window_action_rotate, .parameter_type = "i"},
    {.name = "flip", .activate = _vigil_window_action_flip, .parameter_type = "s"},
    {.name = "invert", .state = "false", .change_state = _vigil_window_change_invert},
    {.name = "corner-text", .state = "true", .change_state = _vigil_window_change_corner_text},
    {.name = "cine", .state = "false", .change_state = _vigil_window_change_cine},
    {.name = "cine-rate",
     .parameter_type = "d",
     .state = "10.0",
     .change_state = _vigil_window_change_cine_rate},
    {.name = "print-annotations", .activate = _vigil_window_action_print_annotations},
    /* measurements and DICOM tags (vigil-window-measure.c) */
    {.name = "measure-tool",
     .parameter_type = "s",
     .state = "'none'",
     .change_state = _vigil_window_action_measure_tool},
    {.name = "add-measurement",
     .activate = _vigil_window_action_add_measurement,
     .parameter_type = "(sad)"},
    {.name = "delete-measurement",
     .activate = _vigil_window_action_delete_measurement,
     .parameter_type = "u"},
    {.name = "measure-region", .activate = _vigil_window_action_measure_region},
    {.name = "tag-browser", .activate = _vigil_window_action_tag_browser},
    {.name = "find-tag", .activate = _vigil_window_action_find_tag, .parameter_type = "s"},
    /* indexing (vigil-window-index.c): a readout of progress, never activated */
    {.name = "indexing", .state = "@a{sv} {}"},
};

/* Every shortcut; the slice view's own keys (slices, zoom, its menu) are the
 * widget's bindings (vigil-slice-view.c) and the help overlay lists them too. */
static const struct {
  const char *action;
  const char *accels[2];
} shortcuts[] = {
    {"win.open", {"<Primary>o", NULL}},
    {"app.preferences", {"<Primary>comma", NULL}},
    {"app.quit", {"<Primary>q", NULL}},
    {"win.analyse-slice", {"<Primary>Return", NULL}},
    {"win.add-reference", {"<Primary>r", NULL}},
    {"win.export-dialog", {"<Primary>e", NULL}},
    {"win.report-dialog", {"<Primary><Shift>e", NULL}},
    {"win.mark-slice", {"<Primary>m", NULL}},
    {"win.measure-tool::none", {"<Alt>n", NULL}},
    {"win.measure-tool::ruler", {"<Alt>d", NULL}},
    {"win.measure-tool::ellipse", {"<Alt>e", NULL}},
    {"win.measure-tool::freehand", {"<Alt>p", NULL}},
    {"win.measure-region", {"<Alt>h", NULL}},
    {"win.tag-browser", {"<Primary><Shift>i", NULL}},
};

void _vigil_window_actions_init(VigilWindow *self) {
  g_action_map_add_action_entries(G_ACTION_MAP(self), window_actions, G_N_ELEMENTS(window_actions),
                                  self);
  self->indexing_action =
      G_SIMPLE_ACTION(g_action_map_lookup_action(G_ACTION_MAP(self), "indexing"));
  g_simple_action_set_enabled(self->indexing_action, FALSE);
}

void _vigil_window_class_actions_init(GtkWidgetClass *widget_class) {
  gtk_widget_class_install_action(widget_class, "win.open", NULL, _vigil_window_open_dialog);
  gtk_widget_class_install_action(widget_class, "win.open-folder", NULL,
                                  _vigil_window_open_folder_dialog);
}

void vigil_window_set_accels(GtkApplication *app) {
  for (gsize i = 0; i < G_N_ELEMENTS(shortcuts); i++)
    gtk_application_set_accels_for_action(app, shortcuts[i].action, shortcuts[i].accels);
}
