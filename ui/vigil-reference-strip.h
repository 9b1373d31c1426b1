/* VigilReferenceStrip: the normal references of a VigilAnalysisSession as a
 * strip of thumbnails under the slice view, always in view. It observes the
 * model (references-changed) and emits what the user asks for:
 *   remove-reference (guint64 id)  a thumbnail's remove button
 *   dropped (const GValue *value)  something dropped on the strip (handled: TRUE) */
#pragma once

#include <gtk/gtk.h>

#include "vigil-analysis-session.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_REFERENCE_STRIP (vigil_reference_strip_get_type())
G_DECLARE_FINAL_TYPE(VigilReferenceStrip, vigil_reference_strip, VIGIL, REFERENCE_STRIP, GtkBox)

GtkWidget *vigil_reference_strip_new(void);
/* The model to show (a reference is kept). */
void vigil_reference_strip_set_session(VigilReferenceStrip *self, VigilAnalysisSession *session);
/* The picture for reference `id`: set before the model gains it, so the strip
 * shows it as soon as it appears (thumbnails are the UI's, not the model's). */
void vigil_reference_strip_set_thumbnail(VigilReferenceStrip *self, guint64 id,
                                         GdkPaintable *thumb);
/* What a drop may carry (e.g. files and the sidebar's series). */
void vigil_reference_strip_set_drop_types(VigilReferenceStrip *self, const GType *types, gsize n);
guint vigil_reference_strip_get_count(VigilReferenceStrip *self);

G_END_DECLS
