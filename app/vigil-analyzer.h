/* VigilAnalyzer: the analysis state of one window, driven from the UI thread.
 * It owns the engine (loaded on a worker), the few-shot memory bank and its
 * references, and runs every engine call as a VigilJob on a worker thread. */
#pragma once

#include <gio/gio.h>

#include "vigil-calibration.h"
#include "vigil-engine.h"
#include "vigil-image.h"
#include "vigil-job.h"

G_BEGIN_DECLS

#define VIGIL_TYPE_ANALYZER (vigil_analyzer_get_type())
G_DECLARE_FINAL_TYPE(VigilAnalyzer, vigil_analyzer, VIGIL, ANALYZER, GObject)

VigilAnalyzer *vigil_analyzer_new(void);

/* Loads weights on a worker; replaces the engine (and clears the references)
 * when it succeeds. precision: VigilBackendOptions.precision; cpu_threads:
 * VigilBackendOptions.threads (0: one per physical core). The job reports
 * progress; finish with vigil_job_run_finish. */
VigilJob *vigil_analyzer_load(VigilAnalyzer *self, const char *clip_path, const char *adapters_path,
                              const char *device_setting, VigilPrecision precision,
                              int cpu_threads);
VigilEngine *vigil_analyzer_get_engine(VigilAnalyzer *self); /* NULL until loaded */

/* Analyses `image` seen through the window (center, width) for `class_name`;
 * few-shot too when `few_shot` and references exist. The result is taken
 * with vigil_analyzer_take_result after the job finishes. */
VigilJob *vigil_analyzer_analyse(VigilAnalyzer *self, const VigilImage *image, double center,
                                 double width, const char *class_name, gboolean few_shot);
VigilDetection *vigil_analyzer_take_result(VigilAnalyzer *self, VigilJob *job);
/* The same for n images in one job, encoded in batched forwards (so a series
 * goes vigil_engine_batch_limit slices per device submission); result i is
 * taken with vigil_analyzer_take_result_at. */
VigilJob *vigil_analyzer_analyse_batch(VigilAnalyzer *self, const VigilImage *const *images,
                                       guint n, double center, double width, const char *class_name,
                                       gboolean few_shot);
VigilDetection *vigil_analyzer_take_result_at(VigilAnalyzer *self, VigilJob *job, guint i);

/* Adds a normal reference; its id is returned by vigil_analyzer_take_reference_id. */
VigilJob *vigil_analyzer_add_reference(VigilAnalyzer *self, const VigilImage *image, double center,
                                       double width);
guint64 vigil_analyzer_take_reference_id(VigilAnalyzer *self, VigilJob *job);
/* Never waits for a running job: while one holds the bank the removal is
 * queued and applied before that job scores (results computed with the old
 * bank are the caller's to discard). Errors only for an unknown id when idle. */
gboolean vigil_analyzer_remove_reference(VigilAnalyzer *self, guint64 id, GError **error);
/* The references the bank will hold once queued removals apply. */
guint vigil_analyzer_reference_count(VigilAnalyzer *self);
/* Calibrates on the bank's references for `class_name`: both modes'
 * calibrations (vigil_calibration_from_references: leave-one-out scores and
 * maps), taken with vigil_analyzer_take_calibrations after the job. */
VigilJob *vigil_analyzer_calibrate(VigilAnalyzer *self, const char *class_name);
void vigil_analyzer_take_calibrations(VigilAnalyzer *self, VigilJob *job, VigilCalibration **zero,
                                      VigilCalibration **few);

G_END_DECLS
