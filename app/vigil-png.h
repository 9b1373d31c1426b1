/* PNG files as VigilImage frames (libpng). */
#pragma once

#include <glib.h>

#include "vigil-image.h"

G_BEGIN_DECLS

/* Decodes a PNG. Gray (1..16 bits, with or without alpha) becomes a GRAY
 * frame holding the stored values unscaled (16-bit keeps 0..65535); palette,
 * RGB and RGBA become RGB frames in 0..255 (16-bit color is scaled to 8 bits).
 * Alpha (an alpha channel or tRNS) is composited on black: value * alpha / max,
 * so transparent pixels are black, as a scan viewer's background.
 * *bits (may be NULL) gets the stored sample depth (8 or 16 after expansion
 * of 1/2/4-bit gray). Sides above 65536 or more than 2^28 pixels are refused.
 * Errors: VIGIL_SCAN_ERROR_IO (cannot read), _FORMAT (not a PNG, corrupt),
 * _TRUNCATED (data ends early), _INVALID (sizes). */
VigilImage *vigil_png_load(const char *path, int *bits, GError **error);
VigilImage *vigil_png_load_from_memory(const guint8 *data, gsize size, int *bits, GError **error);

/* Writes 8-bit gray (channels 1) or RGB (3) pixels as a PNG. */
gboolean vigil_png_save_u8(const char *path, const guint8 *pixels, int width, int height,
                           int channels, GError **error);

G_END_DECLS
