#include "vg_npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vg_npy assumes a little-endian host ('<f4' is read without swapping)"
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER 65536 /* numpy itself refuses headers over 10000 bytes by default */

/* A cursor over the header's Python dict literal. */
typedef struct cursor {
  const char *p, *end;
} cursor;

static void skip_space(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static int eat(cursor *c, char ch) {
  skip_space(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

/* A quoted string ('...' or "...") copied into buf; 0 on failure. */
static int parse_str(cursor *c, char *buf, size_t cap) {
  skip_space(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return 0;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (n + 1 >= cap)
      return 0;
    buf[n++] = *c->p++;
  }
  if (c->p >= c->end)
    return 0;
  c->p++;
  buf[n] = '\0';
  return 1;
}

static int parse_word(cursor *c, const char *word) {
  skip_space(c);
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
    return 0;
  c->p += n;
  return 1;
}

static vg_status parse_shape(cursor *c, vg_npy *out) {
  if (!eat(c, '('))
    return vg_fail(VG_ERR_FORMAT, "npy header: 'shape' is not a tuple");
  out->ndim = 0;
  while (!eat(c, ')')) {
    skip_space(c);
    int64_t v = 0;
    int digits = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      if (v > (INT64_MAX - 9) / 10)
        return vg_fail(VG_ERR_FORMAT, "npy header: a shape dimension is too large");
      v = v * 10 + (*c->p++ - '0');
      digits++;
    }
    if (!digits)
      return vg_fail(VG_ERR_FORMAT, "npy header: 'shape' holds something other than integers");
    if (out->ndim == VG_NPY_MAX_DIMS)
      return vg_fail(VG_ERR_FORMAT, "npy header: more than %d dimensions", VG_NPY_MAX_DIMS);
    out->shape[out->ndim++] = v;
    if (!eat(c, ',') && !(skip_space(c), c->p < c->end && *c->p == ')'))
      return vg_fail(VG_ERR_FORMAT, "npy header: 'shape' tuple is malformed");
  }
  return VG_OK;
}

/* Parses "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }". */
static vg_status parse_header(const char *text, size_t len, vg_npy *out) {
  cursor c = {text, text + len};
  int have_descr = 0, have_order = 0, have_shape = 0;
  if (!eat(&c, '{'))
    return vg_fail(VG_ERR_FORMAT, "npy header is not a dict");
  while (!eat(&c, '}')) {
    char key[32], val[32];
    if (!parse_str(&c, key, sizeof key) || !eat(&c, ':'))
      return vg_fail(VG_ERR_FORMAT, "npy header: malformed key");
    if (strcmp(key, "descr") == 0) {
      if (!parse_str(&c, val, sizeof val))
        return vg_fail(VG_ERR_FORMAT, "npy header: 'descr' is not a string");
      if (strcmp(val, "<f4") != 0)
        return vg_fail(VG_ERR_FORMAT, "npy dtype '%s' is not supported (only float32 '<f4')", val);
      have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (parse_word(&c, "True"))
        return vg_fail(VG_ERR_FORMAT, "npy array is in Fortran order (only C order is supported)");
      if (!parse_word(&c, "False"))
        return vg_fail(VG_ERR_FORMAT, "npy header: 'fortran_order' is not True/False");
      have_order = 1;
    } else if (strcmp(key, "shape") == 0) {
      vg_status st = parse_shape(&c, out);
      if (st != VG_OK)
        return st;
      have_shape = 1;
    } else {
      return vg_fail(VG_ERR_FORMAT, "npy header: unknown key '%s'", key);
    }
    if (!eat(&c, ',') && !(skip_space(&c), c.p < c.end && *c.p == '}'))
      return vg_fail(VG_ERR_FORMAT, "npy header: missing ',' between entries");
  }
  if (!have_descr || !have_order || !have_shape)
    return vg_fail(VG_ERR_FORMAT, "npy header lacks '%s'",
                   !have_descr   ? "descr"
                   : !have_order ? "fortran_order"
                                 : "shape");
  if (out->ndim < 1)
    return vg_fail(VG_ERR_FORMAT, "npy array has 0 dimensions (1 to %d supported)",
                   VG_NPY_MAX_DIMS);
  return VG_OK;
}

/* Reads the preamble: returns the header's offset and length. */
static vg_status parse_preamble(const unsigned char *b, size_t len, size_t *hoff, size_t *hlen) {
  if (len < NPY_MAGIC_LEN + 2 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
    return vg_fail(VG_ERR_FORMAT, "not a .npy file (bad magic)");
  unsigned major = b[6];
  if (major == 1) {
    if (len < 10)
      return vg_fail(VG_ERR_FORMAT, "npy file truncated in its preamble");
    *hoff = 10;
    *hlen = (size_t)b[8] | (size_t)b[9] << 8;
  } else if (major == 2 || major == 3) {
    if (len < 12)
      return vg_fail(VG_ERR_FORMAT, "npy file truncated in its preamble");
    *hoff = 12;
    *hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
  } else {
    return vg_fail(VG_ERR_FORMAT, "npy format version %u is not supported", major);
  }
  if (*hlen > NPY_MAX_HEADER)
    return vg_fail(VG_ERR_FORMAT, "npy header of %zu bytes is too large", *hlen);
  if (*hlen > len - *hoff)
    return vg_fail(VG_ERR_FORMAT, "npy file truncated in its header");
  return VG_OK;
}

static vg_status npy_count(vg_npy *a) {
  size_t n = 1;
  for (int i = 0; i < a->ndim; i++) {
    if (a->shape[i] != 0 && n > SIZE_MAX / sizeof(float) / (size_t)a->shape[i])
      return vg_fail(VG_ERR_FORMAT, "npy shape is too large");
    n *= (size_t)a->shape[i];
  }
  a->count = n;
  return VG_OK;
}

vg_status vg_npy_parse(const void *buf, size_t len, vg_npy *out) {
  if (!buf || !out)
    return vg_fail(VG_ERR_ARG, "vg_npy_parse: NULL argument");
  memset(out, 0, sizeof *out);
  const unsigned char *b = buf;
  size_t hoff = 0, hlen = 0;
  vg_status st = parse_preamble(b, len, &hoff, &hlen);
  if (st == VG_OK)
    st = parse_header((const char *)b + hoff, hlen, out);
  if (st == VG_OK)
    st = npy_count(out);
  if (st != VG_OK) {
    memset(out, 0, sizeof *out);
    return st;
  }
  size_t have = len - hoff - hlen, need = out->count * sizeof(float);
  if (have != need) {
    st = vg_fail(VG_ERR_FORMAT, "npy data holds %zu bytes, shape needs %zu (%s)", have, need,
                 have < need ? "truncated" : "trailing bytes");
    memset(out, 0, sizeof *out);
    return st;
  }
  if (need) {
    out->data = malloc(need);
    if (!out->data) {
      memset(out, 0, sizeof *out);
      return vg_fail(VG_ERR_NOMEM, "cannot allocate %zu bytes for an npy array", need);
    }
    memcpy(out->data, b + hoff + hlen, need);
  }
  return VG_OK;
}

vg_status vg_npy_read(const char *path, vg_npy *out) {
  if (!path || !out)
    return vg_fail(VG_ERR_ARG, "vg_npy_read: NULL argument");
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f)
    return vg_fail(VG_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(f);
    return vg_fail(VG_ERR_IO, "'%s' is not a regular file", path);
  }
  /* The file size bounds the allocation, whatever the header claims. */
  size_t len = (size_t)sb.st_size;
  unsigned char *buf = malloc(len ? len : 1);
  if (!buf) {
    fclose(f);
    return vg_fail(VG_ERR_NOMEM, "cannot allocate %zu bytes to read '%s'", len, path);
  }
  size_t got = fread(buf, 1, len, f);
  fclose(f);
  vg_status st;
  if (got != len)
    st = vg_fail(VG_ERR_IO, "short read on '%s'", path);
  else if ((st = vg_npy_parse(buf, len, out)) != VG_OK)
    st = vg_fail(st, "'%s': %s", path, vg_last_error());
  free(buf);
  return st;
}

void vg_npy_free(vg_npy *a) {
  if (!a)
    return;
  free(a->data);
  memset(a, 0, sizeof *a);
}

static void format_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
  size_t n = (size_t)snprintf(buf, cap, "[");
  for (int i = 0; i < ndim && n < cap; i++)
    n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (n < cap)
    snprintf(buf + n, cap - n, "]");
}

vg_status vg_npy_expect(const vg_npy *a, const char *what, int ndim, const int64_t *shape) {
  if (!a || !shape || ndim < 1 || ndim > VG_NPY_MAX_DIMS)
    return vg_fail(VG_ERR_ARG, "vg_npy_expect: bad arguments");
  int same = a->ndim == ndim;
  for (int i = 0; same && i < ndim; i++)
    same = a->shape[i] == shape[i];
  if (same)
    return VG_OK;
  char got[128], want[128];
  format_shape(got, sizeof got, a->ndim, a->shape);
  format_shape(want, sizeof want, ndim, shape);
  return vg_fail(VG_ERR_FORMAT, "%s has shape %s, expected %s", what ? what : "array", got, want);
}

/* The header dict padded with spaces so data starts on a 64-byte boundary. */
static size_t format_header(char *h, size_t cap, int ndim, const int64_t *shape) {
  int n = snprintf(h, cap, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i < ndim; i++)
    n += snprintf(h + n, cap - (size_t)n, "%s%lld", i ? ", " : "", (long long)shape[i]);
  n += snprintf(h + n, cap - (size_t)n, ndim == 1 ? ",), }" : "), }");
  size_t total = 10 + (size_t)n + 1;
  size_t padded = (total + 63) & ~(size_t)63;
  memset(h + n, ' ', padded - total);
  h[padded - 10 - 1] = '\n';
  return padded - 10;
}

vg_status vg_npy_write(const char *path, int ndim, const int64_t *shape, const float *data) {
  if (!path || !shape || ndim < 1 || ndim > VG_NPY_MAX_DIMS)
    return vg_fail(VG_ERR_ARG, "vg_npy_write: need a path and 1 to %d dimensions", VG_NPY_MAX_DIMS);
  vg_npy tmp = {.ndim = ndim};
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return vg_fail(VG_ERR_ARG, "vg_npy_write: negative dimension %lld", (long long)shape[i]);
    tmp.shape[i] = shape[i];
  }
  if (npy_count(&tmp) != VG_OK)
    return vg_fail(VG_ERR_ARG, "vg_npy_write: shape is too large");
  if (tmp.count && !data)
    return vg_fail(VG_ERR_ARG, "vg_npy_write: NULL data");
  char header[256];
  size_t hlen = format_header(header, sizeof header, ndim, shape);
  unsigned char pre[10] = {0x93,
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           1,
                           0,
                           (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8)};
  FILE *f = fopen(path, "wb");
  if (!f)
    return vg_fail(VG_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
  int ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre && fwrite(header, 1, hlen, f) == hlen &&
           (tmp.count == 0 || fwrite(data, sizeof(float), tmp.count, f) == tmp.count);
  ok = (fclose(f) == 0) && ok;
  if (!ok)
    return vg_fail(VG_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
  return VG_OK;
}
