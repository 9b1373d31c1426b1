#pragma once

#include <adwaita.h>

#include "vigil-application.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_WINDOW (vigil_window_get_type())
G_DECLARE_FINAL_TYPE(VigilWindow, vigil_window, VIGIL, WINDOW, AdwApplicationWindow)

VigilWindow *vigil_window_new(VigilApplication *app);
/* Sets the app's keyboard shortcuts, app and window actions alike (all in
 * vigil-window-actions.c; the help overlay lists them). */
void vigil_window_set_accels(GtkApplication *app);

/* Adds files (scans or folders) to the window; the viewer takes them from here. */
void vigil_window_open_files(VigilWindow *self, GFile **files, int n_files);

/* The files opened so far, as a GListModel of GFile. */
GListModel *vigil_window_get_files(VigilWindow *self);

/* The loaded model's files, SHA-256s and device, or NULL when none is loaded. */
char *vigil_window_dup_model_identity(VigilWindow *self); /* g_free it */

/* A short message to the user (a toast, also logged). */
void vigil_window_show_message(VigilWindow *self, const char *message);

G_END_DECLS
