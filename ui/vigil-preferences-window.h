#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_PREFERENCES_WINDOW (vigil_preferences_window_get_type())
G_DECLARE_FINAL_TYPE(VigilPreferencesWindow, vigil_preferences_window, VIGIL, PREFERENCES_WINDOW,
                     AdwPreferencesWindow)

/* Edits the model files and compute device stored in `settings`. */
GtkWidget *vigil_preferences_window_new(GtkWindow *parent, GSettings *settings);

G_END_DECLS
