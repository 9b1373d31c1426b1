/* VigilMeasurement: a ruler, an elliptical or freehand region of interest,
 * or the heatmap's region above threshold, drawn on one slice of a series,
 * and what it measures. No GTK: the viewer, the session file and reports
 * share it.
 *
 * Geometry is in image coordinates: pixel units, (0, 0) the top-left corner
 * of the top-left pixel, so pixel (i, j) covers [i, i+1) x [j, j+1) and its
 * centre is (i + 0.5, j + 0.5).
 *
 * Lengths and areas use the image's pixel spacing (row spacing along y,
 * column spacing along x) and say where it came from (Pixel Spacing or
 * Imager Pixel Spacing, the NIfTI voxel size); without one they are in
 * pixels. Areas are the shape's own (pi a b for an ellipse, the shoelace
 * formula for a freehand outline), not a pixel count.
 *
 * Which pixels a region's statistics use: exactly those whose CENTRE lies
 * inside the shape. An ellipse is given by two opposite corners of its
 * bounding box; a centre on its boundary counts as inside. A freehand outline
 * is a closed polygon (the last point joins the first), and a centre is
 * inside by the even-odd rule. Statistics (mean, population standard
 * deviation, minimum, maximum) are of the image's grey values, which are
 * modality units (HU for CT, after the rescale slope and intercept). */
#pragma once

#include <json-glib/json-glib.h>

#include "vigil-heatmap.h"
#include "vigil-image.h"

G_BEGIN_DECLS

typedef enum {
  VIGIL_MEASURE_RULER,    /* points: the two ends */
  VIGIL_MEASURE_ELLIPSE,  /* points: two opposite corners of the bounding box */
  VIGIL_MEASURE_FREEHAND, /* points: the outline, at least three */
  VIGIL_MEASURE_REGION,   /* the heatmap above threshold; points: where its maximum is */
} VigilMeasureKind;

typedef struct {
  double x, y;
} VigilMeasurePoint;

typedef struct {
  guint id; /* unique in its VigilMeasurements; 0 until added */
  VigilMeasureKind kind;
  char *series_uid; /* "" when the series has none */
  int slice;        /* in display order */
  GArray *points;   /* VigilMeasurePoint, image coordinates */
  /* What it measured (vigil_measurement_compute or _new_region). */
  VigilSpacingSource spacing; /* NONE: length and area are in pixels */
  double length;              /* ruler: mm (or pixels) */
  double area;                /* regions: mm² (or pixels²) */
  guint n_pixels;             /* regions: pixels with their centre inside (map cells for REGION) */
  double mean, sd, min, max;  /* ellipse, freehand: grey values; REGION: max is the map's */
  char *unit;                 /* the grey values' unit ("HU"), or NULL */
} VigilMeasurement;

VigilMeasurement *vigil_measurement_new(VigilMeasureKind kind, const char *series_uid, int slice,
                                        const VigilMeasurePoint *points, guint n_points);
VigilMeasurement *vigil_measurement_copy(const VigilMeasurement *m);
void vigil_measurement_free(VigilMeasurement *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilMeasurement, vigil_measurement_free)

/* Measures a ruler, ellipse or freehand shape on `image` (the slice it was
 * drawn on); `unit` names the grey values (NULL: none). FALSE, with a message
 * for the user, for a ruler of zero length, a region of zero area or one
 * that holds no pixel centre, too few points, or points outside the image. */
gboolean vigil_measurement_compute(VigilMeasurement *m, const VigilImage *image, const char *unit,
                                   GError **error);
/* The heatmap's region above threshold as vigil_map_region measured it. */
VigilMeasurement *vigil_measurement_new_region(const char *series_uid, int slice,
                                               const VigilMapRegion *region,
                                               VigilSpacingSource spacing);

/* Whether pixel (px, py)'s centre is inside an ellipse or freehand shape. */
gboolean vigil_measurement_contains(const VigilMeasurement *m, int px, int py);

/* "ruler", "ellipse", "freehand", "region". */
const char *vigil_measure_kind_name(VigilMeasureKind kind);
/* "Pixel Spacing", "Imager Pixel Spacing", "NIfTI voxel size", "pixels". */
const char *vigil_spacing_source_name(VigilSpacingSource source);
/* One line for people, e.g. "Ellipse: 314.2 mm², mean 40.0 HU, SD 3.1,
 * min 31, max 52 (Pixel Spacing)"; g_free it. */
char *vigil_measurement_describe(const VigilMeasurement *m);

/* A short label to draw beside it, e.g. "42.1 mm" or "314.2 mm²\nmean 40.0
 * HU, SD 3.1\nmin 31, max 52"; g_free it. */
char *vigil_measurement_label(const VigilMeasurement *m);

/* Every field as a JSON object, and back (a VIGIL_MEASUREMENT_ERROR for a
 * malformed one). The report and the session file use them. */
JsonNode *vigil_measurement_to_json(const VigilMeasurement *m);
VigilMeasurement *vigil_measurement_from_json(JsonNode *node, GError **error);

#define VIGIL_MEASUREMENT_ERROR (vigil_measurement_error_quark())
GQuark vigil_measurement_error_quark(void);
typedef enum {
  VIGIL_MEASUREMENT_ERROR_EMPTY,   /* zero length or area, or no pixel inside */
  VIGIL_MEASUREMENT_ERROR_INVALID, /* malformed: points, kind, JSON */
} VigilMeasurementError;

G_END_DECLS
