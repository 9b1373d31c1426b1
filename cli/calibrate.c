/* vigil-cli calibrate: a labelled calibration (app/vigil-calibration.h) from
 * the valid/ split of MVFA's evaluation layout, written as JSON for the
 * weights it was made with. Few-shot references come from valid/good and are
 * left out of the normals the threshold is fitted on. */
#include <stdio.h>

#include "vigil-calibration.h"
#include "vigil-cli-eval.h"
#include "vigil-cli.h"

/* The map part from the same images' raw maps (masks where the set has them). */
static gboolean fit_map(VigilCalibration *c, const EvalScore *s, guint n, int side,
                        const guint8 *labels, gboolean masks, GError **error) {
  const gsize plane = (gsize)side * side;
  g_autoptr(GPtrArray) maps = g_ptr_array_new_with_free_func(g_free);
  g_autofree const guint8 **mask_of = g_new0(const guint8 *, n);
  for (guint i = 0; i < n; i++) {
    VigilDetection d = {.side = side,
                        .zero_map = s[i].zero_map,
                        .few_map = s[i].few_map,
                        .has_few = s[i].few_map != NULL};
    float *raw = g_new(float, plane);
    vigil_calibration_raw_map(&d, c->few_shot, raw);
    g_ptr_array_add(maps, raw);
    mask_of[i] = s[i].mask;
  }
  return vigil_calibration_fit_map(c, n, plane, (const float *const *)maps->pdata, labels,
                                   masks ? mask_of : NULL, error);
}

/* Raw scores and labels of DIR/valid; the calibration fitted on them. */
VigilCalibration *vigil_cli_calibrate_on_valid(const char *command, VigilEngine *engine,
                                               const char *class_name, const char *dir, int shots,
                                               int seed, const char *refs, GError **error) {
  g_auto(EvalSet) set = {0};
  g_autofree float *text = vigil_engine_text_features(engine, class_name, NULL, error);
  if (!text || !vigil_cli_eval_set_load(dir, "valid", &set, error))
    return NULL;
  g_autoptr(GPtrArray) chosen = NULL;
  vg_membank *bank = shots > 0 || refs
                         ? vigil_cli_eval_bank(engine, dir, shots, seed, refs, &chosen, error)
                         : NULL;
  if ((shots > 0 || refs) && !bank)
    return NULL;
  vigil_cli_eval_set_remove(&set, chosen);
  int side = 0;
  const guint n = set.paths->len;
  EvalScore *s =
      vigil_cli_eval_score(command, "valid", engine, text, bank, &set, TRUE, &side, error);
  vigil_engine_free_bank(engine, bank);
  if (!s)
    return NULL;
  const gboolean few = bank != NULL;
  const guint8 *labels = (const guint8 *)set.labels->data;
  g_autofree double *raw = g_new(double, n);
  for (guint i = 0; i < n; i++) {
    VigilDetection d = {.zero_score = s[i].zero, .few_score = s[i].few, .has_few = few};
    raw[i] = vigil_calibration_raw_score(&d, few);
  }
  VigilCalibration *c = vigil_calibration_new_labelled(
      engine, class_name, few, chosen ? (int)chosen->len : 0, n, raw, labels, error);
  if (c && !fit_map(c, s, n, side, labels, vigil_cli_eval_set_has_masks(&set), error))
    g_clear_pointer(&c, vigil_calibration_free);
  vigil_cli_eval_scores_free(s, n);
  return c;
}

int vigil_cli_calibrate(int argc, char **argv) {
  g_auto(EngineArgs) a = {0};
  g_autofree char *data = NULL, *out = NULL, *refs = NULL;
  int shots = 0, seed = 1;
  const GOptionEntry entries[] = {
      {"clip", 0, 0, G_OPTION_ARG_FILENAME, &a.clip, "CLIP weights (safetensors)", "FILE"},
      {"adapters", 0, 0, G_OPTION_ARG_FILENAME, &a.adapters, "MVFA adapters (.pth/.safetensors)",
       "FILE"},
      {"class", 0, 0, G_OPTION_ARG_STRING, &a.class_name, "Class name for the prompts", "NAME"},
      {"data", 0, 0, G_OPTION_ARG_FILENAME, &data, "MVFA layout: uses DIR/valid", "DIR"},
      {"shots", 0, 0, G_OPTION_ARG_INT, &shots, "Few-shot: K references from valid/good", "K"},
      {"seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed choosing the references (default 1)", "S"},
      {"refs", 0, 0, G_OPTION_ARG_FILENAME, &refs, "Few-shot references listed in FILE", "FILE"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Calibration file to write (JSON)", "FILE"},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &a.backend, "cpu, vulkan or auto", "NAME"},
      {"device", 0, 0, G_OPTION_ARG_STRING, &a.device, "Vulkan device index or name", "DEV"},
      {NULL},
  };
  if (!vigil_cli_parse("calibrate", "a calibration from a labelled folder", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  if (argc != 1 || !a.clip || !a.adapters || !a.class_name || !data || !out || shots < 0) {
    fprintf(stderr, "usage: vigil-cli calibrate --clip F --adapters F --class NAME --data DIR "
                    "[--shots K] --out FILE\n");
    return VIGIL_CLI_USAGE;
  }
  g_autoptr(VigilEngine) engine = vigil_cli_open_engine("calibrate", &a);
  if (!engine)
    return VIGIL_CLI_FAILED;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilCalibration) c = vigil_cli_calibrate_on_valid("calibrate", engine, a.class_name,
                                                               data, shots, seed, refs, &error);
  if (!c || !vigil_calibration_save(c, out, &error)) {
    fprintf(stderr, "vigil-cli calibrate: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  g_autofree char *text = vigil_calibration_describe(c);
  printf("%s: %s (min %.6g, max %.6g)\n", out, text, c->min, c->max);
  return VIGIL_CLI_OK;
}
