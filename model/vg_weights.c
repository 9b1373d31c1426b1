#include "vg_weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_backend.h"

typedef struct keeper {
  void (*release)(void *ctx);
  void (*evict)(void *ctx); /* NULL: nothing to drop */
  void *ctx;
} keeper;

struct vg_weights {
  vg_weight *items;
  void **owned; /* per item: copied data to free, or NULL when borrowed */
  size_t count, cap;
  char **meta; /* key, value, key, value, ... */
  size_t meta_count;
  keeper *keepers;
  size_t keeper_count;
};

size_t vg_wdtype_size(vg_wdtype dtype) {
  return dtype == VG_W_F32 ? 4 : 2;
}

const char *vg_wdtype_name(vg_wdtype dtype) {
  switch (dtype) {
  case VG_W_F32: return "F32";
  case VG_W_F16: return "F16";
  case VG_W_BF16: return "BF16";
  }
  return "?";
}

int64_t vg_weight_numel(const vg_weight *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++)
    n *= t->shape[i];
  return n;
}

vg_weights *vg_weights_new(void) {
  vg_weights *w = calloc(1, sizeof *w);
  if (!w)
    vg_fail(VG_ERR_NOMEM, "out of memory for a weights table");
  return w;
}

void vg_weights_free(vg_weights *w) {
  if (!w)
    return;
  for (size_t i = 0; i < w->count; i++) {
    free((char *)w->items[i].name);
    free(w->owned[i]);
  }
  for (size_t i = 0; i < 2 * w->meta_count; i++)
    free(w->meta[i]);
  for (size_t i = w->keeper_count; i-- > 0;)
    w->keepers[i].release(w->keepers[i].ctx);
  free(w->items), free(w->owned), free(w->meta), free(w->keepers);
  free(w);
}

const vg_weight *vg_weights_find(const vg_weights *w, const char *name) {
  for (size_t i = 0; w && name && i < w->count; i++)
    if (strcmp(w->items[i].name, name) == 0)
      return &w->items[i];
  return NULL;
}

size_t vg_weights_count(const vg_weights *w) {
  return w ? w->count : 0;
}

const vg_weight *vg_weights_at(const vg_weights *w, size_t index) {
  return w && index < w->count ? &w->items[index] : NULL;
}

static vg_status add(vg_weights *w, const char *name, vg_wdtype dtype, int ndim,
                     const int64_t *shape, const void *data, int copy) {
  if (!w || !name || !data)
    return vg_fail(VG_ERR_ARG, "weights: NULL argument adding a tensor");
  if (ndim < 0 || ndim > VG_WEIGHT_MAX_DIMS)
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' has %d dimensions (at most %d)", name, ndim,
                   VG_WEIGHT_MAX_DIMS);
  if (dtype != VG_W_F32 && dtype != VG_W_F16 && dtype != VG_W_BF16)
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' has an unknown dtype", name);
  int64_t numel = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0 || (shape[i] > 0 && numel > ((int64_t)1 << 40) / shape[i]))
      return vg_fail(VG_ERR_FORMAT, "tensor '%s' has an impossible shape", name);
    numel *= shape[i];
  }
  if (vg_weights_find(w, name))
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' appears twice", name);
  if (w->count == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 64;
    vg_weight *items = realloc(w->items, cap * sizeof *items);
    if (!items)
      return vg_fail(VG_ERR_NOMEM, "out of memory growing the weights table");
    w->items = items;
    void **owned = realloc(w->owned, cap * sizeof *owned);
    if (!owned)
      return vg_fail(VG_ERR_NOMEM, "out of memory growing the weights table");
    w->owned = owned;
    w->cap = cap;
  }
  vg_weight *t = &w->items[w->count];
  *t = (vg_weight){.dtype = dtype, .ndim = ndim, .nbytes = (size_t)numel * vg_wdtype_size(dtype)};
  memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
  t->name = strdup(name);
  void *owned = NULL;
  if (copy) {
    owned = malloc(t->nbytes ? t->nbytes : 1);
    if (owned)
      memcpy(owned, data, t->nbytes);
  }
  if (!t->name || (copy && !owned)) {
    free((char *)t->name), free(owned);
    return vg_fail(VG_ERR_NOMEM, "out of memory adding tensor '%s'", name);
  }
  t->data = copy ? owned : data;
  w->owned[w->count++] = owned;
  return VG_OK;
}

vg_status vg_weights_add(vg_weights *w, const char *name, vg_wdtype dtype, int ndim,
                         const int64_t *shape, const void *data) {
  return add(w, name, dtype, ndim, shape, data, 1);
}

vg_status vg_weights_add_borrowed(vg_weights *w, const char *name, vg_wdtype dtype, int ndim,
                                  const int64_t *shape, const void *data) {
  return add(w, name, dtype, ndim, shape, data, 0);
}

vg_status vg_weights_keep_mapped(vg_weights *w, void (*release)(void *ctx),
                                 void (*evict)(void *ctx), void *ctx) {
  keeper *k = realloc(w->keepers, (w->keeper_count + 1) * sizeof *k);
  if (!k) {
    release(ctx);
    return vg_fail(VG_ERR_NOMEM, "out of memory");
  }
  w->keepers = k;
  w->keepers[w->keeper_count++] = (keeper){release, evict, ctx};
  return VG_OK;
}

vg_status vg_weights_keep(vg_weights *w, void (*release)(void *ctx), void *ctx) {
  return vg_weights_keep_mapped(w, release, NULL, ctx);
}

void vg_weights_evict(const vg_weights *w) {
  for (size_t i = 0; w && i < w->keeper_count; i++)
    if (w->keepers[i].evict)
      w->keepers[i].evict(w->keepers[i].ctx);
}

vg_status vg_weights_set_meta(vg_weights *w, const char *key, const char *value) {
  for (size_t i = 0; i < w->meta_count; i++)
    if (strcmp(w->meta[2 * i], key) == 0) {
      char *v = strdup(value);
      if (!v)
        return vg_fail(VG_ERR_NOMEM, "out of memory");
      free(w->meta[2 * i + 1]);
      w->meta[2 * i + 1] = v;
      return VG_OK;
    }
  char **meta = realloc(w->meta, 2 * (w->meta_count + 1) * sizeof *meta);
  if (!meta)
    return vg_fail(VG_ERR_NOMEM, "out of memory");
  w->meta = meta;
  char *k = strdup(key), *v = strdup(value);
  if (!k || !v) {
    free(k), free(v);
    return vg_fail(VG_ERR_NOMEM, "out of memory");
  }
  w->meta[2 * w->meta_count] = k;
  w->meta[2 * w->meta_count + 1] = v;
  w->meta_count++;
  return VG_OK;
}

const char *vg_weights_meta(const vg_weights *w, const char *key) {
  for (size_t i = 0; w && i < w->meta_count; i++)
    if (strcmp(w->meta[2 * i], key) == 0)
      return w->meta[2 * i + 1];
  return NULL;
}

size_t vg_weights_meta_count(const vg_weights *w) {
  return w ? w->meta_count : 0;
}

const char *vg_weights_meta_key(const vg_weights *w, size_t index) {
  return w && index < w->meta_count ? w->meta[2 * index] : NULL;
}

static void shape_text(char *buf, size_t len, int ndim, const int64_t *shape) {
  size_t used = (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < ndim && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (used < len)
    snprintf(buf + used, len - used, "]");
}

vg_status vg_weight_expect(const vg_weights *w, const char *name, int ndim, const int64_t *shape,
                           const vg_weight **out) {
  const vg_weight *t = vg_weights_find(w, name);
  if (!t)
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' is missing", name);
  int same = t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++)
    same = t->shape[i] == shape[i];
  if (!same) {
    char got[96], want[96];
    shape_text(got, sizeof got, t->ndim, t->shape);
    shape_text(want, sizeof want, ndim, shape);
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' has shape %s, expected %s", name, got, want);
  }
  if (out)
    *out = t;
  return VG_OK;
}

void vg_weight_to_f32(const vg_weight *t, float *dst) {
  const size_t n = (size_t)vg_weight_numel(t);
  const uint16_t *h = t->data;
  switch (t->dtype) {
  case VG_W_F32: memcpy(dst, t->data, n * sizeof(float)); break;
  case VG_W_F16:
    for (size_t i = 0; i < n; i++)
      dst[i] = vg_f16_to_f32(h[i]);
    break;
  case VG_W_BF16:
    for (size_t i = 0; i < n; i++)
      dst[i] = vg_bf16_to_f32(h[i]);
    break;
  }
}
