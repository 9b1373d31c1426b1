/* VigilSeriesItem: one series of the open scan as an item of the sidebar's
 * list model: the study and series (borrowed from the scan, which outlives
 * the list), its thumbnail once rendered, and a "changed" signal when more
 * of its slices arrive while indexing. */
#pragma once

#include <gtk/gtk.h>

#include "vigil-series.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_SERIES_ITEM (vigil_series_item_get_type())
G_DECLARE_FINAL_TYPE(VigilSeriesItem, vigil_series_item, VIGIL, SERIES_ITEM, GObject)

VigilSeriesItem *vigil_series_item_new(VigilStudy *study, VigilSeries *series);
VigilStudy *vigil_series_item_get_study(VigilSeriesItem *self);
VigilSeries *vigil_series_item_get_series(VigilSeriesItem *self);
/* The "thumbnail" property: NULL until rendered. */
GdkPaintable *vigil_series_item_get_thumbnail(VigilSeriesItem *self);
void vigil_series_item_set_thumbnail(VigilSeriesItem *self, GdkPaintable *thumbnail);
/* The series gained slices: emits "changed" so rows refresh their text. */
void vigil_series_item_changed(VigilSeriesItem *self);

G_END_DECLS
