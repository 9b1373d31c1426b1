/* Errors from reading scans: every loader reports through this domain. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VIGIL_SCAN_ERROR (vigil_scan_error_quark())
GQuark vigil_scan_error_quark(void);

typedef enum {
  VIGIL_SCAN_ERROR_IO,          /* cannot open or read the file */
  VIGIL_SCAN_ERROR_FORMAT,      /* not this format, or malformed */
  VIGIL_SCAN_ERROR_TRUNCATED,   /* ends early */
  VIGIL_SCAN_ERROR_UNSUPPORTED, /* valid but not supported (e.g. a transfer syntax) */
  VIGIL_SCAN_ERROR_INVALID,     /* impossible values: sizes, counts, geometry */
} VigilScanError;

/* Sets *error (VIGIL_SCAN_ERROR, `code`, the formatted message) and returns
 * FALSE, so loaders read `return vigil_scan_fail(error, ..., "...", ...);`. */
gboolean vigil_scan_fail(GError **error, int code, const char *format, ...) G_GNUC_PRINTF(3, 4);

G_END_DECLS
