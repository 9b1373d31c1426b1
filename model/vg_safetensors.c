#include "vg_safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vg_json.h"

typedef struct mapping {
  void *addr;
  size_t len;
} mapping;

static void unmap(void *ctx) {
  mapping *m = ctx;
  munmap(m->addr, m->len);
  free(m);
}

/* The mapping is read only and private: its pages are the file's, so
 * dropping them loses nothing. */
static void evict(void *ctx) {
  mapping *m = ctx;
  madvise(m->addr, m->len, MADV_DONTNEED);
}

static int parse_dtype(const char *s, vg_wdtype *out) {
  if (strcmp(s, "F32") == 0)
    *out = VG_W_F32;
  else if (strcmp(s, "F16") == 0)
    *out = VG_W_F16;
  else if (strcmp(s, "BF16") == 0)
    *out = VG_W_BF16;
  else
    return 0;
  return 1;
}

static vg_status add_metadata(vg_weights *w, const vg_json *meta) {
  if (meta->type != VG_JSON_OBJECT)
    return vg_fail(VG_ERR_FORMAT, "safetensors: __metadata__ is not an object");
  for (size_t i = 0; i < meta->count; i++) {
    if (meta->items[i]->type != VG_JSON_STRING)
      return vg_fail(VG_ERR_FORMAT, "safetensors: metadata '%s' is not a string", meta->keys[i]);
    vg_status s = vg_weights_set_meta(w, meta->keys[i], meta->items[i]->string);
    if (s != VG_OK)
      return s;
  }
  return VG_OK;
}

/* Validates one header entry against the data section and adds the tensor. */
static vg_status add_tensor(vg_weights *w, const char *name, const vg_json *info,
                            const uint8_t *data, uint64_t data_size, int borrow) {
  const vg_json *dtype = vg_json_get(info, "dtype"), *shape = vg_json_get(info, "shape");
  const vg_json *offsets = vg_json_get(info, "data_offsets");
  if (!dtype || dtype->type != VG_JSON_STRING || !shape || shape->type != VG_JSON_ARRAY ||
      !offsets || offsets->type != VG_JSON_ARRAY || offsets->count != 2)
    return vg_fail(VG_ERR_FORMAT, "safetensors: tensor '%s' lacks dtype, shape or data_offsets",
                   name);
  vg_wdtype dt;
  if (!parse_dtype(dtype->string, &dt))
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "safetensors: tensor '%s' has dtype %s (only F32, F16 and BF16 are supported)",
                   name, dtype->string);
  if (shape->count > VG_WEIGHT_MAX_DIMS)
    return vg_fail(VG_ERR_UNSUPPORTED, "safetensors: tensor '%s' has %zu dimensions (at most %d)",
                   name, shape->count, VG_WEIGHT_MAX_DIMS);
  int64_t dims[VG_WEIGHT_MAX_DIMS];
  uint64_t numel = 1;
  for (size_t i = 0; i < shape->count; i++) {
    const vg_json *d = shape->items[i];
    if (d->type != VG_JSON_NUMBER || !d->is_integer || d->integer < 0 ||
        (d->integer > 0 && numel > (UINT64_MAX >> 2) / (uint64_t)d->integer))
      return vg_fail(VG_ERR_FORMAT, "safetensors: tensor '%s' has an invalid shape", name);
    dims[i] = d->integer;
    numel *= (uint64_t)d->integer;
  }
  const vg_json *b = offsets->items[0], *e = offsets->items[1];
  if (b->type != VG_JSON_NUMBER || e->type != VG_JSON_NUMBER || !b->is_integer || !e->is_integer ||
      b->integer < 0 || e->integer < b->integer || (uint64_t)e->integer > data_size)
    return vg_fail(VG_ERR_FORMAT,
                   "safetensors: tensor '%s' has data_offsets outside the file's %llu data bytes",
                   name, (unsigned long long)data_size);
  const uint64_t nbytes = (uint64_t)(e->integer - b->integer);
  if (nbytes != numel * vg_wdtype_size(dt))
    return vg_fail(
        VG_ERR_FORMAT, "safetensors: tensor '%s' has %llu bytes but its shape and dtype need %llu",
        name, (unsigned long long)nbytes, (unsigned long long)(numel * vg_wdtype_size(dt)));
  const uint8_t *ptr = data + b->integer;
  /* Borrow aligned data; copy misaligned data so readers may use typed loads. */
  if (borrow && ((uintptr_t)ptr % vg_wdtype_size(dt)) == 0)
    return vg_weights_add_borrowed(w, name, dt, (int)shape->count, dims, ptr);
  return vg_weights_add(w, name, dt, (int)shape->count, dims, ptr);
}

static vg_status parse(const uint8_t *bytes, size_t size, vg_weights *w, int borrow) {
  if (size < 8)
    return vg_fail(VG_ERR_FORMAT, "safetensors: file of %zu bytes is too short", size);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; i--)
    header_len = (header_len << 8) | bytes[i];
  if (header_len > VG_SAFETENSORS_MAX_HEADER)
    return vg_fail(VG_ERR_FORMAT, "safetensors: header of %llu bytes is larger than allowed",
                   (unsigned long long)header_len);
  if (header_len > size - 8)
    return vg_fail(VG_ERR_FORMAT,
                   "safetensors: header of %llu bytes runs past the end of the file (truncated?)",
                   (unsigned long long)header_len);
  vg_json *root = vg_json_parse((const char *)bytes + 8, (size_t)header_len);
  if (!root) {
    char why[512];
    snprintf(why, sizeof why, "%s", vg_last_error());
    return vg_fail(VG_ERR_FORMAT, "safetensors: bad header: %s", why);
  }
  vg_status s = VG_OK;
  if (root->type != VG_JSON_OBJECT)
    s = vg_fail(VG_ERR_FORMAT, "safetensors: header is not a JSON object");
  const uint8_t *data = bytes + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  for (size_t i = 0; s == VG_OK && i < root->count; i++) {
    if (strcmp(root->keys[i], "__metadata__") == 0)
      s = add_metadata(w, root->items[i]);
    else if (root->items[i]->type != VG_JSON_OBJECT)
      s = vg_fail(VG_ERR_FORMAT, "safetensors: entry '%s' is not an object", root->keys[i]);
    else
      s = add_tensor(w, root->keys[i], root->items[i], data, data_size, borrow);
  }
  vg_json_free(root);
  return s;
}

vg_status vg_safetensors_parse(const void *data, size_t size, vg_weights **out) {
  *out = NULL;
  vg_weights *w = vg_weights_new();
  if (!w)
    return VG_ERR_NOMEM;
  vg_status s = parse(data, size, w, 0);
  if (s != VG_OK) {
    vg_weights_free(w);
    return s;
  }
  *out = w;
  return VG_OK;
}

vg_status vg_safetensors_open(const char *path, vg_weights **out) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return vg_fail(VG_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return vg_fail(VG_ERR_IO, "'%s' is not a regular file", path);
  }
  if (st.st_size < 8) {
    close(fd);
    return vg_fail(VG_ERR_FORMAT, "'%s' is too short to be a safetensors file", path);
  }
  void *addr = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (addr == MAP_FAILED)
    return vg_fail(VG_ERR_IO, "cannot map '%s': %s", path, strerror(errno));
  mapping *m = malloc(sizeof *m);
  vg_weights *w = vg_weights_new();
  if (!m || !w) {
    munmap(addr, (size_t)st.st_size);
    free(m), vg_weights_free(w);
    return vg_fail(VG_ERR_NOMEM, "out of memory opening '%s'", path);
  }
  *m = (mapping){addr, (size_t)st.st_size};
  vg_status s = vg_weights_keep_mapped(w, unmap, evict, m);
  if (s == VG_OK)
    s = parse(addr, (size_t)st.st_size, w, 1);
  if (s != VG_OK) {
    char why[768];
    snprintf(why, sizeof why, "%s", vg_last_error());
    vg_weights_free(w);
    return vg_fail(s, "%s: %s", path, why);
  }
  *out = w;
  return VG_OK;
}

/* JSON string with the escapes the format needs. */
static void put_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

static char *build_header(const vg_weights *w, size_t *len) {
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  if (!f)
    return NULL;
  fputc('{', f);
  size_t nmeta = vg_weights_meta_count(w);
  if (nmeta) {
    fputs("\"__metadata__\":{", f);
    for (size_t i = 0; i < nmeta; i++) {
      const char *key = vg_weights_meta_key(w, i);
      fputs(i ? "," : "", f);
      put_json_string(f, key);
      fputc(':', f);
      put_json_string(f, vg_weights_meta(w, key));
    }
    fputc('}', f);
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < vg_weights_count(w); i++) {
    const vg_weight *t = vg_weights_at(w, i);
    fputs(i || nmeta ? "," : "", f);
    put_json_string(f, t->name);
    fprintf(f, ":{\"dtype\":\"%s\",\"shape\":[", vg_wdtype_name(t->dtype));
    for (int d = 0; d < t->ndim; d++)
      fprintf(f, "%s%lld", d ? "," : "", (long long)t->shape[d]);
    fprintf(f, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
            (unsigned long long)(offset + t->nbytes));
    offset += t->nbytes;
  }
  fputc('}', f);
  /* Pad with spaces so the data section starts 8-byte aligned. */
  long used = ftell(f);
  while ((8 + used) % 8 != 0) {
    fputc(' ', f);
    used++;
  }
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  *len = size;
  return buf;
}

vg_status vg_safetensors_write(const char *path, const vg_weights *w) {
  size_t header_len = 0;
  char *header = build_header(w, &header_len);
  if (!header)
    return vg_fail(VG_ERR_NOMEM, "out of memory building a safetensors header");
  size_t tmp_len = strlen(path) + 16;
  char *tmp = malloc(tmp_len);
  if (!tmp) {
    free(header);
    return vg_fail(VG_ERR_NOMEM, "out of memory");
  }
  snprintf(tmp, tmp_len, "%s.tmp%d", path, (int)getpid());
  FILE *f = fopen(tmp, "wb");
  vg_status s = VG_OK;
  if (!f) {
    s = vg_fail(VG_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
  } else {
    uint8_t len_le[8];
    for (int i = 0; i < 8; i++)
      len_le[i] = (uint8_t)((uint64_t)header_len >> (8 * i));
    int ok = fwrite(len_le, 1, 8, f) == 8 && fwrite(header, 1, header_len, f) == header_len;
    for (size_t i = 0; ok && i < vg_weights_count(w); i++) {
      const vg_weight *t = vg_weights_at(w, i);
      ok = fwrite(t->data, 1, t->nbytes, f) == t->nbytes;
    }
    ok = (fflush(f) == 0) & ok;
    ok = (fsync(fileno(f)) == 0) & ok;
    ok = (fclose(f) == 0) & ok;
    if (!ok || rename(tmp, path) != 0) {
      s = vg_fail(VG_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
      unlink(tmp);
    }
  }
  free(tmp), free(header);
  return s;
}
