/* A small strict JSON reader for the headers of weight files (no GLib here).
 * Parses into a tree with bounded depth and size; strings are UTF-8. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vg_status.h"

typedef enum {
  VG_JSON_NULL,
  VG_JSON_BOOL,
  VG_JSON_NUMBER,
  VG_JSON_STRING,
  VG_JSON_ARRAY,
  VG_JSON_OBJECT
} vg_json_type;

typedef struct vg_json vg_json;
struct vg_json {
  vg_json_type type;
  double number;
  int boolean;
  int is_integer;  /* a number written without fraction or exponent */
  int64_t integer; /* its value when is_integer */
  char *string;    /* STRING value */
  char **keys;     /* OBJECT: keys[i] names items[i] */
  vg_json **items; /* ARRAY or OBJECT children */
  size_t count;
};

/* Parses exactly `len` bytes (trailing spaces allowed). NULL on error with the
 * reason, including the byte offset, in vg_last_error(). */
vg_json *vg_json_parse(const char *text, size_t len);
void vg_json_free(vg_json *json);
const vg_json *vg_json_get(const vg_json *object, const char *key);
