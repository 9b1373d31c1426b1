/* VigilEngine: the MVFA engine for the application: weights loaded on a
 * backend, text features per class (cached on disk), image features, and the
 * zero-/few-shot maps and scores. Thread-safe: one forward at a time. */
#pragma once

#include <gio/gio.h>

#include "vg_clip.h"
#include "vg_membank.h"
#include "vigil-backend.h"

G_BEGIN_DECLS

#define VIGIL_ENGINE_ERROR (vigil_engine_error_quark())
GQuark vigil_engine_error_quark(void);

typedef enum {
  VIGIL_ENGINE_ERROR_WEIGHTS, /* a weights file is missing, malformed or the wrong model */
  VIGIL_ENGINE_ERROR_INPUT,   /* wrong input size, empty class name, ... */
  VIGIL_ENGINE_ERROR_COMPUTE, /* the backend failed */
} VigilEngineError;

typedef struct _VigilEngine VigilEngine;

/* The CLIP vocabulary, where vigil_data_path() finds it ($VIGIL_DATA_DIR/clip
 * when that is set, else the installed data, else the build tree's copy). */
char *vigil_vocab_path(void);
/* Loads CLIP weights and MVFA adapters (safetensors or .pth) onto a backend.
 * The vocabulary comes from vigil_vocab_path(). */
VigilEngine *vigil_engine_open(const char *clip_path, const char *adapters_path,
                               const VigilBackendOptions *backend, GError **error);
void vigil_engine_free(VigilEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilEngine, vigil_engine_free)

const vg_clip_arch *vigil_engine_arch(VigilEngine *engine);
/* TRUE when either file says it is a random test model (vigil.random). */
gboolean vigil_engine_is_random(VigilEngine *engine);
/* File names with SHA-256 digests and the device: what a report must name.
 * These strings change when AUTO falls back to the CPU, possibly on a worker
 * thread, so each getter returns a copy taken under a lock (g_free it). */
char *vigil_engine_dup_identity(VigilEngine *engine);
char *vigil_engine_dup_device(VigilEngine *engine);
/* The SHA-256 (hex) of the CLIP and adapter weight files; fixed once opened. */
const char *vigil_engine_clip_digest(VigilEngine *engine);
const char *vigil_engine_adapters_digest(VigilEngine *engine);
/* Why AUTO fell back to the CPU, or NULL. */
char *vigil_engine_dup_fallback_reason(VigilEngine *engine);
/* Where text features are cached; NULL disables the disk cache. */
void vigil_engine_set_cache_dir(VigilEngine *engine, const char *dir);

typedef struct {
  int layers, tokens, dim, embed_dim;
  float *pooled;                    /* embed_dim */
  float *seg[VG_CLIP_MAX_ADAPTERS]; /* tokens x dim each, CLS first */
  float *det[VG_CLIP_MAX_ADAPTERS];
} VigilFeatures;

void vigil_features_free(VigilFeatures *features);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilFeatures, vigil_features_free)

/* `input` is 3 x S x S RGB in [0, 1] (S = arch->image_size). */
VigilFeatures *vigil_engine_features(VigilEngine *engine, const float *input, GError **error);
/* Features of n inputs, several per forward (vigil_engine_batch_limit each):
 * out[i] for inputs[i]. All or nothing: on failure every out[i] is NULL. */
gboolean vigil_engine_features_batch(VigilEngine *engine, int n, const float *const *inputs,
                                     VigilFeatures **out, GError **error);
/* Images per forward in vigil_engine_features_batch (8 unless memory bounds it).
 * On Vulkan a chunk that runs out of device memory halves it (8, 4, 2, 1) for
 * the rest of the session, so callers sizing work by it read it each time. */
int vigil_engine_batch_limit(VigilEngine *engine);
/* Why the limit was lowered during the session ("Vulkan memory too small for
 * 8 images per forward (...); using 4 from now on"), or NULL; a copy. */
char *vigil_engine_dup_batch_note(VigilEngine *engine);

/* MVFA's text features for a class: dim x 2 (normal, abnormal), each column
 * the renormalised mean of the normalised prompt embeddings. Caller g_free()s. */
float *vigil_engine_text_features(VigilEngine *engine, const char *class_name,
                                  GCancellable *cancellable, GError **error);
/* Whether the text tower is loaded: only while a new class is encoded. */
gboolean vigil_engine_text_tower_loaded(VigilEngine *engine);

typedef struct {
  int layers, side;
  float *zero_layer_maps; /* layers x side x side */
  float *zero_map;        /* side x side: the sum over layers */
  double zero_score;      /* zero-shot det score */
  gboolean has_few;
  float *few_layer_maps; /* layers x side x side (seg head) */
  float *few_map;        /* side x side (seg head) */
  float *few_det_map;    /* side x side (det head) */
  double few_score;      /* mean of few_det_map */
  gboolean on_device;    /* scored by shaders on the engine's GPU, not on the host */
} VigilDetection;

void vigil_detection_free(VigilDetection *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDetection, vigil_detection_free)

/* A memory bank shaped for this engine's features; on Vulkan it keeps its
 * rows on the device too (vg_membank_mirror). The engine drops that copy when
 * it falls back to the CPU or is freed; free the bank with
 * vigil_engine_free_bank (before or after the engine: pass NULL then). */
vg_membank *vigil_engine_new_bank(VigilEngine *engine, GError **error);
void vigil_engine_free_bank(VigilEngine *engine, vg_membank *bank);
gboolean vigil_engine_bank_add(VigilEngine *engine, vg_membank *bank, const VigilFeatures *f,
                               guint64 *id, GError **error);
/* Removes reference `id` (on the device too when the bank is mirrored there). */
gboolean vigil_engine_bank_remove(VigilEngine *engine, vg_membank *bank, guint64 id,
                                  GError **error);

/* Zero-shot maps and score from `text` (dim x 2); with a non-empty `bank`,
 * the few-shot maps and score too. On Vulkan the scoring runs as shaders
 * (vg_score_backend.h), else on the host (vg_score.h, vg_membank.h). */
VigilDetection *vigil_engine_detect(VigilEngine *engine, const VigilFeatures *features,
                                    const float *text, const vg_membank *bank, GError **error);

/* n inputs encoded and scored: out[i] for inputs[i] as vigil_engine_detect
 * would give from their features. On Vulkan (with a bank mirrored there, or
 * none) the encoder's tokens stay on the device and are scored there: only
 * the maps and scores come back, and the features too when `features` is not
 * NULL (features[i] then as vigil_engine_features_batch). Anywhere else, and
 * after a fallback to the CPU under AUTO, the same two steps run on the host.
 * All or nothing: on failure every out[i] (and features[i]) is NULL. */
gboolean vigil_engine_analyse_batch(VigilEngine *engine, int n, const float *const *inputs,
                                    const float *text, const vg_membank *bank,
                                    VigilFeatures **features, VigilDetection **out, GError **error);
/* Bytes uploaded to and downloaded from the backend in use since it opened
 * (a fallback starts a new count). */
void vigil_engine_transfer_bytes(VigilEngine *engine, gint64 *uploaded, gint64 *downloaded);

G_END_DECLS
