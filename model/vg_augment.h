/* MVFA's few-shot augmentation of a reference image (its utils.augment).
 *
 * From one C x H x W image (MVFA: 3 x 240 x 240 in [0, 1], after Resize and
 * ToTensor) it makes VG_AUGMENT_COUNT images in MVFA's order:
 *   0       the original
 *   1..4    rotations by -pi/8, -pi/16, pi/16, pi/8
 *   5..8    translations (0.1, 0.1), (-0.1, 0.1), (-0.1, -0.1), (0.1, -0.1)
 *           in normalised [-1, 1] grid units
 *   9, 10   horizontal flip, vertical flip
 * Rotations and translations are F.affine_grid + F.grid_sample(bilinear,
 * padding_mode='reflection', align_corners=False), reproduced with PyTorch's
 * float arithmetic; flips are exact. */
#pragma once

#include "vg_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_AUGMENT_COUNT 11
#define VG_AUGMENT_MAX_SIDE 8192

/* out: VG_AUGMENT_COUNT x channels x height x width floats. */
vg_status vg_augment_mvfa(const float *img, int channels, int height, int width, float *out);

#ifdef __cplusplus
}
#endif
