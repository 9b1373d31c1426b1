/* VigilReferenceQueue: normal references on their way into the analysis
 * model, one at a time. A source is a series of the open scan or a file or
 * folder (opened on a worker, as scans are); its slice is encoded by the
 * analyzer into the bank, and the reference then joins the analysis model.
 * What a batch (everything queued until the queue runs dry, e.g. one drop)
 * added and refused is told once, in two sentences, when it is done.
 * Driven from one thread (the UI's). Signals:
 *   reference-ready (guint64 id, gpointer image, double center, double width)
 *       reference `id` is encoded and about to join the model; `image`
 *       (const VigilImage *) is its slice and center/width the window it is
 *       shown with, for a thumbnail
 *   batch-finished (const char *added, const char *failed)
 *       the queue ran dry; each message is NULL when there is nothing to say */
#pragma once

#include "vigil-analysis-session.h"
#include "vigil-analyzer.h"
#include "vigil-scan.h"
#include "vigil-window-level.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_REFERENCE_QUEUE (vigil_reference_queue_get_type())
G_DECLARE_FINAL_TYPE(VigilReferenceQueue, vigil_reference_queue, VIGIL, REFERENCE_QUEUE, GObject)

VigilReferenceQueue *vigil_reference_queue_new(VigilAnalyzer *analyzer,
                                               VigilAnalysisSession *session);
/* The open scan (borrowed; NULL when none) that series sources come from. */
void vigil_reference_queue_set_scan(VigilReferenceQueue *self, VigilScan *scan);
/* The window the model sees when the domain fixes it (CT presets); else
 * (fixed FALSE) the window each slice is shown with. */
void vigil_reference_queue_set_fixed_window(VigilReferenceQueue *self, gboolean fixed,
                                            double center, double width);
/* While quiet (restoring a session), additions are not announced; refusals are. */
void vigil_reference_queue_set_quiet(VigilReferenceQueue *self, gboolean quiet);

/* Slice `slice` (-1: the middle) of the open scan's series `series_uid`,
 * shown with `view` (NULL: the series' default window). */
void vigil_reference_queue_add_series(VigilReferenceQueue *self, const char *series_uid, int slice,
                                      const VigilWindowLevel *view);
/* A file or folder: its series `series_uid` (NULL: the first), slice `slice`
 * (-1: the middle), in its default window. */
void vigil_reference_queue_add_path(VigilReferenceQueue *self, const char *path,
                                    const char *series_uid, int slice);
gboolean vigil_reference_queue_is_busy(VigilReferenceQueue *self);
/* Drops what is queued and cancels what runs (no batch-finished follows). */
void vigil_reference_queue_cancel(VigilReferenceQueue *self);

G_END_DECLS
