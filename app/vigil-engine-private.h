/* What vigil-engine.c shares with vigil-engine-analyse.c: the engine's state
 * and the steps both need (fallback to the CPU, batch shrinking, results). */
#pragma once

#include "vg_score_backend.h"
#include "vg_tokenizer.h"
#include "vigil-engine.h"

G_BEGIN_DECLS

struct _VigilEngine {
  GMutex lock;              /* one forward at a time on the backend */
  GMutex text_lock;         /* identity, fallback, device, batch_note: read from other threads */
  VigilPrecision precision; /* VigilBackendOptions.precision */
  int batch_limit;  /* images per forward, lowered when a chunk outgrows the device (atomic) */
  char *batch_note; /* why it was lowered, NULL if it was not */
  vg_backend *backend;
  vg_clip *clip;      /* image tower and adapters */
  vg_clip *text_clip; /* text tower, only while a new class's prompts are encoded */
  vg_weights *clip_weights, *adapter_weights; /* mapped: clip uses them in place */
  vg_tokenizer *tokenizer;
  vg_clip_arch arch;
  gboolean random;
  char *identity, *fallback, *clip_digest, *cache_dir, *device;
  char *clip_path, *adapters_path, *clip_name, *adapters_name, *adapters_digest;
  VigilBackendKind kind; /* what was asked for: only AUTO falls back to the CPU */
  int threads;
  GHashTable *text_cache; /* class name -> float[dim * 2] */
  vg_scorer *scorer;      /* scoring on the device (Vulkan), made on first use */
  GPtrArray *banks;       /* banks made here (not owned): their mirrors use `backend` */
};

/* Sets *error from vg_last_error(); returns FALSE. */
gboolean vigil_engine_fail(GError **error, int code, const char *what);
/* Whether a failure with status `s` moves the engine to the CPU (AUTO on Vulkan). */
gboolean vigil_engine_can_fall_back(VigilEngine *e, vg_status s);
/* Reloads the model on the CPU (lock held); `what` says where Vulkan failed. */
gboolean vigil_engine_switch_to_cpu(VigilEngine *e, const char *what, GError **error);
/* The model options for these towers (0 = both) at the engine's precision. */
vg_clip_options vigil_engine_clip_options(const VigilEngine *e, unsigned towers);
typedef vg_status (*VigilForwardFunc)(vg_clip *clip, gpointer data);
/* Runs a forward on e->clip (lock held); under AUTO a Vulkan failure moves the
 * model to the CPU and runs it again there. */
gboolean vigil_engine_run_forward(VigilEngine *e, const char *what, VigilForwardFunc run,
                                  gpointer data, GError **error);
/* Frees the text tower and drops its pages (lock held, or no other user). */
void vigil_engine_drop_text_tower(VigilEngine *e);
/* Halves the images per forward after an out-of-memory chunk of n images. */
gboolean vigil_engine_shrink_batch(VigilEngine *e, int n, vg_status s);
gboolean vigil_engine_on_device(VigilEngine *e);
VigilFeatures *vigil_engine_features_new(VigilEngine *e, vg_clip_image_out *out);
VigilDetection *vigil_engine_detection_new(VigilEngine *e, gboolean has_few);
vg_status vigil_engine_prepare_scorer(VigilEngine *e, const float *text);
vg_score_out vigil_engine_score_out_of(VigilDetection *d);

G_END_DECLS
