/* Random CLIP + MVFA adapter weights with OpenCLIP key names, for tests,
 * `vigil-cli model random` and benchmarks (the forward's cost does not depend
 * on the values). */
#pragma once

#include <stdint.h>

#include "vg_weights.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_clip_preset {
  const char *name;
  int width, layers, patch, pos_grid, embed;
  int text_width, text_layers, vocab, context;
  int adapters, adapter_dim;
} vg_clip_preset;

/* "tiny" (width 64, 2 blocks), "mid" (width 256, 4 blocks, 4 x 128 adapters:
 * 290 tokens at 240 px like the real model, a few GFLOP per image) or
 * "vit-l-14" (OpenAI ViT-L/14-336 shapes with MVFA's 4 x 768 adapters); NULL
 * if unknown. */
const vg_clip_preset *vg_clip_preset_find(const char *name);
/* The preset names, comma separated, for messages. */
const char *vg_clip_preset_names(void);

typedef struct vg_clip_random_options {
  uint64_t seed;
  unsigned towers; /* VG_CLIP_IMAGE | VG_CLIP_TEXT (vg_clip.h); 0 = both */
  vg_wdtype dtype; /* F32, F16 or BF16 */
  /* Every tensor borrows from one shared random block instead of owning its
   * values: a benchmark model costs no memory beyond what the backend holds. */
  int shared;
} vg_clip_random_options;

/* Fills *clip (metadata vigil.random = "true", vigil.preset, vigil.seed) and,
 * when `adapters` is not NULL, *adapters (seg_adapters.{i} / det_adapters.{i}). */
vg_status vg_clip_random(const vg_clip_preset *preset, const vg_clip_random_options *options,
                         vg_weights **clip, vg_weights **adapters);

#ifdef __cplusplus
}
#endif
