/* What vigil-cli calibrate and eval share (eval-data.c): MVFA's evaluation
 * layout read from disk, few-shot references chosen from it, and a split
 * scored through the engine with a progress line on stderr. */
#pragma once

#include "vigil-calibration.h"
#include "vigil-cli-engine.h"

/* DIR/SPLIT/{good,Ungood}/img/ files, sorted, good first; masks from
 * Ungood/anomaly_mask/ under the same names when they exist. */
typedef struct {
  GPtrArray *paths; /* char * */
  GPtrArray *masks; /* char * or NULL (good images, or no mask) */
  GArray *labels;   /* guint8: 1 for Ungood */
} EvalSet;

void vigil_cli_eval_set_clear(EvalSet *set);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(EvalSet, vigil_cli_eval_set_clear)
/* FALSE (with error) when the split has no images of either label. */
gboolean vigil_cli_eval_set_load(const char *dir, const char *split, EvalSet *set, GError **error);
/* Drops the images whose paths are in `paths` (few-shot references). */
void vigil_cli_eval_set_remove(EvalSet *set, GPtrArray *paths);
/* TRUE when every abnormal image has a mask: a segmentation set. */
gboolean vigil_cli_eval_set_has_masks(const EvalSet *set);

/* K references from DIR/valid/good chosen with `seed`, or the paths in
 * `list_file` (one a line), into a new bank with MVFA's augmentation. The
 * chosen paths go to *chosen (may be NULL). */
vg_membank *vigil_cli_eval_bank(VigilEngine *engine, const char *dir, int shots, int seed,
                                const char *list_file, GPtrArray **chosen, GError **error);

/* One image's scores; the maps only when asked for (pixel metrics). */
typedef struct {
  double zero, few;          /* det scores: zero-shot, few-shot (mean of the det map) */
  float *zero_map, *few_map; /* side x side seg maps, or NULL */
  guint8 *mask;              /* side x side 0/1, or NULL */
} EvalScore;

/* Scores every image of `set`, with "vigil-cli COMMAND: WHAT i/n" on
 * stderr. *side gets the maps' side. */
EvalScore *vigil_cli_eval_score(const char *command, const char *what, VigilEngine *engine,
                                const float *text, const vg_membank *bank, const EvalSet *set,
                                gboolean keep_maps, int *side, GError **error);
void vigil_cli_eval_scores_free(EvalScore *scores, guint n);

/* A labelled calibration fitted on DIR/valid (cli/calibrate.c): with shots
 * or `refs`, few-shot, the references left out of the normals. */
VigilCalibration *vigil_cli_calibrate_on_valid(const char *command, VigilEngine *engine,
                                               const char *class_name, const char *dir, int shots,
                                               int seed, const char *refs, GError **error);
