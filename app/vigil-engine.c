#include "vigil-engine.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "vg_npy.h"
#include "vg_prompts.h"
#include "vg_score.h"
#include "vg_score_backend.h"
#include "vg_tokenizer.h"
#include "vg_weights_io.h"
#include "vigil-config.h"
#include "vigil-data.h"
#include "vigil-engine-private.h"

/* clang-format would put spaces around the dashes of the quark name. */
/* clang-format off */
G_DEFINE_QUARK(vigil-engine-error-quark, vigil_engine_error)
/* clang-format on */

#define VOCAB_NAME "bpe_simple_vocab_16e6.txt.gz"
#define TEXT_CHUNK 35 /* prompts encoded per call: one template set, cancellable between */

gboolean vigil_engine_fail(GError **error, int code, const char *what) {
  g_set_error(error, VIGIL_ENGINE_ERROR, code, "%s: %s", what, vg_last_error());
  return FALSE;
}

char *vigil_file_sha256(const char *path, GError **error) {
  g_autoptr(GFile) file = g_file_new_for_path(path);
  g_autoptr(GFileInputStream) in = g_file_read(file, NULL, error);
  if (!in)
    return NULL;
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc(1 << 20);
  gssize n;
  while ((n = g_input_stream_read(G_INPUT_STREAM(in), buf, 1 << 20, NULL, error)) > 0)
    g_checksum_update(sum, buf, n);
  return n < 0 ? NULL : g_strdup(g_checksum_get_string(sum));
}

char *vigil_vocab_path(void) {
  return vigil_data_path("clip/" VOCAB_NAME);
}

static gboolean is_random(const vg_weights *w) {
  return g_strcmp0(vg_weights_meta(w, "vigil.random"), "true") == 0;
}

static gboolean load_weights(const char *path, const char *what, vg_weights **out, GError **error) {
  if (!path || !*path) {
    g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_WEIGHTS, "no %s file chosen", what);
    return FALSE;
  }
  if (vg_weights_open(path, out) != VG_OK) {
    g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_WEIGHTS, "%s: %s", what,
                vg_last_error());
    return FALSE;
  }
  return TRUE;
}

/* Replaces one of the strings other threads copy (vigil_engine_dup_*). Only
 * the thread running the engine (holding `lock`) writes them. */
static void replace_string(VigilEngine *e, char **slot, char *value) {
  g_mutex_lock(&e->text_lock);
  char *old = *slot;
  *slot = value;
  g_mutex_unlock(&e->text_lock);
  g_free(old);
}

/* A copy of one of those strings, taken under their lock. */
static char *dup_string(VigilEngine *e, char *const *slot) {
  g_mutex_lock(&e->text_lock);
  char *copy = g_strdup(*slot);
  g_mutex_unlock(&e->text_lock);
  return copy;
}

/* The identity's precision suffix (vigil_report_identity_precision reads it). */
static const char *precision_note(VigilPrecision p) {
  return p == VIGIL_PRECISION_F16    ? ", F16 matmul weights"
         : p == VIGIL_PRECISION_BF16 ? ", BF16 matmul weights"
                                     : "";
}

static void build_identity(VigilEngine *e) {
  replace_string(e, &e->identity,
                 g_strdup_printf("CLIP %s (sha256 %s)\nadapters %s (sha256 %s)\n%s on %s%s%s",
                                 e->clip_name, e->clip_digest, e->adapters_name, e->adapters_digest,
                                 e->arch.naming, e->device, precision_note(e->precision),
                                 e->random ? "\nRANDOM TEST MODEL: results are meaningless" : ""));
}

static gboolean describe(VigilEngine *e, const char *clip_path, const char *adapters_path,
                         GError **error) {
  g_autofree char *clip_sum = vigil_file_sha256(clip_path, error);
  g_autofree char *adapters_sum = clip_sum ? vigil_file_sha256(adapters_path, error) : NULL;
  if (!adapters_sum)
    return FALSE;
  e->clip_name = g_path_get_basename(clip_path);
  e->adapters_name = g_path_get_basename(adapters_path);
  e->clip_digest = g_steal_pointer(&clip_sum);
  e->adapters_digest = g_steal_pointer(&adapters_sum);
  build_identity(e);
  return TRUE;
}

const char *vigil_engine_clip_digest(VigilEngine *e) {
  return e->clip_digest;
}

const char *vigil_engine_adapters_digest(VigilEngine *e) {
  return e->adapters_digest;
}

/* Under AUTO, a Vulkan failure (a lost device, exhausted memory, a model over
 * its limits) moves the engine to the CPU instead of failing the request. */
gboolean vigil_engine_can_fall_back(VigilEngine *e, vg_status s) {
  /* A tensor the device could not allocate reaches the loader as NOMEM. */
  return e->kind == VIGIL_BACKEND_AUTO && g_strcmp0(e->backend->kind, "vulkan") == 0 &&
         (s == VG_ERR_DEVICE || s == VG_ERR_UNSUPPORTED || s == VG_ERR_NOMEM);
}

static void drop_device_state(VigilEngine *e) {
  g_clear_pointer(&e->scorer, vg_scorer_free);
  for (guint i = 0; e->banks && i < e->banks->len; i++)
    vg_membank_unmirror(g_ptr_array_index(e->banks, i));
}

/* Reloads the model on a CPU backend (from `clip`/`adapters`, or the files
 * again when they are NULL) and records why; the Vulkan backend is closed. */
static vg_clip_options clip_options(const VigilEngine *e) {
  return (vg_clip_options){.matmul_dtype = vigil_precision_dtype(e->precision)};
}

gboolean vigil_engine_switch_to_cpu(VigilEngine *e, const char *what, const vg_weights *clip,
                                    const vg_weights *adapters, GError **error) {
  g_autofree char *reason =
      g_strdup_printf("Vulkan failed %s: %s; using the CPU", what, vg_last_error());
  vg_weights *cw = NULL, *aw = NULL;
  if (!clip && (!load_weights(e->clip_path, "CLIP weights", &cw, error) ||
                !load_weights(e->adapters_path, "MVFA adapters", &aw, error))) {
    vg_weights_free(cw);
    return FALSE;
  }
  const VigilBackendOptions cpu = {.kind = VIGIL_BACKEND_CPU, .threads = e->threads};
  const vg_clip_options opts = clip_options(e); /* the same precision on the CPU */
  vg_backend *be = vigil_backend_open(&cpu, NULL, error);
  vg_clip *m = NULL;
  if (be && vg_clip_load(clip ? clip : cw, clip ? adapters : aw, &opts, be, &m) != VG_OK) {
    vigil_engine_fail(error, VIGIL_ENGINE_ERROR_COMPUTE, reason);
    vg_backend_destroy(be);
    be = NULL;
  }
  vg_weights_free(cw), vg_weights_free(aw);
  if (!be)
    return FALSE;
  drop_device_state(e); /* the scorer and bank mirrors live on the old backend */
  vg_clip_free(e->clip);
  vg_backend_destroy(e->backend);
  e->clip = m;
  e->backend = be;
  replace_string(e, &e->fallback, g_steal_pointer(&reason));
  /* The CPU's chunks are bounded by host memory only: the device's limit goes. */
  g_atomic_int_set(&e->batch_limit, vg_clip_batch_limit(m));
  replace_string(e, &e->batch_note, NULL);
  replace_string(e, &e->device, g_strdup(be->device_name));
  if (e->identity)
    build_identity(e);
  return TRUE;
}

/* Loads the model on the backend opened, falling back to the CPU under AUTO. */
static gboolean load_model(VigilEngine *e, const vg_weights *clip, const vg_weights *adapters,
                           GError **error) {
  const vg_clip_options opts = clip_options(e);
  vg_status s = vg_clip_load(clip, adapters, &opts, e->backend, &e->clip);
  if (s == VG_OK)
    return TRUE;
  if (vigil_engine_can_fall_back(e, s))
    return vigil_engine_switch_to_cpu(e, "loading the model", clip, adapters, error);
  if (g_strcmp0(e->backend->kind, "vulkan") == 0 &&
      (s == VG_ERR_DEVICE || s == VG_ERR_UNSUPPORTED || s == VG_ERR_NOMEM))
    return vigil_engine_fail(error, VIGIL_ENGINE_ERROR_COMPUTE, "the model cannot run on Vulkan");
  return vigil_engine_fail(error, VIGIL_ENGINE_ERROR_WEIGHTS, "cannot use these weights");
}

typedef vg_status (*ForwardFunc)(vg_clip *clip, gpointer data);

/* Runs a forward (lock held); under AUTO a Vulkan failure moves the model to
 * the CPU and runs it again there. */
static gboolean run_forward(VigilEngine *e, const char *what, ForwardFunc run, gpointer data,
                            GError **error) {
  vg_status s = run(e->clip, data);
  if (s != VG_OK && vigil_engine_can_fall_back(e, s)) {
    g_autofree char *during = g_strdup_printf("in the %s", what);
    if (!vigil_engine_switch_to_cpu(e, during, NULL, NULL, error))
      return FALSE;
    s = run(e->clip, data);
  }
  return s == VG_OK || vigil_engine_fail(error, VIGIL_ENGINE_ERROR_COMPUTE, what);
}

VigilEngine *vigil_engine_open(const char *clip_path, const char *adapters_path,
                               const VigilBackendOptions *backend, GError **error) {
  g_autoptr(VigilEngine) e = g_new0(VigilEngine, 1);
  g_mutex_init(&e->lock);
  g_mutex_init(&e->text_lock);
  e->kind = backend->kind;
  e->threads = backend->threads;
  e->precision = backend->precision;
  e->clip_path = g_strdup(clip_path);
  e->adapters_path = g_strdup(adapters_path);
  e->text_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  e->cache_dir = g_build_filename(g_get_user_cache_dir(), "vigil", "text-features", NULL);
  vg_weights *clip = NULL, *adapters = NULL;
  if (!load_weights(clip_path, "CLIP weights", &clip, error) ||
      !load_weights(adapters_path, "MVFA adapters", &adapters, error)) {
    vg_weights_free(clip);
    return NULL;
  }
  e->random = is_random(clip) || is_random(adapters);
  g_autofree char *vocab = vigil_vocab_path();
  gboolean ok = (e->backend = vigil_backend_open(backend, &e->fallback, error)) != NULL;
  if (ok)
    e->device = g_strdup(e->backend->device_name);
  ok = ok && load_model(e, clip, adapters, error);
  vg_weights_free(clip);
  vg_weights_free(adapters);
  if (ok && vg_tokenizer_open(vocab, &e->tokenizer) != VG_OK)
    ok = vigil_engine_fail(error, VIGIL_ENGINE_ERROR_WEIGHTS, "CLIP vocabulary");
  if (!ok)
    return NULL;
  e->arch = *vg_clip_arch_of(e->clip);
  e->batch_limit = vg_clip_batch_limit(e->clip);
  if (e->arch.n_adapters < 1 || e->arch.adapter_dim != e->arch.embed_dim || !e->arch.has_text) {
    g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_WEIGHTS,
                "these weights cannot score: %d adapters of width %d, text embedding %d%s",
                e->arch.n_adapters, e->arch.adapter_dim, e->arch.embed_dim,
                e->arch.has_text ? "" : ", no text tower");
    return NULL;
  }
  return describe(e, clip_path, adapters_path, error) ? g_steal_pointer(&e) : NULL;
}

void vigil_engine_free(VigilEngine *e) {
  if (!e)
    return;
  drop_device_state(e); /* banks may outlive the engine; their mirrors may not */
  if (e->banks)
    g_ptr_array_unref(e->banks);
  vg_clip_free(e->clip);
  vg_tokenizer_free(e->tokenizer);
  vg_backend_destroy(e->backend);
  g_hash_table_unref(e->text_cache);
  g_free(e->identity), g_free(e->fallback), g_free(e->batch_note), g_free(e->clip_digest),
      g_free(e->cache_dir);
  g_free(e->device), g_free(e->clip_path), g_free(e->adapters_path), g_free(e->clip_name);
  g_free(e->adapters_name), g_free(e->adapters_digest);
  g_mutex_clear(&e->text_lock);
  g_mutex_clear(&e->lock);
  g_free(e);
}

const vg_clip_arch *vigil_engine_arch(VigilEngine *e) {
  return &e->arch;
}
gboolean vigil_engine_is_random(VigilEngine *e) {
  return e->random;
}
char *vigil_engine_dup_identity(VigilEngine *e) {
  return dup_string(e, &e->identity);
}
char *vigil_engine_dup_device(VigilEngine *e) {
  return dup_string(e, &e->device);
}
char *vigil_engine_dup_fallback_reason(VigilEngine *e) {
  return dup_string(e, &e->fallback);
}

void vigil_engine_set_cache_dir(VigilEngine *e, const char *dir) {
  g_free(e->cache_dir);
  e->cache_dir = g_strdup(dir);
}

void vigil_features_free(VigilFeatures *f) {
  if (!f)
    return;
  g_free(f->pooled);
  for (int l = 0; l < VG_CLIP_MAX_ADAPTERS; l++)
    g_free(f->seg[l]), g_free(f->det[l]);
  g_free(f);
}

typedef struct {
  VigilEngine *engine;
  int n;
  const float *const *inputs;
  vg_clip_image_out *outs;
} ImageForward;

/* A chunk of several images that ran out of memory on the device halves the
 * images per forward for the rest of the session (recording why), so the
 * forward can run again there; one image that does not fit is left to the
 * caller (a CPU fallback under AUTO, else an error). */
gboolean vigil_engine_shrink_batch(VigilEngine *e, int n, vg_status s) {
  const int chunk = MIN(n, e->batch_limit);
  if (s != VG_ERR_NOMEM || g_strcmp0(e->backend->kind, "vulkan") != 0 || chunk <= 1)
    return FALSE;
  const int limit = chunk / 2;
  replace_string(e, &e->batch_note,
                 g_strdup_printf("Vulkan memory too small for %d images per forward (%s); "
                                 "using %d from now on",
                                 chunk, vg_last_error(), limit));
  vg_clip_set_batch_limit(e->clip, limit);
  g_atomic_int_set(&e->batch_limit, vg_clip_batch_limit(e->clip));
  return TRUE;
}

static vg_status image_forward(vg_clip *clip, gpointer data) {
  ImageForward *f = data;
  vg_status s;
  while ((s = vg_clip_encode_images(clip, f->n, f->inputs, f->outs)) != VG_OK &&
         vigil_engine_shrink_batch(f->engine, f->n, s))
    ; /* again with fewer images per chunk: the outputs are all rewritten */
  return s;
}

typedef struct {
  const int32_t *ids;
  int n;
  float *out;
} TextForward;

static vg_status text_forward(vg_clip *clip, gpointer data) {
  TextForward *f = data;
  return vg_clip_encode_text(clip, f->ids, f->n, f->out);
}

VigilFeatures *vigil_engine_features_new(VigilEngine *e, vg_clip_image_out *out) {
  VigilFeatures *f = g_new0(VigilFeatures, 1);
  f->layers = e->arch.n_adapters;
  f->tokens = e->arch.tokens;
  f->dim = e->arch.adapter_dim;
  f->embed_dim = e->arch.embed_dim;
  f->pooled = g_new(float, f->embed_dim);
  *out = (vg_clip_image_out){.pooled = f->pooled};
  for (int l = 0; l < f->layers; l++) {
    out->seg_tokens[l] = f->seg[l] = g_new(float, (gsize)f->tokens * f->dim);
    out->det_tokens[l] = f->det[l] = g_new(float, (gsize)f->tokens * f->dim);
  }
  return f;
}

int vigil_engine_batch_limit(VigilEngine *e) {
  return e ? g_atomic_int_get(&e->batch_limit) : 1;
}

char *vigil_engine_dup_batch_note(VigilEngine *e) {
  return dup_string(e, &e->batch_note);
}

gboolean vigil_engine_features_batch(VigilEngine *e, int n, const float *const *inputs,
                                     VigilFeatures **out, GError **error) {
  g_autofree vg_clip_image_out *outs = g_new0(vg_clip_image_out, n > 0 ? n : 1);
  for (int i = 0; i < n; i++)
    out[i] = vigil_engine_features_new(e, &outs[i]);
  ImageForward fw = {e, n, inputs, outs};
  g_mutex_lock(&e->lock);
  gboolean ok = run_forward(e, "image encoder", image_forward, &fw, error);
  g_mutex_unlock(&e->lock);
  for (int i = 0; !ok && i < n; i++)
    g_clear_pointer(&out[i], vigil_features_free);
  return ok;
}

VigilFeatures *vigil_engine_features(VigilEngine *e, const float *input, GError **error) {
  VigilFeatures *f = NULL;
  return vigil_engine_features_batch(e, 1, &input, &f, error) ? f : NULL;
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

/* One column: mean of the L2-normalised prompt embeddings, renormalised. */
static gboolean encode_state(VigilEngine *e, const char *class_name, vg_prompt_state state,
                             double *column, GCancellable *cancellable, GError **error) {
  char **texts = NULL;
  int n = 0;
  if (vg_prompts_generate(class_name, state, &texts, &n) != VG_OK)
    return vigil_engine_fail(error, VIGIL_ENGINE_ERROR_INPUT, "prompts");
  const int d = e->arch.embed_dim, ctx = e->arch.context_length;
  g_autofree int32_t *ids = g_new0(int32_t, (gsize)TEXT_CHUNK * ctx);
  g_autofree float *emb = g_new(float, (gsize)TEXT_CHUNK *d);
  gboolean ok = TRUE;
  for (int start = 0; ok && start < n; start += TEXT_CHUNK) {
    const int m = MIN(TEXT_CHUNK, n - start);
    for (int i = 0; ok && i < m; i++)
      if (vg_tokenizer_encode(e->tokenizer, texts[start + i], ids + (gsize)i * ctx) != VG_OK)
        ok = vigil_engine_fail(error, VIGIL_ENGINE_ERROR_INPUT, "class name");
    if (ok && g_cancellable_set_error_if_cancelled(cancellable, error))
      ok = FALSE;
    TextForward fw = {ids, m, emb};
    g_mutex_lock(&e->lock);
    ok = ok && run_forward(e, "text encoder", text_forward, &fw, error);
    g_mutex_unlock(&e->lock);
    for (int i = 0; ok && i < m; i++) {
      double norm = 0;
      for (int c = 0; c < d; c++)
        norm += (double)emb[i * d + c] * emb[i * d + c];
      norm = sqrt(norm);
      for (int c = 0; c < d; c++)
        column[c] += emb[i * d + c] / norm / n;
    }
  }
  vg_prompts_free(texts, n);
  double norm = 0;
  for (int c = 0; c < d; c++)
    norm += column[c] * column[c];
  for (int c = 0; ok && c < d; c++)
    column[c] /= sqrt(norm);
  return ok;
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
    g_autofree double *cols = g_new0(double, (gsize)2 * d);
    if (!encode_state(e, class_name, VG_PROMPT_NORMAL, cols, cancellable, error) ||
        !encode_state(e, class_name, VG_PROMPT_ABNORMAL, cols + d, cancellable, error))
      return NULL;
    text = g_new(float, (gsize)d * 2);
    for (int c = 0; c < d; c++) {
      text[c * 2] = (float)cols[c];
      text[c * 2 + 1] = (float)cols[d + c];
    }
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

void vigil_detection_free(VigilDetection *d) {
  if (!d)
    return;
  g_free(d->zero_layer_maps), g_free(d->zero_map);
  g_free(d->few_layer_maps), g_free(d->few_map), g_free(d->few_det_map);
  g_free(d);
}

/* Scoring runs as shaders when the model runs on Vulkan. */
gboolean vigil_engine_on_device(VigilEngine *e) {
  return g_strcmp0(e->backend->kind, "vulkan") == 0;
}

static vg_score_shape score_shape(VigilEngine *e) {
  return (vg_score_shape){e->arch.n_adapters, e->arch.adapter_dim, e->arch.grid,
                          e->arch.image_size};
}

vg_membank *vigil_engine_new_bank(VigilEngine *e, GError **error) {
  vg_score_shape shape = score_shape(e);
  vg_membank *bank = NULL;
  /* 512 references (46 shots with augmentation) is far beyond MVFA's 16-shot
   * setting; the bank allocates as references arrive, not up front. */
  if (vg_membank_new(&shape, 512, &bank) != VG_OK) {
    vigil_engine_fail(error, VIGIL_ENGINE_ERROR_INPUT, "few-shot");
    return NULL;
  }
  /* On a GPU the bank's rows also live there, uploaded once per reference. */
  if (vigil_engine_on_device(e) && vg_membank_mirror(bank, e->backend) != VG_OK) {
    vigil_engine_fail(error, VIGIL_ENGINE_ERROR_COMPUTE, "few-shot bank on the device");
    vg_membank_free(bank);
    return NULL;
  }
  g_mutex_lock(&e->lock);
  if (!e->banks)
    e->banks = g_ptr_array_new();
  g_ptr_array_add(e->banks, bank);
  g_mutex_unlock(&e->lock);
  return bank;
}

void vigil_engine_free_bank(VigilEngine *e, vg_membank *bank) {
  if (!bank)
    return;
  if (e) {
    g_mutex_lock(&e->lock);
    if (e->banks)
      g_ptr_array_remove_fast(e->banks, bank);
    g_mutex_unlock(&e->lock);
  }
  vg_membank_free(bank);
}

gboolean vigil_engine_bank_add(VigilEngine *e, vg_membank *bank, const VigilFeatures *f,
                               guint64 *id, GError **error) {
  uint64_t vid = 0;
  g_mutex_lock(&e->lock); /* a mirrored bank uploads to the backend */
  vg_status s =
      vg_membank_add(bank, (const float *const *)f->seg, (const float *const *)f->det, &vid);
  g_mutex_unlock(&e->lock);
  if (s != VG_OK)
    return vigil_engine_fail(error, VIGIL_ENGINE_ERROR_INPUT, "adding a reference");
  if (id)
    *id = vid;
  return TRUE;
}

gboolean vigil_engine_bank_remove(VigilEngine *e, vg_membank *bank, guint64 id, GError **error) {
  g_mutex_lock(&e->lock);
  vg_status s = vg_membank_remove(bank, id);
  g_mutex_unlock(&e->lock);
  return s == VG_OK || vigil_engine_fail(error, VIGIL_ENGINE_ERROR_INPUT, "removing a reference");
}

/* Where the device scorer writes: the detection's arrays. */
vg_score_out vigil_engine_score_out_of(VigilDetection *d) {
  return (vg_score_out){.zero_layer_maps = d->zero_layer_maps,
                        .zero_map = d->zero_map,
                        .few_layer_maps = d->few_layer_maps,
                        .few_map = d->few_map,
                        .few_det_map = d->few_det_map};
}

/* The scorer (made on first use) with this class's text features. */
vg_status vigil_engine_prepare_scorer(VigilEngine *e, const float *text) {
  const vg_score_shape shape = score_shape(e);
  vg_status s = e->scorer ? VG_OK : vg_scorer_new(e->backend, &shape, &e->scorer);
  return s == VG_OK ? vg_scorer_set_text(e->scorer, text) : s;
}

/* The whole scoring as one batch of shaders (vg_score_backend.h). */
static vg_status detect_on_device(VigilEngine *e, const VigilFeatures *f, const float *text,
                                  const vg_membank *bank, VigilDetection *d) {
  vg_score_out out = vigil_engine_score_out_of(d);
  vg_status s = vigil_engine_prepare_scorer(e, text);
  if (s == VG_OK)
    s = vg_scorer_run_host(e->scorer, (const float *const *)f->seg, (const float *const *)f->det,
                           d->has_few ? vg_membank_mirrored(bank) : NULL, &out);
  d->zero_score = out.zero_score;
  d->few_score = out.few_score;
  return s;
}

/* Device scoring; under AUTO a Vulkan failure moves the engine to the CPU
 * (dropping the bank's device copy) and the caller scores on the host. */
static gboolean score_on_device(VigilEngine *e, const VigilFeatures *f, const float *text,
                                const vg_membank *bank, VigilDetection *d, gboolean *fell_back,
                                GError **error) {
  g_mutex_lock(&e->lock);
  vg_status s = detect_on_device(e, f, text, bank, d);
  gboolean ok = s == VG_OK;
  if (!ok && vigil_engine_can_fall_back(e, s)) {
    *fell_back = vigil_engine_switch_to_cpu(e, "in scoring", NULL, NULL, error);
    ok = *fell_back;
  } else if (!ok) {
    vigil_engine_fail(error, VIGIL_ENGINE_ERROR_COMPUTE, "scoring on the device");
  }
  g_mutex_unlock(&e->lock);
  return ok;
}

static gboolean detect_on_host(VigilEngine *e, const VigilFeatures *f, const float *text,
                               const vg_membank *bank, VigilDetection *d, GError **error) {
  const vg_score_shape shape = score_shape(e);
  float score = 0;
  if (vg_score_zero_seg(&shape, (const float *const *)f->seg, text, d->zero_layer_maps,
                        d->zero_map) != VG_OK ||
      vg_score_zero_det(&shape, (const float *const *)f->det, text, NULL, &score) != VG_OK)
    return vigil_engine_fail(error, VIGIL_ENGINE_ERROR_COMPUTE, "zero-shot scoring");
  d->zero_score = score;
  if (!d->has_few)
    return TRUE;
  float mean = 0;
  if (vg_membank_query(bank, VG_HEAD_SEG, (const float *const *)f->seg, d->few_layer_maps,
                       d->few_map, NULL) != VG_OK ||
      vg_membank_query(bank, VG_HEAD_DET, (const float *const *)f->det, NULL, d->few_det_map,
                       &mean) != VG_OK)
    return vigil_engine_fail(error, VIGIL_ENGINE_ERROR_COMPUTE, "few-shot scoring");
  d->few_score = mean;
  return TRUE;
}

/* Room for one image's maps; the few-shot ones when `has_few`. */
VigilDetection *vigil_engine_detection_new(VigilEngine *e, gboolean has_few) {
  const vg_score_shape shape = score_shape(e);
  const gsize plane = (gsize)shape.side * shape.side;
  VigilDetection *d = g_new0(VigilDetection, 1);
  d->layers = shape.layers;
  d->side = shape.side;
  d->zero_layer_maps = g_new(float, plane *shape.layers);
  d->zero_map = g_new(float, plane);
  d->has_few = has_few;
  if (has_few) {
    d->few_layer_maps = g_new(float, plane *shape.layers);
    d->few_map = g_new(float, plane);
    d->few_det_map = g_new(float, plane);
  }
  return d;
}

VigilDetection *vigil_engine_detect(VigilEngine *e, const VigilFeatures *f, const float *text,
                                    const vg_membank *bank, GError **error) {
  const vg_score_shape shape = score_shape(e);
  if (f->layers != shape.layers || f->dim != shape.channels ||
      f->tokens != vg_score_tokens(&shape)) {
    g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_INPUT,
                "features of %d layers x %d tokens x %d do not fit this model", f->layers,
                f->tokens, f->dim);
    return NULL;
  }
  g_autoptr(VigilDetection) d = vigil_engine_detection_new(e, bank && vg_membank_count(bank) > 0);
  /* A bank without a device mirror (made on the CPU) is scored on the host. */
  gboolean device = vigil_engine_on_device(e) && (!d->has_few || vg_membank_mirrored(bank));
  gboolean fell_back = FALSE;
  gboolean ok = device ? score_on_device(e, f, text, bank, d, &fell_back, error)
                       : detect_on_host(e, f, text, bank, d, error);
  if (fell_back)
    ok = detect_on_host(e, f, text, bank, d, error), device = FALSE;
  d->on_device = device;
  return ok ? g_steal_pointer(&d) : NULL;
}

void vigil_engine_transfer_bytes(VigilEngine *e, gint64 *uploaded, gint64 *downloaded) {
  g_mutex_lock(&e->lock);
  if (uploaded)
    *uploaded = e->backend->uploaded_bytes;
  if (downloaded)
    *downloaded = e->backend->downloaded_bytes;
  g_mutex_unlock(&e->lock);
}
