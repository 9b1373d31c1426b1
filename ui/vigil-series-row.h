#pragma once

#include <adwaita.h>

#include "vigil-series-item.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_SERIES_ROW (vigil_series_row_get_type())
G_DECLARE_FINAL_TYPE(VigilSeriesRow, vigil_series_row, VIGIL, SERIES_ROW, AdwActionRow)

/* An empty sidebar row; the list's factory recycles it for one item after another. */
GtkWidget *vigil_series_row_new(void);
/* Shows `item` (NULL: none) and follows its changes and thumbnail. */
void vigil_series_row_set_item(VigilSeriesRow *self, VigilSeriesItem *item);
VigilSeriesItem *vigil_series_row_get_item(VigilSeriesRow *self);

G_END_DECLS
