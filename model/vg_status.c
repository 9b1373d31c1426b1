#include "vg_status.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[1024];

const char *vg_status_name(vg_status status) {
  switch (status) {
  case VG_OK: return "ok";
  case VG_ERR_ARG: return "invalid argument";
  case VG_ERR_NOMEM: return "out of memory";
  case VG_ERR_IO: return "input/output error";
  case VG_ERR_FORMAT: return "malformed data";
  case VG_ERR_UNSUPPORTED: return "unsupported";
  case VG_ERR_DEVICE: return "compute device error";
  }
  return "unknown status";
}

vg_status vg_fail(vg_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

const char *vg_last_error(void) {
  return last_error;
}

void vg_clear_error(void) {
  last_error[0] = '\0';
}
