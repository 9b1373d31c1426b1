/* VigilMeasurementList: the side list of the shown series' measurements
 * ("Slice 12: Ruler: 42.10 mm (Pixel Spacing)"), with buttons to measure the
 * heatmap's region above threshold (win.measure-region) and to delete the
 * selected one (win.delete-measurement, as Delete on a row does).
 * Signals: slice-activated (int slice) a row was activated (go there);
 * selection-changed (guint id, 0: none). */
#pragma once

#include <gtk/gtk.h>

#include "vigil-measurements.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_MEASUREMENT_LIST (vigil_measurement_list_get_type())
G_DECLARE_FINAL_TYPE(VigilMeasurementList, vigil_measurement_list, VIGIL, MEASUREMENT_LIST, GtkBox)

/* Lists `measurements` (referenced) of the series `series_uid`. */
void vigil_measurement_list_set_model(VigilMeasurementList *self, VigilMeasurements *measurements);
void vigil_measurement_list_set_series(VigilMeasurementList *self, const char *series_uid);
/* The selected measurement's id, 0 for none. */
guint vigil_measurement_list_get_selected(VigilMeasurementList *self);

G_END_DECLS
