/* MVFA's scoring as backend ops. Per layer l and head h (seg, det):
 *   qn = l2_normalize(patch rows of tokens)                    P x C
 *   zero-shot: logits = text100 . qn^T (2 x P); the seg head upsamples both
 *     rows to S x S and takes softmax entry 1 per pixel, the det head takes
 *     it per patch; maps and per-layer means are summed over layers;
 *   few-shot: dist = min over bank rows of 1 - qn . row (1 x P), upsampled;
 *     summed over layers; the det head's map mean is the few-shot score.
 * Everything is recorded before the first download, so on Vulkan it is one
 * submission. */
#include "vg_score_backend.h"

#include <stdlib.h>
#include <string.h>

/* As vg_membank's cos_sim; the zero-shot host code divides by the bare norm,
 * which differs only for an all-zero token row (NaN there, 0.5 here). */
#define NORM_EPS 1e-8f

#define MAX_L VG_SCORE_MAX_LAYERS

#define TRY(call)                                                                                  \
  do {                                                                                             \
    vg_status s_ = (call);                                                                         \
    if (s_ != VG_OK)                                                                               \
      return s_;                                                                                   \
  } while (0)

/* A new tensor, or NULL with the backend's message and VG_ERR_NOMEM in *st. */
static vg_tensor *tensor(vg_backend *be, int64_t rows, int64_t cols, vg_status *st) {
  if (*st != VG_OK)
    return NULL;
  vg_tensor *t = vg_tensor_new(be, VG_F32, rows, cols);
  if (!t)
    *st = VG_ERR_NOMEM;
  return t;
}

struct vg_score_bank {
  vg_backend *be;
  vg_score_shape shape;
  int64_t tokens; /* rows per reference and layer */
  size_t count, cap;
  int broken;                /* a drop failed half way: rows are out of step */
  vg_tensor *rows[2][MAX_L]; /* [head][layer]: cap * tokens x C */
};

static void free_tensors(vg_tensor **t, size_t n) {
  for (size_t i = 0; i < n; i++)
    vg_tensor_free(t[i]), t[i] = NULL;
}

vg_status vg_score_bank_new(vg_backend *be, const vg_score_shape *shape, vg_score_bank **out) {
  if (!out)
    return vg_fail(VG_ERR_ARG, "vg_score_bank_new: NULL output");
  *out = NULL;
  if (!be)
    return vg_fail(VG_ERR_ARG, "device memory bank: no backend");
  vg_status st = vg_score_shape_check(shape);
  if (st != VG_OK)
    return st;
  vg_score_bank *b = calloc(1, sizeof *b);
  if (!b)
    return vg_fail(VG_ERR_NOMEM, "device memory bank: out of memory");
  *b = (vg_score_bank){.be = be, .shape = *shape, .tokens = vg_score_tokens(shape)};
  *out = b;
  return VG_OK;
}

void vg_score_bank_free(vg_score_bank *b) {
  if (!b)
    return;
  free_tensors(&b->rows[0][0], 2 * MAX_L);
  free(b);
}

size_t vg_score_bank_count(const vg_score_bank *b) {
  return b ? b->count : 0;
}

/* Moves every tensor to room for `cap` references, keeping the rows held. */
static vg_status grow(vg_score_bank *b, size_t cap) {
  vg_tensor *fresh[2][MAX_L] = {{0}};
  vg_status st = VG_OK;
  for (int h = 0; h < 2 && st == VG_OK; h++)
    for (int l = 0; l < b->shape.layers && st == VG_OK; l++) {
      fresh[h][l] = tensor(b->be, (int64_t)cap * b->tokens, b->shape.channels, &st);
      if (st == VG_OK && b->count)
        st = vg_copy_rows(fresh[h][l], 0, b->rows[h][l], 0, (int64_t)b->count * b->tokens);
    }
  if (st != VG_OK) {
    free_tensors(&fresh[0][0], 2 * MAX_L);
    return st;
  }
  free_tensors(&b->rows[0][0], 2 * MAX_L);
  memcpy(b->rows, fresh, sizeof fresh);
  b->cap = cap;
  return VG_OK;
}

vg_status vg_score_bank_append(vg_score_bank *b, const float *const *seg, const float *const *det) {
  if (!b || !seg || !det)
    return vg_fail(VG_ERR_ARG, "device memory bank: NULL bank or rows");
  const int L = b->shape.layers;
  for (int l = 0; l < L; l++)
    if (!seg[l] || !det[l])
      return vg_fail(VG_ERR_ARG, "device memory bank: rows of layer %d are NULL", l);
  if (b->count == b->cap)
    TRY(grow(b, b->cap ? 2 * b->cap : 4));
  /* One upload of all 2L blocks, then device copies into place. */
  const size_t block = (size_t)b->tokens * (size_t)b->shape.channels;
  vg_status st = VG_OK;
  vg_tensor *stage = tensor(b->be, 2 * L * b->tokens, b->shape.channels, &st);
  float *host = malloc(sizeof(float) * 2 * (size_t)L * block);
  if (st == VG_OK && !host)
    st = vg_fail(VG_ERR_NOMEM, "device memory bank: no memory to stage a reference");
  for (int h = 0; st == VG_OK && h < 2; h++)
    for (int l = 0; l < L; l++)
      memcpy(host + (size_t)(h * L + l) * block, h ? det[l] : seg[l], block * sizeof(float));
  if (st == VG_OK)
    st = vg_tensor_upload(stage, host);
  for (int h = 0; st == VG_OK && h < 2; h++)
    for (int l = 0; st == VG_OK && l < L; l++)
      st = vg_copy_rows(b->rows[h][l], (int64_t)b->count * b->tokens, stage,
                        (int64_t)(h * L + l) * b->tokens, b->tokens);
  vg_tensor_free(stage);
  free(host);
  if (st == VG_OK)
    b->count++;
  return st;
}

vg_status vg_score_bank_drop(vg_score_bank *b, size_t index) {
  if (!b || index >= b->count)
    return vg_fail(VG_ERR_ARG, "device memory bank: no reference at index %zu", index);
  const int64_t after = (int64_t)(b->count - index - 1) * b->tokens;
  vg_status st = VG_OK;
  for (int h = 0; after > 0 && h < 2 && st == VG_OK; h++)
    for (int l = 0; l < b->shape.layers && st == VG_OK; l++)
      st = vg_copy_rows(b->rows[h][l], (int64_t)index * b->tokens, b->rows[h][l],
                        (int64_t)(index + 1) * b->tokens, after);
  if (st != VG_OK) {
    b->broken = 1;
    return st;
  }
  b->count--;
  return VG_OK;
}

/* Rows of the maps tensor: the summed maps, then the zero- and few-shot
 * layer maps. */
enum { MAP_ZERO, MAP_FEW, MAP_FEW_DET, MAP_FIXED };
#define MAP_ZERO_LAYERS MAP_FIXED
#define MAP_FEW_LAYERS(L) (MAP_FIXED + (L))

struct vg_scorer {
  vg_backend *be;
  vg_score_shape shape;
  int has_text;
  vg_tensor *text;             /* 2 x C: 100 * text^T */
  vg_tensor *tokens[2][MAX_L]; /* [head][layer]: host queries are uploaded here */
  vg_tensor *qn[2][MAX_L];     /* P x C: normalised patch tokens */
  vg_tensor *logits[2][MAX_L]; /* 2 x P: zero-shot logits */
  vg_tensor *dist[2][MAX_L];   /* 1 x P: few-shot distances */
  vg_tensor *plane[3][MAX_L];  /* 1 x SS: a layer's zero, few seg and few det map */
  vg_tensor *up[MAX_L];        /* 2 x SS: upsampled seg logits */
  vg_tensor *probs[MAX_L];     /* 1 x P: zero-shot det probabilities */
  vg_tensor *sum[3];           /* 1 x SS: zero, few seg and few det maps, summed */
  vg_tensor *det_all;          /* L x P */
  vg_tensor *maps;             /* (2L + 3) x SS: every map, downloaded at once */
  vg_tensor *det_means;        /* L x 1 */
  vg_tensor *few_mean;         /* 1 x 1 */
};

void vg_scorer_free(vg_scorer *sc) {
  if (!sc)
    return;
  free_tensors(&sc->text, 1);
  free_tensors(&sc->tokens[0][0], 2 * MAX_L);
  free_tensors(&sc->qn[0][0], 2 * MAX_L);
  free_tensors(&sc->logits[0][0], 2 * MAX_L);
  free_tensors(&sc->dist[0][0], 2 * MAX_L);
  free_tensors(&sc->plane[0][0], 3 * MAX_L);
  free_tensors(sc->up, MAX_L);
  free_tensors(sc->probs, MAX_L);
  free_tensors(sc->sum, 3);
  free_tensors(&sc->det_all, 1);
  free_tensors(&sc->maps, 1);
  free_tensors(&sc->det_means, 1);
  free_tensors(&sc->few_mean, 1);
  free(sc);
}

static vg_status alloc_scratch(vg_scorer *sc) {
  vg_backend *be = sc->be;
  const int L = sc->shape.layers, C = sc->shape.channels;
  const int64_t T = vg_score_tokens(&sc->shape), P = T - 1;
  const int64_t SS = (int64_t)sc->shape.side * sc->shape.side;
  vg_status st = VG_OK;
  sc->text = tensor(be, 2, C, &st);
  for (int l = 0; l < L; l++) {
    for (int h = 0; h < 2; h++) {
      sc->tokens[h][l] = tensor(be, T, C, &st);
      sc->qn[h][l] = tensor(be, P, C, &st);
      sc->logits[h][l] = tensor(be, 2, P, &st);
      sc->dist[h][l] = tensor(be, 1, P, &st);
    }
    for (int k = 0; k < 3; k++)
      sc->plane[k][l] = tensor(be, 1, SS, &st);
    sc->up[l] = tensor(be, 2, SS, &st);
    sc->probs[l] = tensor(be, 1, P, &st);
  }
  for (int k = 0; k < 3; k++)
    sc->sum[k] = tensor(be, 1, SS, &st);
  sc->det_all = tensor(be, L, P, &st);
  sc->maps = tensor(be, 2 * L + 3, SS, &st);
  sc->det_means = tensor(be, L, 1, &st);
  sc->few_mean = tensor(be, 1, 1, &st);
  return st;
}

vg_status vg_scorer_new(vg_backend *be, const vg_score_shape *shape, vg_scorer **out) {
  if (!out)
    return vg_fail(VG_ERR_ARG, "vg_scorer_new: NULL output");
  *out = NULL;
  if (!be)
    return vg_fail(VG_ERR_ARG, "scorer: no backend");
  TRY(vg_score_shape_check(shape));
  vg_scorer *sc = calloc(1, sizeof *sc);
  if (!sc)
    return vg_fail(VG_ERR_NOMEM, "scorer: out of memory");
  sc->be = be;
  sc->shape = *shape;
  vg_status st = alloc_scratch(sc);
  if (st != VG_OK) {
    vg_scorer_free(sc);
    return st;
  }
  *out = sc;
  return VG_OK;
}

vg_status vg_scorer_set_text(vg_scorer *sc, const float *text) {
  if (!sc || !text)
    return vg_fail(VG_ERR_ARG, "scorer: NULL scorer or text features");
  const int C = sc->shape.channels;
  float *t = malloc(sizeof(float) * 2 * (size_t)C);
  if (!t)
    return vg_fail(VG_ERR_NOMEM, "scorer: out of memory");
  for (int c = 0; c < C; c++) /* MVFA's logits are 100 * cos */
    t[c] = 100.0f * text[2 * c], t[C + c] = 100.0f * text[2 * c + 1];
  vg_status st = vg_tensor_upload(sc->text, t);
  free(t);
  sc->has_text = st == VG_OK;
  return st;
}

/* The patch rows of layer l's tokens of head h, L2-normalised. */
static vg_status normalise(vg_scorer *sc, int h, int l, const vg_tensor *tokens, int64_t row) {
  const int64_t P = (int64_t)sc->shape.grid * sc->shape.grid;
  TRY(vg_copy_rows(sc->qn[h][l], 0, tokens, row + 1, P)); /* the query's row 0 is CLS */
  return vg_l2_normalize(sc->qn[h][l], sc->qn[h][l], NORM_EPS);
}

/* acc = plane on the first layer, acc + plane after: the host's order. */
static vg_status accumulate(vg_tensor *acc, const vg_tensor *plane, int l) {
  return l == 0 ? vg_copy_rows(acc, 0, plane, 0, 1) : vg_add_scaled(acc, acc, 1.0f, plane, 1.0f);
}

static vg_status zero_shot(vg_scorer *sc, int l) {
  const int G = sc->shape.grid, S = sc->shape.side;
  TRY(vg_matmul(sc->logits[0][l], sc->text, sc->qn[0][l], NULL));
  TRY(vg_upsample(sc->up[l], sc->logits[0][l], G, G, S, S));
  TRY(vg_softmax_pick(sc->plane[0][l], sc->up[l], 1));
  TRY(vg_copy_rows(sc->maps, MAP_ZERO_LAYERS + l, sc->plane[0][l], 0, 1));
  TRY(accumulate(sc->sum[0], sc->plane[0][l], l));
  TRY(vg_matmul(sc->logits[1][l], sc->text, sc->qn[1][l], NULL));
  TRY(vg_softmax_pick(sc->probs[l], sc->logits[1][l], 1));
  return vg_copy_rows(sc->det_all, l, sc->probs[l], 0, 1);
}

static vg_status few_shot(vg_scorer *sc, const vg_score_bank *bank, int l) {
  const int G = sc->shape.grid, S = sc->shape.side, L = sc->shape.layers;
  const int64_t rows = (int64_t)bank->count * bank->tokens;
  for (int h = 0; h < 2; h++) {
    vg_tensor *plane = sc->plane[1 + h][l];
    TRY(vg_min_distance(sc->dist[h][l], sc->qn[h][l], bank->rows[h][l], rows));
    TRY(vg_upsample(plane, sc->dist[h][l], G, G, S, S));
    TRY(accumulate(sc->sum[1 + h], plane, l));
  }
  return vg_copy_rows(sc->maps, MAP_FEW_LAYERS(L) + l, sc->plane[1][l], 0, 1);
}

static vg_status check_run(const vg_scorer *sc, const vg_tensor *const *seg,
                           const vg_tensor *const *det, int64_t row, const vg_score_bank *bank,
                           const vg_score_out *out) {
  if (!sc || !seg || !det || !out)
    return vg_fail(VG_ERR_ARG, "scorer: NULL scorer, tokens or output");
  if (row < 0)
    return vg_fail(VG_ERR_ARG, "scorer: negative first row %lld", (long long)row);
  if (!sc->has_text)
    return vg_fail(VG_ERR_ARG, "scorer: no text features set");
  const int64_t T = vg_score_tokens(&sc->shape);
  for (int l = 0; l < sc->shape.layers; l++)
    for (int h = 0; h < 2; h++) {
      const vg_tensor *t = h ? det[l] : seg[l];
      if (!t || t->backend != sc->be || t->dtype != VG_F32 || t->rows < row + T ||
          t->cols != sc->shape.channels)
        return vg_fail(VG_ERR_ARG,
                       "scorer: %s tokens of layer %d must be F32 %lld x %d from row %lld of a "
                       "tensor on %s",
                       h ? "det" : "seg", l, (long long)T, sc->shape.channels, (long long)row,
                       sc->be->kind);
    }
  if (bank && (bank->be != sc->be || memcmp(&bank->shape, &sc->shape, sizeof sc->shape) != 0))
    return vg_fail(VG_ERR_ARG, "scorer: the memory bank has another backend or shape");
  if (bank && bank->broken)
    return vg_fail(VG_ERR_DEVICE, "scorer: the device memory bank is out of step after a "
                                  "failed removal; make a new bank");
  return VG_OK;
}

/* Copies the downloaded maps into the caller's arrays. */
static void hand_out(const vg_scorer *sc, const float *maps, int few, vg_score_out *out) {
  const int L = sc->shape.layers;
  const size_t SS = (size_t)sc->shape.side * sc->shape.side, bytes = SS * sizeof(float);
  float *dst[3] = {out->zero_map, few ? out->few_map : NULL, few ? out->few_det_map : NULL};
  for (int k = 0; k < 3; k++)
    if (dst[k])
      memcpy(dst[k], maps + k * SS, bytes);
  if (out->zero_layer_maps)
    memcpy(out->zero_layer_maps, maps + MAP_ZERO_LAYERS * SS, L * bytes);
  if (few && out->few_layer_maps)
    memcpy(out->few_layer_maps, maps + MAP_FEW_LAYERS(L) * SS, L * bytes);
}

static vg_status record(vg_scorer *sc, const vg_tensor *const *seg, const vg_tensor *const *det,
                        int64_t row, const vg_score_bank *bank) {
  const int L = sc->shape.layers;
  for (int l = 0; l < L; l++) {
    TRY(normalise(sc, 0, l, seg[l], row));
    TRY(normalise(sc, 1, l, det[l], row));
    TRY(zero_shot(sc, l));
    if (bank)
      TRY(few_shot(sc, bank, l));
  }
  TRY(vg_row_mean(sc->det_means, sc->det_all));
  for (int k = 0; k < (bank ? 3 : 1); k++)
    TRY(vg_copy_rows(sc->maps, k, sc->sum[k], 0, 1));
  return bank ? vg_row_mean(sc->few_mean, sc->sum[2]) : VG_OK;
}

vg_status vg_scorer_run(vg_scorer *sc, const vg_tensor *const *seg, const vg_tensor *const *det,
                        const vg_score_bank *bank, vg_score_out *out) {
  return vg_scorer_run_at(sc, seg, det, 0, bank, out);
}

vg_status vg_scorer_run_at(vg_scorer *sc, const vg_tensor *const *seg, const vg_tensor *const *det,
                           int64_t row, const vg_score_bank *bank, vg_score_out *out) {
  TRY(check_run(sc, seg, det, row, bank, out));
  if (bank && bank->count == 0)
    bank = NULL;
  TRY(record(sc, seg, det, row, bank));
  const int L = sc->shape.layers;
  float means[MAX_L], few_mean = 0;
  float *maps = malloc(sizeof(float) * (size_t)sc->maps->rows * (size_t)sc->maps->cols);
  if (!maps)
    return vg_fail(VG_ERR_NOMEM, "scorer: no memory for the maps");
  vg_status st = vg_tensor_download(sc->maps, maps);
  if (st == VG_OK)
    st = vg_tensor_download(sc->det_means, means);
  if (st == VG_OK && bank)
    st = vg_tensor_download(sc->few_mean, &few_mean);
  if (st == VG_OK) {
    hand_out(sc, maps, bank != NULL, out);
    out->zero_score = 0;
    for (int l = 0; l < L; l++) { /* summed in the host code's order */
      out->zero_score += means[l];
      if (out->zero_layer_scores)
        out->zero_layer_scores[l] = means[l];
    }
    if (bank)
      out->few_score = few_mean;
  }
  free(maps);
  return st;
}

vg_status vg_scorer_run_host(vg_scorer *sc, const float *const *seg, const float *const *det,
                             const vg_score_bank *bank, vg_score_out *out) {
  if (!sc || !seg || !det)
    return vg_fail(VG_ERR_ARG, "scorer: NULL scorer or tokens");
  for (int l = 0; l < sc->shape.layers; l++) {
    if (!seg[l] || !det[l])
      return vg_fail(VG_ERR_ARG, "scorer: tokens of layer %d are NULL", l);
    TRY(vg_tensor_upload(sc->tokens[0][l], seg[l]));
    TRY(vg_tensor_upload(sc->tokens[1][l], det[l]));
  }
  return vg_scorer_run(sc, (const vg_tensor *const *)sc->tokens[0],
                       (const vg_tensor *const *)sc->tokens[1], bank, out);
}
