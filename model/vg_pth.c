#include "vg_pth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vg_pickle.h"
#include "vg_zip.h"

#define MAX_PREFIX 256

/* Finds the single "<prefix>/data.pkl" entry torch writes first. */
static vg_status find_prefix(const vg_zip *z, char *prefix) {
  for (size_t i = 0; i < vg_zip_count(z); i++) {
    const char *name = vg_zip_name(z, i);
    const char *slash = name ? strchr(name, '/') : NULL;
    if (slash && !strcmp(slash, "/data.pkl") && (size_t)(slash - name) < MAX_PREFIX) {
      memcpy(prefix, name, (size_t)(slash - name));
      prefix[slash - name] = 0;
      return VG_OK;
    }
  }
  return vg_fail(VG_ERR_FORMAT, "no <archive>/data.pkl record: not a torch.save checkpoint");
}

static vg_status check_byteorder(vg_zip *z, const char *prefix) {
  char name[MAX_PREFIX + 16];
  snprintf(name, sizeof name, "%s/byteorder", prefix);
  if (!vg_zip_has(z, name))
    return VG_OK; /* torch < 2.1 wrote none: little-endian machines */
  void *data;
  size_t len;
  vg_status s = vg_zip_read(z, name, &data, &len);
  if (s)
    return s;
  int little = len == 6 && !memcmp(data, "little", 6);
  free(data);
  return little ? VG_OK
                : vg_fail(VG_ERR_UNSUPPORTED, "checkpoint was saved big-endian (byteorder record)");
}

typedef struct storage {
  const char *key;
  unsigned char *data;
  size_t len;
} storage;

typedef struct loader {
  vg_zip *z;
  const char *prefix;
  vg_weights *w;
  storage *cache;
  size_t ncache;
  size_t total, limit; /* storage bytes read so far, and the archive's size */
} loader;

/* Reads data/<key> once; later tensors viewing the same storage share it.
 * The buffer is handed to the table, which frees it. Distinct storages
 * occupy distinct bytes of the archive, so all of them together cannot
 * exceed its size: this stops directory entries that overlap one big record
 * from multiplying memory. */
static vg_status get_storage(loader *ld, const vg_pickle_tensor *t, const storage **out) {
  for (size_t i = 0; i < ld->ncache; i++)
    if (!strcmp(ld->cache[i].key, t->storage)) {
      *out = &ld->cache[i];
      return VG_OK;
    }
  char name[MAX_PREFIX + 1100];
  snprintf(name, sizeof name, "%s/data/%s", ld->prefix, t->storage);
  if (!vg_zip_has(ld->z, name))
    return vg_fail(VG_ERR_FORMAT, "tensor '%s': its storage record '%s' is missing", t->name, name);
  storage *s = &ld->cache[ld->ncache++];
  s->key = t->storage;
  void *data;
  vg_status st = vg_zip_read(ld->z, name, &data, &s->len);
  if (st)
    return st;
  s->data = data;
  st = vg_weights_keep(ld->w, free, data);
  if (st)
    return st;
  ld->total += s->len;
  if (ld->total > ld->limit)
    return vg_fail(VG_ERR_FORMAT,
                   "storage records add up to more bytes than the archive holds (overlapping "
                   "zip entries at '%s')",
                   name);
  *out = s;
  return VG_OK;
}

static vg_status add_tensors(loader *ld, const vg_pickle_tensor *t, size_t n) {
  ld->cache = calloc(n ? n : 1, sizeof *ld->cache);
  if (!ld->cache)
    return vg_fail(VG_ERR_NOMEM, "out of memory loading a checkpoint");
  vg_status s = VG_OK;
  for (size_t i = 0; i < n && !s; i++) {
    const storage *st = NULL;
    s = get_storage(ld, &t[i], &st);
    if (s)
      break;
    const size_t esize = vg_wdtype_size(t[i].dtype);
    if (st->len / esize != (size_t)t[i].storage_numel || st->len % esize)
      s = vg_fail(VG_ERR_FORMAT,
                  "tensor '%s': storage '%s' holds %zu bytes but declares %lld elements of %zu "
                  "bytes",
                  t[i].name, t[i].storage, st->len, (long long)t[i].storage_numel, esize);
    else
      s = vg_weights_add_borrowed(ld->w, t[i].name, t[i].dtype, t[i].ndim, t[i].shape,
                                  st->data + (size_t)t[i].offset * esize);
  }
  free(ld->cache);
  return s;
}

vg_status vg_pth_load_mem(const void *data, size_t len, vg_weights **out) {
  *out = NULL;
  vg_zip *z;
  vg_status s = vg_zip_open_mem(data, len, &z);
  if (s)
    return s;
  char prefix[MAX_PREFIX];
  void *pkl = NULL;
  size_t pkl_len = 0;
  vg_pickle_tensor *t = NULL;
  size_t n = 0;
  vg_weights *w = NULL;
  s = find_prefix(z, prefix);
  if (!s)
    s = check_byteorder(z, prefix);
  if (!s) {
    char name[MAX_PREFIX + 16];
    snprintf(name, sizeof name, "%s/data.pkl", prefix);
    s = vg_zip_read(z, name, &pkl, &pkl_len);
  }
  if (!s)
    s = vg_pickle_load_tensors(pkl, pkl_len, &t, &n);
  if (!s && !(w = vg_weights_new()))
    s = VG_ERR_NOMEM;
  if (!s) {
    loader ld = {.z = z, .prefix = prefix, .w = w, .limit = len};
    s = add_tensors(&ld, t, n);
  }
  free(pkl);
  vg_pickle_tensors_free(t, n);
  vg_zip_close(z);
  if (s) {
    vg_weights_free(w);
    return s;
  }
  *out = w;
  return VG_OK;
}

vg_status vg_pth_open(const char *path, vg_weights **out) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return vg_fail(VG_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return vg_fail(VG_ERR_IO, "'%s' is not a regular file", path);
  }
  size_t len = (size_t)sb.st_size;
  void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
  close(fd);
  if (map == MAP_FAILED)
    return vg_fail(VG_ERR_IO, "cannot map '%s': %s", path, strerror(errno));
  vg_status s = vg_pth_load_mem(map, len, out);
  if (map)
    munmap(map, len);
  if (s) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    return vg_fail(s, "'%s': %s", path, msg);
  }
  return VG_OK;
}

static const char *storage_type(vg_wdtype dtype) {
  switch (dtype) {
  case VG_W_F32: return "FloatStorage";
  case VG_W_F16: return "HalfStorage";
  case VG_W_BF16: return "BFloat16Storage";
  }
  return "?";
}

/* torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict()),
 * the storage being persistent id ('storage', torch.<T>Storage, key, 'cpu', numel). */
static void put_tensor(vg_pickle_buf *b, const vg_weight *t, size_t key) {
  char k[32];
  snprintf(k, sizeof k, "%zu", key);
  vg_pickle_put_global(b, "torch._utils", "_rebuild_tensor_v2");
  vg_pickle_put_op(b, '(');
  vg_pickle_put_op(b, '(');
  vg_pickle_put_str(b, "storage", 7);
  vg_pickle_put_global(b, "torch", storage_type(t->dtype));
  vg_pickle_put_str(b, k, strlen(k));
  vg_pickle_put_str(b, "cpu", 3);
  vg_pickle_put_int(b, vg_weight_numel(t));
  vg_pickle_put_op(b, 't');
  vg_pickle_put_op(b, 'Q'); /* BINPERSID */
  vg_pickle_put_int(b, 0);
  vg_pickle_put_op(b, '(');
  for (int i = 0; i < t->ndim; i++)
    vg_pickle_put_int(b, t->shape[i]);
  vg_pickle_put_op(b, 't');
  vg_pickle_put_op(b, '(');
  int64_t stride[VG_WEIGHT_MAX_DIMS], step = 1;
  for (int i = t->ndim; i-- > 0;) {
    stride[i] = step;
    step *= t->shape[i];
  }
  for (int i = 0; i < t->ndim; i++)
    vg_pickle_put_int(b, stride[i]);
  vg_pickle_put_op(b, 't');
  vg_pickle_put_op(b, 0x89); /* requires_grad = False */
  vg_pickle_put_global(b, "collections", "OrderedDict");
  vg_pickle_put_op(b, ')');
  vg_pickle_put_op(b, 'R');
  vg_pickle_put_op(b, 't');
  vg_pickle_put_op(b, 'R');
}

static void put_ordered_dict(vg_pickle_buf *b) {
  vg_pickle_put_global(b, "collections", "OrderedDict");
  vg_pickle_put_op(b, ')');
  vg_pickle_put_op(b, 'R');
}

static size_t group_len(const char *name) {
  const char *dot = strchr(name, '.');
  return dot ? (size_t)(dot - name) : 0;
}

/* Nested: one OrderedDict per distinct first name part, in order of first use. */
static vg_status put_nested(vg_pickle_buf *b, const vg_weights *w) {
  const size_t n = vg_weights_count(w);
  for (size_t i = 0; i < n; i++) {
    const char *name = vg_weights_at(w, i)->name;
    size_t g = group_len(name);
    if (g == 0 || name[g + 1] == 0)
      return vg_fail(VG_ERR_ARG, "tensor '%s' has no '<group>.<name>' form for a nested .pth",
                     name);
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) {
      const char *other = vg_weights_at(w, j)->name;
      seen = group_len(other) == g && !strncmp(other, name, g);
    }
    if (seen)
      continue;
    vg_pickle_put_str(b, name, g);
    put_ordered_dict(b);
    vg_pickle_put_op(b, '(');
    for (size_t j = i; j < n; j++) {
      const char *other = vg_weights_at(w, j)->name;
      if (group_len(other) == g && !strncmp(other, name, g)) {
        vg_pickle_put_str(b, other + g + 1, strlen(other + g + 1));
        put_tensor(b, vg_weights_at(w, j), j);
      }
    }
    vg_pickle_put_op(b, 'u');
  }
  return VG_OK;
}

static vg_status build_pickle(vg_pickle_buf *b, const vg_weights *w, vg_pth_layout layout) {
  vg_pickle_put_op(b, 0x80);
  vg_pickle_put_op(b, 2);
  vg_pickle_put_op(b, '}');
  vg_pickle_put_op(b, '(');
  if (layout == VG_PTH_NESTED) {
    vg_status s = put_nested(b, w);
    if (s)
      return s;
  } else {
    for (size_t i = 0; i < vg_weights_count(w); i++) {
      const vg_weight *t = vg_weights_at(w, i);
      vg_pickle_put_str(b, t->name, strlen(t->name));
      put_tensor(b, t, i);
    }
  }
  vg_pickle_put_op(b, 'u');
  vg_pickle_put_op(b, '.');
  return b->failed ? vg_fail(VG_ERR_NOMEM, "out of memory writing a checkpoint") : VG_OK;
}

vg_status vg_pth_write(const char *path, const vg_weights *w, vg_pth_layout layout) {
  if (!path || !w || (layout != VG_PTH_FLAT && layout != VG_PTH_NESTED))
    return vg_fail(VG_ERR_ARG, "vg_pth_write: bad argument");
  vg_pickle_buf b = {0};
  vg_status s = build_pickle(&b, w, layout);
  vg_zip_writer *zw = NULL;
  if (!s)
    s = vg_zip_writer_open(path, &zw);
  /* torch finds the archive name from the first entry, data.pkl. */
  if (!s)
    s = vg_zip_writer_add(zw, "archive/data.pkl", b.data, b.len);
  if (!s)
    s = vg_zip_writer_add(zw, "archive/byteorder", "little", 6);
  char names[64];
  for (size_t i = 0; !s && i < vg_weights_count(w); i++) {
    const vg_weight *t = vg_weights_at(w, i);
    snprintf(names, sizeof names, "archive/data/%zu", i);
    s = vg_zip_writer_add(zw, names, t->data, t->nbytes);
  }
  if (!s)
    s = vg_zip_writer_add(zw, "archive/version", "3\n", 2);
  if (s)
    vg_zip_writer_discard(zw);
  else
    s = vg_zip_writer_close(zw);
  vg_pickle_buf_free(&b);
  if (s) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", vg_last_error());
    return vg_fail(s, "cannot write '%s': %s", path, msg);
  }
  return VG_OK;
}
