/* Parts of the .vigil file kept in their own files (vigil-session.c calls them). */
#pragma once

#include <json-glib/json-glib.h>

#include "vigil-session.h"

/* vigil-session-display.c: the view's transforms per series and the corner
 * text switch, members of "view". Files without them read as the identity
 * and corner text shown. */
void _vigil_session_write_display(JsonBuilder *b, const VigilSession *s);
gboolean _vigil_session_read_display(JsonObject *view, VigilSession *s, GError **error);
