#include "vigil-precision.h"

#include "vg_dnnl.h"
#include "vigil-backend.h"

static const char *const names[] = {"f32", "f16", "bf16"};

gboolean vigil_precision_parse(const char *name, VigilPrecision *out, GError **error) {
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    if (g_strcmp0(name, names[i]) == 0) {
      *out = (VigilPrecision)i;
      return TRUE;
    }
  g_set_error(error, VIGIL_BACKEND_ERROR, VIGIL_BACKEND_ERROR_INVALID,
              "unknown precision '%s' (expected f32, f16 or bf16)", name ? name : "");
  return FALSE;
}

const char *vigil_precision_name(VigilPrecision p) {
  return p <= VIGIL_PRECISION_BF16 ? names[p] : "f32";
}

vg_dtype vigil_precision_dtype(VigilPrecision p) {
  return p == VIGIL_PRECISION_F16 ? VG_F16 : p == VIGIL_PRECISION_BF16 ? VG_BF16 : VG_F32;
}

gboolean vigil_precision_bf16_available(char **why) {
  const char *reason = NULL;
  if (vg_dnnl_bf16(&reason))
    return TRUE;
  if (why)
    *why = g_strdup(reason);
  return FALSE;
}
