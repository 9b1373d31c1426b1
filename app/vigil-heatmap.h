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

/* The region {v >= threshold} of a map laid over an image of image_width x
 * image_height pixels (the map stretched to cover it, as the view and the
 * exports draw it), measured for people. */
typedef struct {
  guint cells;         /* map cells in the region (0: none above threshold) */
  double area;         /* in mm^2 with a pixel spacing, else in image pixels */
  gboolean area_mm;    /* TRUE: `area` is mm^2 (spacing known) */
  double max_value;    /* the map's maximum over the region (NAN: empty) */
  double max_x, max_y; /* where it is: image pixel coordinates of the cell centre */
} VigilMapRegion;

/* Measures the region; `pixel_spacing` is the image's (mm, row then column,
 * 0 when unknown), NULL for none. */
void vigil_map_region(const VigilMap *map, double threshold, int image_width, int image_height,
                      const double pixel_spacing[2], VigilMapRegion *out);
/* "182.4 mm², max 0.91 at (120, 88)" or "no region above threshold"; g_free. */
char *vigil_map_region_describe(const VigilMapRegion *region);

G_END_DECLS
