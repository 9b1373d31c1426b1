#pragma once

#include <gtk/gtk.h>

#include "vigil-slice-view.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_CINE (vigil_cine_get_type())
G_DECLARE_FINAL_TYPE(VigilCine, vigil_cine, VIGIL, CINE, GObject)

/* Plays `view`'s slices in a loop at a frame rate, paced by the view's frame
 * clock (the view is not referenced; stop before it goes). */
VigilCine *vigil_cine_new(VigilSliceView *view);
/* Frames (slices) per second, 0.5 to 120. */
void vigil_cine_set_rate(VigilCine *self, double fps);
double vigil_cine_get_rate(VigilCine *self);
/* Property "playing". Starting with fewer than two slices does nothing. */
void vigil_cine_set_playing(VigilCine *self, gboolean playing);
gboolean vigil_cine_get_playing(VigilCine *self);
/* Since the last start (for benchmarks): slices shown, slices skipped because
 * a frame came late (or the rate is above the display's), seconds played. */
void vigil_cine_get_stats(VigilCine *self, guint *shown, guint *skipped, double *seconds);

G_END_DECLS
