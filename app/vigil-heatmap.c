#include "vigil-heatmap.h"

#include <math.h>

/* OpenCV's COLORMAP_JET is piecewise linear over these five knots. */
static void jet(double t, double rgb[3]) {
  rgb[0] = CLAMP(1.5 - fabs(4 * t - 3), 0, 1);
  rgb[1] = CLAMP(1.5 - fabs(4 * t - 2), 0, 1);
  rgb[2] = CLAMP(1.5 - fabs(4 * t - 1), 0, 1);
}

/* Matplotlib's inferno, sampled at 9 points and interpolated linearly. */
static void inferno(double t, double rgb[3]) {
  static const double knots[9][3] = {
      {0.001, 0.000, 0.014}, {0.087, 0.044, 0.224}, {0.258, 0.039, 0.406},
      {0.416, 0.090, 0.433}, {0.578, 0.148, 0.404}, {0.735, 0.216, 0.330},
      {0.865, 0.317, 0.226}, {0.954, 0.468, 0.100}, {0.988, 0.998, 0.645},
  };
  double x = t * 8;
  int i = (int)CLAMP(floor(x), 0, 7);
  double f = x - i;
  for (int c = 0; c < 3; c++)
    rgb[c] = knots[i][c] * (1 - f) + knots[i + 1][c] * f;
}

void vigil_colormap_rgb(VigilColormap map, double t, guint8 rgb[3]) {
  double c[3];
  t = isnan(t) ? 0 : CLAMP(t, 0, 1);
  if (map == VIGIL_COLORMAP_INFERNO)
    inferno(t, c);
  else
    jet(t, c);
  for (int i = 0; i < 3; i++)
    rgb[i] = (guint8)lrint(c[i] * 255);
}

const char *vigil_colormap_name(VigilColormap map) {
  return map == VIGIL_COLORMAP_INFERNO ? "inferno" : "jet";
}

gboolean vigil_colormap_from_name(const char *name, VigilColormap *map) {
  if (g_strcmp0(name, "jet") == 0)
    *map = VIGIL_COLORMAP_JET;
  else if (g_strcmp0(name, "inferno") == 0)
    *map = VIGIL_COLORMAP_INFERNO;
  else
    return FALSE;
  return TRUE;
}

void vigil_map_to_argb(const VigilMap *map, double lo, double hi, double floor, double opacity,
                       VigilColormap colormap, guint32 *out) {
  const double span = hi > lo ? hi - lo : 1;
  const guint32 a = (guint32)lrint(CLAMP(opacity, 0, 1) * 255);
  const gsize n = (gsize)map->width * map->height;
  for (gsize i = 0; i < n; i++) {
    const double v = map->values[i];
    if (!(v >= floor)) {
      out[i] = 0;
      continue;
    }
    guint8 rgb[3];
    vigil_colormap_rgb(colormap, (v - lo) / span, rgb);
    /* premultiply by alpha */
    guint32 r = (rgb[0] * a + 127) / 255, g = (rgb[1] * a + 127) / 255,
            b = (rgb[2] * a + 127) / 255;
    out[i] = (a << 24) | (r << 16) | (g << 8) | b;
  }
}

static gboolean inside(const VigilMap *m, int x, int y, double t) {
  return x >= 0 && y >= 0 && x < m->width && y < m->height && m->values[y * m->width + x] >= t;
}

static void add_segment(GArray *a, float x0, float y0, float x1, float y1) {
  const float s[4] = {x0, y0, x1, y1};
  g_array_append_vals(a, s, 4);
}

GArray *vigil_map_contour(const VigilMap *m, double t) {
  GArray *segments = g_array_new(FALSE, FALSE, sizeof(float));
  for (int y = 0; y < m->height; y++)
    for (int x = 0; x < m->width; x++) {
      if (!inside(m, x, y, t))
        continue;
      /* An edge between an inside cell and an outside one is on the contour. */
      if (!inside(m, x, y - 1, t))
        add_segment(segments, x, y, x + 1, y);
      if (!inside(m, x, y + 1, t))
        add_segment(segments, x, y + 1, x + 1, y + 1);
      if (!inside(m, x - 1, y, t))
        add_segment(segments, x, y, x, y + 1);
      if (!inside(m, x + 1, y, t))
        add_segment(segments, x + 1, y, x + 1, y + 1);
    }
  return segments;
}

void vigil_map_region(const VigilMap *m, double t, int image_width, int image_height,
                      const double pixel_spacing[2], VigilMapRegion *out) {
  *out = (VigilMapRegion){.max_value = NAN, .max_x = NAN, .max_y = NAN};
  for (int y = 0; y < m->height; y++)
    for (int x = 0; x < m->width; x++) {
      const float v = m->values[(gsize)y * m->width + x];
      if (!inside(m, x, y, t))
        continue;
      out->cells++;
      if (isnan(out->max_value) || v > out->max_value)
        out->max_value = v, out->max_x = x, out->max_y = y;
    }
  /* One map cell covers (W / w) x (H / h) image pixels. */
  const double cell_w = (double)image_width / m->width, cell_h = (double)image_height / m->height;
  out->area_mm = pixel_spacing && pixel_spacing[0] > 0 && pixel_spacing[1] > 0;
  out->area =
      out->cells * cell_w * cell_h * (out->area_mm ? pixel_spacing[0] * pixel_spacing[1] : 1);
  if (out->cells)
    out->max_x = (out->max_x + 0.5) * cell_w, out->max_y = (out->max_y + 0.5) * cell_h;
}

char *vigil_map_region_describe(const VigilMapRegion *r) {
  if (r->cells == 0)
    return g_strdup("no region above threshold");
  return g_strdup_printf("%.1f %s, max %.2f at (%.0f, %.0f)", r->area,
                         r->area_mm ? "mm²" : "pixels", r->max_value, r->max_x, r->max_y);
}
