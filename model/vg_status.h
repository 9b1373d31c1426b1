/* Status codes and a per-thread error message for the engine (no GLib). */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_status {
  VG_OK = 0,
  VG_ERR_ARG,         /* a caller passed something invalid (shape, NULL, range) */
  VG_ERR_NOMEM,       /* an allocation failed or would be too large */
  VG_ERR_IO,          /* a file could not be opened, read or mapped */
  VG_ERR_FORMAT,      /* a file's content is malformed or not what was expected */
  VG_ERR_UNSUPPORTED, /* valid request that this backend or build cannot do */
  VG_ERR_DEVICE,      /* the compute device failed (lost, out of memory, ...) */
} vg_status;

/* Records a formatted message for the calling thread and returns `status`,
 * so errors read `return vg_fail(VG_ERR_ARG, "...", ...);`. */
vg_status vg_fail(vg_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The calling thread's last message ("" if none). Valid until the next vg_fail. */
const char *vg_last_error(void);

#ifdef __cplusplus
}
#endif
