#include "vg_zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

struct vg_zip {
  zip_t *za;
  size_t len; /* archive size: no entry can be larger */
};

struct vg_zip_writer {
  zip_t *za;
  uint64_t offset; /* where the next local header will go */
};

#define ALIGN 64 /* torch aligns record data to 64 bytes, which mmap loading likes */

static vg_status zip_error_fail(vg_status status, const char *what, zip_error_t *err) {
  vg_status s = vg_fail(status, "%s: %s", what, zip_error_strerror(err));
  zip_error_fini(err);
  return s;
}

vg_status vg_zip_open_mem(const void *data, size_t len, vg_zip **out) {
  *out = NULL;
  if (!data && len)
    return vg_fail(VG_ERR_ARG, "zip: NULL data");
  zip_error_t err;
  zip_error_init(&err);
  /* libzip refuses a NULL buffer even when empty. */
  static const char empty[1];
  zip_source_t *src = zip_source_buffer_create(len ? data : empty, len, 0, &err);
  if (!src)
    return zip_error_fail(VG_ERR_NOMEM, "zip: cannot wrap the archive", &err);
  zip_t *za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!za) {
    zip_source_free(src);
    return zip_error_fail(VG_ERR_FORMAT, "not a valid zip archive", &err);
  }
  zip_error_fini(&err);
  vg_zip *z = calloc(1, sizeof *z);
  if (!z) {
    zip_discard(za);
    return vg_fail(VG_ERR_NOMEM, "out of memory opening a zip archive");
  }
  z->za = za;
  z->len = len;
  *out = z;
  return VG_OK;
}

void vg_zip_close(vg_zip *z) {
  if (!z)
    return;
  zip_discard(z->za);
  free(z);
}

size_t vg_zip_count(const vg_zip *z) {
  zip_int64_t n = zip_get_num_entries(z->za, 0);
  return n > 0 ? (size_t)n : 0;
}

const char *vg_zip_name(const vg_zip *z, size_t index) {
  return index < vg_zip_count(z) ? zip_get_name(z->za, index, ZIP_FL_ENC_RAW) : NULL;
}

int vg_zip_has(const vg_zip *z, const char *name) {
  return zip_name_locate(z->za, name, ZIP_FL_ENC_RAW) >= 0;
}

static vg_status check_entry(const vg_zip *z, const char *name, zip_int64_t *index,
                             zip_stat_t *st) {
  *index = zip_name_locate(z->za, name, ZIP_FL_ENC_RAW);
  if (*index < 0)
    return vg_fail(VG_ERR_FORMAT, "zip entry '%s' is missing", name);
  if (zip_stat_index(z->za, (zip_uint64_t)*index, ZIP_FL_ENC_RAW, st) != 0)
    return vg_fail(VG_ERR_FORMAT, "zip entry '%s': %s", name, zip_strerror(z->za));
  const zip_uint64_t need = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
  if ((st->valid & need) != need)
    return vg_fail(VG_ERR_FORMAT, "zip entry '%s' has no size or method", name);
  if ((st->valid & ZIP_STAT_ENCRYPTION_METHOD) && st->encryption_method != ZIP_EM_NONE)
    return vg_fail(VG_ERR_UNSUPPORTED, "zip entry '%s' is encrypted", name);
  if (st->comp_method != ZIP_CM_STORE)
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "zip entry '%s' is compressed (method %u); checkpoints store entries "
                   "uncompressed",
                   name, (unsigned)st->comp_method);
  if (st->size != st->comp_size || st->size > z->len)
    return vg_fail(VG_ERR_FORMAT, "zip entry '%s' declares %llu bytes, more than the archive holds",
                   name, (unsigned long long)st->size);
  return VG_OK;
}

vg_status vg_zip_read(vg_zip *z, const char *name, void **data, size_t *len) {
  *data = NULL;
  *len = 0;
  zip_int64_t index;
  zip_stat_t st;
  vg_status s = check_entry(z, name, &index, &st);
  if (s)
    return s;
  char *buf = malloc(st.size ? (size_t)st.size : 1);
  if (!buf)
    return vg_fail(VG_ERR_NOMEM, "out of memory reading zip entry '%s'", name);
  zip_file_t *f = zip_fopen_index(z->za, (zip_uint64_t)index, 0);
  if (!f) {
    free(buf);
    return vg_fail(VG_ERR_FORMAT, "zip entry '%s': %s", name, zip_strerror(z->za));
  }
  zip_uint64_t got = 0;
  while (got < st.size) {
    zip_int64_t n = zip_fread(f, buf + got, st.size - got);
    if (n <= 0)
      break;
    got += (zip_uint64_t)n;
  }
  /* One more read reaches the end, where libzip checks the CRC-32. */
  char probe;
  zip_int64_t tail = got == st.size ? zip_fread(f, &probe, 1) : -1;
  if (got != st.size || tail != 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s", zip_error_strerror(zip_file_get_error(f)));
    zip_fclose(f);
    free(buf);
    return vg_fail(VG_ERR_FORMAT, "zip entry '%s' is damaged (read %llu of %llu bytes): %s", name,
                   (unsigned long long)got, (unsigned long long)st.size, msg);
  }
  zip_fclose(f);
  *data = buf;
  *len = (size_t)st.size;
  return VG_OK;
}

vg_status vg_zip_writer_open(const char *path, vg_zip_writer **out) {
  *out = NULL;
  int code = 0;
  zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!za) {
    zip_error_t err;
    zip_error_init_with_code(&err, code);
    char what[512];
    snprintf(what, sizeof what, "cannot create '%s'", path);
    return zip_error_fail(VG_ERR_IO, what, &err);
  }
  vg_zip_writer *zw = calloc(1, sizeof *zw);
  if (!zw) {
    zip_discard(za);
    return vg_fail(VG_ERR_NOMEM, "out of memory creating a zip archive");
  }
  zw->za = za;
  *out = zw;
  return VG_OK;
}

vg_status vg_zip_writer_add(vg_zip_writer *zw, const char *name, const void *data, size_t len) {
  static const char empty[1];
  zip_source_t *src = zip_source_buffer(zw->za, len ? data : empty, len, 0);
  if (!src)
    return vg_fail(VG_ERR_NOMEM, "zip: cannot add '%s': %s", name, zip_strerror(zw->za));
  zip_int64_t index = zip_file_add(zw->za, name, src, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(src);
    return vg_fail(VG_ERR_ARG, "zip: cannot add '%s': %s", name, zip_strerror(zw->za));
  }
  if (zip_set_file_compression(zw->za, (zip_uint64_t)index, ZIP_CM_STORE, 0) != 0)
    return vg_fail(VG_ERR_UNSUPPORTED, "zip: cannot store '%s': %s", name, zip_strerror(zw->za));
  /* Pad the local header with a "FB" extra field, as torch does, so the data
   * starts on a 64-byte boundary: libzip writes a 30-byte header, the name,
   * the extra fields, then the data, entries in order (test-pth checks). */
  static const char pad[ALIGN] = {0};
  const uint64_t head = zw->offset + 30 + strlen(name) + 4;
  const uint16_t npad = (uint16_t)((ALIGN - head % ALIGN) % ALIGN);
  if (zip_file_extra_field_set(zw->za, (zip_uint64_t)index, 0x4246, ZIP_EXTRA_FIELD_NEW,
                               (const zip_uint8_t *)pad, npad, ZIP_FL_LOCAL) != 0)
    return vg_fail(VG_ERR_UNSUPPORTED, "zip: cannot pad '%s': %s", name, zip_strerror(zw->za));
  zw->offset = head + npad + len;
  return VG_OK;
}

vg_status vg_zip_writer_close(vg_zip_writer *zw) {
  vg_status s = VG_OK;
  if (zip_close(zw->za) != 0) {
    s = vg_fail(VG_ERR_IO, "zip: cannot write the archive: %s", zip_strerror(zw->za));
    zip_discard(zw->za);
  }
  free(zw);
  return s;
}

void vg_zip_writer_discard(vg_zip_writer *zw) {
  if (!zw)
    return;
  zip_discard(zw->za);
  free(zw);
}
