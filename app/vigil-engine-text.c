/* Text features per class: MVFA's prompt ensemble through the text tower,
 * cached in memory and on disk. The text tower is loaded only while a new
 * class's prompts are encoded and freed after, so its weights (a third of
 * ViT-L/14's) are not held while images are analysed. */
#include <math.h>

#include "vg_npy.h"
#include "vg_prompts.h"
#include "vigil-engine-private.h"

void vigil_engine_drop_text_tower(VigilEngine *e) {
  if (!e->text_clip)
    return;
  g_clear_pointer(&e->text_clip, vg_clip_free);
  vg_weights_evict(e->clip_weights); /* its pages leave the process with it */
  g_debug("text tower freed");
}

/* Loads the text tower from the mapped weights (lock held). The image tower's
 * pages are dropped first: they come back from the file when next used, and
 * the two towers are never resident at once. */
static vg_status text_tower(VigilEngine *e) {
  if (e->text_clip)
    return VG_OK;
  vg_weights_evict(e->clip_weights);
  const vg_clip_options o = vigil_engine_clip_options(e, VG_CLIP_TEXT);
  vg_status s = vg_clip_load(e->clip_weights, NULL, &o, e->backend, &e->text_clip);
  g_debug("text tower loaded: %s", s == VG_OK ? "ok" : vg_last_error());
  return s;
}

typedef struct {
  VigilEngine *engine;
  const int32_t *ids;
  int n;
  float *out;
} TextForward;

/* Runs on the text tower, not `clip`; after a fallback to the CPU the tower
 * is loaded there (the switch freed it with the old backend). */
static vg_status text_forward(vg_clip *clip, gpointer data) {
  (void)clip;
  TextForward *f = data;
  vg_status s = text_tower(f->engine);
  return s == VG_OK ? vg_clip_encode_text(f->engine->text_clip, f->ids, f->n, f->out) : s;
}

static char *cache_file(VigilEngine *e, const char *class_name) {
  if (!e->cache_dir)
    return NULL;
  g_autofree char *class_sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, class_name, -1);
  /* F16 and BF16 give (slightly) other features: their own files. */
  g_autofree char *name = g_strdup_printf(
      "text-%.16s-%.16s%s%s.npy", e->clip_digest, class_sum,
      e->precision != VIGIL_PRECISION_F32 ? "-" : "",
      e->precision != VIGIL_PRECISION_F32 ? vigil_precision_name(e->precision) : "");
  return g_build_filename(e->cache_dir, name, NULL);
}

/* Tokenises both states' prompts, normal first, into one id table. */
static int32_t *tokenize_class(VigilEngine *e, const char *class_name, int count[2],
                               GError **error) {
  const int ctx = e->arch.context_length;
  char **texts[2] = {NULL, NULL};
  int32_t *ids = NULL;
  gboolean ok = vg_prompts_generate(class_name, VG_PROMPT_NORMAL, &texts[0], &count[0]) == VG_OK &&
                vg_prompts_generate(class_name, VG_PROMPT_ABNORMAL, &texts[1], &count[1]) == VG_OK;
  if (!ok)
    vigil_engine_fail(error, VIGIL_ENGINE_ERROR_INPUT, "prompts");
  else
    ids = g_new0(int32_t, (gsize)(count[0] + count[1]) * ctx);
  for (int k = 0, row = 0; ok && k < 2; k++)
    for (int i = 0; ok && i < count[k]; i++, row++)
      if (vg_tokenizer_encode(e->tokenizer, texts[k][i], ids + (gsize)row * ctx) != VG_OK)
        ok = vigil_engine_fail(error, VIGIL_ENGINE_ERROR_INPUT, "class name");
  for (int k = 0; k < 2; k++)
    if (texts[k])
      vg_prompts_free(texts[k], count[k]);
  if (!ok)
    g_clear_pointer(&ids, g_free);
  return ids;
}

/* One column: mean of the L2-normalised prompt embeddings, renormalised. */
static void mean_column(const float *emb, int n, int d, float *text, int col) {
  g_autofree double *column = g_new0(double, d);
  for (int i = 0; i < n; i++) {
    double norm = 0;
    for (int c = 0; c < d; c++)
      norm += (double)emb[(gsize)i * d + c] * emb[(gsize)i * d + c];
    norm = sqrt(norm);
    for (int c = 0; c < d; c++)
      column[c] += emb[(gsize)i * d + c] / norm / n;
  }
  double norm = 0;
  for (int c = 0; c < d; c++)
    norm += column[c] * column[c];
  for (int c = 0; c < d; c++)
    text[c * 2 + col] = (float)(column[c] / sqrt(norm));
}

/* The whole ensemble (both states) through the text tower as one batch, cut
 * at the longest prompt's end token (vg_clip_encode_text); then the tower goes. */
static float *encode_class(VigilEngine *e, const char *class_name, GCancellable *cancellable,
                           GError **error) {
  const int d = e->arch.embed_dim;
  int count[2] = {0, 0};
  g_autofree int32_t *ids = tokenize_class(e, class_name, count, error);
  if (!ids || g_cancellable_set_error_if_cancelled(cancellable, error))
    return NULL;
  g_autofree float *emb = g_new(float, (gsize)(count[0] + count[1]) * d);
  TextForward fw = {e, ids, count[0] + count[1], emb};
  const gint64 start = g_get_monotonic_time();
  g_mutex_lock(&e->lock);
  gboolean ok = vigil_engine_run_forward(e, "text encoder", text_forward, &fw, error);
  vigil_engine_drop_text_tower(e);
  g_mutex_unlock(&e->lock);
  g_debug("%d prompts for '%s' encoded in %.2f s", fw.n, class_name,
          (double)(g_get_monotonic_time() - start) / 1e6);
  if (!ok)
    return NULL;
  float *text = g_new(float, (gsize)d * 2);
  mean_column(emb, count[0], d, text, 0);
  mean_column(emb + (gsize)count[0] * d, count[1], d, text, 1);
  return text;
}

static float *load_cached(VigilEngine *e, const char *path) {
  vg_npy a = {0};
  const int64_t shape[2] = {e->arch.embed_dim, 2};
  if (!path || vg_npy_read(path, &a) != VG_OK)
    return NULL;
  float *out = NULL;
  if (vg_npy_expect(&a, "text features", 2, shape) == VG_OK)
    out = g_memdup2(a.data, a.count * sizeof(float));
  vg_npy_free(&a);
  return out;
}

float *vigil_engine_text_features(VigilEngine *e, const char *class_name, GCancellable *cancellable,
                                  GError **error) {
  g_autofree char *stripped = g_strstrip(g_strdup(class_name ? class_name : ""));
  if (!*stripped) {
    g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_INPUT, "the class name is empty");
    return NULL;
  }
  const int d = e->arch.embed_dim;
  g_mutex_lock(&e->lock);
  const float *hit = g_hash_table_lookup(e->text_cache, class_name);
  float *copy = hit ? g_memdup2(hit, (gsize)d * 2 * sizeof(float)) : NULL;
  g_mutex_unlock(&e->lock);
  if (copy)
    return copy;
  g_autofree char *path = cache_file(e, class_name);
  float *text = load_cached(e, path);
  if (!text) {
    if (!(text = encode_class(e, class_name, cancellable, error)))
      return NULL;
    const int64_t shape[2] = {d, 2};
    g_autofree char *dir = path ? g_path_get_dirname(path) : NULL;
    if (dir && g_mkdir_with_parents(dir, 0700) == 0)
      vg_npy_write(path, 2, shape, text); /* a cache: failing to write only costs time */
  }
  g_mutex_lock(&e->lock);
  g_hash_table_replace(e->text_cache, g_strdup(class_name),
                       g_memdup2(text, (gsize)d * 2 * sizeof(float)));
  g_mutex_unlock(&e->lock);
  return text;
}

gboolean vigil_engine_text_tower_loaded(VigilEngine *e) {
  g_mutex_lock(&e->lock);
  const gboolean loaded = e->text_clip != NULL;
  g_mutex_unlock(&e->lock);
  return loaded;
}
