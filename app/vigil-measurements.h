/* VigilMeasurements: the measurements of one window's scan, per series and
 * slice (app/vigil-measurement.h says what one is). The viewer draws and
 * lists them, the session file keeps them, reports print them.
 * Driven from one thread (the UI's). Signal: changed () after any change. */
#pragma once

#include <glib-object.h>

#include "vigil-measurement.h"
#include "vigil-session.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_MEASUREMENTS (vigil_measurements_get_type())
G_DECLARE_FINAL_TYPE(VigilMeasurements, vigil_measurements, VIGIL, MEASUREMENTS, GObject)

VigilMeasurements *vigil_measurements_new(void);

/* Adds `m` (taken) and gives it a new id, which it returns. */
guint vigil_measurements_add(VigilMeasurements *self, VigilMeasurement *m);
/* FALSE when there is no measurement `id`. */
gboolean vigil_measurements_remove(VigilMeasurements *self, guint id);
const VigilMeasurement *vigil_measurements_find(VigilMeasurements *self, guint id);
/* Every measurement of a series (slice -1) or of one of its slices, in the
 * order they were made: a new array of borrowed pointers. */
GPtrArray *vigil_measurements_of(VigilMeasurements *self, const char *series_uid, int slice);

/* Into and out of the session file (copies; restoring replaces all). */
void vigil_measurements_save_to(VigilMeasurements *self, VigilSession *session);
void vigil_measurements_restore_from(VigilMeasurements *self, const VigilSession *session);

G_END_DECLS
