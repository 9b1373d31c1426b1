/* JPEG files as VigilImage frames (libjpeg-turbo). */
#pragma once

#include <glib.h>

#include "vigil-image.h"

G_BEGIN_DECLS

/* Decodes a baseline or progressive JPEG: grayscale becomes a GRAY frame
 * (0..255), YCbCr/RGB an RGB frame (0..255). CMYK/YCCK are refused with
 * VIGIL_SCAN_ERROR_UNSUPPORTED. Sides above 65536 or more than 2^28 pixels are
 * refused (_INVALID); corrupt data is _FORMAT, data ending early _TRUNCATED,
 * an unreadable file _IO. libjpeg errors come back as GErrors (longjmp),
 * never exit(). */
VigilImage *vigil_jpeg_load(const char *path, GError **error);
VigilImage *vigil_jpeg_load_from_memory(const guint8 *data, gsize size, GError **error);

G_END_DECLS
