/* VigilPrefetcher: prepares the slices next to the shown one on a worker, in
 * the direction of scrolling: decoded into the series' cache and windowed
 * into textures for the view, so scrolling neither decodes nor windows on the
 * UI thread. One job at a time; a new request replaces one still waiting. */
#pragma once

#include <gio/gio.h>

#include "vigil-series.h"
#include "vigil-slice-view.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_PREFETCHER (vigil_prefetcher_get_type())
G_DECLARE_FINAL_TYPE(VigilPrefetcher, vigil_prefetcher, VIGIL, PREFETCHER, GObject)

VigilPrefetcher *vigil_prefetcher_new(void);
/* Slice `index` of `series` is shown in `view` (with the slices as keys):
 * prepare up to `ahead` slices beyond it and a few behind, with the view's
 * current window. `owner` (may be NULL) keeps the series' scan alive meanwhile. */
void vigil_prefetcher_request(VigilPrefetcher *self, GObject *owner, VigilSeries *series, int index,
                              int ahead, VigilSliceView *view);
/* Drops waiting and late work: call before showing another series. */
void vigil_prefetcher_clear(VigilPrefetcher *self);

G_END_DECLS
