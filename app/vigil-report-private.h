/* Between the report's gathering (vigil-report.c) and its writers
 * (vigil-report-pdf.c, vigil-report-json.c). */
#pragma once

#include "vigil-export.h"
#include "vigil-report.h"

G_BEGIN_DECLS

/* One slice of the report: copies, so the session may change meanwhile. */
typedef struct {
  int slice;
  char *path; /* the slice's file */
  int frame;
  gboolean dicom;         /* decoded from a DICOM file (SEG and PMAP need one) */
  char *sop_instance_uid; /* "" when absent */
  VigilDetection *detection;
  char *class_name;
  gboolean few_shot_asked, few;     /* few: few-shot maps exist */
  double model_center, model_width; /* the window the model saw */
  char *window_text;                /* how it was chosen */
  double view_center, view_width;   /* the window the report shows */
  GArray *references;               /* guint64 bank ids */
  char *model_identity;
  GDateTime *when;
  gboolean stale;
  VigilShownMap
      shown;         /* every layer of the mode; calibrated where the calibration has a map part */
  double calibrated; /* the calibrated image score, NAN: uncalibrated */
  VigilImage *image; /* decoded by vigil_report_prepare */
  VigilMapRegion region; /* above the report's contour level; with the image */
  /* The report's measurements on this slice (borrowed from VigilReport). */
  GPtrArray *measurements;
} VigilReportSlice;

typedef struct {
  guint64 id;
  char *label, *path, *series_uid;
  int slice;
  VigilImage *thumb; /* NULL when it did not decode (thumb_error says why) */
  char *thumb_error;
  double center, width;
} VigilReportReference;

struct _VigilReport {
  VigilPaper paper;
  gboolean anonymise;
  char *note;
  VigilColormap colormap;
  double opacity, threshold;
  VigilSeries *series; /* borrowed: for decoding */
  char *series_uid, *study_uid;
  char *patient_name, *patient_id, *study_date, *modality, *series_description;
  char *class_name;
  gboolean few_shot;
  char *model_identity;          /* the session's */
  VigilCalibration *calibration; /* the one in use when the report was made, or NULL */
  GPtrArray *slices;             /* VigilReportSlice* */
  GPtrArray *references;         /* VigilReportReference* */
  GDateTime *date;
  gboolean prepared;
  GPtrArray *notes; /* the last bundle's objects left out, and why */
  /* VigilMeasurement*, copies, in the order made. */
  GPtrArray *measurements;
};

/* Decodes the slices and reference thumbnails once. */
gboolean vigil_report_prepare(VigilReport *report, GCancellable *cancellable, GError **error);

/* The map the overlay shows (few-shot's when it ran, else zero-shot's summed
 * layers; on the calibrated scale where the calibration has a map part) and
 * its range as the window shows it. */
const float *vigil_report_slice_map(const VigilReportSlice *s, double *lo, double *hi);
/* The shown map scaled as the legend colours it: (v - lo) / (hi - lo),
 * clamped to 0..1 (what the SEG and PMAP hold); g_free it. */
float *vigil_report_slice_scaled_map(const VigilReportSlice *s);
/* The annotated view of a decoded slice as the PNG draws it: `map` and
 * `request` are filled (the map borrows the slice's values). */
void vigil_report_view_request(const VigilReport *report, const VigilReportSlice *s, VigilMap *map,
                               VigilExportRequest *request);
/* The image score the report leads with (few-shot's when it ran). */
double vigil_report_slice_score(const VigilReportSlice *s);
/* The contour (and region) level in the slice's map units. */
double vigil_report_contour_level(const VigilReport *report, const VigilReportSlice *s);
/* TRUE when the slices' scores and maps are calibrated. */
gboolean vigil_report_calibrated(const VigilReport *report);
/* "calibrated 0.73 (above threshold)" or "uncalibrated"; g_free it. */
char *vigil_report_slice_calibrated_text(const VigilReportSlice *s);
/* How the report's scores read: the calibration's description, or
 * VIGIL_REPORT_UNCALIBRATED; g_free it. */
char *vigil_report_calibration_text(const VigilReport *report);
/* "%.6f": the digits every format prints. */
char *vigil_report_format_score(double score);

/* TRUE when the identity (vigil_engine_dup_identity) names a random test model. */
gboolean vigil_report_identity_random(const char *identity);

/* Where the model ran ("CPU (dnnl GEMM, avx512 attention, 2 threads)"), from the identity; g_free
 * it. */
char *vigil_report_identity_device(const char *identity);
/* "bf16 matmul weights", "f16 matmul weights" or "f32 matmul weights", from the identity. */
const char *vigil_report_identity_precision(const char *identity);

/* Writes `data` to `path` atomically; `what` names it in the error. */
gboolean vigil_report_save(const char *path, const char *what, const void *data, gsize size,
                           GError **error);

G_END_DECLS
