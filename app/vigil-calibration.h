/* Calibration: a raw MVFA score mapped to [0, 1] with 0.5 as the decision
 * threshold, anomalib's normalisation ((x - threshold) / (max - min)) + 0.5
 * clipped, per class and mode. From a labelled set (the threshold maximises
 * F1, anomalib's adaptive threshold; min and max from the same set) or from
 * the user's normal references (a stated high percentile of their scores).
 * Saved as a small JSON file holding the SHA-256 of both weight files: it is
 * never applied to other weights. */
#pragma once

#include <gio/gio.h>

#include "vigil-engine.h"

G_BEGIN_DECLS

#define VIGIL_CALIBRATION_ERROR (vigil_calibration_error_quark())
GQuark vigil_calibration_error_quark(void);

typedef enum {
  VIGIL_CALIBRATION_ERROR_DATA,     /* too few or one-class scores, NaN */
  VIGIL_CALIBRATION_ERROR_FILE,     /* unreadable, malformed or not a calibration */
  VIGIL_CALIBRATION_ERROR_MISMATCH, /* made for other weights */
} VigilCalibrationError;

typedef enum {
  VIGIL_CALIBRATION_UNCALIBRATED, /* fewer than 3 references: no threshold */
  VIGIL_CALIBRATION_LABELLED,     /* normal and abnormal images, F1-max threshold */
  VIGIL_CALIBRATION_REFERENCES,   /* the normal references' percentile */
} VigilCalibrationSource;

/* The reference source's percentile when callers have no reason for another. */
#define VIGIL_CALIBRATION_PERCENTILE 95.0
/* References a reference calibration needs at least. */
#define VIGIL_CALIBRATION_MIN_REFERENCES 3

typedef struct {
  VigilCalibrationSource source;
  char *class_name;           /* MVFA's class, e.g. "Brain" */
  gboolean few_shot;          /* which score: zero-shot or few-shot */
  int shots;                  /* few-shot references behind the scores */
  double threshold, min, max; /* raw-score units */
  int normal, abnormal;       /* images behind it (references: normal) */
  double percentile;          /* the reference source's; 0 otherwise */
  /* The map part: the same normalisation per pixel of the raw map
   * (vigil_calibration_raw_map), so the heatmap, its legend and the region
   * above threshold read on the score's scale. NAN when the calibration has
   * none (a file from before it, or made without maps). */
  double map_threshold, map_min, map_max;
  double map_percentile; /* the normal pixels' percentile it rests on; 0: F1-max on masks */
  char *clip_sha256, *adapters_sha256; /* the weights it belongs to */
  char *vigil_version;
} VigilCalibration;

void vigil_calibration_free(VigilCalibration *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilCalibration, vigil_calibration_free)

/* The raw score of a detection that calibration maps: the zero-shot det score,
 * or for few-shot MVFA's fusion of both heads, zero-shot + few-shot score. */
double vigil_calibration_raw_score(const VigilDetection *d, gboolean few_shot);

/* From labelled scores (labels nonzero: abnormal); both classes needed.
 * The weights' digests come from `engine` (may be NULL in tests). */
VigilCalibration *vigil_calibration_new_labelled(VigilEngine *engine, const char *class_name,
                                                 gboolean few_shot, int shots, gsize n,
                                                 const double *scores, const guint8 *labels,
                                                 GError **error);
/* From N normal references, for both modes: zero-shot from their zero-shot
 * scores, few-shot from their leave-one-out few-shot scores (each reference
 * scored against a bank of the others; vigil_calibration_score_references
 * computes both). The threshold is the `percentile`
 * (linear, as numpy's) of the scores, min and max theirs. With fewer than
 * VIGIL_CALIBRATION_MIN_REFERENCES both come back UNCALIBRATED. */
gboolean vigil_calibration_new_references(VigilEngine *engine, const char *class_name, gsize n,
                                          const double *zero_scores, const double *loo_few_scores,
                                          double percentile, VigilCalibration **zero,
                                          VigilCalibration **few, GError **error);

/* The scores vigil_calibration_new_references takes, from the features of N
 * normal references (one view each): zero[i] the raw zero-shot score of
 * reference i, loo_few[i] its raw few-shot score against a bank of the other
 * N - 1 (vigil_calibration_raw_score). With zero_maps / few_maps (arrays of
 * N, or NULL) the raw maps too (vigil_calibration_raw_map; g_free each), and
 * their side in *side (may be NULL). N >= 2; runs N forwards of scoring. */
gboolean vigil_calibration_score_references(VigilEngine *engine, const float *text, gsize n,
                                            VigilFeatures *const *refs, double *zero,
                                            double *loo_few, float **zero_maps, float **few_maps,
                                            int *side, GError **error);
/* Both calibrations (zero- and few-shot) with their map parts from N normal
 * references: scores at VIGIL_CALIBRATION_PERCENTILE, maps at
 * VIGIL_CALIBRATION_MAP_PERCENTILE. Fewer than
 * VIGIL_CALIBRATION_MIN_REFERENCES give UNCALIBRATED ones (no scoring). */
gboolean vigil_calibration_from_references(VigilEngine *engine, const char *class_name,
                                           const float *text, gsize n, VigilFeatures *const *refs,
                                           VigilCalibration **zero, VigilCalibration **few,
                                           GError **error);

/* ---- the map part (vigil-calibration-map.c) ---- */

/* Percentile of normal pixels that is the map threshold where no masks say
 * where lesions are (references, image-level sets). */
#define VIGIL_CALIBRATION_MAP_PERCENTILE 99.0

/* The raw map calibration maps, side x side into `out`: the zero-shot seg
 * map, or for few-shot (when it ran) zero-shot + few-shot seg maps, the
 * fusion the raw score uses. */
void vigil_calibration_raw_map(const VigilDetection *d, gboolean few_shot, float *out);
/* Fits the map part from n raw maps of `plane` pixels each: with `masks` (one
 * per map, NULL for a normal image; every abnormal map needs one) the
 * threshold maximises pixel F1, as anomalib's adaptive threshold does; else
 * it is the VIGIL_CALIBRATION_MAP_PERCENTILE of the normal maps' pixels
 * (labels 0). Min and max over all pixels. */
gboolean vigil_calibration_fit_map(VigilCalibration *c, gsize n, gsize plane,
                                   const float *const *maps, const guint8 *labels,
                                   const guint8 *const *masks, GError **error);
gboolean vigil_calibration_has_map(const VigilCalibration *c);
/* A raw map value on the calibrated scale, [0, 1] with 0.5 the threshold;
 * NAN without a map part. */
double vigil_calibration_apply_map(const VigilCalibration *c, double raw);
VigilCalibration *vigil_calibration_copy(const VigilCalibration *c);

/* The map a viewer shows for a detection, on one scale that the legend, the
 * contour, the region above threshold and the exports share. */
typedef struct {
  int side;
  float *values;       /* side x side; g_free */
  double lo, hi;       /* the colour range */
  gboolean calibrated; /* values are calibrated: lo 0, hi 1, 0.5 the threshold */
  guint layers;        /* how many layers are summed (0: none chosen) */
} VigilShownMap;

/* The selected layers (bit l for layer l) of the mode's seg maps summed:
 * zero-shot layers are probabilities (0..layers), few-shot distances have no
 * fixed scale (their own min..max). With every layer selected and a
 * calibration of this mode that has a map part, the calibrated raw map
 * instead (0..1). `calibration` may be NULL. */
void vigil_shown_map_init(VigilShownMap *map, const VigilDetection *d, gboolean few_shot,
                          guint layer_mask, const VigilCalibration *calibration);
void vigil_shown_map_clear(VigilShownMap *map);

/* The calibrated score in [0, 1]; NAN when uncalibrated. */
double vigil_calibration_apply(const VigilCalibration *c, double raw);
/* "uncalibrated", "labelled" or "references", as the file names them. */
const char *vigil_calibration_source_name(VigilCalibrationSource source);
/* A line for people: "labelled set (40 normal, 38 abnormal), threshold 1.02",
 * "7 normal references, 95th percentile", "uncalibrated: 2 references (3
 * needed)". g_free it. */
char *vigil_calibration_describe(const VigilCalibration *c);

/* The file's JSON text; g_free it. */
char *vigil_calibration_to_json(const VigilCalibration *c);
/* From JSON text (`name` says where it came from in messages), checked
 * against `engine`'s weights as vigil_calibration_load does. */
VigilCalibration *vigil_calibration_from_json(const char *json, const char *name,
                                              VigilEngine *engine, GError **error);
/* Written atomically (a temporary file renamed). */
gboolean vigil_calibration_save(const VigilCalibration *c, const char *path, GError **error);
/* Reads a calibration and checks it belongs to `engine`'s weights (a
 * MISMATCH error naming both digests otherwise); `engine` NULL skips it. */
VigilCalibration *vigil_calibration_load(const char *path, VigilEngine *engine, GError **error);
/* Where a calibration of the adapters' weights lives by default: beside
 * them, "<adapters stem>.<class>.<zero|few>-shot.calibration.json". */
char *vigil_calibration_default_path(const char *adapters_path, const char *class_name,
                                     gboolean few_shot);

G_END_DECLS
