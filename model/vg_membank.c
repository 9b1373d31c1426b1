#include "vg_membank.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vg_score_backend.h"

#define NORM_EPS 1e-8f

struct vg_membank {
  vg_score_shape shape;
  size_t tokens; /* rows per reference and layer: 1 + G*G */
  size_t max_refs, count, cap;
  size_t block_rows;
  uint64_t next_id;
  uint64_t *ids;
  float *rows[2][VG_SCORE_MAX_LAYERS]; /* [head][layer]: cap * tokens rows of C */
  vg_score_bank *mirror;               /* the same rows on a backend, or NULL */
};

static size_t ref_floats(const vg_membank *b) {
  return b->tokens * (size_t)b->shape.channels;
}

vg_status vg_membank_new(const vg_score_shape *shape, size_t max_refs, vg_membank **out) {
  if (!out)
    return vg_fail(VG_ERR_ARG, "vg_membank_new: NULL output");
  *out = NULL;
  vg_status st = vg_score_shape_check(shape);
  if (st != VG_OK)
    return st;
  if (max_refs < 1)
    return vg_fail(VG_ERR_ARG, "memory bank: max_refs must be at least 1");
  size_t per_ref = 2 * (size_t)shape->layers * (size_t)vg_score_tokens(shape) *
                   (size_t)shape->channels * sizeof(float);
  if (max_refs > VG_MEMBANK_MAX_BYTES / per_ref)
    return vg_fail(VG_ERR_NOMEM,
                   "memory bank: %zu references of %zu bytes each exceed the %zu MiB limit "
                   "(at most %zu references)",
                   max_refs, per_ref, VG_MEMBANK_MAX_BYTES >> 20, VG_MEMBANK_MAX_BYTES / per_ref);
  vg_membank *b = calloc(1, sizeof *b);
  if (!b)
    return vg_fail(VG_ERR_NOMEM, "memory bank: out of memory");
  b->shape = *shape;
  b->tokens = (size_t)vg_score_tokens(shape);
  b->max_refs = max_refs;
  b->block_rows = 8192;
  b->next_id = 1;
  *out = b;
  return VG_OK;
}

void vg_membank_free(vg_membank *b) {
  if (!b)
    return;
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < b->shape.layers; l++)
      free(b->rows[h][l]);
  free(b->ids);
  vg_score_bank_free(b->mirror);
  free(b);
}

/* Grows every array to hold `cap` references; on failure keeps the old ones. */
static vg_status grow(vg_membank *b, size_t cap) {
  uint64_t *ids = realloc(b->ids, cap * sizeof *ids);
  if (!ids)
    return vg_fail(VG_ERR_NOMEM, "memory bank: cannot grow to %zu references", cap);
  b->ids = ids;
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < b->shape.layers; l++) {
      float *r = realloc(b->rows[h][l], cap * ref_floats(b) * sizeof(float));
      if (!r)
        return vg_fail(VG_ERR_NOMEM, "memory bank: cannot grow to %zu references", cap);
      b->rows[h][l] = r;
    }
  b->cap = cap;
  return VG_OK;
}

/* dst = src / max(|src|, eps) per row, as MVFA's cos_sim normalises. */
static void normalize_rows(const float *src, size_t rows, int C, float *dst) {
  for (size_t r = 0; r < rows; r++) {
    const float *s = src + r * C;
    double ss = 0;
    for (int c = 0; c < C; c++)
      ss += (double)s[c] * s[c];
    float n = fmaxf((float)sqrt(ss), NORM_EPS);
    for (int c = 0; c < C; c++)
      dst[r * C + c] = s[c] / n;
  }
}

static vg_status check_tokens(const vg_membank *b, const float *const *t, const char *what) {
  if (!t)
    return vg_fail(VG_ERR_ARG, "memory bank: %s tokens are NULL", what);
  for (int l = 0; l < b->shape.layers; l++)
    if (!t[l])
      return vg_fail(VG_ERR_ARG, "memory bank: %s tokens of layer %d are NULL", what, l);
  return VG_OK;
}

vg_status vg_membank_add(vg_membank *b, const float *const *seg, const float *const *det,
                         uint64_t *id) {
  if (!b)
    return vg_fail(VG_ERR_ARG, "memory bank is NULL");
  vg_status st = check_tokens(b, seg, "seg");
  if (st == VG_OK)
    st = check_tokens(b, det, "det");
  if (st != VG_OK)
    return st;
  if (b->count == b->max_refs)
    return vg_fail(VG_ERR_ARG, "memory bank is full (%zu references)", b->max_refs);
  if (b->count == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 4;
    st = grow(b, cap < b->max_refs ? cap : b->max_refs);
    if (st != VG_OK)
      return st;
  }
  size_t off = b->count * ref_floats(b);
  for (int l = 0; l < b->shape.layers; l++) {
    normalize_rows(seg[l], b->tokens, b->shape.channels, b->rows[VG_HEAD_SEG][l] + off);
    normalize_rows(det[l], b->tokens, b->shape.channels, b->rows[VG_HEAD_DET][l] + off);
  }
  if (b->mirror) { /* rows past count are not the bank's until count grows */
    const float *ms[VG_SCORE_MAX_LAYERS], *md[VG_SCORE_MAX_LAYERS];
    for (int l = 0; l < b->shape.layers; l++)
      ms[l] = b->rows[VG_HEAD_SEG][l] + off, md[l] = b->rows[VG_HEAD_DET][l] + off;
    st = vg_score_bank_append(b->mirror, ms, md);
    if (st != VG_OK)
      return st;
  }
  b->ids[b->count++] = b->next_id;
  if (id)
    *id = b->next_id;
  b->next_id++;
  return VG_OK;
}

vg_status vg_membank_remove(vg_membank *b, uint64_t id) {
  if (!b)
    return vg_fail(VG_ERR_ARG, "memory bank is NULL");
  size_t k = 0;
  while (k < b->count && b->ids[k] != id)
    k++;
  if (k == b->count)
    return vg_fail(VG_ERR_ARG, "memory bank has no reference with id %llu", (unsigned long long)id);
  if (b->mirror) {
    vg_status st = vg_score_bank_drop(b->mirror, k);
    if (st != VG_OK)
      return st;
  }
  size_t n = ref_floats(b), after = b->count - k - 1;
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < b->shape.layers; l++)
      memmove(b->rows[h][l] + k * n, b->rows[h][l] + (k + 1) * n, after * n * sizeof(float));
  memmove(b->ids + k, b->ids + k + 1, after * sizeof *b->ids);
  b->count--;
  return VG_OK;
}

size_t vg_membank_count(const vg_membank *b) {
  return b ? b->count : 0;
}

size_t vg_membank_bytes(const vg_membank *b) {
  return b ? b->count * ref_floats(b) * sizeof(float) * 2 * (size_t)b->shape.layers : 0;
}

const uint64_t *vg_membank_ids(const vg_membank *b) {
  return b ? b->ids : NULL;
}

vg_status vg_membank_mirror(vg_membank *b, vg_backend *be) {
  if (!b || !be)
    return vg_fail(VG_ERR_ARG, "memory bank mirror: NULL bank or backend");
  if (b->count > 0 || b->mirror)
    return vg_fail(VG_ERR_ARG, "memory bank mirror: the bank must be empty and not mirrored yet");
  return vg_score_bank_new(be, &b->shape, &b->mirror);
}

void vg_membank_unmirror(vg_membank *b) {
  if (!b)
    return;
  vg_score_bank_free(b->mirror);
  b->mirror = NULL;
}

const vg_score_bank *vg_membank_mirrored(const vg_membank *b) {
  return b ? b->mirror : NULL;
}

vg_status vg_membank_set_block_rows(vg_membank *b, size_t rows) {
  if (!b || rows < 1 || rows > ((size_t)1 << 20))
    return vg_fail(VG_ERR_ARG, "memory bank: block rows must be 1 to 1048576");
  b->block_rows = rows;
  return VG_OK;
}

/* dist[p] = min over bank rows of 1 - cos(q_p, row), for the P patch rows in qn. */
static void layer_distances(const vg_membank *b, const float *bank, const float *qn, size_t P,
                            float *sim, float *dist) {
  int C = b->shape.channels;
  size_t total = b->count * b->tokens;
  for (size_t p = 0; p < P; p++)
    dist[p] = INFINITY;
  for (size_t r0 = 0; r0 < total; r0 += b->block_rows) {
    size_t nb = total - r0 < b->block_rows ? total - r0 : b->block_rows;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)P, (int)nb, C, 1.0f, qn, C,
                bank + r0 * C, C, 0.0f, sim, (int)nb);
    for (size_t p = 0; p < P; p++) {
      const float *row = sim + p * nb;
      float d = dist[p];
      for (size_t j = 0; j < nb; j++) {
        float v = 1.0f - row[j]; /* MVFA's min of (1 - cos), not 1 - max: same rounding */
        d = v < d ? v : d;
      }
      dist[p] = d;
    }
  }
}

vg_status vg_membank_query(const vg_membank *b, vg_head head, const float *const *tokens,
                           float *layer_maps, float *map, float *mean) {
  if (!b || !map || (head != VG_HEAD_SEG && head != VG_HEAD_DET))
    return vg_fail(VG_ERR_ARG, "memory bank query: NULL bank or map, or unknown head");
  vg_status st = check_tokens(b, tokens, "query");
  if (st != VG_OK)
    return st;
  if (b->count == 0)
    return vg_fail(VG_ERR_ARG, "memory bank is empty: add a normal reference image first");
  int C = b->shape.channels, G = b->shape.grid, S = b->shape.side;
  size_t P = (size_t)G * G, SS = (size_t)S * S;
  size_t nb = b->count * b->tokens < b->block_rows ? b->count * b->tokens : b->block_rows;
  float *qn = malloc(sizeof(float) * (P * C + P * nb + P + SS));
  if (!qn)
    return vg_fail(VG_ERR_NOMEM, "memory bank query: out of memory");
  float *sim = qn + P * C, *dist = sim + P * nb, *up = dist + P;
  memset(map, 0, SS * sizeof(float));
  for (int l = 0; l < b->shape.layers && st == VG_OK; l++) {
    normalize_rows(tokens[l] + C, P, C, qn); /* skip the CLS row */
    layer_distances(b, b->rows[head][l], qn, P, sim, dist);
    st = vg_upsample_bilinear(dist, 1, G, G, up, S, S);
    for (size_t i = 0; st == VG_OK && i < SS; i++)
      map[i] += up[i];
    if (st == VG_OK && layer_maps)
      memcpy(layer_maps + l * SS, up, SS * sizeof(float));
  }
  if (st == VG_OK && mean) {
    double sum = 0;
    for (size_t i = 0; i < SS; i++)
      sum += map[i];
    *mean = (float)(sum / (double)SS);
  }
  free(qn);
  return st;
}
