/* Antialiased bicubic resampling, as PyTorch's
 * F.interpolate(mode="bicubic", antialias=True, align_corners=False).
 *
 * Used to fit CLIP's position-embedding grid to another input size (MVFA runs
 * the 336-px ViT-L/14 at 240 px: 24x24 -> 17x17). PyTorch's antialias path
 * follows Pillow: a separable filter with Keys' a = -0.5 (not the -0.75 of the
 * non-antialiased path), widened by the scale when shrinking, weights
 * normalised to sum to one. tests/reference/clip_ref.py checks this against
 * torch 1.13. */
#pragma once

#include "vg_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Resizes an ih x iw grid of c-channel pixels stored row major with channels
 * innermost (HWC: in[(y * iw + x) * c + k]) to oh x ow, into out (HWC). */
vg_status vg_resize_bicubic_aa(const float *in, int ih, int iw, int c, float *out, int oh, int ow);

#ifdef __cplusplus
}
#endif
