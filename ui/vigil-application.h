#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_APPLICATION (vigil_application_get_type())
G_DECLARE_FINAL_TYPE(VigilApplication, vigil_application, VIGIL, APPLICATION, AdwApplication)

VigilApplication *vigil_application_new(void);

/* The app's settings, or NULL when the schema is not installed (then nothing is remembered). */
GSettings *vigil_application_get_settings(VigilApplication *self);

G_END_DECLS
