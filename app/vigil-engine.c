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
#include "vigil-digest.h"
#include "vigil-engine-private.h"

/* clang-format would put spaces around the dashes of the quark name. */
/* clang-format off */
G_DEFINE_QUARK(vigil-engine-error-quark, vigil_engine_error)
/* clang-format on */

#define VOCAB_NAME "bpe_simple_vocab_16e6.txt.gz"

gboolean vigil_engine_fail(GError **error, int code, const char *what) {
  g_set_error(error, VIGIL_ENGINE_ERROR, code, "%s: %s", what, vg_last_error());
  return FALSE;
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
  g_autofree char *clip_sum = vigil_file_digest(clip_path, error);
  g_autofree char *adapters_sum = clip_sum ? vigil_file_digest(adapters_path, error) : NULL;
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

/* The image tower and adapters (the text tower is loaded per new class,
 * vigil-engine-text.c), using the mapped weights in place where the backend can. */
vg_clip_options vigil_engine_clip_options(const VigilEngine *e, unsigned towers) {
  return (vg_clip_options){
      .matmul_dtype = vigil_precision_dtype(e->precision), .towers = towers, .borrow_weights = 1};
}

/* Reloads the model on a CPU backend and records why; the Vulkan backend is closed. */
gboolean vigil_engine_switch_to_cpu(VigilEngine *e, const char *what, GError **error) {
  g_autofree char *reason =
      g_strdup_printf("Vulkan failed %s: %s; using the CPU", what, vg_last_error());
  const VigilBackendOptions cpu = {.kind = VIGIL_BACKEND_CPU, .threads = e->threads};
  /* The same precision on the CPU. */
  const vg_clip_options opts = vigil_engine_clip_options(e, VG_CLIP_IMAGE);
  vg_backend *be = vigil_backend_open(&cpu, NULL, error);
  vg_clip *m = NULL;
  if (be && vg_clip_load(e->clip_weights, e->adapter_weights, &opts, be, &m) != VG_OK) {
    vigil_engine_fail(error, VIGIL_ENGINE_ERROR_COMPUTE, reason);
    vg_backend_destroy(be);
    be = NULL;
  }
  if (!be)
    return FALSE;
  drop_device_state(e); /* the scorer and bank mirrors live on the old backend */
  vigil_engine_drop_text_tower(e);
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
static gboolean load_model(VigilEngine *e, GError **error) {
  const vg_clip_options opts = vigil_engine_clip_options(e, VG_CLIP_IMAGE);
  vg_status s = vg_clip_load(e->clip_weights, e->adapter_weights, &opts, e->backend, &e->clip);
  if (s == VG_OK)
    return TRUE;
  if (vigil_engine_can_fall_back(e, s))
    return vigil_engine_switch_to_cpu(e, "loading the model", error);
  if (g_strcmp0(e->backend->kind, "vulkan") == 0 &&
      (s == VG_ERR_DEVICE || s == VG_ERR_UNSUPPORTED || s == VG_ERR_NOMEM))
    return vigil_engine_fail(error, VIGIL_ENGINE_ERROR_COMPUTE, "the model cannot run on Vulkan");
  return vigil_engine_fail(error, VIGIL_ENGINE_ERROR_WEIGHTS, "cannot use these weights");
}

gboolean vigil_engine_run_forward(VigilEngine *e, const char *what, VigilForwardFunc run,
                                  gpointer data, GError **error) {
  vg_status s = run(e->clip, data);
  if (s != VG_OK && vigil_engine_can_fall_back(e, s)) {
    g_autofree char *during = g_strdup_printf("in the %s", what);
    if (!vigil_engine_switch_to_cpu(e, during, error))
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
  /* Kept open (mapped) while the engine lives: the CPU uses them in place and
   * the text tower is loaded from them again for each new class. */
  if (!load_weights(clip_path, "CLIP weights", &e->clip_weights, error) ||
      !load_weights(adapters_path, "MVFA adapters", &e->adapter_weights, error))
    return NULL;
  e->random = is_random(e->clip_weights) || is_random(e->adapter_weights);
  g_autofree char *vocab = vigil_vocab_path();
  gboolean ok = (e->backend = vigil_backend_open(backend, &e->fallback, error)) != NULL;
  if (ok)
    e->device = g_strdup(e->backend->device_name);
  ok = ok && load_model(e, error);
  /* Both towers' sizes, without loading the text tower. */
  const vg_clip_options both = vigil_engine_clip_options(e, 0);
  if (ok && vg_clip_detect(e->clip_weights, e->adapter_weights, &both, &e->arch) != VG_OK)
    ok = vigil_engine_fail(error, VIGIL_ENGINE_ERROR_WEIGHTS, "cannot use these weights");
  vg_weights_evict(e->clip_weights); /* what the load read stays on the backend */
  if (ok && vg_tokenizer_open(vocab, &e->tokenizer) != VG_OK)
    ok = vigil_engine_fail(error, VIGIL_ENGINE_ERROR_WEIGHTS, "CLIP vocabulary");
  if (!ok)
    return NULL;
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
  vigil_engine_drop_text_tower(e);
  vg_clip_free(e->clip);
  vg_tokenizer_free(e->tokenizer);
  vg_backend_destroy(e->backend);
  vg_weights_free(e->clip_weights), vg_weights_free(e->adapter_weights);
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
  gboolean ok = vigil_engine_run_forward(e, "image encoder", image_forward, &fw, error);
  g_mutex_unlock(&e->lock);
  for (int i = 0; !ok && i < n; i++)
    g_clear_pointer(&out[i], vigil_features_free);
  return ok;
}

VigilFeatures *vigil_engine_features(VigilEngine *e, const float *input, GError **error) {
  VigilFeatures *f = NULL;
  return vigil_engine_features_batch(e, 1, &input, &f, error) ? f : NULL;
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
    *fell_back = vigil_engine_switch_to_cpu(e, "in scoring", error);
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
