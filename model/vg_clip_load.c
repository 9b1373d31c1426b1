/* Loading CLIP + MVFA adapters: key names, architecture from shapes, and
 * conversion of every tensor into the backend's layout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_clip_internal.h"
#include "vg_cpu_threads.h"
#include "vg_gemm.h"
#include "vg_resize.h"

/* Where each tensor lives under one naming scheme. Stems end in '.' (or '_'
 * for OpenCLIP's in_proj_) and take "weight" / "bias". */
typedef struct naming {
  const char *id;
  const char *patch, *cls, *pos, *ln_pre, *vblocks, *ln_post, *vproj;
  const char *tok, *tpos, *tblocks, *ln_final, *tproj;
  int proj_linear;                   /* projections stored [embed, width] */
  const char *ln1, *ln2, *q, *k, *v; /* k == NULL: q is the packed qkv stem */
  const char *attn_out, *fc1, *fc2;
} naming;

static const naming openclip = {
    .id = "openclip",
    .patch = "visual.conv1.weight",
    .cls = "visual.class_embedding",
    .pos = "visual.positional_embedding",
    .ln_pre = "visual.ln_pre.",
    .vblocks = "visual.transformer.resblocks.",
    .ln_post = "visual.ln_post.",
    .vproj = "visual.proj",
    .tok = "token_embedding.weight",
    .tpos = "positional_embedding",
    .tblocks = "transformer.resblocks.",
    .ln_final = "ln_final.",
    .tproj = "text_projection",
    .proj_linear = 0,
    .ln1 = "ln_1.",
    .ln2 = "ln_2.",
    .q = "attn.in_proj_",
    .attn_out = "attn.out_proj.",
    .fc1 = "mlp.c_fc.",
    .fc2 = "mlp.c_proj.",
};

static const naming hf = {
    .id = "hf",
    .patch = "vision_model.embeddings.patch_embedding.weight",
    .cls = "vision_model.embeddings.class_embedding",
    .pos = "vision_model.embeddings.position_embedding.weight",
    .ln_pre = "vision_model.pre_layrnorm.", /* sic, as transformers spells it */
    .vblocks = "vision_model.encoder.layers.",
    .ln_post = "vision_model.post_layernorm.",
    .vproj = "visual_projection.weight",
    .tok = "text_model.embeddings.token_embedding.weight",
    .tpos = "text_model.embeddings.position_embedding.weight",
    .tblocks = "text_model.encoder.layers.",
    .ln_final = "text_model.final_layer_norm.",
    .tproj = "text_projection.weight",
    .proj_linear = 1,
    .ln1 = "layer_norm1.",
    .ln2 = "layer_norm2.",
    .q = "self_attn.q_proj.",
    .k = "self_attn.k_proj.",
    .v = "self_attn.v_proj.",
    .attn_out = "self_attn.out_proj.",
    .fc1 = "mlp.fc1.",
    .fc2 = "mlp.fc2.",
};

#define VG_CLIP_MAX_TOKENS 4097 /* 64 x 64 patches + CLS */

typedef struct loader {
  const vg_weights *w;
  const naming *nm;
  vg_backend *be; /* NULL: check shapes only */
  int64_t params;
  int borrow; /* vg_clip_options.borrow_weights */
  /* Planning (be NULL): the tensors the load would make, for check_plan. */
  int planning, gather;
  vg_tensor_plan *plan;
  size_t nplan, cap;
} loader;

/* Records a tensor the load will make; names are copied. */
static vg_status plan_add(loader *L, const char *name, int64_t rows, int64_t cols, vg_dtype dt) {
  if (!L->planning)
    return VG_OK;
  if (L->nplan == L->cap) {
    size_t cap = L->cap ? 2 * L->cap : 256;
    vg_tensor_plan *p = realloc(L->plan, cap * sizeof *p);
    if (!p)
      return vg_fail(VG_ERR_NOMEM, "out of memory planning the model");
    L->plan = p;
    L->cap = cap;
  }
  char *copy = strdup(name);
  if (!copy)
    return vg_fail(VG_ERR_NOMEM, "out of memory planning the model");
  L->plan[L->nplan++] = (vg_tensor_plan){copy, dt, rows, cols, L->gather};
  return VG_OK;
}

static const char *name_of(char *buf, size_t size, const char *a, const char *b, const char *c) {
  snprintf(buf, size, "%s%s%s", a, b ? b : "", c ? c : "");
  return buf;
}

/* Checks that `name` has shape d0 (x d1 when ndim 2) and counts its parameters. */
static vg_status want(loader *L, const char *name, int ndim, int64_t d0, int64_t d1,
                      const vg_weight **out) {
  const int64_t shape[2] = {d0, d1};
  vg_status s = vg_weight_expect(L->w, name, ndim, shape, out);
  if (s == VG_OK)
    L->params += vg_weight_numel(*out);
  return s;
}

typedef struct round_job {
  const float *src;
  uint16_t *dst;
  size_t n;
  vg_dtype dt;
} round_job;

static void round_share(void *ctx, int t, int n) {
  const round_job *j = ctx;
  const size_t end = j->n * (size_t)(t + 1) / (size_t)n;
  for (size_t i = j->n * (size_t)t / (size_t)n; i < end; i++)
    j->dst[i] = j->dt == VG_F16 ? vg_f32_to_f16(j->src[i]) : vg_f32_to_bf16(j->src[i]);
}

/* dst = src rounded to F16 or BF16, on every core for big tensors: a BF16
 * ViT-L/14 rounds 300M values at each load. */
static void round_16(const float *src, uint16_t *dst, size_t n, vg_dtype dt) {
  round_job j = {.src = src, .dst = dst, .n = n, .dt = dt};
  vg_parallel(n < ((size_t)1 << 18) ? 1 : vg_cpu_physical_cores(), round_share, &j);
}

/* Puts rows x cols floats on the backend as `dt` (F16 and BF16 round them here). */
static vg_status put(loader *L, const float *data, int64_t rows, int64_t cols, vg_dtype dt,
                     vg_tensor **out) {
  vg_tensor *t = vg_tensor_new(L->be, dt, rows, cols);
  if (!t)
    return VG_ERR_NOMEM;
  vg_status s;
  if (dt == VG_F16 || dt == VG_BF16) {
    const size_t n = (size_t)rows * (size_t)cols;
    uint16_t *h = malloc(n * sizeof *h);
    if (!h) {
      vg_tensor_free(t);
      return vg_fail(VG_ERR_NOMEM, "out of memory converting weights to %s",
                     dt == VG_F16 ? "F16" : "BF16");
    }
    round_16(data, h, n, dt);
    s = vg_tensor_upload(t, h);
    free(h);
  } else {
    s = vg_tensor_upload(t, data);
  }
  if (s != VG_OK)
    vg_tensor_free(t);
  else
    *out = t;
  return s;
}

/* An F32 tensor used where it lies (L->borrow: the caller keeps the weights). */
static vg_status wrap(loader *L, const vg_weight *t, int64_t rows, int64_t cols, vg_tensor **out) {
  *out = vg_tensor_wrap(L->be, VG_F32, rows, cols, t->data);
  return *out ? VG_OK : vg_fail(VG_ERR_NOMEM, "cannot load '%s': %s", t->name, vg_last_error());
}

/* Loads one checked tensor as rows x cols (its data reshaped, or transposed
 * from cols x rows when `transpose`). Does nothing in check-only mode. */
static vg_status load(loader *L, const vg_weight *t, int64_t rows, int64_t cols, int transpose,
                      vg_dtype dt, vg_tensor **out) {
  if (!L->be)
    return plan_add(L, t->name, rows, cols, dt);
  if (!transpose && t->dtype == VG_W_F32) /* straight from the file: no copy of the whole */
    return L->borrow && dt == VG_F32 ? wrap(L, t, rows, cols, out)
                                     : put(L, t->data, rows, cols, dt, out);
  const size_t n = (size_t)rows * (size_t)cols;
  float *f = malloc(n * sizeof *f), *tr = transpose ? malloc(n * sizeof *tr) : NULL;
  if (!f || (transpose && !tr)) {
    free(f), free(tr);
    return vg_fail(VG_ERR_NOMEM, "out of memory loading '%s'", t->name);
  }
  vg_weight_to_f32(t, f);
  if (transpose)
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < cols; c++)
        tr[r * cols + c] = f[c * rows + r];
  vg_status s = put(L, transpose ? tr : f, rows, cols, dt, out);
  free(f), free(tr);
  return s;
}

/* A vector [n] (LayerNorm gain, bias, class embedding) as [1, n]. */
static vg_status vec(loader *L, const char *name, int64_t n, vg_tensor **out) {
  const vg_weight *t;
  vg_status s = want(L, name, 1, n, 0, &t);
  return s != VG_OK ? s : load(L, t, 1, n, 0, VG_F32, out);
}

/* A Linear layer's weight [rows, cols] and, when `bias` is given, its bias. */
static vg_status linear(loader *L, const char *stem, int64_t rows, int64_t cols, vg_dtype dt,
                        vg_tensor **w, vg_tensor **bias) {
  char name[256];
  const vg_weight *t;
  vg_status s = want(L, name_of(name, sizeof name, stem, "weight", NULL), 2, rows, cols, &t);
  if (s == VG_OK)
    s = load(L, t, rows, cols, 0, dt, w);
  if (s == VG_OK && bias)
    s = vec(L, name_of(name, sizeof name, stem, "bias", NULL), rows, bias);
  return s;
}

/* Hugging Face keeps q, k and v apart; the attention op wants them packed. */
static vg_status packed_qkv(loader *L, const char *prefix, int64_t width, vg_dtype dt,
                            vg_clip_block *b) {
  const char *stems[3] = {L->nm->q, L->nm->k, L->nm->v};
  const vg_weight *w[3], *bias[3];
  char name[256];
  for (int i = 0; i < 3; i++) {
    vg_status s =
        want(L, name_of(name, sizeof name, prefix, stems[i], "weight"), 2, width, width, &w[i]);
    if (s == VG_OK)
      s = want(L, name_of(name, sizeof name, prefix, stems[i], "bias"), 1, width, 0, &bias[i]);
    if (s != VG_OK)
      return s;
  }
  if (!L->be) {
    vg_status s = plan_add(L, name_of(name, sizeof name, prefix, "q, k, v weights", NULL),
                           3 * width, width, dt);
    return s == VG_OK ? plan_add(L, name_of(name, sizeof name, prefix, "q, k, v biases", NULL), 1,
                                 3 * width, VG_F32)
                      : s;
  }
  const size_t n = (size_t)width * (size_t)width;
  float *wf = malloc(3 * n * sizeof *wf), *bf = malloc(3 * (size_t)width * sizeof *bf);
  vg_status s = wf && bf ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory packing q, k, v");
  for (int i = 0; s == VG_OK && i < 3; i++) {
    vg_weight_to_f32(w[i], wf + i * n);
    vg_weight_to_f32(bias[i], bf + i * (size_t)width);
  }
  if (s == VG_OK)
    s = put(L, wf, 3 * width, width, dt, &b->qkv_w);
  if (s == VG_OK)
    s = put(L, bf, 1, 3 * width, VG_F32, &b->qkv_b);
  free(wf), free(bf);
  return s;
}

static vg_status block(loader *L, const char *tower, int index, int64_t width, int64_t mlp,
                       vg_dtype dt, vg_clip_block *b) {
  const naming *nm = L->nm;
  char prefix[128], name[256];
  snprintf(prefix, sizeof prefix, "%s%d.", tower, index);
  vg_status s = vec(L, name_of(name, sizeof name, prefix, nm->ln1, "weight"), width, &b->ln1_g);
  if (s == VG_OK)
    s = vec(L, name_of(name, sizeof name, prefix, nm->ln1, "bias"), width, &b->ln1_b);
  if (s == VG_OK)
    s = nm->k ? packed_qkv(L, prefix, width, dt, b)
              : linear(L, name_of(name, sizeof name, prefix, nm->q, NULL), 3 * width, width, dt,
                       &b->qkv_w, &b->qkv_b);
  if (s == VG_OK)
    s = linear(L, name_of(name, sizeof name, prefix, nm->attn_out, NULL), width, width, dt,
               &b->out_w, &b->out_b);
  if (s == VG_OK)
    s = vec(L, name_of(name, sizeof name, prefix, nm->ln2, "weight"), width, &b->ln2_g);
  if (s == VG_OK)
    s = vec(L, name_of(name, sizeof name, prefix, nm->ln2, "bias"), width, &b->ln2_b);
  if (s == VG_OK)
    s = linear(L, name_of(name, sizeof name, prefix, nm->fc1, NULL), mlp, width, dt, &b->fc1_w,
               &b->fc1_b);
  if (s == VG_OK)
    s = linear(L, name_of(name, sizeof name, prefix, nm->fc2, NULL), width, mlp, dt, &b->fc2_w,
               &b->fc2_b);
  return s;
}

/* A block, then the file pages it read dropped from the process where the
 * backend keeps copies (16-bit weights, or a device): otherwise a BF16 load
 * held every F32 page it had read beside the BF16 copies, 1.9 GB at its
 * peak for ViT-L/14. F32 weights used in place keep theirs. */
static vg_status block_then_drop(loader *L, const char *tower, int index, int64_t width,
                                 int64_t mlp, vg_dtype dt, vg_clip_block *b) {
  vg_status s = block(L, tower, index, width, mlp, dt, b);
  if (s == VG_OK && L->be && (dt != VG_F32 || !L->borrow))
    vg_weights_evict(L->w);
  return s;
}

/* Blocks are numbered from 0; the first missing LayerNorm ends the count. */
static int count_blocks(const loader *L, const char *tower) {
  char name[256];
  int n = 0;
  while (n < 1000) {
    snprintf(name, sizeof name, "%s%d.%sweight", tower, n, L->nm->ln1);
    if (!vg_weights_find(L->w, name))
      break;
    n++;
  }
  return n;
}

static vg_status shape_of(const loader *L, const char *name, int ndim, const vg_weight **out) {
  *out = vg_weights_find(L->w, name);
  if (!*out)
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' is missing (%s naming)", name, L->nm->id);
  if ((*out)->ndim != ndim)
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' has %d dimensions, expected %d", name, (*out)->ndim,
                   ndim);
  return VG_OK;
}

static vg_status heads_of(const char *tower, int width, int *heads) {
  if (width <= 0 || width % 64 != 0)
    return vg_fail(VG_ERR_FORMAT, "%s width %d is not a multiple of 64 (heads = width / 64)", tower,
                   width);
  *heads = width / 64;
  return VG_OK;
}

static int isqrt_exact(int64_t n) {
  int64_t r = (int64_t)llround(sqrt((double)n));
  return r * r == n ? (int)r : -1;
}

/* The image tower's sizes, from conv1, the position table, block 0 and proj. */
static vg_status image_arch(const loader *L, int image_size, vg_clip_arch *a) {
  const vg_weight *t;
  vg_status s = shape_of(L, L->nm->patch, 4, &t);
  if (s != VG_OK)
    return s;
  if (t->shape[1] != 3 || t->shape[2] != t->shape[3] || t->shape[2] <= 0 || t->shape[0] > 65536)
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' is not an RGB square patch kernel", t->name);
  a->width = (int)t->shape[0];
  a->patch = (int)t->shape[2];
  if ((s = heads_of("vision", a->width, &a->heads)) != VG_OK)
    return s;
  if ((s = shape_of(L, L->nm->pos, 2, &t)) != VG_OK)
    return s;
  a->pos_grid = isqrt_exact(t->shape[0] - 1);
  if (a->pos_grid <= 0 || a->pos_grid > 1024)
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' has %lld rows, not a square grid + 1", t->name,
                   (long long)t->shape[0]);
  a->image_size = image_size;
  a->grid = image_size / a->patch; /* a strided conv drops the remainder */
  if (a->grid < 1 || a->grid > 1024)
    return vg_fail(VG_ERR_ARG, "image size %d does not fit patch %d", image_size, a->patch);
  a->tokens = a->grid * a->grid + 1;
  if (a->tokens > VG_CLIP_MAX_TOKENS) /* attention keeps a tokens^2 block per thread */
    return vg_fail(VG_ERR_UNSUPPORTED, "%d tokens (patch %d at %d px) is more than %d", a->tokens,
                   a->patch, image_size, VG_CLIP_MAX_TOKENS);
  a->layers = count_blocks(L, L->nm->vblocks);
  if (a->layers == 0)
    return vg_fail(VG_ERR_FORMAT, "no vision blocks ('%s0.%sweight' is missing)", L->nm->vblocks,
                   L->nm->ln1);
  char name[256];
  snprintf(name, sizeof name, "%s0.%sweight", L->nm->vblocks, L->nm->fc1);
  if ((s = shape_of(L, name, 2, &t)) != VG_OK)
    return s;
  a->mlp_width = (int)t->shape[0];
  if ((s = shape_of(L, L->nm->vproj, 2, &t)) != VG_OK)
    return s;
  a->embed_dim = (int)t->shape[L->nm->proj_linear ? 0 : 1];
  return VG_OK;
}

static vg_status text_arch(const loader *L, vg_clip_arch *a) {
  const vg_weight *t;
  vg_status s = shape_of(L, L->nm->tok, 2, &t);
  if (s != VG_OK)
    return s;
  a->vocab = (int)t->shape[0];
  a->text_width = (int)t->shape[1];
  if ((s = heads_of("text", a->text_width, &a->text_heads)) != VG_OK)
    return s;
  if ((s = shape_of(L, L->nm->tpos, 2, &t)) != VG_OK)
    return s;
  a->context_length = (int)t->shape[0];
  if (a->context_length < 1 || a->context_length > 4096)
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' has %lld positions", t->name,
                   (long long)t->shape[0]);
  a->text_layers = count_blocks(L, L->nm->tblocks);
  if (a->text_layers == 0)
    return vg_fail(VG_ERR_FORMAT, "no text blocks ('%s0.%sweight' is missing)", L->nm->tblocks,
                   L->nm->ln1);
  char name[256];
  snprintf(name, sizeof name, "%s0.%sweight", L->nm->tblocks, L->nm->fc1);
  if ((s = shape_of(L, name, 2, &t)) != VG_OK)
    return s;
  a->text_mlp_width = (int)t->shape[0];
  if ((s = shape_of(L, L->nm->tproj, 2, &t)) != VG_OK)
    return s;
  const int embed = (int)t->shape[L->nm->proj_linear ? 0 : 1];
  if (a->has_image && embed != a->embed_dim)
    return vg_fail(VG_ERR_FORMAT, "'%s' projects to %d, but the image tower to %d", t->name, embed,
                   a->embed_dim);
  a->embed_dim = embed;
  return VG_OK;
}

/* Adapter count and size from the keys; where they go from the options. */
static vg_status adapter_arch(const vg_weights *ad, const vg_clip_options *o, vg_clip_arch *a) {
  char name[64];
  int n = 0;
  for (; n < VG_CLIP_MAX_ADAPTERS + 1; n++) {
    snprintf(name, sizeof name, "seg_adapters.%d.fc1.0.weight", n);
    if (!vg_weights_find(ad, name))
      break;
  }
  if (n == 0)
    return vg_fail(VG_ERR_FORMAT, "adapter file has no 'seg_adapters.0.fc1.0.weight'");
  if (n > VG_CLIP_MAX_ADAPTERS)
    return vg_fail(VG_ERR_FORMAT, "more than %d adapters", VG_CLIP_MAX_ADAPTERS);
  const vg_weight *t = vg_weights_find(ad, "seg_adapters.0.fc1.0.weight");
  if (t->ndim != 2)
    return vg_fail(VG_ERR_FORMAT, "tensor '%s' is not a matrix", t->name);
  a->n_adapters = n;
  a->adapter_dim = (int)t->shape[0];
  int explicit_layers = 0;
  for (int i = 0; i < VG_CLIP_MAX_ADAPTERS; i++)
    explicit_layers |= o->adapter_layers[i] != 0;
  if (!explicit_layers && a->layers % n != 0)
    return vg_fail(VG_ERR_ARG,
                   "%d adapters cannot be evenly spaced over %d blocks; give "
                   "adapter_layers",
                   n, a->layers);
  for (int i = 0; i < n; i++) {
    a->adapter_layers[i] = explicit_layers ? o->adapter_layers[i] : a->layers / n * (i + 1);
    const int prev = i ? a->adapter_layers[i - 1] : 0;
    if (a->adapter_layers[i] <= prev || a->adapter_layers[i] > a->layers)
      return vg_fail(VG_ERR_ARG, "adapter %d at block %d: blocks must rise within 1..%d", i,
                     a->adapter_layers[i], a->layers);
  }
  return VG_OK;
}

static vg_status detect_into(loader *L, const vg_weights *clip, const vg_weights *adapters,
                             const vg_clip_options *o, vg_clip_arch *a) {
  memset(a, 0, sizeof *a);
  if (!clip)
    return vg_fail(VG_ERR_ARG, "no CLIP weights");
  L->w = clip;
  if (vg_weights_find(clip, openclip.patch) || vg_weights_find(clip, openclip.tok))
    L->nm = &openclip;
  else if (vg_weights_find(clip, hf.patch) || vg_weights_find(clip, hf.tok))
    L->nm = &hf;
  else
    return vg_fail(VG_ERR_FORMAT,
                   "not a CLIP checkpoint: neither '%s' (OpenCLIP) nor '%s' "
                   "(Hugging Face) is present",
                   openclip.patch, hf.patch);
  a->naming = L->nm->id;
  const unsigned towers = o->towers ? o->towers : VG_CLIP_IMAGE | VG_CLIP_TEXT;
  a->has_image = (towers & VG_CLIP_IMAGE) != 0;
  a->has_text = (towers & VG_CLIP_TEXT) != 0;
  vg_status s = VG_OK;
  if (a->has_image)
    s = image_arch(L, o->image_size ? o->image_size : 240, a);
  if (s == VG_OK && a->has_text)
    s = text_arch(L, a);
  if (s == VG_OK && adapters && a->has_image)
    s = adapter_arch(adapters, o, a);
  char name[256];
  snprintf(name, sizeof name, "%s0.%sweight", a->has_image ? L->nm->vblocks : L->nm->tblocks,
           L->nm->q);
  const vg_weight *t = vg_weights_find(clip, name);
  a->dtype = t ? t->dtype : VG_W_F32;
  a->run_dtype = o->matmul_dtype == VG_F16 || o->matmul_dtype == VG_BF16 ? o->matmul_dtype : VG_F32;
  return s;
}

/* MVFA's resize_pos_embed (CLIP/model.py): the CLS row kept, the g0 x g0
 * grid resized to g x g by PyTorch's antialiased bicubic. */
static vg_status load_positions(loader *L, const vg_weight *t, int w, int g0, int g,
                                vg_tensor **out) {
  float *src = malloc(((size_t)g0 * g0 + 1) * w * sizeof *src);
  float *dst = malloc(((size_t)g * g + 1) * w * sizeof *dst);
  vg_status s = src && dst ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory for positions");
  if (s == VG_OK) {
    vg_weight_to_f32(t, src);
    memcpy(dst, src, (size_t)w * sizeof *dst);
    if (g == g0)
      memcpy(dst + w, src + w, (size_t)g * g * w * sizeof *dst);
    else
      s = vg_resize_bicubic_aa(src + w, g0, g0, w, dst + w, g, g);
  }
  if (s == VG_OK)
    s = put(L, dst, (int64_t)g * g + 1, w, VG_F32, out);
  free(src), free(dst);
  return s;
}

/* Image tower tensors: patch kernel, class + resized positions, blocks, proj. */
static vg_status load_image(loader *L, vg_clip *m) {
  const vg_clip_arch *a = &m->arch;
  const int w = a->width, p = a->patch, g0 = a->pos_grid, g = a->grid;
  const vg_weight *t;
  const int64_t kernel[4] = {w, 3, p, p};
  vg_status s = vg_weight_expect(L->w, L->nm->patch, 4, kernel, &t);
  L->params += (int64_t)w * 3 * p * p;
  if (s == VG_OK)
    s = load(L, t, w, 3 * p * p, 0, VG_F32, &m->patch_w);
  if (s == VG_OK)
    s = vec(L, L->nm->cls, w, &m->cls);
  if (s == VG_OK)
    s = want(L, L->nm->pos, 2, (int64_t)g0 * g0 + 1, w, &t);
  if (s == VG_OK && L->be)
    s = load_positions(L, t, w, g0, g, &m->pos);
  else if (s == VG_OK)
    s = plan_add(L, t->name, (int64_t)g * g + 1, w, VG_F32);
  char name[256];
  if (s == VG_OK)
    s = vec(L, name_of(name, sizeof name, L->nm->ln_pre, "weight", NULL), w, &m->ln_pre_g);
  if (s == VG_OK)
    s = vec(L, name_of(name, sizeof name, L->nm->ln_pre, "bias", NULL), w, &m->ln_pre_b);
  for (int i = 0; s == VG_OK && i < a->layers; i++)
    s = block_then_drop(L, L->nm->vblocks, i, w, a->mlp_width, a->run_dtype, &m->vblocks[i]);
  if (s == VG_OK)
    s = vec(L, name_of(name, sizeof name, L->nm->ln_post, "weight", NULL), w, &m->ln_post_g);
  if (s == VG_OK)
    s = vec(L, name_of(name, sizeof name, L->nm->ln_post, "bias", NULL), w, &m->ln_post_b);
  const int lin = L->nm->proj_linear;
  if (s == VG_OK)
    s = want(L, L->nm->vproj, 2, lin ? a->embed_dim : w, lin ? w : a->embed_dim, &t);
  if (s == VG_OK)
    s = load(L, t, a->embed_dim, w, !lin, VG_F32, &m->proj);
  return s;
}

static vg_status load_adapters(loader *L, vg_clip *m) {
  const vg_clip_arch *a = &m->arch;
  static const char *kinds[2] = {"seg_adapters", "det_adapters"};
  char name[64];
  vg_status s = VG_OK;
  for (int k = 0; k < 2; k++)
    for (int i = 0; s == VG_OK && i < a->n_adapters; i++) {
      vg_clip_adapter *ad = k ? &m->det[i] : &m->seg[i];
      snprintf(name, sizeof name, "%s.%d.fc1.0.", kinds[k], i);
      s = linear(L, name, a->adapter_dim, a->width, VG_F32, &ad->fc1, NULL);
      snprintf(name, sizeof name, "%s.%d.fc2.0.", kinds[k], i);
      if (s == VG_OK)
        s = linear(L, name, a->width, a->adapter_dim, VG_F32, &ad->fc2, NULL);
    }
  return s;
}

static vg_status load_text(loader *L, vg_clip *m) {
  const vg_clip_arch *a = &m->arch;
  const int w = a->text_width;
  const vg_weight *t;
  vg_status s = want(L, L->nm->tok, 2, a->vocab, w, &t);
  L->gather = 1; /* only read by copy_rows: may exceed a storage buffer */
  if (s == VG_OK)
    s = load(L, t, a->vocab, w, 0, VG_F32, &m->tok_emb);
  L->gather = 0;
  if (s == VG_OK)
    s = want(L, L->nm->tpos, 2, a->context_length, w, &t);
  if (s == VG_OK)
    s = load(L, t, a->context_length, w, 0, VG_F32, &m->tpos);
  for (int i = 0; s == VG_OK && i < a->text_layers; i++)
    s = block_then_drop(L, L->nm->tblocks, i, w, a->text_mlp_width, a->run_dtype, &m->tblocks[i]);
  char name[256];
  if (s == VG_OK)
    s = vec(L, name_of(name, sizeof name, L->nm->ln_final, "weight", NULL), w, &m->ln_final_g);
  if (s == VG_OK)
    s = vec(L, name_of(name, sizeof name, L->nm->ln_final, "bias", NULL), w, &m->ln_final_b);
  const int lin = L->nm->proj_linear;
  if (s == VG_OK)
    s = want(L, L->nm->tproj, 2, lin ? a->embed_dim : w, lin ? w : a->embed_dim, &t);
  if (s == VG_OK)
    s = load(L, t, a->embed_dim, w, !lin, VG_F32, &m->tproj);
  return s;
}

/* Loads (or, with no backend, only checks) everything the arch asks for. */
static vg_status load_all(loader *L, const vg_weights *clip, const vg_weights *adapters,
                          vg_clip *m) {
  vg_status s = VG_OK;
  L->w = clip;
  if (m->arch.has_image)
    s = load_image(L, m);
  if (s == VG_OK && m->arch.n_adapters) {
    L->w = adapters;
    s = load_adapters(L, m);
    L->w = clip;
  }
  if (s == VG_OK && m->arch.has_text)
    s = load_text(L, m);
  m->arch.params = L->params;
  return s;
}

static vg_status scratch(vg_clip *m);
static void free_scratch(vg_clip_scratch *sc);
static vg_status plan_scratch(loader *L, const vg_clip_arch *a);

/* Lists every tensor the load would make and asks the backend whether they
 * fit, before anything is converted or uploaded. */
static vg_status check_fits(const loader *L0, const vg_weights *clip, const vg_weights *adapters,
                            vg_clip *m, vg_backend *be) {
  if (!be->ops->check_plan)
    return VG_OK;
  loader P = {.nm = L0->nm, .planning = 1};
  vg_status s = load_all(&P, clip, adapters, m);
  if (s == VG_OK)
    s = plan_scratch(&P, &m->arch);
  if (s == VG_OK)
    s = vg_backend_check_plan(be, P.plan, P.nplan);
  for (size_t i = 0; i < P.nplan; i++)
    free((char *)P.plan[i].name);
  free(P.plan);
  return s;
}

static vg_status load_model(const vg_weights *clip, const vg_weights *adapters,
                            const vg_clip_options *options, vg_backend *be, vg_clip **out) {
  vg_clip_options o = options ? *options : (vg_clip_options){0};
  loader L = {.be = be, .borrow = o.borrow_weights};
  vg_clip *m = calloc(1, sizeof *m);
  if (!m)
    return vg_fail(VG_ERR_NOMEM, "out of memory for a CLIP model");
  m->be = be;
  m->opt = o;
  vg_status s = detect_into(&L, clip, adapters, &o, &m->arch);
  if (s == VG_OK) {
    m->vblocks = calloc((size_t)m->arch.layers + 1, sizeof *m->vblocks);
    m->tblocks = calloc((size_t)m->arch.text_layers + 1, sizeof *m->tblocks);
    s = m->vblocks && m->tblocks ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory for blocks");
  }
  if (s == VG_OK && be)
    s = check_fits(&L, clip, adapters, m, be);
  if (s == VG_OK)
    s = load_all(&L, clip, adapters, m);
  if (s == VG_OK && be)
    s = scratch(m);
  if (s != VG_OK || !out) {
    vg_clip_free(m);
    return s;
  }
  *out = m;
  return VG_OK;
}

/* Activations for one tower of `tokens` rows. */
static vg_status scratch_tower(vg_backend *be, int64_t tokens, int64_t width, int64_t mlp,
                               vg_clip_scratch *sc) {
  sc->x = vg_tensor_new(be, VG_F32, tokens, width);
  sc->h = vg_tensor_new(be, VG_F32, tokens, width);
  sc->qkv = vg_tensor_new(be, VG_F32, tokens, 3 * width);
  sc->attn = vg_tensor_new(be, VG_F32, tokens, width);
  sc->mlp = vg_tensor_new(be, VG_F32, tokens, mlp);
  return sc->x && sc->h && sc->qkv && sc->attn && sc->mlp ? VG_OK : VG_ERR_NOMEM;
}

/* The activations scratch() makes, for the plan. */
static vg_status plan_scratch(loader *L, const vg_clip_arch *a) {
  vg_status s = VG_OK;
  const int64_t np = (int64_t)a->grid * a->grid;
  const struct {
    const char *name;
    int on;
    int64_t rows, cols, count;
  } acts[] = {
      {"image pixels", a->has_image, 3LL * a->image_size, a->image_size, 1},
      {"image patches", a->has_image, np, 3LL * a->patch * a->patch, 1},
      {"image activations", a->has_image, a->tokens, a->width, 5}, /* x, h, attn, adapter, pos */
      {"image q, k, v", a->has_image, a->tokens, 3LL * a->width, 1},
      {"image MLP activations", a->has_image, a->tokens, a->mlp_width, 1},
      {"adapter outputs", a->has_image, a->tokens, a->adapter_dim, 2LL * a->n_adapters},
      {"text activations", a->has_text, a->context_length, a->text_width, 5}, /* with pos */
      {"text q, k, v", a->has_text, a->context_length, 3LL * a->text_width, 1},
      {"text MLP activations", a->has_text, a->context_length, a->text_mlp_width, 1},
  };
  for (size_t i = 0; s == VG_OK && i < sizeof acts / sizeof *acts; i++)
    for (int64_t k = 0; s == VG_OK && acts[i].on && k < acts[i].count; k++)
      s = plan_add(L, acts[i].name, acts[i].rows, acts[i].cols, VG_F32);
  return s;
}

void vg_clip_free_image_scratch(vg_clip *m) {
  vg_tensor *all[] = {m->images,  m->patches,  m->emb,    m->adapt_out,
                      m->cls_row, m->cls_norm, m->pooled, m->pos_rep};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    vg_tensor_free(all[i]);
  m->images = m->patches = m->emb = m->adapt_out = NULL;
  m->cls_row = m->cls_norm = m->pooled = m->pos_rep = NULL;
  for (int i = 0; i < VG_CLIP_MAX_ADAPTERS; i++) {
    vg_tensor_free(m->seg_tok[i]), vg_tensor_free(m->det_tok[i]);
    m->seg_tok[i] = m->det_tok[i] = NULL;
  }
  free_scratch(&m->vs);
  m->vs = (vg_clip_scratch){0};
  free(m->host_images), free(m->host_out);
  m->host_images = m->host_out = NULL;
  m->cap = 0;
}

/* dst[b * rows + i, :] = src[i, :] for b < cap: a position table per sequence. */
static vg_status repeat_rows(vg_tensor *dst, const vg_tensor *src, int64_t rows, int cap) {
  vg_status s = VG_OK;
  for (int b = 0; s == VG_OK && b < cap; b++)
    s = vg_copy_rows(dst, (int64_t)b * rows, src, 0, rows);
  return s;
}

/* Frees half-made scratch and fails with the first reason (freeing may
 * overwrite vg_last_error, so it is kept first). */
static vg_status scratch_failed(vg_clip *m, void (*release)(vg_clip *), vg_status s, int cap,
                                const char *what) {
  char why[256];
  snprintf(why, sizeof why, "%s", vg_last_error());
  release(m);
  return vg_fail(s, "no memory for the activations of %d %s: %s", cap, what,
                 *why ? why : "out of memory");
}

vg_status vg_clip_image_scratch(vg_clip *m, int cap) {
  const vg_clip_arch *a = &m->arch;
  vg_backend *be = m->be;
  vg_clip_free_image_scratch(m);
  const int64_t np = (int64_t)a->grid * a->grid * cap, k = 3LL * a->patch * a->patch;
  const int64_t t = (int64_t)a->tokens * cap;
  /* Downloads of a batch: pooled, then every adapter's seg and det tokens. */
  const int64_t out = cap * (int64_t)a->embed_dim + 2LL * a->n_adapters * t * a->adapter_dim;
  const int64_t pixel_rows = 3LL * a->image_size * cap;
  m->host_images = malloc((size_t)(pixel_rows * a->image_size) * sizeof *m->host_images);
  m->host_out = malloc((size_t)out * sizeof *m->host_out);
  m->images = vg_tensor_new(be, VG_F32, pixel_rows, a->image_size);
  m->patches = vg_tensor_new(be, VG_F32, np, k);
  m->emb = vg_tensor_new(be, VG_F32, np, a->width);
  m->adapt_out = vg_tensor_new(be, VG_F32, t, a->width);
  m->pos_rep = vg_tensor_new(be, VG_F32, t, a->width);
  m->cls_row = vg_tensor_new(be, VG_F32, cap, a->width);
  m->cls_norm = vg_tensor_new(be, VG_F32, cap, a->width);
  m->pooled = vg_tensor_new(be, VG_F32, cap, a->embed_dim);
  vg_status s = scratch_tower(be, t, a->width, a->mlp_width, &m->vs);
  if (!m->host_images || !m->host_out || !m->images || !m->patches || !m->emb || !m->adapt_out ||
      !m->pos_rep || !m->cls_row || !m->cls_norm || !m->pooled)
    s = VG_ERR_NOMEM;
  for (int i = 0; s == VG_OK && i < a->n_adapters; i++) {
    m->seg_tok[i] = vg_tensor_new(be, VG_F32, t, a->adapter_dim);
    m->det_tok[i] = vg_tensor_new(be, VG_F32, t, a->adapter_dim);
    s = m->seg_tok[i] && m->det_tok[i] ? VG_OK : VG_ERR_NOMEM;
  }
  if (s == VG_OK) /* the position table, once per image */
    s = repeat_rows(m->pos_rep, m->pos, a->tokens, cap);
  if (s != VG_OK)
    return scratch_failed(m, vg_clip_free_image_scratch, s, cap, "image(s)");
  m->cap = cap;
  return VG_OK;
}

static void free_text_scratch(vg_clip *m) {
  vg_tensor *all[] = {m->tpos_rep, m->eot_row, m->eot_norm, m->text_out};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    vg_tensor_free(all[i]);
  m->tpos_rep = m->eot_row = m->eot_norm = m->text_out = NULL;
  free_scratch(&m->ts);
  m->ts = (vg_clip_scratch){0};
  m->tcap = m->tlen = m->tpos_len = 0;
}

vg_status vg_clip_text_scratch(vg_clip *m, int cap, int len) {
  const vg_clip_arch *a = &m->arch;
  vg_backend *be = m->be;
  free_text_scratch(m);
  const int64_t t = (int64_t)len * cap;
  vg_status s = scratch_tower(be, t, a->text_width, a->text_mlp_width, &m->ts);
  m->tpos_rep = vg_tensor_new(be, VG_F32, t, a->text_width);
  m->eot_row = vg_tensor_new(be, VG_F32, cap, a->text_width);
  m->eot_norm = vg_tensor_new(be, VG_F32, cap, a->text_width);
  m->text_out = vg_tensor_new(be, VG_F32, cap, a->embed_dim);
  if (!m->tpos_rep || !m->eot_row || !m->eot_norm || !m->text_out)
    s = VG_ERR_NOMEM;
  if (s == VG_OK) /* the position table, once per prompt */
    s = repeat_rows(m->tpos_rep, m->tpos, len, cap);
  if (s != VG_OK)
    return scratch_failed(m, free_text_scratch, s, cap, "prompt(s)");
  m->tcap = cap;
  m->tlen = m->tpos_len = len;
  return VG_OK;
}

vg_status vg_clip_text_positions(vg_clip *m, int len) {
  if (len > m->tlen)
    return vg_fail(VG_ERR_ARG, "text positions: %d tokens in scratch for %d", len, m->tlen);
  vg_status s = len == m->tpos_len ? VG_OK : repeat_rows(m->tpos_rep, m->tpos, len, m->tcap);
  m->tpos_len = s == VG_OK ? len : 0; /* 0: laid out for nothing (a copy failed) */
  return s;
}

static vg_status scratch(vg_clip *m) {
  const vg_clip_arch *a = &m->arch;
  vg_status s = VG_OK;
  if (a->has_image)
    s = vg_clip_image_scratch(m, 1);
  if (s == VG_OK && a->has_text)
    s = vg_clip_text_scratch(m, 1, a->context_length);
  if (s == VG_ERR_NOMEM && !*vg_last_error())
    vg_fail(s, "out of memory for activations");
  return s;
}

vg_status vg_clip_detect(const vg_weights *clip, const vg_weights *adapters,
                         const vg_clip_options *options, vg_clip_arch *out) {
  if (!out)
    return vg_fail(VG_ERR_ARG, "vg_clip_detect: no output");
  vg_clip *m = NULL;
  vg_clip_options o = options ? *options : (vg_clip_options){0};
  vg_status s = load_model(clip, adapters, &o, NULL, &m);
  if (s == VG_OK) {
    *out = m->arch;
    vg_clip_free(m);
  }
  return s;
}

vg_status vg_clip_load(const vg_weights *clip, const vg_weights *adapters,
                       const vg_clip_options *options, vg_backend *be, vg_clip **out) {
  if (!be || !out)
    return vg_fail(VG_ERR_ARG, "vg_clip_load: no backend or output");
  *out = NULL;
  return load_model(clip, adapters, options, be, out);
}

static void free_block(vg_clip_block *b) {
  vg_tensor *all[] = {b->ln1_g, b->ln1_b, b->qkv_w, b->qkv_b, b->out_w, b->out_b,
                      b->ln2_g, b->ln2_b, b->fc1_w, b->fc1_b, b->fc2_w, b->fc2_b};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    vg_tensor_free(all[i]);
}

static void free_scratch(vg_clip_scratch *sc) {
  vg_tensor_free(sc->x), vg_tensor_free(sc->h), vg_tensor_free(sc->qkv);
  vg_tensor_free(sc->attn), vg_tensor_free(sc->mlp);
}

void vg_clip_free(vg_clip *m) {
  if (!m)
    return;
  vg_clip_free_image_scratch(m);
  free_text_scratch(m);
  vg_tensor *all[] = {m->patch_w,    m->cls,        m->pos,  m->ln_pre_g, m->ln_pre_b,
                      m->ln_post_g,  m->ln_post_b,  m->proj, m->tok_emb,  m->tpos,
                      m->ln_final_g, m->ln_final_b, m->tproj};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    vg_tensor_free(all[i]);
  for (int i = 0; m->vblocks && i < m->arch.layers; i++)
    free_block(&m->vblocks[i]);
  for (int i = 0; m->tblocks && i < m->arch.text_layers; i++)
    free_block(&m->tblocks[i]);
  for (int i = 0; i < VG_CLIP_MAX_ADAPTERS; i++) {
    vg_tensor_free(m->seg[i].fc1), vg_tensor_free(m->seg[i].fc2);
    vg_tensor_free(m->det[i].fc1), vg_tensor_free(m->det[i].fc2);
  }
  free(m->vblocks), free(m->tblocks);
  free(m);
}
