/* VigilThumbnailer: small pictures of each series' middle slice, windowed
 * with the series' default window, rendered one at a time on a worker and
 * kept by slice (path and frame) for as long as the thumbnailer lives. */
#pragma once

#include "vigil-series-item.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_THUMBNAILER (vigil_thumbnailer_get_type())
G_DECLARE_FINAL_TYPE(VigilThumbnailer, vigil_thumbnailer, VIGIL, THUMBNAILER, GObject)

/* Signal thumbnail-ready (VigilSeriesItem *item): an item got its picture. */
VigilThumbnailer *vigil_thumbnailer_new(void);

/* Queues a thumbnail for `item`'s series. `owner` keeps the series' scan
 * alive while the worker reads it (e.g. the VigilIndexer that owns it). */
void vigil_thumbnailer_request(VigilThumbnailer *self, GObject *owner, VigilSeriesItem *item);
/* Forgets queued requests (opening something else); the cache stays. */
void vigil_thumbnailer_clear_queue(VigilThumbnailer *self);
guint vigil_thumbnailer_get_rendered(VigilThumbnailer *self); /* thumbnails set on items */

G_END_DECLS
