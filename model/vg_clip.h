/* CLIP's image and text towers with MVFA's residual adapters, written once
 * over the backend interface (vg_backend.h).
 *
 * The architecture comes from the tensor shapes, so any CLIP ViT size loads;
 * OpenCLIP/OpenAI key names ("visual.conv1.weight", ...) and Hugging Face
 * transformers names ("vision_model.embeddings.patch_embedding.weight", ...)
 * are both recognised. MVFA runs the 336-px ViT-L/14 at 240 px (17x17 patches
 * + CLS = 290 tokens), resizing the position grid 24x24 -> 17x17 with
 * PyTorch's antialiased bicubic; its adapters follow blocks 6, 12, 18, 24. */
#pragma once

#include <stdint.h>

#include "vg_backend.h"
#include "vg_weights.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_CLIP_MAX_ADAPTERS 4

enum { VG_CLIP_IMAGE = 1, VG_CLIP_TEXT = 2 };

/* All-zero options are MVFA's settings. */
typedef struct vg_clip_options {
  int image_size;    /* input side in pixels; 0 = 240 */
  unsigned towers;   /* VG_CLIP_IMAGE | VG_CLIP_TEXT; 0 = both */
  vg_activation act; /* MLP activation: VG_ACT_GELU (exact erf, MVFA) or VG_ACT_QUICK_GELU */
  float ln_eps;      /* LayerNorm epsilon; 0 = 1e-5 */
  /* VG_F16 or VG_BF16 keep the transformer blocks' matmul weights in 16 bits
   * (BF16: CPU backend only, activations rounded too; vg_cpu.h) */
  vg_dtype matmul_dtype;
  /* 1-based blocks followed by adapters i = 0, 1, ...; all 0 = evenly spaced,
   * ending at the last block (6, 12, 18, 24 for 24 blocks and 4 adapters). */
  int adapter_layers[VG_CLIP_MAX_ADAPTERS];
  /* Images per forward in vg_clip_encode_images; 0 = 8 on a device,
   * VG_CLIP_CPU_BATCH on the CPU. Larger batches are
   * split into chunks, which bounds the activation memory: fewer images go
   * in a chunk where one activation would pass what the device can bind
   * (vg_backend_check_plan), or VG_CLIP_BATCH_BYTES on the CPU. */
  int max_batch;
  /* Nonzero: F32 weights stored as the model uses them stay where they are
   * (a mapped file) on a backend that can use them in place (the CPU), so
   * there is no second copy; `clip` and `adapters` must then outlive the
   * model. Zero: everything is copied and the weights may be freed. */
  int borrow_weights;
} vg_clip_options;

#define VG_CLIP_BATCH_BYTES ((int64_t)96 << 20) /* per activation tensor of a CPU chunk */
#define VG_CLIP_BATCH_MAX 64                    /* images per chunk at most */
/* The CPU's default: on the 2-core Xeon (ViT-L/14, `vigil-cli bench --batch`)
 * 4 images per forward gave the most images/s, 8 no more, and 8 put a
 * ViT-L app past 1.5 GB of RSS. */
#define VG_CLIP_CPU_BATCH 4

typedef struct vg_clip_arch {
  const char *naming; /* "openclip" or "hf" */
  int has_image, has_text;
  /* Image tower at the configured input size. */
  int image_size, width, layers, heads, mlp_width, patch, grid, tokens;
  int pos_grid; /* the checkpoint's position grid (24 for ViT-L/14-336) */
  /* Text tower. */
  int text_width, text_layers, text_heads, text_mlp_width, context_length, vocab;
  int embed_dim;
  /* MVFA adapters (n_adapters = 0 without them). */
  int n_adapters, adapter_dim, adapter_layers[VG_CLIP_MAX_ADAPTERS];
  int64_t params;     /* parameters in the towers loaded, adapters included */
  vg_wdtype dtype;    /* the checkpoint's dtype (of its first block's qkv weight) */
  vg_dtype run_dtype; /* matmul weights on the backend */
} vg_clip_arch;

typedef struct vg_clip vg_clip;

/* Reads the architecture from tensor shapes and checks every tensor the towers
 * need (missing or wrong-shaped ones give an error naming the tensor), without
 * loading anything. `adapters` may be NULL. */
vg_status vg_clip_detect(const vg_weights *clip, const vg_weights *adapters,
                         const vg_clip_options *options, vg_clip_arch *out);

/* Loads the towers onto `be` (weights are converted; `clip` and `adapters` may
 * be freed afterwards unless options->borrow_weights). `options` may be NULL. */
vg_status vg_clip_load(const vg_weights *clip, const vg_weights *adapters,
                       const vg_clip_options *options, vg_backend *be, vg_clip **out);
void vg_clip_free(vg_clip *clip);
const vg_clip_arch *vg_clip_arch_of(const vg_clip *clip);
/* One line, e.g. "ViT width 1024, 24 layers, 16 heads, patch 14, grid 17 ...". */
void vg_clip_arch_describe(const vg_clip_arch *arch, char *buf, size_t size);

/* Where encode_image writes; NULL pointers are skipped. Caller-owned buffers:
 * pooled has embed_dim floats, each seg/det entry tokens x adapter_dim. */
typedef struct vg_clip_image_out {
  float *pooled;                           /* ln_post(CLS) @ proj */
  float *seg_tokens[VG_CLIP_MAX_ADAPTERS]; /* seg adapter fc1 outputs, all tokens */
  float *det_tokens[VG_CLIP_MAX_ADAPTERS]; /* det adapter fc1 outputs, all tokens */
} vg_clip_image_out;

/* input: 3 x image_size x image_size RGB in [0, 1], channel-major, used as is
 * (no mean/std normalisation, as MVFA). */
vg_status vg_clip_encode_image(vg_clip *clip, const float *input, vg_clip_image_out *out);

/* n images through one forward per chunk: every matmul over all the chunk's
 * tokens, attention per image, one device submission per chunk. Results equal
 * n vg_clip_encode_image calls. inputs[i] as above; outs[i] receives image i. */
vg_status vg_clip_encode_images(vg_clip *clip, int n, const float *const *inputs,
                                vg_clip_image_out *outs);
/* The images per forward chunk this model uses. */
int vg_clip_batch_limit(const vg_clip *clip);
/* Lowers (or raises) the images per chunk, e.g. after a chunk ran out of
 * device memory; scratch sized for more images than that is freed, so the
 * next forward allocates only what the smaller chunk needs. */
void vg_clip_set_batch_limit(vg_clip *clip, int limit);

/* The tokens of image b of the last forward chunk, left on the model's backend
 * (so a scorer there reads them without a host round trip; outs fields left
 * NULL are never downloaded): head 0 = seg, 1 = det, adapter `layer`. *t holds
 * the whole chunk; image b's tokens are rows *first_row .. + arch.tokens - 1.
 * The chunk is the last one of the last vg_clip_encode_images call: every
 * image when n <= vg_clip_batch_limit. Valid until the next encode call. */
vg_status vg_clip_image_tokens(const vg_clip *clip, int b, int layer, int head, const vg_tensor **t,
                               int64_t *first_row);

/* ids: n rows of context_length token ids (start, text, end, zero padding);
 * out: n x embed_dim text features (not normalised). The end token is found
 * as the largest id of each row, as CLIP does. Rows go through the tower
 * several per forward (causal attention per row), like images. */
vg_status vg_clip_encode_text(vg_clip *clip, const int32_t *ids, int n, float *out);

#ifdef __cplusplus
}
#endif
