/* VigilSeriesList: the sidebar's studies and series, a GtkListView over a
 * GListModel of VigilSeriesItem in scan order (studies, then their series).
 * It emits what the user does:
 *   series-selected (gpointer series)  a series was chosen (never NULL)
 *   thumbnail-ready                    an item got its thumbnail
 * and a row dragged out carries a VigilSeriesDrag (the reference strip takes it). */
#pragma once

#include <adwaita.h>

#include "vigil-series-item.h"

G_BEGIN_DECLS

/* What a series dragged from the sidebar carries: its UID and a slice
 * (-1: the one shown if it is the shown series, else its middle). */
typedef struct {
  char *series_uid;
  int slice;
} VigilSeriesDrag;
GType vigil_series_drag_get_type(void);

#define VIGIL_TYPE_SERIES_LIST (vigil_series_list_get_type())
G_DECLARE_FINAL_TYPE(VigilSeriesList, vigil_series_list, VIGIL, SERIES_LIST, AdwBin)

GtkWidget *vigil_series_list_new(void);
/* The items (VigilSeriesItem), in the order listed. */
GListModel *vigil_series_list_get_items(VigilSeriesList *self);
/* Forgets every item (the scan they borrow from is about to go). */
void vigil_series_list_clear(VigilSeriesList *self);
/* Lists `series` at `position`; returns its item (owned by the list). */
VigilSeriesItem *vigil_series_list_insert(VigilSeriesList *self, VigilStudy *study,
                                          VigilSeries *series, guint position);
/* The item of `series`, or NULL. */
VigilSeriesItem *vigil_series_list_find(VigilSeriesList *self, const VigilSeries *series);
/* Selects `series` (emits series-selected when it changes the selection). */
void vigil_series_list_select(VigilSeriesList *self, const VigilSeries *series);
/* Renders `item`'s thumbnail on a worker, once; `owner` keeps the scan alive meanwhile. */
void vigil_series_list_request_thumbnail(VigilSeriesList *self, GObject *owner,
                                         VigilSeriesItem *item);
guint vigil_series_list_count_thumbnails(VigilSeriesList *self);

G_END_DECLS
