/* Anomaly maps for people: colour maps, a legend, and threshold contours. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VIGIL_COLORMAP_JET,     /* what MVFA's figures use (OpenCV's COLORMAP_JET) */
  VIGIL_COLORMAP_INFERNO, /* perceptually ordered, readable in grayscale print */
} VigilColormap;

typedef struct {
  int width, height;
  float *values; /* row major */
} VigilMap;

/* RGB for t in [0, 1] (clamped). */
void vigil_colormap_rgb(VigilColormap map, double t, guint8 rgb[3]);
const char *vigil_colormap_name(VigilColormap map);
gboolean vigil_colormap_from_name(const char *name, VigilColormap *map);

/* Premultiplied RGBA (GDK/cairo byte order B,G,R,A on little endian, i.e. one
 * guint32 ARGB per pixel): colour of (v - lo) / (hi - lo), alpha = opacity,
 * and fully transparent below `floor` (pass -INFINITY for none). */
void vigil_map_to_argb(const VigilMap *map, double lo, double hi, double floor, double opacity,
                       VigilColormap colormap, guint32 *out);

/* Contour of {v >= threshold} as unit-length cell edges in map coordinates:
 * each segment is x0, y0, x1, y1 (floats in a GArray). */
GArray *vigil_map_contour(const VigilMap *map, double threshold);

G_END_DECLS
