/* The matmul precision a model runs at: the app's Preferences choice and
 * vigil-cli's --dtype. */
#pragma once

#include <glib.h>

#include "vg_backend.h"

G_BEGIN_DECLS

typedef enum {
  VIGIL_PRECISION_F32,
  /* F16 matmul weights (F32 accumulation): the fast path on GPUs with
   * cooperative matrices; results move by about 1e-3. */
  VIGIL_PRECISION_F16,
  /* BF16 matmul weights and activations (F32 accumulation), CPU backend only,
   * where the CPU has AMX-BF16 or AVX512_BF16 and the build has oneDNN;
   * results move by about 5e-3. */
  VIGIL_PRECISION_BF16,
} VigilPrecision;

/* "f32", "f16" or "bf16"; FALSE (with *error) for anything else. */
gboolean vigil_precision_parse(const char *name, VigilPrecision *out, GError **error);
/* "f32", "f16" or "bf16". */
const char *vigil_precision_name(VigilPrecision p);
vg_dtype vigil_precision_dtype(VigilPrecision p);
/* TRUE where BF16 runs here; otherwise FALSE and *why (may be NULL; g_free it). */
gboolean vigil_precision_bf16_available(char **why);

G_END_DECLS
