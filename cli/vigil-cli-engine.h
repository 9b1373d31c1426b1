/* The engine for vigil-cli commands (engine-common.c): options shared by
 * features, detect and report, opening the model, inputs and references. */
#pragma once

#include "vigil-engine.h"

typedef struct {
  char *clip, *adapters, *backend, *device, *class_name, *dtype;
  gboolean json;
} EngineArgs;

void vigil_cli_engine_args_clear(EngineArgs *a);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(EngineArgs, vigil_cli_engine_args_clear)

/* A move to the CPU or a lowered batch limit gets one line on stderr each. */
void vigil_cli_report_fallback(const char *command, VigilEngine *engine);
/* --dtype: f32 (default), f16 or bf16; FALSE (said on stderr) for anything else. */
gboolean vigil_cli_dtype_ok(const char *command, const EngineArgs *a);
/* The --dtype given (F32 when none); call vigil_cli_dtype_ok first. */
VigilPrecision vigil_cli_precision(const EngineArgs *a);
/* The engine the options name, or NULL (said on stderr). */
VigilEngine *vigil_cli_open_engine(const char *command, const EngineArgs *a);
/* The model input of a scan's slice windowed as the viewer shows it
 * (`window` "C,W" or NULL for the viewer's default). */
float *vigil_cli_load_input(const char *path, const char *series, int slice, const char *window,
                            VigilEngine *engine, GError **error);
/* Adds a reference image to the bank as it is or as MVFA's 11 augmented
 * views; *first_id (may be NULL) is the bank id of the first. */
gboolean vigil_cli_add_reference(VigilEngine *engine, vg_membank *bank, const char *path,
                                 gboolean augment, guint64 *first_id, GError **error);
