#include "vg_clip_random.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_backend.h"
#include "vg_clip.h"

static const vg_clip_preset presets[] = {
    {"tiny", 64, 2, 14, 24, 32, 64, 2, 49408, 77, 2, 32},
    {"mid", 256, 4, 14, 24, 128, 128, 2, 49408, 77, 4, 128},
    {"vit-l-14", 1024, 24, 14, 24, 768, 768, 12, 49408, 77, 4, 768},
};

const vg_clip_preset *vg_clip_preset_find(const char *name) {
  for (size_t i = 0; name && i < sizeof presets / sizeof *presets; i++)
    if (strcmp(presets[i].name, name) == 0)
      return &presets[i];
  return NULL;
}

const char *vg_clip_preset_names(void) {
  return "tiny, mid, vit-l-14";
}

/* splitmix64 and Box-Muller: reproducible normals from a seed. */
typedef struct rng {
  uint64_t state;
} rng;

static double uniform(rng *r) {
  uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return ((z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static float normal(rng *r) {
  return (float)(sqrt(-2.0 * log(uniform(r))) * cos(6.283185307179586 * uniform(r)));
}

typedef struct gen {
  vg_weights *w;
  rng r;
  vg_wdtype dtype;
  const void *pool; /* shared mode: every tensor borrows from here */
} gen;

static void store(float *f, size_t n, vg_wdtype dtype) {
  uint16_t *h = (uint16_t *)f; /* narrowing in place: h[i] never overtakes f[i] */
  for (size_t i = 0; i < n; i++) {
    if (dtype == VG_W_F16) {
      h[i] = vg_f32_to_f16(f[i]);
    } else if (dtype == VG_W_BF16) {
      h[i] = vg_f32_to_bf16(f[i]);
    }
  }
}

/* One tensor: mean + std * N(0, 1) per value. */
static vg_status add(gen *g, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2,
                     float mean, float std) {
  const int64_t shape[4] = {d0, d1, d2, d2};
  if (g->pool)
    return vg_weights_add_borrowed(g->w, name, g->dtype, ndim, shape, g->pool);
  int64_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= shape[i];
  float *f = malloc((size_t)n * sizeof *f);
  if (!f)
    return vg_fail(VG_ERR_NOMEM, "out of memory for random '%s'", name);
  for (int64_t i = 0; i < n; i++)
    f[i] = mean + std * normal(&g->r);
  store(f, (size_t)n, g->dtype);
  vg_status s = vg_weights_add(g->w, name, g->dtype, ndim, shape, f);
  free(f);
  return s;
}

static vg_status add_ln(gen *g, const char *stem, int64_t width) {
  char name[160];
  snprintf(name, sizeof name, "%sweight", stem);
  vg_status s = add(g, name, 1, width, 0, 0, 1.0f, 0.05f);
  snprintf(name, sizeof name, "%sbias", stem);
  return s == VG_OK ? add(g, name, 1, width, 0, 0, 0.0f, 0.05f) : s;
}

static vg_status add_linear(gen *g, const char *stem, int64_t out, int64_t in) {
  char name[160];
  snprintf(name, sizeof name, "%sweight", stem);
  vg_status s = add(g, name, 2, out, in, 0, 0.0f, 1.0f / sqrtf((float)in));
  snprintf(name, sizeof name, "%sbias", stem);
  return s == VG_OK ? add(g, name, 1, out, 0, 0, 0.0f, 0.02f) : s;
}

/* An OpenCLIP ResidualAttentionBlock. */
static vg_status add_block(gen *g, const char *tower, int i, int64_t w) {
  char stem[128];
  vg_status s;
  snprintf(stem, sizeof stem, "%s%d.ln_1.", tower, i);
  if ((s = add_ln(g, stem, w)) != VG_OK)
    return s;
  snprintf(stem, sizeof stem, "%s%d.attn.in_proj_", tower, i);
  if ((s = add_linear(g, stem, 3 * w, w)) != VG_OK)
    return s;
  snprintf(stem, sizeof stem, "%s%d.attn.out_proj.", tower, i);
  if ((s = add_linear(g, stem, w, w)) != VG_OK)
    return s;
  snprintf(stem, sizeof stem, "%s%d.ln_2.", tower, i);
  if ((s = add_ln(g, stem, w)) != VG_OK)
    return s;
  snprintf(stem, sizeof stem, "%s%d.mlp.c_fc.", tower, i);
  if ((s = add_linear(g, stem, 4 * w, w)) != VG_OK)
    return s;
  snprintf(stem, sizeof stem, "%s%d.mlp.c_proj.", tower, i);
  return add_linear(g, stem, w, 4 * w);
}

static vg_status add_image(gen *g, const vg_clip_preset *p) {
  const int64_t w = p->width;
  const float scale = 1.0f / sqrtf((float)w);
  vg_status s = add(g, "visual.conv1.weight", 4, w, 3, p->patch, 0.0f,
                    1.0f / sqrtf(3.0f * p->patch * p->patch));
  if (s == VG_OK)
    s = add(g, "visual.class_embedding", 1, w, 0, 0, 0.0f, scale);
  if (s == VG_OK)
    s = add(g, "visual.positional_embedding", 2, (int64_t)p->pos_grid * p->pos_grid + 1, w, 0, 0.0f,
            scale);
  if (s == VG_OK)
    s = add_ln(g, "visual.ln_pre.", w);
  for (int i = 0; s == VG_OK && i < p->layers; i++)
    s = add_block(g, "visual.transformer.resblocks.", i, w);
  if (s == VG_OK)
    s = add_ln(g, "visual.ln_post.", w);
  return s == VG_OK ? add(g, "visual.proj", 2, w, p->embed, 0, 0.0f, scale) : s;
}

static vg_status add_text(gen *g, const vg_clip_preset *p) {
  const int64_t w = p->text_width;
  vg_status s = add(g, "token_embedding.weight", 2, p->vocab, w, 0, 0.0f, 0.02f);
  if (s == VG_OK)
    s = add(g, "positional_embedding", 2, p->context, w, 0, 0.0f, 0.01f);
  for (int i = 0; s == VG_OK && i < p->text_layers; i++)
    s = add_block(g, "transformer.resblocks.", i, w);
  if (s == VG_OK)
    s = add_ln(g, "ln_final.", w);
  return s == VG_OK ? add(g, "text_projection", 2, w, p->embed, 0, 0.0f, 1.0f / sqrtf((float)w))
                    : s;
}

/* MVFA's ClipAdapter pairs: Linear(width -> dim) and Linear(dim -> width), no bias. */
static vg_status add_adapters(gen *g, const vg_clip_preset *p) {
  static const char *kinds[2] = {"seg_adapters", "det_adapters"};
  char name[64];
  vg_status s = VG_OK;
  for (int k = 0; k < 2; k++)
    for (int i = 0; s == VG_OK && i < p->adapters; i++) {
      snprintf(name, sizeof name, "%s.%d.fc1.0.weight", kinds[k], i);
      s = add(g, name, 2, p->adapter_dim, p->width, 0, 0.0f, 1.0f / sqrtf((float)p->width));
      snprintf(name, sizeof name, "%s.%d.fc2.0.weight", kinds[k], i);
      if (s == VG_OK)
        s = add(g, name, 2, p->width, p->adapter_dim, 0, 0.0f, 1.0f / sqrtf((float)p->adapter_dim));
    }
  return s;
}

static void release_pool(void *pool) {
  free(pool);
}

static int64_t max64(int64_t a, int64_t b) {
  return a > b ? a : b;
}

/* Shared mode: one block as large as the largest tensor, owned by `w`. */
static vg_status make_pool(gen *g, const vg_clip_preset *p, unsigned towers) {
  const int64_t w = p->width, tw = p->text_width;
  int64_t n = max64(4 * w * w, w * 3 * p->patch * p->patch);
  n = max64(n, ((int64_t)p->pos_grid * p->pos_grid + 1) * w);
  n = max64(n, max64(w * p->embed, (int64_t)p->adapter_dim * w));
  if (towers & VG_CLIP_TEXT) {
    n = max64(n, max64((int64_t)p->vocab * tw, 4 * tw * tw));
    n = max64(n, max64((int64_t)p->context * tw, tw * p->embed));
  }
  float *f = malloc((size_t)n * sizeof *f);
  if (!f)
    return vg_fail(VG_ERR_NOMEM, "out of memory for a random pool");
  for (int64_t i = 0; i < n; i++)
    f[i] = 0.02f * normal(&g->r);
  store(f, (size_t)n, g->dtype);
  g->pool = f;
  return vg_weights_keep(g->w, release_pool, f);
}

static vg_status fill(gen *g, const vg_clip_preset *p, unsigned towers, uint64_t seed) {
  char text[32];
  vg_status s = vg_weights_set_meta(g->w, "vigil.random", "true");
  snprintf(text, sizeof text, "%llu", (unsigned long long)seed);
  if (s == VG_OK)
    s = vg_weights_set_meta(g->w, "vigil.seed", text);
  if (s == VG_OK)
    s = vg_weights_set_meta(g->w, "vigil.preset", p->name);
  if (s == VG_OK && towers & VG_CLIP_IMAGE)
    s = add_image(g, p);
  if (s == VG_OK && towers & VG_CLIP_TEXT)
    s = add_text(g, p);
  return s;
}

vg_status vg_clip_random(const vg_clip_preset *p, const vg_clip_random_options *o,
                         vg_weights **clip, vg_weights **adapters) {
  if (!p || !o || !clip)
    return vg_fail(VG_ERR_ARG, "vg_clip_random: missing argument");
  const unsigned towers = o->towers ? o->towers : VG_CLIP_IMAGE | VG_CLIP_TEXT;
  gen g = {.w = vg_weights_new(), .r = {o->seed}, .dtype = o->dtype};
  vg_status s = g.w ? VG_OK : VG_ERR_NOMEM;
  if (s == VG_OK && o->shared)
    s = make_pool(&g, p, towers);
  if (s == VG_OK)
    s = fill(&g, p, towers, o->seed);
  if (s == VG_OK && adapters) {
    gen ga = {.w = vg_weights_new(), .r = g.r, .dtype = o->dtype};
    s = ga.w ? VG_OK : VG_ERR_NOMEM;
    if (s == VG_OK && o->shared)
      s = make_pool(&ga, p, VG_CLIP_IMAGE);
    if (s == VG_OK)
      s = vg_weights_set_meta(ga.w, "vigil.random", "true");
    if (s == VG_OK)
      s = add_adapters(&ga, p);
    if (s != VG_OK)
      vg_weights_free(ga.w);
    else
      *adapters = ga.w;
  }
  if (s != VG_OK) {
    vg_weights_free(g.w);
    return s;
  }
  *clip = g.w;
  return VG_OK;
}
