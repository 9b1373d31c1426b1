/* vigil-cli features, detect and report: the engine set up from the command
 * line, scans turned into model inputs, normal references into the bank. */
#include "vigil-cli-engine.h"

#include <stdio.h>

#include "vg_augment.h"
#include "vigil-resize.h"
#include "vigil-scan-images.h"

void vigil_cli_engine_args_clear(EngineArgs *a) {
  g_free(a->clip), g_free(a->adapters), g_free(a->backend), g_free(a->device);
  g_free(a->class_name), g_free(a->dtype);
}

/* A move to the CPU (at start-up or during a forward) gets one warning line. */
void vigil_cli_report_fallback(const char *command, VigilEngine *engine) {
  static char *shown;
  char *reason = vigil_engine_dup_fallback_reason(engine);
  if (reason && g_strcmp0(reason, shown) != 0)
    fprintf(stderr, "vigil-cli %s: warning: %s\n", command, reason);
  g_free(shown);
  shown = reason;
  static char *noted; /* fewer images per forward: a note, as results stay on the device */
  char *note = vigil_engine_dup_batch_note(engine);
  if (note && g_strcmp0(note, noted) != 0)
    fprintf(stderr, "vigil-cli %s: note: %s\n", command, note);
  g_free(noted);
  noted = note;
}

/* --dtype: f32 (default), f16 or bf16 matmuls; FALSE (said) for anything else. */
gboolean vigil_cli_dtype_ok(const char *command, const EngineArgs *a) {
  VigilPrecision p;
  if (!a->dtype || vigil_precision_parse(a->dtype, &p, NULL))
    return TRUE;
  fprintf(stderr, "vigil-cli %s: --dtype '%s': expected f32, f16 or bf16\n", command, a->dtype);
  return FALSE;
}

VigilPrecision vigil_cli_precision(const EngineArgs *a) {
  VigilPrecision p = VIGIL_PRECISION_F32;
  if (a->dtype)
    vigil_precision_parse(a->dtype, &p, NULL); /* checked by vigil_cli_dtype_ok */
  return p;
}

VigilEngine *vigil_cli_open_engine(const char *command, const EngineArgs *a) {
  VigilBackendOptions options = {
      .kind = VIGIL_BACKEND_AUTO, .device = a->device, .precision = vigil_cli_precision(a)};
  g_autoptr(GError) error = NULL;
  if (a->backend && !vigil_backend_kind_parse(a->backend, &options.kind, &error)) {
    fprintf(stderr, "vigil-cli %s: %s\n", command, error->message);
    return NULL;
  }
  VigilEngine *engine = vigil_engine_open(a->clip, a->adapters, &options, &error);
  if (!engine) {
    fprintf(stderr, "vigil-cli %s: %s\n", command, error->message);
    return NULL;
  }
  vigil_cli_report_fallback(command, engine);
  if (vigil_engine_is_random(engine))
    fprintf(stderr, "vigil-cli %s: random test model: results are meaningless\n", command);
  return engine;
}

/* The model input of one scan slice, windowed as the viewer would show it. */
float *vigil_cli_load_input(const char *path, const char *series, int slice, const char *window,
                            VigilEngine *engine, GError **error) {
  VigilWindowLevel w;
  g_autoptr(VigilImage) image = vigil_scan_load_slice(path, series, slice, &w, error);
  if (!image)
    return NULL;
  if (window && !vigil_window_level_parse(window, &w)) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "bad --window '%s'", window);
    return NULL;
  }
  if (vigil_engine_arch(engine)->image_size != VIGIL_MODEL_INPUT_SIZE) {
    g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_INPUT,
                "the model expects %d px input; scans are prepared at %d",
                vigil_engine_arch(engine)->image_size, VIGIL_MODEL_INPUT_SIZE);
    return NULL;
  }
  return vigil_model_input(image, w.center, w.width, error);
}

/* References go into the bank as they are, or as MVFA's 11 augmented views. */
gboolean vigil_cli_add_reference(VigilEngine *engine, vg_membank *bank, const char *path,
                                 gboolean augment, guint64 *first_id, GError **error) {
  const int side = vigil_engine_arch(engine)->image_size;
  g_autofree float *input = vigil_cli_load_input(path, NULL, 0, NULL, engine, error);
  if (!input)
    return FALSE;
  const gsize one = (gsize)3 * side * side;
  int views = augment ? VG_AUGMENT_COUNT : 1;
  g_autofree float *all = augment ? g_new(float, one *VG_AUGMENT_COUNT) : NULL;
  if (augment && vg_augment_mvfa(input, 3, side, side, all) != VG_OK) {
    g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_INPUT, "%s", vg_last_error());
    return FALSE;
  }
  /* The views go through the encoder together, several per forward. */
  const float *inputs[VG_AUGMENT_COUNT];
  VigilFeatures *f[VG_AUGMENT_COUNT] = {NULL};
  for (int v = 0; v < views; v++)
    inputs[v] = augment ? all + one * v : input;
  gboolean ok = vigil_engine_features_batch(engine, views, inputs, f, error);
  for (int v = 0; ok && v < views; v++)
    ok = vigil_engine_bank_add(engine, bank, f[v], v == 0 ? first_id : NULL, error);
  for (int v = 0; v < views; v++)
    vigil_features_free(f[v]);
  return ok;
}
