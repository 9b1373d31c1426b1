/* Export of the current view as a PNG: the windowed slice, the anomaly
 * overlay with its contour and legend, and the scores and model identity as
 * PNG text chunks. Written atomically. Built to grow into full reports. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "vigil-heatmap.h"
#include "vigil-image.h"
#include "vigil-measurement.h"

G_BEGIN_DECLS

typedef struct {
  const VigilImage *image;
  double window_center, window_width;
  const VigilMap *map; /* NULL: no overlay */
  double map_lo, map_hi, opacity;
  double threshold; /* contour level; NAN: none */
  VigilColormap colormap;
  const char *legend_label; /* e.g. "Anomaly (zero-shot)"; NULL: no legend */
  /* key, value, key, value, ..., NULL: PNG tEXt chunks (e.g. "vigil.zero_det_score"). */
  const char *const *text;
  const GPtrArray *measurements; /* VigilMeasurement* drawn over the slice, or NULL */
} VigilExportRequest;

gboolean vigil_export_png(const VigilExportRequest *request, const char *path, GError **error);

/* Pieces for other exports (reports). The slice windowed, as RGB24 at its
 * own size; the same with the request's overlay (needs `map`); the contour of
 * {map >= threshold} stroked in white with map cells scaled by sx, sy. */
cairo_surface_t *vigil_export_slice_surface(const VigilImage *image, double center, double width);
cairo_surface_t *vigil_export_overlay_surface(const VigilExportRequest *request);
void vigil_export_draw_contour(cairo_t *cr, const VigilMap *map, double threshold, double sx,
                               double sy);
/* Measurements (VigilMeasurement*) outlined and labelled, their image
 * coordinates scaled by sx, sy (vigil-export-measure.c). */
void vigil_export_draw_measurements(cairo_t *cr, const GPtrArray *measurements, double sx,
                                    double sy);
/* The whole view vigil_export_png encodes (slice, overlay, contour, legend),
 * as RGB24 at >= 512 px on the long side; check its status. */
cairo_surface_t *vigil_export_view_surface(const VigilExportRequest *request);

G_END_DECLS
