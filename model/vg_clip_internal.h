/* vg_clip's insides, shared by the loader (vg_clip_load.c) and the forward
 * passes (vg_clip.c). Not a public header. */
#pragma once

#include "vg_clip.h"

/* One pre-norm transformer block; matmul weights in PyTorch Linear layout. */
typedef struct vg_clip_block {
  vg_tensor *ln1_g, *ln1_b, *qkv_w, *qkv_b, *out_w, *out_b;
  vg_tensor *ln2_g, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
} vg_clip_block;

/* An MVFA ClipAdapter: fc1 (width -> dim) and fc2 (dim -> width), no biases. */
typedef struct vg_clip_adapter {
  vg_tensor *fc1, *fc2;
} vg_clip_adapter;

/* Activations of one tower, sized for its sequence length. */
typedef struct vg_clip_scratch {
  vg_tensor *x, *h, *qkv, *attn, *mlp;
} vg_clip_scratch;

struct vg_clip {
  vg_backend *be;
  vg_clip_arch arch;
  vg_clip_options opt;

  /* Image tower. */
  vg_tensor *patch_w; /* [width, 3 * patch * patch] */
  vg_tensor *cls;     /* [1, width] */
  vg_tensor *pos;     /* [tokens, width], resized to the input grid */
  vg_tensor *ln_pre_g, *ln_pre_b, *ln_post_g, *ln_post_b;
  vg_tensor *proj; /* [embed, width] */
  vg_clip_block *vblocks;
  vg_clip_adapter seg[VG_CLIP_MAX_ADAPTERS], det[VG_CLIP_MAX_ADAPTERS];

  /* Text tower. */
  vg_tensor *tok_emb; /* [vocab, text_width] */
  vg_tensor *tpos;    /* [context, text_width] */
  vg_tensor *ln_final_g, *ln_final_b;
  vg_tensor *tproj; /* [embed, text_width] */
  vg_clip_block *tblocks;

  /* Image scratch, for `cap` images at once (rows below are per image); the
   * forward narrows the row counts to the images of a chunk (vg_clip.c). */
  int cap;
  int last_images;      /* images of the last forward chunk, whose tokens stay in seg/det_tok */
  float *host_images;   /* a batch's inputs side by side, [3 * side, side] each */
  float *host_out;      /* a batch's downloads: pooled, then each adapter's seg, det */
  vg_tensor *pos_rep;   /* pos repeated per image, [tokens, width] */
  vg_tensor *images;    /* the same on the backend */
  vg_tensor *patches;   /* their patch rows (vg_patch_rows), [grid^2, 3 * patch^2] */
  vg_tensor *emb;       /* [grid^2, width] */
  vg_clip_scratch vs;   /* [tokens, ...] */
  vg_tensor *adapt_out; /* [tokens, width] */
  vg_tensor *seg_tok[VG_CLIP_MAX_ADAPTERS], *det_tok[VG_CLIP_MAX_ADAPTERS]; /* [tokens, dim] */
  vg_tensor *cls_row, *cls_norm;                                            /* [1, width] */
  vg_tensor *pooled;                                                        /* [1, embed] */

  /* Text scratch, for `tcap` prompts of up to `tlen` tokens at once; rows below are per
   * prompt. A forward may use fewer tokens per prompt: tpos_rep is laid out for tpos_len. */
  int tcap, tlen, tpos_len;
  int64_t text_rows;   /* token rows through the tower in the last vg_clip_encode_text */
  vg_clip_scratch ts;  /* [context, ...] */
  vg_tensor *tpos_rep; /* tpos repeated per prompt, [context, text_width] */
  vg_tensor *eot_row, *eot_norm, *text_out; /* [1, text_width], [1, embed] */
};

/* (Re)allocate the image scratch for `cap` images and the text scratch for
 * `cap` prompts cut to `len` tokens (vg_clip_load.c). */
vg_status vg_clip_image_scratch(vg_clip *m, int cap);
void vg_clip_free_image_scratch(vg_clip *m); /* back to cap 0: the next forward allocates */
vg_status vg_clip_text_scratch(vg_clip *m, int cap, int len);
/* Lays tpos_rep out for prompts of `len` <= tlen tokens. */
vg_status vg_clip_text_positions(vg_clip *m, int len);
