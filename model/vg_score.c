#include "vg_score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

vg_status vg_score_shape_check(const vg_score_shape *s) {
  if (!s)
    return vg_fail(VG_ERR_ARG, "score shape is NULL");
  if (s->layers < 1 || s->layers > VG_SCORE_MAX_LAYERS)
    return vg_fail(VG_ERR_ARG, "score shape: %d layers (1 to %d supported)", s->layers,
                   VG_SCORE_MAX_LAYERS);
  if (s->channels < 1 || s->channels > VG_SCORE_MAX_CHANNELS)
    return vg_fail(VG_ERR_ARG, "score shape: %d channels (1 to %d supported)", s->channels,
                   VG_SCORE_MAX_CHANNELS);
  if (s->grid < 2 || s->grid > VG_SCORE_MAX_GRID)
    return vg_fail(VG_ERR_ARG, "score shape: grid side %d (2 to %d supported)", s->grid,
                   VG_SCORE_MAX_GRID);
  if (s->side < 2 || s->side > VG_SCORE_MAX_SIDE)
    return vg_fail(VG_ERR_ARG, "score shape: map side %d (2 to %d supported)", s->side,
                   VG_SCORE_MAX_SIDE);
  return VG_OK;
}

/* Source index and weight of output position i, as PyTorch's CPU kernel
 * computes them for align_corners=True (float arithmetic). */
typedef struct lin_tap {
  int i0, step; /* step: 1 when i0 has a right neighbour, else 0 */
  float w0, w1;
} lin_tap;

static void lin_taps(int in, int out, lin_tap *taps) {
  float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
  for (int i = 0; i < out; i++) {
    float src = scale * (float)i;
    int i0 = (int)floorf(src);
    if (i0 > in - 1)
      i0 = in - 1;
    float l = fminf(fmaxf(src - (float)i0, 0.0f), 1.0f);
    taps[i] = (lin_tap){i0, i0 < in - 1 ? 1 : 0, 1.0f - l, l};
  }
}

vg_status vg_upsample_bilinear(const float *in, int planes, int in_h, int in_w, float *out,
                               int out_h, int out_w) {
  if (!in || !out || planes < 1 || in_h < 1 || in_w < 1 || out_h < 1 || out_w < 1 ||
      out_h > VG_SCORE_MAX_SIDE || out_w > VG_SCORE_MAX_SIDE)
    return vg_fail(VG_ERR_ARG, "upsample: bad arguments (%d planes, %dx%d -> %dx%d)", planes, in_h,
                   in_w, out_h, out_w);
  lin_tap *th = malloc(sizeof *th * (size_t)(out_h + out_w));
  if (!th)
    return vg_fail(VG_ERR_NOMEM, "upsample: out of memory");
  lin_tap *tw = th + out_h;
  lin_taps(in_h, out_h, th);
  lin_taps(in_w, out_w, tw);
  for (int p = 0; p < planes; p++) {
    const float *src = in + (size_t)p * in_h * in_w;
    float *dst = out + (size_t)p * out_h * out_w;
    for (int y = 0; y < out_h; y++) {
      const float *r0 = src + (size_t)th[y].i0 * in_w;
      const float *r1 = r0 + (size_t)th[y].step * in_w;
      for (int x = 0; x < out_w; x++) {
        lin_tap t = tw[x];
        float a = r0[t.i0] * t.w0 + r0[t.i0 + t.step] * t.w1;
        float b = r1[t.i0] * t.w0 + r1[t.i0 + t.step] * t.w1;
        dst[(size_t)y * out_w + x] = a * th[y].w0 + b * th[y].w1;
      }
    }
  }
  free(th);
  return VG_OK;
}

/* logits[k*P + p] = 100 * (q_p / |q_p|) . text[:, k] for the P patch rows. */
static void text_logits(const vg_score_shape *s, const float *tokens, const float *text,
                        float *logits) {
  int C = s->channels, P = s->grid * s->grid;
  for (int p = 0; p < P; p++) {
    const float *q = tokens + (size_t)(p + 1) * C; /* row 0 is CLS */
    double ss = 0;
    for (int c = 0; c < C; c++)
      ss += (double)q[c] * q[c];
    float norm = (float)sqrt(ss);
    float a0 = 0, a1 = 0;
    for (int c = 0; c < C; c++) {
      float v = 100.0f * (q[c] / norm);
      a0 += v * text[2 * c];
      a1 += v * text[2 * c + 1];
    }
    logits[p] = a0;
    logits[P + p] = a1;
  }
}

/* Softmax over two logits, the abnormal one, computed as torch.softmax does. */
static float abnormal_prob(float l0, float l1) {
  float m = fmaxf(l0, l1);
  float e0 = expf(l0 - m), e1 = expf(l1 - m);
  return e1 / (e0 + e1);
}

static vg_status check_inputs(const vg_score_shape *s, const float *const *tokens,
                              const float *text, const void *out) {
  vg_status st = vg_score_shape_check(s);
  if (st != VG_OK)
    return st;
  if (!tokens || !text || !out)
    return vg_fail(VG_ERR_ARG, "zero-shot score: NULL tokens, text or output");
  for (int l = 0; l < s->layers; l++)
    if (!tokens[l])
      return vg_fail(VG_ERR_ARG, "zero-shot score: tokens of layer %d are NULL", l);
  return VG_OK;
}

vg_status vg_score_zero_seg(const vg_score_shape *s, const float *const *tokens, const float *text,
                            float *layer_maps, float *map) {
  vg_status st = check_inputs(s, tokens, text, map);
  if (st != VG_OK)
    return st;
  int P = s->grid * s->grid;
  size_t SS = (size_t)s->side * s->side;
  float *logits = malloc(sizeof(float) * (2 * (size_t)P + 2 * SS));
  if (!logits)
    return vg_fail(VG_ERR_NOMEM, "zero-shot seg: out of memory");
  float *up = logits + 2 * P;
  memset(map, 0, sizeof(float) * SS);
  for (int l = 0; l < s->layers && st == VG_OK; l++) {
    text_logits(s, tokens[l], text, logits);
    st = vg_upsample_bilinear(logits, 2, s->grid, s->grid, up, s->side, s->side);
    for (size_t i = 0; st == VG_OK && i < SS; i++) {
      float v = abnormal_prob(up[i], up[SS + i]);
      if (layer_maps)
        layer_maps[l * SS + i] = v;
      map[i] += v;
    }
  }
  free(logits);
  return st;
}

vg_status vg_score_zero_det(const vg_score_shape *s, const float *const *tokens, const float *text,
                            float *layer_scores, float *score) {
  vg_status st = check_inputs(s, tokens, text, score);
  if (st != VG_OK)
    return st;
  int P = s->grid * s->grid;
  float *logits = malloc(sizeof(float) * 2 * (size_t)P);
  if (!logits)
    return vg_fail(VG_ERR_NOMEM, "zero-shot det: out of memory");
  float total = 0;
  for (int l = 0; l < s->layers; l++) {
    text_logits(s, tokens[l], text, logits);
    double sum = 0;
    for (int p = 0; p < P; p++)
      sum += abnormal_prob(logits[p], logits[P + p]);
    float mean = (float)(sum / P);
    if (layer_scores)
      layer_scores[l] = mean;
    total += mean;
  }
  *score = total;
  free(logits);
  return VG_OK;
}
