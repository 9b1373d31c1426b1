/* The forward passes: a straight sequence of backend calls.
 *
 * Image (MVFA's CLIP_Inplanted.forward, MediaBrain-SJTU/MVFA-AD CLIP/adapter.py):
 *   x = [class_embedding; conv1(image) as patch rows] + positional_embedding
 *   x = ln_pre(x)
 *   for each block i:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
 *     after adapter blocks: seg_mid = lrelu(x W1s^T), seg_out = lrelu(seg_mid W2s^T),
 *       the same for det, both from the block's output x, then
 *       x = 0.8 x + 0.1 seg_out + 0.1 det_out; seg_mid/det_mid over all tokens
 *       (CLS included, no ln_post or proj) are the seg/det patch tokens.
 *   pooled = ln_post(x[0]) @ proj
 * The adapters act per token, so PyTorch's LND layout there changes nothing.
 *
 * Text (OpenCLIP's encode_text): token embeddings + positions, causal blocks,
 * ln_final, the end token's row (argmax id) @ text_projection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_clip_internal.h"

#define TRY(expr)                                                                                  \
  do {                                                                                             \
    vg_status s_ = (expr);                                                                         \
    if (s_ != VG_OK)                                                                               \
      return s_;                                                                                   \
  } while (0)

#define LEAKY_SLOPE 0.01f /* nn.LeakyReLU's default, as MVFA's ClipAdapter uses */

const vg_clip_arch *vg_clip_arch_of(const vg_clip *clip) {
  return clip ? &clip->arch : NULL;
}

void vg_clip_arch_describe(const vg_clip_arch *a, char *buf, size_t size) {
  int n = snprintf(buf, size, "%s naming, %s weights%s", a->naming, vg_wdtype_name(a->dtype),
                   a->run_dtype == VG_F16    ? " (F16 matmuls)"
                   : a->run_dtype == VG_BF16 ? " (BF16 matmuls)"
                                             : "");
  if (a->has_image && n >= 0 && (size_t)n < size)
    n += snprintf(buf + n, size - (size_t)n,
                  "; ViT width %d, %d layers, %d heads, patch %d, grid %d (from %d), %d tokens "
                  "at %d px",
                  a->width, a->layers, a->heads, a->patch, a->grid, a->pos_grid, a->tokens,
                  a->image_size);
  if (a->has_text && n >= 0 && (size_t)n < size)
    n += snprintf(buf + n, size - (size_t)n,
                  "; text width %d, %d layers, %d heads, context %d, vocab %d", a->text_width,
                  a->text_layers, a->text_heads, a->context_length, a->vocab);
  if (n >= 0 && (size_t)n < size)
    n += snprintf(buf + n, size - (size_t)n, "; embed %d", a->embed_dim);
  if (a->n_adapters && n >= 0 && (size_t)n < size)
    n += snprintf(buf + n, size - (size_t)n, "; %d adapters (dim %d) after blocks %d..%d",
                  a->n_adapters, a->adapter_dim, a->adapter_layers[0],
                  a->adapter_layers[a->n_adapters - 1]);
  if (n >= 0 && (size_t)n < size)
    snprintf(buf + n, size - (size_t)n, "; %.1fM parameters", (double)a->params / 1e6);
}

/* x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)), pre-norm residual block. */
static vg_status block_forward(const vg_clip *m, const vg_clip_block *b, vg_clip_scratch *s,
                               int heads, int causal, int seqs) {
  const float eps = m->opt.ln_eps > 0 ? m->opt.ln_eps : 1e-5f;
  TRY(vg_layer_norm(s->h, s->x, b->ln1_g, b->ln1_b, eps));
  TRY(vg_matmul(s->qkv, s->h, b->qkv_w, b->qkv_b));
  TRY(vg_attention_batched(s->attn, s->qkv, heads, causal, seqs));
  TRY(vg_matmul(s->h, s->attn, b->out_w, b->out_b));
  TRY(vg_add_layer_norm(s->x, s->h, s->h, b->ln2_g, b->ln2_b, eps));
  TRY(vg_matmul_act(s->mlp, s->h, b->fc1_w, b->fc1_b, m->opt.act, 0.0f));
  TRY(vg_matmul(s->h, s->mlp, b->fc2_w, b->fc2_b));
  TRY(vg_add_scaled(s->x, s->x, 1.0f, s->h, 1.0f));
  return VG_OK;
}

/* mid = lrelu(x fc1^T) (kept as the tokens), out = lrelu(mid fc2^T). */
static vg_status adapter_forward(const vg_clip_adapter *ad, const vg_tensor *x, vg_tensor *mid,
                                 vg_tensor *out) {
  TRY(vg_matmul(mid, x, ad->fc1, NULL));
  TRY(vg_activation_apply(mid, VG_ACT_LEAKY_RELU, LEAKY_SLOPE));
  TRY(vg_matmul(out, mid, ad->fc2, NULL));
  TRY(vg_activation_apply(out, VG_ACT_LEAKY_RELU, LEAKY_SLOPE));
  return VG_OK;
}

/* Narrows the image scratch to the first `c` images' rows (c <= cap): the
 * buffers keep their size, the ops see c images. */
static void view_rows(vg_clip *m, int c) {
  const vg_clip_arch *a = &m->arch;
  const int64_t np = (int64_t)a->grid * a->grid * c, t = (int64_t)a->tokens * c;
  m->patches->rows = m->emb->rows = np;
  m->images->rows = 3LL * a->image_size * c;
  vg_tensor *tok[] = {m->vs.x, m->vs.h, m->vs.qkv, m->vs.attn, m->vs.mlp, m->adapt_out, m->pos_rep};
  for (size_t i = 0; i < sizeof tok / sizeof *tok; i++)
    tok[i]->rows = t;
  for (int i = 0; i < a->n_adapters; i++)
    m->seg_tok[i]->rows = m->det_tok[i]->rows = t;
  m->cls_row->rows = m->cls_norm->rows = m->pooled->rows = c;
}

/* Output k of an image: 0 pooled, then seg and det tokens of each adapter. */
static float *out_field(const vg_clip_image_out *o, int k) {
  return k == 0 ? o->pooled : k % 2 ? o->seg_tokens[(k - 1) / 2] : o->det_tokens[(k - 1) / 2];
}

/* Every output of the chunk in one download call (one device wait): a single
 * image's go straight to the caller, a batch's through m->host_out and are
 * then handed out image by image. */
static vg_status download_tokens(const vg_clip *m, int c, const vg_clip_image_out *outs) {
  const vg_tensor *t[1 + 2 * VG_CLIP_MAX_ADAPTERS] = {m->pooled};
  void *dst[1 + 2 * VG_CLIP_MAX_ADAPTERS];
  const int n = 1 + 2 * m->arch.n_adapters;
  for (int i = 0; i < m->arch.n_adapters; i++)
    t[1 + 2 * i] = m->seg_tok[i], t[2 + 2 * i] = m->det_tok[i];
  float *at = m->host_out;
  for (int k = 0; k < n; k++) {
    int any = 0;
    for (int b = 0; b < c; b++)
      any |= out_field(&outs[b], k) != NULL;
    dst[k] = !any ? NULL : c == 1 ? out_field(&outs[0], k) : at;
    at += (size_t)t[k]->rows * (size_t)t[k]->cols;
  }
  TRY(vg_tensors_download(n, t, dst));
  for (int k = 0; c > 1 && k < n; k++) {
    const size_t per = (size_t)(t[k]->rows / c) * (size_t)t[k]->cols;
    for (int b = 0; dst[k] && b < c; b++)
      if (out_field(&outs[b], k))
        memcpy(out_field(&outs[b], k), (const float *)dst[k] + per * b, per * sizeof(float));
  }
  return VG_OK;
}

/* x = ln_pre([cls; patches] + pos) for c images stacked in rows. conv1
 * (stride = kernel) is a matmul over patch rows, made on the backend from the
 * pixels (one upload for the chunk). */
static vg_status embed(vg_clip *m, int c, const float *const *inputs) {
  const vg_clip_arch *a = &m->arch;
  const float eps = m->opt.ln_eps > 0 ? m->opt.ln_eps : 1e-5f;
  const int64_t np = (int64_t)a->grid * a->grid, t = a->tokens;
  const size_t image_floats = 3 * (size_t)a->image_size * (size_t)a->image_size;
  vg_clip_scratch *s = &m->vs;
  for (int b = 0; c > 1 && b < c; b++)
    memcpy(m->host_images + image_floats * b, inputs[b], image_floats * sizeof(float));
  TRY(vg_tensor_upload(m->images, c > 1 ? m->host_images : inputs[0]));
  TRY(vg_patch_rows(m->patches, m->images, a->image_size, a->patch));
  TRY(vg_matmul(m->emb, m->patches, m->patch_w, NULL));
  for (int b = 0; b < c; b++) {
    TRY(vg_copy_rows(s->x, b * t, m->cls, 0, 1));
    TRY(vg_copy_rows(s->x, b * t + 1, m->emb, b * np, np));
  }
  TRY(vg_add_scaled(s->x, s->x, 1.0f, m->pos_rep, 1.0f));
  TRY(vg_layer_norm(s->h, s->x, m->ln_pre_g, m->ln_pre_b, eps));
  return vg_copy_rows(s->x, 0, s->h, 0, s->h->rows);
}

/* One forward over c <= cap images, recorded whole: the device backend
 * submits it once, at the first download. */
static vg_status forward(vg_clip *m, int c, const float *const *inputs,
                         const vg_clip_image_out *outs) {
  const vg_clip_arch *a = &m->arch;
  const float eps = m->opt.ln_eps > 0 ? m->opt.ln_eps : 1e-5f;
  vg_clip_scratch *s = &m->vs;
  TRY(embed(m, c, inputs));
  int next = 0; /* the next adapter */
  for (int i = 0; i < a->layers; i++) {
    TRY(block_forward(m, &m->vblocks[i], s, a->heads, 0, c));
    if (next < a->n_adapters && a->adapter_layers[next] == i + 1) {
      TRY(adapter_forward(&m->seg[next], s->x, m->seg_tok[next], s->h));
      TRY(adapter_forward(&m->det[next], s->x, m->det_tok[next], m->adapt_out));
      TRY(vg_add_scaled(s->x, s->x, 0.8f, s->h, 0.1f));
      TRY(vg_add_scaled(s->x, s->x, 1.0f, m->adapt_out, 0.1f));
      next++;
    }
  }
  for (int b = 0; b < c; b++)
    TRY(vg_copy_rows(m->cls_row, b, s->x, (int64_t)b * a->tokens, 1));
  TRY(vg_layer_norm(m->cls_norm, m->cls_row, m->ln_post_g, m->ln_post_b, eps));
  TRY(vg_matmul(m->pooled, m->cls_norm, m->proj, NULL));
  return download_tokens(m, c, outs);
}

int vg_clip_batch_limit(const vg_clip *m) {
  if (!m)
    return 1;
  const vg_clip_arch *a = &m->arch;
  /* A device (the CPU backend checks plans too, for BF16, but has no memory limit). */
  const int device = m->be && strcmp(m->be->kind, "cpu") != 0;
  int limit = m->opt.max_batch > 0 ? m->opt.max_batch : device ? 8 : VG_CLIP_CPU_BATCH;
  if (limit > VG_CLIP_BATCH_MAX)
    limit = VG_CLIP_BATCH_MAX;
  /* The largest per-image tensor: an activation [tokens, max(mlp, 3 width)],
   * or the pixels (3 x side x side, as patch rows), larger on narrow models. */
  int64_t cols = a->mlp_width > 3 * a->width ? a->mlp_width : 3 * a->width;
  const int64_t pixels = 3 * (int64_t)a->image_size * a->image_size;
  if (pixels > (int64_t)a->tokens * cols)
    cols = (pixels + a->tokens - 1) / a->tokens;
  if (device) {
    /* A device: as many as its kernels can bind (lavapipe 128 MiB, GPUs
     * usually 4 GiB), so a GPU takes a batch of 32 ViT-L images in one go. */
    while (limit > 1) {
      const vg_tensor_plan widest = {"activation", VG_F32, (int64_t)a->tokens * limit, cols, 0};
      if (vg_backend_check_plan(m->be, &widest, 1) == VG_OK)
        break;
      limit--;
    }
    return limit;
  }
  const int64_t per_image = (int64_t)a->tokens * cols * (int64_t)sizeof(float);
  const int64_t fit = per_image > 0 ? VG_CLIP_BATCH_BYTES / per_image : 1;
  if (limit > fit)
    limit = fit > 0 ? (int)fit : 1;
  return limit;
}

void vg_clip_set_batch_limit(vg_clip *m, int limit) {
  if (!m)
    return;
  m->opt.max_batch = limit > 0 ? limit : 1;
  if (m->cap > vg_clip_batch_limit(m))
    vg_clip_free_image_scratch(m);
}

vg_status vg_clip_encode_images(vg_clip *m, int n, const float *const *inputs,
                                vg_clip_image_out *outs) {
  if (m)
    m->last_images = 0; /* until a forward succeeds, no tokens to read */
  if (!m || n < 0 || (n > 0 && (!inputs || !outs)))
    return vg_fail(VG_ERR_ARG, "encode_images: bad argument");
  if (!m->arch.has_image)
    return vg_fail(VG_ERR_ARG, "encode_image: the image tower was not loaded");
  for (int i = 0; i < n; i++)
    if (!inputs[i])
      return vg_fail(VG_ERR_ARG, "encode_images: image %d has no pixels", i);
  const int limit = vg_clip_batch_limit(m);
  for (int done = 0; done < n;) {
    const int c = n - done < limit ? n - done : limit;
    m->last_images = 0; /* a failed forward leaves no valid tokens */
    if (m->cap < c)     /* grows to the largest chunk seen, then stays */
      TRY(vg_clip_image_scratch(m, c));
    view_rows(m, c);
    vg_status st = forward(m, c, inputs + done, outs + done);
    vg_status sync = vg_backend_synchronize(m->be); /* nothing left pending on error */
    view_rows(m, m->cap);
    TRY(st);
    TRY(sync);
    done += c;
    m->last_images = c;
  }
  return VG_OK;
}

vg_status vg_clip_image_tokens(const vg_clip *m, int b, int layer, int head, const vg_tensor **t,
                               int64_t *first_row) {
  if (!m || !t || !first_row)
    return vg_fail(VG_ERR_ARG, "image_tokens: NULL argument");
  if (b < 0 || b >= m->last_images)
    return vg_fail(VG_ERR_ARG, "image_tokens: image %d is not in the last forward (%d images)", b,
                   m->last_images);
  if (layer < 0 || layer >= m->arch.n_adapters || (head != 0 && head != 1))
    return vg_fail(VG_ERR_ARG, "image_tokens: no adapter %d head %d (%d adapters)", layer, head,
                   m->arch.n_adapters);
  *t = head ? m->det_tok[layer] : m->seg_tok[layer];
  *first_row = (int64_t)b * m->arch.tokens;
  return VG_OK;
}

vg_status vg_clip_encode_image(vg_clip *m, const float *input, vg_clip_image_out *out) {
  if (!m || !input || !out)
    return vg_fail(VG_ERR_ARG, "encode_image: NULL argument");
  return vg_clip_encode_images(m, 1, &input, out);
}

/* The end-of-text token has the largest id (49407 in CLIP's vocabulary). */
static int eot_position(const int32_t *ids, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (ids[i] > ids[best])
      best = i;
  return best;
}

/* Narrows the text scratch to `c` prompts' rows (c <= tcap), `len` tokens each. */
static void view_text_rows(vg_clip *m, int c, int len) {
  const int64_t t = (int64_t)len * c;
  vg_tensor *tok[] = {m->ts.x, m->ts.h, m->ts.qkv, m->ts.attn, m->ts.mlp, m->tpos_rep};
  for (size_t i = 0; i < sizeof tok / sizeof *tok; i++)
    tok[i]->rows = t;
  m->eot_row->rows = m->eot_norm->rows = m->text_out->rows = c;
}

/* Prompts of `len` tokens per text forward: as for images, each activation
 * stays within VG_CLIP_BATCH_BYTES, and at most VG_CLIP_BATCH_MAX prompts go
 * in one: on the CPU, MVFA's 420 prompts (16 tokens) in one forward took
 * twice the CPU time of 7 forwards of 64 (the GEMM over 6720 rows). */
static int text_batch_limit(const vg_clip *m, int len) {
  const vg_clip_arch *a = &m->arch;
  const int64_t cols =
      a->text_mlp_width > 3 * a->text_width ? a->text_mlp_width : 3 * a->text_width;
  const int64_t per_row = (int64_t)len * cols * (int64_t)sizeof(float);
  const int64_t fit = per_row > 0 ? VG_CLIP_BATCH_BYTES / per_row : 1;
  return fit < 1 ? 1 : fit > VG_CLIP_BATCH_MAX ? VG_CLIP_BATCH_MAX : (int)fit;
}

/* c prompts through one causal forward, each attending only within itself,
 * cut to their first `len` tokens: with the causal mask no token before the
 * cut sees one after it, so the end tokens' rows are those of the full context. */
static vg_status encode_rows(vg_clip *m, const int32_t *ids, int c, int len, float *out) {
  const vg_clip_arch *a = &m->arch;
  const float eps = m->opt.ln_eps > 0 ? m->opt.ln_eps : 1e-5f;
  const int ctx = a->context_length;
  vg_clip_scratch *s = &m->ts;
  for (int r = 0; r < c; r++)
    for (int t = 0; t < len; t++)
      TRY(vg_copy_rows(s->x, (int64_t)r * len + t, m->tok_emb, ids[r * ctx + t], 1));
  TRY(vg_add_scaled(s->x, s->x, 1.0f, m->tpos_rep, 1.0f));
  for (int i = 0; i < a->text_layers; i++)
    TRY(block_forward(m, &m->tblocks[i], s, a->text_heads, 1, c));
  /* ln_final is per row, so normalising only the end tokens' rows is the same. */
  for (int r = 0; r < c; r++)
    TRY(vg_copy_rows(m->eot_row, r, s->x, (int64_t)r * len + eot_position(ids + r * ctx, ctx), 1));
  TRY(vg_layer_norm(m->eot_norm, m->eot_row, m->ln_final_g, m->ln_final_b, eps));
  TRY(vg_matmul(m->text_out, m->eot_norm, m->tproj, NULL));
  return vg_tensor_download(m->text_out, out);
}

/* Prompt indices by end-token position (ties in input order). */
typedef struct by_end {
  int end, index;
} by_end;

static int compare_end(const void *a, const void *b) {
  const by_end *x = a, *y = b;
  return x->end != y->end ? (x->end > y->end) - (x->end < y->end) : x->index - y->index;
}

/* The prompts of `order` [0, c) through one forward cut at the last one's
 * end: gathered into `ids_buf`, their features scattered back into out. */
static vg_status encode_chunk(vg_clip *m, const int32_t *ids, const by_end *order, int c,
                              int32_t *ids_buf, float *out_buf, float *out) {
  const vg_clip_arch *a = &m->arch;
  const int len = order[c - 1].end;
  for (int r = 0; r < c; r++)
    memcpy(ids_buf + (size_t)r * a->context_length,
           ids + (size_t)order[r].index * a->context_length,
           sizeof *ids * (size_t)a->context_length);
  TRY(vg_clip_text_positions(m, len));
  view_text_rows(m, c, len);
  m->text_rows += (int64_t)c * len;
  vg_status st = encode_rows(m, ids_buf, c, len, out_buf);
  vg_status sync = vg_backend_synchronize(m->be);
  view_text_rows(m, m->tcap, m->tlen);
  TRY(st);
  TRY(sync);
  for (int r = 0; r < c; r++)
    memcpy(out + (size_t)order[r].index * a->embed_dim, out_buf + (size_t)r * a->embed_dim,
           sizeof *out * (size_t)a->embed_dim);
  return VG_OK;
}

/* The prompts go through in order of length, each forward cut at its own
 * longest prompt's end: MVFA's 420 prompts are 8 to 16 tokens, and one cut
 * for all computed 16 rows for each. */
vg_status vg_clip_encode_text(vg_clip *m, const int32_t *ids, int n, float *out) {
  if (!m || !ids || !out || n < 0)
    return vg_fail(VG_ERR_ARG, "encode_text: bad argument");
  if (!m->arch.has_text)
    return vg_fail(VG_ERR_ARG, "encode_text: the text tower was not loaded");
  const vg_clip_arch *a = &m->arch;
  if (n == 0)
    return VG_OK;
  by_end *order = malloc(sizeof *order * (size_t)n);
  if (!order)
    return vg_fail(VG_ERR_NOMEM, "encode_text: no memory for %d prompts", n);
  int len = 1; /* the longest prompt, to its end token */
  for (int r = 0; r < n; r++) {
    const int32_t *row = ids + (size_t)r * a->context_length;
    for (int t = 0; t < a->context_length; t++)
      if (row[t] < 0 || row[t] >= a->vocab) {
        free(order);
        return vg_fail(VG_ERR_ARG, "encode_text: row %d position %d: token id %d outside 0..%d", r,
                       t, row[t], a->vocab - 1);
      }
    order[r] = (by_end){.end = eot_position(row, a->context_length) + 1, .index = r};
    len = order[r].end > len ? order[r].end : len;
  }
  qsort(order, (size_t)n, sizeof *order, compare_end);
  m->text_rows = 0;
  const int limit = text_batch_limit(m, len), cap = n < limit ? n : limit;
  vg_status s = VG_OK;
  if (m->tcap < cap || m->tlen != len)
    s = vg_clip_text_scratch(m, cap, len);
  int32_t *ids_buf = malloc(sizeof *ids * (size_t)cap * (size_t)a->context_length);
  float *out_buf = malloc(sizeof *out * (size_t)cap * (size_t)a->embed_dim);
  if (s == VG_OK && (!ids_buf || !out_buf))
    s = vg_fail(VG_ERR_NOMEM, "encode_text: no memory for %d prompts", cap);
  for (int done = 0; s == VG_OK && done < n; done += cap) {
    const int c = n - done < cap ? n - done : cap;
    s = encode_chunk(m, ids, order + done, c, ids_buf, out_buf, out);
  }
  free(order), free(ids_buf), free(out_buf);
  return s;
}
