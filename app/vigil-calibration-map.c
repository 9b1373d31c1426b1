/* The map part of a calibration (vigil-calibration.h): the image score's
 * normalisation applied per pixel, so a heatmap reads on the same 0..1 scale
 * with 0.5 as the threshold, and the map a viewer shows for a detection. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil-calibration.h"
#include "vigil-metrics.h"

void vigil_calibration_raw_map(const VigilDetection *d, gboolean few_shot, float *out) {
  const gsize n = (gsize)d->side * d->side;
  const gboolean fused = few_shot && d->has_few;
  for (gsize i = 0; i < n; i++)
    out[i] = fused ? d->zero_map[i] + d->few_map[i] : d->zero_map[i];
}

static int by_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* numpy.percentile's default (linear), over float pixels. */
static double pixel_percentile(GArray *values, double p) {
  float *v = (float *)values->data;
  qsort(v, values->len, sizeof *v, by_float);
  double pos = p / 100 * (double)(values->len - 1);
  gsize lo = (gsize)floor(pos), hi = MIN(lo + 1, values->len - 1);
  return v[lo] + (v[hi] - (double)v[lo]) * (pos - (double)lo);
}

static gboolean fail(GError **error, const char *message) {
  g_set_error_literal(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_DATA, message);
  return FALSE;
}

/* Pixel F1-max: every pixel of every map, labelled by its mask (normal maps: 0). */
static gboolean fit_on_masks(VigilCalibration *c, gsize n, gsize plane, const float *const *maps,
                             const guint8 *const *masks, GError **error) {
  g_autofree float *scores = g_new(float, n *plane);
  g_autofree guint8 *labels = g_new0(guint8, n * plane);
  for (gsize i = 0; i < n; i++) {
    memcpy(scores + i * plane, maps[i], plane * sizeof(float));
    for (gsize p = 0; masks[i] && p < plane; p++)
      labels[i * plane + p] = masks[i][p] != 0;
  }
  g_autoptr(VigilCurve) curve = vigil_curve_new_f32(n * plane, scores, labels, error);
  if (!curve)
    return FALSE;
  if (curve->positives < 1 || curve->negatives < 1)
    return fail(error, "the masks mark no lesion pixels (or only lesion pixels)");
  vigil_curve_f1_max(curve, &c->map_threshold);
  c->map_percentile = 0;
  return TRUE;
}

gboolean vigil_calibration_fit_map(VigilCalibration *c, gsize n, gsize plane,
                                   const float *const *maps, const guint8 *labels,
                                   const guint8 *const *masks, GError **error) {
  if (n == 0 || plane == 0)
    return fail(error, "no maps to calibrate the map on");
  gboolean with_masks = masks != NULL;
  for (gsize i = 0; with_masks && i < n; i++)
    with_masks = !labels[i] || masks[i];
  double lo = INFINITY, hi = -INFINITY;
  g_autoptr(GArray) normal = g_array_new(FALSE, FALSE, sizeof(float));
  for (gsize i = 0; i < n; i++)
    for (gsize p = 0; p < plane; p++) {
      float v = maps[i][p];
      if (isnan(v))
        return fail(error, "a map value is not a number");
      lo = MIN(lo, v), hi = MAX(hi, v);
      if (!with_masks && !labels[i])
        g_array_append_val(normal, v);
    }
  if (with_masks) {
    if (!fit_on_masks(c, n, plane, maps, masks, error))
      return FALSE;
  } else {
    if (normal->len == 0)
      return fail(error, "the map threshold needs normal images or masks");
    c->map_percentile = VIGIL_CALIBRATION_MAP_PERCENTILE;
    c->map_threshold = pixel_percentile(normal, c->map_percentile);
  }
  c->map_min = lo, c->map_max = hi;
  return TRUE;
}

gboolean vigil_calibration_has_map(const VigilCalibration *c) {
  return c && c->source != VIGIL_CALIBRATION_UNCALIBRATED && isfinite(c->map_threshold) &&
         isfinite(c->map_min) && isfinite(c->map_max);
}

double vigil_calibration_apply_map(const VigilCalibration *c, double raw) {
  if (!vigil_calibration_has_map(c))
    return NAN;
  double range = MAX(c->map_max - c->map_min, 1e-12);
  return CLAMP((raw - c->map_threshold) / range + 0.5, 0.0, 1.0);
}

VigilCalibration *vigil_calibration_copy(const VigilCalibration *c) {
  if (!c)
    return NULL;
  VigilCalibration *copy = g_memdup2(c, sizeof *c);
  copy->class_name = g_strdup(c->class_name);
  copy->clip_sha256 = g_strdup(c->clip_sha256);
  copy->adapters_sha256 = g_strdup(c->adapters_sha256);
  copy->vigil_version = g_strdup(c->vigil_version);
  return copy;
}

static void sum_layers(VigilShownMap *m, const VigilDetection *d, gboolean few, guint mask) {
  const gsize n = (gsize)d->side * d->side;
  for (int l = 0; l < d->layers; l++) {
    if (!(mask & (1u << l)))
      continue;
    const float *src = (few ? d->few_layer_maps : d->zero_layer_maps) + n * l;
    for (gsize i = 0; i < n; i++)
      m->values[i] += src[i];
    m->layers++;
  }
  /* Zero-shot layers are probabilities, so the sum spans 0..layers; the
   * few-shot distances have no fixed scale, so their own range is used. */
  m->lo = 0, m->hi = MAX(m->layers, 1);
  if (!few)
    return;
  m->lo = INFINITY, m->hi = -INFINITY;
  for (gsize i = 0; i < n; i++)
    m->lo = MIN(m->lo, m->values[i]), m->hi = MAX(m->hi, m->values[i]);
  if (m->hi <= m->lo)
    m->hi = m->lo + 1;
}

void vigil_shown_map_init(VigilShownMap *m, const VigilDetection *d, gboolean few_shot,
                          guint layer_mask, const VigilCalibration *calibration) {
  const gboolean few = few_shot && d->has_few;
  const guint all = d->layers >= 32 ? ~0u : (1u << d->layers) - 1;
  *m = (VigilShownMap){.side = d->side, .values = g_new0(float, (gsize)d->side * d->side)};
  if ((layer_mask & all) == all && vigil_calibration_has_map(calibration) &&
      calibration->few_shot == few) {
    vigil_calibration_raw_map(d, few, m->values);
    for (gsize i = 0; i < (gsize)d->side * d->side; i++)
      m->values[i] = (float)vigil_calibration_apply_map(calibration, m->values[i]);
    m->lo = 0, m->hi = 1, m->calibrated = TRUE, m->layers = (guint)d->layers;
    return;
  }
  sum_layers(m, d, few, layer_mask);
}

void vigil_shown_map_clear(VigilShownMap *m) {
  g_clear_pointer(&m->values, g_free);
}
