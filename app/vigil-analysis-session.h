/* VigilAnalysisSession: what one window's analysis is about and what it
 * found, without GTK, so the window, the CLI and reports read the same
 * facts. It holds the context a result depends on (the model, the series,
 * the class name, zero- or few-shot, the window the model saw and the normal
 * references), the references themselves, and the results per slice with
 * when and under which context they were made. Staleness is decided in one
 * place: a result belongs to the context key it was made under
 * (vigil_analysis_session_get_key); when the context changes every result
 * turns stale, and a job's results that arrive under an old key are dropped.
 * Driven from one thread (the UI's); jobs run elsewhere and hand back.
 * Signals: context-changed; results-changed (int slice, -1: all);
 * references-changed; slice-changed (the shown slice); report-changed (the
 * note or the marked slices); calibration-changed. */
#pragma once

#include <glib-object.h>

#include "vigil-calibration.h"
#include "vigil-engine.h"
#include "vigil-series.h"
#include "vigil-session.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_ANALYSIS_SESSION (vigil_analysis_session_get_type())
G_DECLARE_FINAL_TYPE(VigilAnalysisSession, vigil_analysis_session, VIGIL, ANALYSIS_SESSION, GObject)

/* A normal reference (few-shot) as the user chose it. */
typedef struct {
  guint64 id;       /* the analyzer's bank id */
  char *label;      /* what the user sees, e.g. "CT_small.dcm, slice 3" */
  char *path;       /* the scan file or folder */
  char *series_uid; /* NULL for single images */
  int slice;        /* in display order */
} VigilAnalysisReference;

/* One slice's result. */
typedef struct {
  int slice;
  VigilDetection *detection; /* maps per layer and summed, scores */
  double window_center, window_width;
  char *window_text;    /* how the window was chosen, e.g. "W 400 L 40 (as shown)" */
  char *class_name;     /* what was looked for */
  gboolean few_shot;    /* few-shot asked for (detection->has_few says if it ran) */
  GArray *references;   /* guint64 ids of the references in the bank, in order */
  char *model_identity; /* weights, digests, device (vigil_engine_dup_identity) */
  GDateTime *when;
  gboolean stale; /* made under another context than the current one */
  guint staled;   /* the context change that made it stale (0: current) */
} VigilAnalysisResult;

VigilAnalysisSession *vigil_analysis_session_new(void);

/* ---- the context: each setter that changes it makes every result stale ---- */

/* The loaded model: `key` names the files, device and precision; NULL when
 * none is loaded. A new model starts an empty bank: references are cleared. */
void vigil_analysis_session_set_model(VigilAnalysisSession *self, const char *key,
                                      const char *identity);
const char *vigil_analysis_session_get_model_key(VigilAnalysisSession *self);
const char *vigil_analysis_session_get_model_identity(VigilAnalysisSession *self);
/* The series analysed (borrowed; the scan owns it). Its slice count is part
 * of the context: a series that grows while indexing may re-sort. */
void vigil_analysis_session_set_series(VigilAnalysisSession *self, VigilSeries *series);
VigilSeries *vigil_analysis_session_get_series(VigilAnalysisSession *self);
/* The slice shown: not part of the context (results are per slice). */
void vigil_analysis_session_set_slice(VigilAnalysisSession *self, int slice);
int vigil_analysis_session_get_slice(VigilAnalysisSession *self);
void vigil_analysis_session_set_class_name(VigilAnalysisSession *self, const char *class_name);
/* The domain the class came from (a vigil_domain id), or NULL for a class
 * the user typed. Not part of the key: the class and window say it all. */
void vigil_analysis_session_set_domain(VigilAnalysisSession *self, const char *domain);
const char *vigil_analysis_session_get_domain(VigilAnalysisSession *self);
const char *vigil_analysis_session_get_class_name(VigilAnalysisSession *self);
void vigil_analysis_session_set_few_shot(VigilAnalysisSession *self, gboolean few_shot);
gboolean vigil_analysis_session_get_few_shot(VigilAnalysisSession *self);
/* The window the model sees and how it was chosen ("... (as shown)", "... preset"). */
void vigil_analysis_session_set_window(VigilAnalysisSession *self, double center, double width,
                                       const char *text);
const char *vigil_analysis_session_get_window(VigilAnalysisSession *self, double *center,
                                              double *width);

/* What results depend on, as one string: equal keys, comparable results.
 * Zero-shot results do not depend on the references. Valid until the
 * context changes: a job keeps a copy (g_strdup) to store its results with. */
const char *vigil_analysis_session_get_key(VigilAnalysisSession *self);

/* ---- references ---- */

void vigil_analysis_session_add_reference(VigilAnalysisSession *self, guint64 id, const char *label,
                                          const char *path, const char *series_uid, int slice);
/* FALSE if there is no reference `id`. */
gboolean vigil_analysis_session_remove_reference(VigilAnalysisSession *self, guint64 id);
guint vigil_analysis_session_n_references(VigilAnalysisSession *self);
/* In the order they were added; NULL past the end. */
const VigilAnalysisReference *vigil_analysis_session_get_reference(VigilAnalysisSession *self,
                                                                   guint index);
const VigilAnalysisReference *vigil_analysis_session_find_reference(VigilAnalysisSession *self,
                                                                    guint64 id);

/* ---- results ---- */

/* Stores `detection` (taken) for `slice`, made under `key` (the key when the
 * job started): FALSE, and the detection freed, when the context changed
 * since, so a stale result never shows as current. */
gboolean vigil_analysis_session_store(VigilAnalysisSession *self, const char *key, int slice,
                                      VigilDetection *detection);
/* The slice's current result, or NULL (none, or only a stale one). */
const VigilAnalysisResult *vigil_analysis_session_get_result(VigilAnalysisSession *self, int slice);
/* TRUE when the slice's result was current until the last context change
 * and that change was the references' (few-shot: a reference added or
 * removed): the result a viewer showed a moment ago is out of date. */
gboolean vigil_analysis_session_staled_by_references(VigilAnalysisSession *self, int slice);
/* The slice's result whether current or stale (reports name stale ones), or NULL. */
const VigilAnalysisResult *vigil_analysis_session_get_any_result(VigilAnalysisSession *self,
                                                                 int slice);
/* Slices of the series without a current result, in order, at most `max`. */
GArray *vigil_analysis_session_missing_slices(VigilAnalysisSession *self, guint max);
/* Current results, in slice order (borrowed pointers). */
GPtrArray *vigil_analysis_session_current_results(VigilAnalysisSession *self);

/* ---- calibration: what a score means ----
 * The calibration in use for the current model, class and mode (taken; NULL:
 * uncalibrated). Not part of the key: it maps scores, it does not change
 * them. Emits calibration-changed. */
void vigil_analysis_session_set_calibration(VigilAnalysisSession *self,
                                            VigilCalibration *calibration);
const VigilCalibration *vigil_analysis_session_get_calibration(VigilAnalysisSession *self);
/* The slice result's calibrated score in [0, 1] (0.5 the threshold), or NAN
 * when uncalibrated. */
double vigil_analysis_session_calibrated(VigilAnalysisSession *self,
                                         const VigilAnalysisResult *result);

/* ---- what the report adds: the user's words and the slices they chose ----
 * Neither is part of the key. Both emit report-changed. */

/* The user's findings for the study (NULL or "": none). */
void vigil_analysis_session_set_note(VigilAnalysisSession *self, const char *note);
const char *vigil_analysis_session_get_note(VigilAnalysisSession *self);
/* Marks (or unmarks) slice `slice` of the current series for the report.
 * Marks are kept per series, so going to another series and back keeps them. */
void vigil_analysis_session_set_marked(VigilAnalysisSession *self, int slice, gboolean marked);
gboolean vigil_analysis_session_is_marked(VigilAnalysisSession *self, int slice);
/* The current series' marked slices, in order (a new GArray of int). */
GArray *vigil_analysis_session_marked_slices(VigilAnalysisSession *self);

/* ---- the session file ---- */

/* Reads the note and the marked slices of `session` (restoring a .vigil);
 * the rest of it is applied through the setters above as the window restores. */
void vigil_analysis_session_restore_from(VigilAnalysisSession *self, const VigilSession *session);
/* Writes the analysis settings (the domain, or the class the user typed;
 * the mode), the calibration in use and the references into `session` (a
 * .vigil). */
void vigil_analysis_session_save_to(VigilAnalysisSession *self, VigilSession *session);

G_END_DECLS
