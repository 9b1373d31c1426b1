/* MVFA's anomaly scoring on adapter tokens, as its released test code does it.
 *
 * Works on plain float arrays so it does not depend on the forward pass.
 * For each image and adapter layer l the forward pass gives seg tokens and
 * det tokens, each (1 + G*G) x C floats, row 0 the CLS token, rows 1.. the
 * G x G patch grid in row-major order. Text features are C x 2 (row-major:
 * element [c*2 + k], column 0 normal, column 1 abnormal), L2-normalised.
 *
 * Zero-shot (this file): per-layer maps from 100 * cos(patch, text), softmax
 * over normal/abnormal after upsampling; few-shot lives in vg_membank.h. */
#pragma once

#include <stddef.h>

#include "vg_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_SCORE_MAX_LAYERS 8
#define VG_SCORE_MAX_CHANNELS 8192
#define VG_SCORE_MAX_GRID 128
#define VG_SCORE_MAX_SIDE 4096

typedef struct vg_score_shape {
  int layers;   /* adapter depths scored (MVFA: 4) */
  int channels; /* C, token width (ViT-L/14: 768) */
  int grid;     /* G, patch grid side (17); a layer holds 1 + G*G token rows */
  int side;     /* S, side of the upsampled maps (MVFA's input size: 240) */
} vg_score_shape;

/* Checks every field is within the limits above (G >= 2, S >= 2). */
vg_status vg_score_shape_check(const vg_score_shape *s);
static inline int vg_score_tokens(const vg_score_shape *s) {
  return 1 + s->grid * s->grid;
}

/* Zero-shot segmentation. tokens[l] = seg tokens of layer l ((1+G*G) x C).
 * layer_maps (may be NULL): layers x S x S abnormal probabilities;
 * map: S x S, their sum over layers (MVFA's score_map_zero). */
vg_status vg_score_zero_seg(const vg_score_shape *s, const float *const *tokens, const float *text,
                            float *layer_maps, float *map);

/* Zero-shot detection. tokens[l] = det tokens of layer l. layer_scores (may
 * be NULL): per layer the mean over patches of the abnormal probability;
 * score: their sum (MVFA's det anomaly_score). */
vg_status vg_score_zero_det(const vg_score_shape *s, const float *const *tokens, const float *text,
                            float *layer_scores, float *score);

/* F.interpolate(mode='bilinear', align_corners=True) of `planes` planes of
 * in_h x in_w to out_h x out_w, with PyTorch's CPU index/weight arithmetic. */
vg_status vg_upsample_bilinear(const float *in, int planes, int in_h, int in_w, float *out,
                               int out_h, int out_w);

#ifdef __cplusplus
}
#endif
