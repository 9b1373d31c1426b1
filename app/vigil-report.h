/* Reports of an analysis: the chosen slices of a VigilAnalysisSession's
 * series with their maps, scores, references, identification and
 * provenance, written as PDF (cairo), PNG (the annotated view, facts in text
 * chunks) and JSON (every number, so a study can be re-analysed).
 *
 * Two steps, so the window can keep its UI thread free:
 *  1. vigil_report_new (the session's thread): copies what the report needs
 *     from the session (results, references, facts); fast, decodes nothing.
 *  2. the writers (any one thread, e.g. a worker with a GCancellable): decode
 *     the slices and reference thumbnails once and write atomically (temp
 *     file and rename; a failure leaves no file behind).
 * The report keeps a pointer to the session's series for decoding: the
 * series (the scan that owns it) must outlive the report.
 *
 * Stale results (made under other settings than the session's current ones)
 * are refused unless the request allows them; allowed, they are marked
 * "STALE" in every format. Scores are uncalibrated and every format says so. */
#pragma once

#include <gio/gio.h>

#include "vigil-analysis-session.h"
#include "vigil-heatmap.h"
#include "vigil-measurement.h"

G_BEGIN_DECLS

#define VIGIL_REPORT_NOTICE "Vigil is a research tool; its results are not a diagnosis."
#define VIGIL_REPORT_UNCALIBRATED                                                                  \
  "uncalibrated score: a relative measure of this model, not a probability"

typedef enum {
  VIGIL_REPORT_CURRENT, /* the session's shown slice */
  VIGIL_REPORT_MARKED,  /* `slices` */
  VIGIL_REPORT_TOP_K,   /* the `top_k` analysed slices with the highest scores */
} VigilReportSelection;

typedef enum {
  VIGIL_PAPER_A4,
  VIGIL_PAPER_LETTER,
} VigilPaper;

/* A display window for one slice (the report otherwise shows each slice in
 * the window the model saw). */
typedef struct {
  int slice;
  double center, width;
} VigilReportWindow;

typedef struct {
  VigilReportSelection selection;
  const int *slices; /* MARKED: slice indices in display order */
  guint n_slices;
  guint top_k; /* TOP_K */
  VigilPaper paper;
  gboolean anonymise;   /* no patient identity in any output */
  gboolean allow_stale; /* include stale results, marked; else refuse them */
  const char *note;     /* the user's findings, or NULL */
  VigilColormap colormap;
  double opacity;   /* of the overlay, 0..1 */
  double threshold; /* contour at this fraction of the map's range (0..1); NAN: none */
  const VigilReportWindow *windows;
  guint n_windows;
  const GPtrArray *measurements; /* VigilMeasurement* of the series (copied), or NULL */
} VigilReportRequest;

/* Fills `request` with the app's defaults: the current slice, A4, JET at
 * 0.5 opacity, contour at 0.5, nothing anonymised, stale results refused. */
void vigil_report_request_init(VigilReportRequest *request);
/* "a4" or "letter"; FALSE for anything else. */
gboolean vigil_paper_from_name(const char *name, VigilPaper *paper);

typedef struct _VigilReport VigilReport;

/* The report of `session` as `request` asks (VIGIL_REPORT_ERROR without a
 * series, model or results for the chosen slices; stale ones when refused). */
VigilReport *vigil_report_new(VigilAnalysisSession *session, const VigilReportRequest *request,
                              GError **error);
void vigil_report_free(VigilReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilReport, vigil_report_free)

/* The slices in the report, in report order (by score for TOP_K). */
guint vigil_report_n_slices(const VigilReport *report);
int vigil_report_get_slice(const VigilReport *report, guint index);

/* Writers; each is atomic and may run on a worker thread. The PNG is the
 * annotated view of the report's first slice. */
gboolean vigil_report_write_pdf(VigilReport *report, const char *path, GCancellable *cancellable,
                                GError **error);
gboolean vigil_report_write_png(VigilReport *report, const char *path, GCancellable *cancellable,
                                GError **error);
gboolean vigil_report_write_json(VigilReport *report, const char *path, GCancellable *cancellable,
                                 GError **error);

typedef enum {
  VIGIL_REPORT_FORMAT_PDF = 1 << 0,
  VIGIL_REPORT_FORMAT_PNG = 1 << 1,
  VIGIL_REPORT_FORMAT_JSON = 1 << 2,
  VIGIL_REPORT_FORMAT_DICOM_SEG = 1 << 3,        /* fractional (PROBABILITY) SEG per slice */
  VIGIL_REPORT_FORMAT_DICOM_SEG_BINARY = 1 << 4, /* and a BINARY SEG at the threshold */
  VIGIL_REPORT_FORMAT_DICOM_PMAP = 1 << 5,       /* Parametric Map per slice */
  VIGIL_REPORT_FORMAT_DICOM_SC = 1 << 6, /* Secondary Capture of the annotated view per slice */
  VIGIL_REPORT_FORMAT_DICOM_PDF =
      1 << 7, /* the PDF report, encapsulated (needs no PDF format flag) */
} VigilReportFormats;
#define VIGIL_REPORT_FORMAT_FILES                                                                  \
  (VIGIL_REPORT_FORMAT_PDF | VIGIL_REPORT_FORMAT_PNG | VIGIL_REPORT_FORMAT_JSON)
#define VIGIL_REPORT_FORMAT_DICOM                                                                  \
  (VIGIL_REPORT_FORMAT_DICOM_SEG | VIGIL_REPORT_FORMAT_DICOM_PMAP | VIGIL_REPORT_FORMAT_DICOM_SC | \
   VIGIL_REPORT_FORMAT_DICOM_PDF)

/* The formats' names, as vigil_report_formats_parse reads them. */
#define VIGIL_REPORT_FORMAT_NAMES "pdf, png, json, seg, seg-binary, pmap, sc, dcmpdf"
/* Formats from a comma-separated list of VIGIL_REPORT_FORMAT_NAMES ("pdf,seg";
 * spaces around names allowed, case ignored). FALSE, with a message that
 * names the allowed ones (G_OPTION_ERROR_BAD_VALUE), for an unknown or empty
 * name or an empty list. */
gboolean vigil_report_formats_parse(const char *text, VigilReportFormats *formats, GError **error);

/* Writes the chosen formats of `report` into the folder `dir` (created if
 * missing): report.pdf, report.png, report.json, and the DICOM objects
 * (vigil-dicom-export.h), per report slice N (from 1, as the PDF counts):
 * slice-NNN-seg.dcm, slice-NNN-seg-binary.dcm, slice-NNN-pmap.dcm,
 * slice-NNN-sc.dcm; once: report-pdf.dcm. Existing files of those names are
 * replaced (ask the user first).
 *
 * The SEG, the binary SEG and the PMAP hold the shown map scaled as the
 * legend colours it, clamp((v - lo) / (hi - lo), 0, 1) (lo..hi is 0..layers
 * for zero-shot, the map's min..max for few-shot; the JSON's "map_scale"
 * says so): the SEG as 8 bits (255 = 1), the binary SEG at the report's
 * threshold (a fraction of that range, as the contour), the PMAP as Float32.
 * The SC is the annotated view as report.png draws it; report-pdf.dcm is the
 * PDF report. Series descriptions name the mode ("Vigil anomaly map
 * (few-shot)").
 *
 * DICOM sources: the objects join the source study. An anonymised report's
 * objects are de-identified instead (vigil-dicom-export.h, "Anonymised"):
 * they go into one NEW study, no patient identity, the source's UIDs
 * replaced under one random key per call so that the objects still agree
 * with each other (two calls give two unrelated studies). Other sources
 * (PNG, JPEG, NIfTI) get no SEG and no PMAP (they need a source image to
 * reference), silently when other formats remain; the SC and PDF objects of
 * one call share one new study. Errors, all before anything is written:
 *   VIGIL_REPORT_ERROR_NOT_DICOM   only SEG/PMAP asked of a non-DICOM source
 *   VIGIL_REPORT_ERROR_WRITE       no formats, a binary SEG without a
 *                                  threshold (NAN), or a file that cannot be
 *                                  written (the message names it and why)
 *   G_IO_ERROR_CANCELLED           `cancellable` was cancelled
 * All or nothing: on any failure the files this call wrote are removed (and
 * `dir`, when this call created it and it is empty), and neither array is
 * touched. On success the paths written are appended to `written` (g_free'd
 * strings, owned by the array) and the DICOM objects' also to `dicom` when
 * not NULL (for vigil_pacs_send). May run on a worker thread. */
gboolean vigil_report_write_bundle(VigilReport *report, const char *dir, VigilReportFormats formats,
                                   GPtrArray *written, GPtrArray *dicom, GCancellable *cancellable,
                                   GError **error);

/* What the last vigil_report_write_bundle left out and why (strings, borrowed):
 * a DICOM object the source cannot carry, e.g. a Parametric Map of a slice
 * without Frame of Reference or Image Plane attributes (geometry is never
 * invented). Empty when everything asked for was written. */
GPtrArray *vigil_report_get_notes(VigilReport *report);

#define VIGIL_REPORT_ERROR (vigil_report_error_quark())
GQuark vigil_report_error_quark(void);

typedef enum {
  VIGIL_REPORT_ERROR_NO_RESULTS, /* nothing to report: no series, model or result */
  VIGIL_REPORT_ERROR_STALE,      /* a chosen result is stale and the request refuses those */
  VIGIL_REPORT_ERROR_SLICE,      /* a chosen slice is not in the series */
  VIGIL_REPORT_ERROR_WRITE,      /* the file cannot be written */
  VIGIL_REPORT_ERROR_NOT_DICOM,  /* only SEG/PMAP asked, and the source is not DICOM */
} VigilReportError;

G_END_DECLS
