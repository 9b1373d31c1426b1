#pragma once

#include <adwaita.h>

#include "vigil-series.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_SERIES_ROW (vigil_series_row_get_type())
G_DECLARE_FINAL_TYPE(VigilSeriesRow, vigil_series_row, VIGIL, SERIES_ROW, AdwActionRow)

/* A sidebar row for `series` (borrowed: the row must not outlive the scan). */
GtkWidget *vigil_series_row_new(VigilStudy *study, VigilSeries *series);
VigilSeries *vigil_series_row_get_series(VigilSeriesRow *self);
/* The series gained slices: refresh the text. */
void vigil_series_row_update(VigilSeriesRow *self);
void vigil_series_row_set_thumbnail(VigilSeriesRow *self, GdkPaintable *thumbnail);
gboolean vigil_series_row_has_thumbnail(VigilSeriesRow *self);

G_END_DECLS
