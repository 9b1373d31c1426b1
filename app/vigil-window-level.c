/* Display windows: presets, automatic windows and the lookup-table path. */
#include "vigil-window-level.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* CT presets (center/width in HU) from Radiopaedia, "Windowing (CT)"
 * (https://radiopaedia.org/articles/windowing-ct): brain W:80 L:40, lungs
 * W:1500 L:-600, bones W:1800 L:400, soft tissues W:350-400 L:20-60 (abdomen
 * 60/400 is the upper end of that range, soft tissue 40/400 its usual middle),
 * liver W:150 L:30. */
static const VigilWindowLevelPreset ct_presets[] = {
    {"brain", "Brain", {40, 80}},
    {"lung", "Lung", {-600, 1500}},
    {"bone", "Bone", {400, 1800}},
    {"abdomen", "Abdomen", {60, 400}},
    {"soft-tissue", "Soft tissue", {40, 400}},
    {"liver", "Liver", {30, 150}},
};

const VigilWindowLevelPreset *vigil_window_level_presets(const char *modality, gsize *n_presets) {
  if (modality && g_ascii_strcasecmp(modality, "CT") == 0) {
    *n_presets = G_N_ELEMENTS(ct_presets);
    return ct_presets;
  }
  *n_presets = 0;
  return ct_presets; /* never dereferenced with n = 0 */
}

const VigilWindowLevelPreset *vigil_window_level_preset_find(const char *modality, const char *id) {
  gsize n = 0;
  const VigilWindowLevelPreset *presets = vigil_window_level_presets(modality, &n);
  for (gsize i = 0; i < n; i++)
    if (g_strcmp0(presets[i].id, id) == 0)
      return &presets[i];
  return NULL;
}

static int cmp_float(const void *a, const void *b) {
  const float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const float *sorted, gsize n, double pct) {
  double pos = CLAMP(pct, 0, 100) / 100.0 * (double)(n - 1);
  return sorted[(gsize)llround(pos)];
}

/* The window whose linear ramp starts at lo (-> 0) and ends at hi (-> 255). */
static VigilWindowLevel window_between(double lo, double hi) {
  VigilWindowLevel w = {(lo + hi) / 2 + 0.5, hi - lo + 1};
  return w;
}

VigilWindowLevel vigil_window_level_auto_percentiles(const VigilImage *image, double low_pct,
                                                     double high_pct) {
  const gsize n = (gsize)image->width * image->height * vigil_image_channels(image);
  g_autofree float *v = g_new(float, n);
  gsize m = 0;
  for (gsize i = 0; i < n; i++)
    if (image->values[i] != 0 && isfinite(image->values[i]))
      v[m++] = image->values[i];
  if (m == 0) /* all zero: any window shows black */
    return window_between(0, 0);
  qsort(v, m, sizeof *v, cmp_float);
  return window_between(percentile(v, m, low_pct), percentile(v, m, high_pct));
}

VigilWindowLevel vigil_window_level_full_range(int bits) {
  return window_between(0, ldexp(1, bits) - 1);
}

gboolean vigil_window_level_parse(const char *text, VigilWindowLevel *window) {
  char *end = NULL;
  const double c = g_ascii_strtod(text, &end);
  if (end == text || *end != ',')
    return FALSE;
  const char *rest = end + 1;
  const double w = g_ascii_strtod(rest, &end);
  if (end == rest || *end != '\0' || !isfinite(c) || !isfinite(w) || w < 1)
    return FALSE;
  window->center = c;
  window->width = w;
  return TRUE;
}

/* vigil_image_window_to_u8's formula for one gray value, operation for operation. */
static guint8 window_value(double v, double center, double width) {
  const double lo = center - 0.5 - (width - 1) / 2, hi = center - 0.5 + (width - 1) / 2;
  if (v <= lo)
    return 0;
  if (v > hi)
    return 255;
  return (guint8)lrint(((v - (center - 0.5)) / (width - 1) + 0.5) * 255.0);
}

#define LUT_MAX_ENTRIES (1 << 17) /* covers int16 and uint16 data */

void vigil_window_level_to_u8_lut(const VigilImage *image, double center, double width,
                                  guint8 *out) {
  const double lo = ceil(image->min_value), hi = floor(image->max_value);
  if (image->kind != VIGIL_IMAGE_GRAY || !isfinite(lo) || !isfinite(hi) || hi < lo ||
      hi - lo >= LUT_MAX_ENTRIES || fabs(lo) > 1e9) {
    vigil_image_window_to_u8(image, center, width, out);
    return;
  }
  if (width < 1)
    width = 1;
  const gint64 base = (gint64)lo, count = (gint64)(hi - lo) + 1;
  g_autofree guint8 *lut = g_new(guint8, count);
  for (gint64 i = 0; i < count; i++)
    lut[i] = window_value((double)(base + i), center, width);
  const gsize n = (gsize)image->width * image->height;
  for (gsize i = 0; i < n; i++) {
    const float v = image->values[i];
    if (v >= lo && v <= hi && (double)(gint64)v == v) /* NaN fails the range test */
      out[i] = lut[(gint64)v - base];
    else
      out[i] = window_value(v, center, width);
  }
}

guint8 *vigil_window_level_to_rgb8(const VigilImage *image, double center, double width) {
  const gsize n = (gsize)image->width * image->height;
  guint8 *rgb = g_malloc(n * 3);
  if (image->kind == VIGIL_IMAGE_RGB) {
    vigil_window_level_to_u8_lut(image, center, width, rgb);
    return rgb;
  }
  g_autofree guint8 *gray = g_malloc(n);
  vigil_window_level_to_u8_lut(image, center, width, gray);
  for (gsize i = 0; i < n; i++)
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = gray[i];
  return rgb;
}

guint32 *vigil_window_level_to_bgra32(const VigilImage *image, double center, double width) {
  const gsize n = (gsize)image->width * image->height;
  guint32 *bgra = g_new(guint32, n);
  if (image->kind == VIGIL_IMAGE_GRAY) {
    /* Windowed into the buffer's last quarter, then widened front to back:
     * pixel i is written (bytes 4i..4i+3) only after byte 3n+i was read. */
    guint8 *gray = (guint8 *)bgra + 3 * n;
    vigil_window_level_to_u8_lut(image, center, width, gray);
    for (gsize i = 0; i < n; i++)
      bgra[i] = 0xff000000u | gray[i] * 0x010101u;
    return bgra;
  }
  g_autofree guint8 *rgb = vigil_window_level_to_rgb8(image, center, width);
  for (gsize i = 0; i < n; i++)
    bgra[i] =
        0xff000000u | (guint32)rgb[3 * i] << 16 | (guint32)rgb[3 * i + 1] << 8 | rgb[3 * i + 2];
  return bgra;
}
