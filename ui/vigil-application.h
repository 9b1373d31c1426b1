#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_APPLICATION (vigil_application_get_type())
G_DECLARE_FINAL_TYPE(VigilApplication, vigil_application, VIGIL, APPLICATION, AdwApplication)

VigilApplication *vigil_application_new(void);

/* The app's settings, or NULL when the schema is not installed (then nothing is remembered). */
GSettings *vigil_application_get_settings(VigilApplication *self);

/* The "Open Recent" items (app.open-recent), shared by every window. */
GMenu *vigil_application_get_recent_menu(VigilApplication *self);

/* Maps a "color-scheme" setting (default, light, dark) to libadwaita's. */
AdwColorScheme vigil_application_color_scheme(const char *setting);

G_END_DECLS
