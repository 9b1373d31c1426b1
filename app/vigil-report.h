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

#define VIGIL_REPORT_ERROR (vigil_report_error_quark())
GQuark vigil_report_error_quark(void);

typedef enum {
  VIGIL_REPORT_ERROR_NO_RESULTS, /* nothing to report: no series, model or result */
  VIGIL_REPORT_ERROR_STALE,      /* a chosen result is stale and the request refuses those */
  VIGIL_REPORT_ERROR_SLICE,      /* a chosen slice is not in the series */
  VIGIL_REPORT_ERROR_WRITE,      /* the file cannot be written */
} VigilReportError;

G_END_DECLS
