/* vigil-cli eval: MVFA's evaluation on its layout (DIR/test), under two
 * protocols side by side. "paper" reproduces MVFA's test_zero.py and
 * test_few.py: scores min-max normalised over the whole test set; zero-shot
 * image AUROC from the det head, pixel metrics from the seg maps; few-shot on
 * segmentation sets the zero- and few-shot seg maps each min-maxed and
 * averaged (image score: the per-image max), on image-level sets the det
 * scores likewise. "single" scores each image alone, as the app does, through
 * a calibration (--calibration, or one fitted on DIR/valid). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil-cli-eval.h"
#include "vigil-cli.h"
#include "vigil-metrics.h"

typedef struct {
  double image_auroc, image_ap, image_f1, pixel_auroc, pixel_ap, pixel_aupro, f1_at_half;
} EvalResult;

static const EvalResult no_result = {NAN, NAN, NAN, NAN, NAN, NAN, NAN};

typedef struct {
  EngineArgs engine;
  char *data, *refs, *protocol, *csv, *calibration;
  int shots, seed;
} EvalArgs;

static void eval_args_clear(EvalArgs *a) {
  vigil_cli_engine_args_clear(&a->engine);
  g_free(a->data), g_free(a->refs), g_free(a->protocol), g_free(a->csv), g_free(a->calibration);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(EvalArgs, eval_args_clear)

static void image_metrics(guint n, const double *scores, const guint8 *labels, EvalResult *r) {
  g_autoptr(VigilCurve) c = vigil_curve_new(n, scores, labels, NULL);
  if (!c)
    return;
  r->image_auroc = vigil_curve_auroc(c);
  r->image_ap = vigil_curve_average_precision(c);
  r->image_f1 = vigil_curve_f1_max(c, NULL);
}

/* v[i] = (v[i] - min) / (max - min) over the whole set, as MVFA does. */
static void minmax(gsize n, float *v) {
  float lo = INFINITY, hi = -INFINITY;
  for (gsize i = 0; i < n; i++)
    lo = fminf(lo, v[i]), hi = fmaxf(hi, v[i]);
  for (gsize i = 0; i < n; i++)
    v[i] = hi > lo ? (v[i] - lo) / (hi - lo) : 0;
}

static void minmax_d(gsize n, double *v) {
  double lo = INFINITY, hi = -INFINITY;
  for (gsize i = 0; i < n; i++)
    lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
  for (gsize i = 0; i < n; i++)
    v[i] = hi > lo ? (v[i] - lo) / (hi - lo) : 0;
}

/* The test set's maps in one array; few-shot: both kinds min-maxed, averaged.
 * Each image's own maps are freed once copied: a BMAD test set's maps run
 * to gigabytes. */
static float *paper_maps(EvalScore *s, guint n, gsize plane, gboolean few, guint8 *masks) {
  float *maps = g_new(float, plane *n);
  g_autofree float *other = few ? g_new(float, plane *n) : NULL;
  for (guint i = 0; i < n; i++) {
    memcpy(maps + plane * i, s[i].zero_map, plane * sizeof(float));
    memcpy(masks + plane * i, s[i].mask, plane);
    if (few)
      memcpy(other + plane * i, s[i].few_map, plane * sizeof(float));
    g_clear_pointer(&s[i].zero_map, g_free);
    g_clear_pointer(&s[i].few_map, g_free);
    g_clear_pointer(&s[i].mask, g_free);
  }
  minmax(plane * n, maps);
  if (few) {
    minmax(plane * n, other);
    for (gsize i = 0; i < plane * n; i++)
      maps[i] = 0.5f * maps[i] + 0.5f * other[i];
  }
  return maps;
}

/* MVFA's numbers; image_scores[i] gets the paper's score of image i. */
static EvalResult paper_protocol(EvalScore *s, guint n, const guint8 *labels, int side,
                                 gboolean few, gboolean seg, double *image_scores) {
  EvalResult r = no_result;
  const gsize plane = (gsize)side * side;
  g_autofree guint8 *masks = seg ? g_new(guint8, plane * n) : NULL;
  g_autofree float *maps = seg ? paper_maps(s, n, plane, few, masks) : NULL;
  g_autofree double *other = g_new(double, n);
  for (guint i = 0; i < n; i++)
    image_scores[i] = s[i].zero, other[i] = s[i].few;
  minmax_d(n, image_scores);
  if (few && seg) { /* the image score is the fused map's maximum */
    for (guint i = 0; i < n; i++) {
      float hi = -INFINITY;
      for (gsize p = 0; p < plane; p++)
        hi = fmaxf(hi, maps[plane * i + p]);
      image_scores[i] = hi;
    }
  } else if (few) {
    minmax_d(n, other);
    for (guint i = 0; i < n; i++)
      image_scores[i] = 0.5 * image_scores[i] + 0.5 * other[i];
  }
  image_metrics(n, image_scores, labels, &r);
  g_autoptr(VigilCurve) c = seg ? vigil_curve_new_f32(plane * n, maps, masks, NULL) : NULL;
  if (c) {
    r.pixel_auroc = vigil_curve_auroc(c);
    r.pixel_ap = vigil_curve_average_precision(c);
    r.pixel_aupro = vigil_aupro(n, side, side, maps, masks, 0.3);
  }
  return r;
}

/* Each image alone through the calibration; raw and calibrated scores out. */
static EvalResult single_protocol(const VigilCalibration *cal, const EvalScore *s, guint n,
                                  const guint8 *labels, gboolean few, double *raw,
                                  double *calibrated) {
  EvalResult r = no_result;
  double tp = 0, fp = 0, fn = 0;
  for (guint i = 0; i < n; i++) {
    VigilDetection d = {.zero_score = s[i].zero, .few_score = s[i].few, .has_few = few};
    raw[i] = vigil_calibration_raw_score(&d, few);
    calibrated[i] = vigil_calibration_apply(cal, raw[i]);
    gboolean above = calibrated[i] >= 0.5;
    tp += above && labels[i], fp += above && !labels[i], fn += !above && labels[i];
  }
  image_metrics(n, calibrated, labels, &r);
  r.f1_at_half = tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0;
  return r;
}

static void csv_number(GString *out, double v) {
  if (isfinite(v))
    g_string_append_printf(out, ",%.17g", v);
  else
    g_string_append_c(out, ',');
}

static gboolean write_csv(const char *path, const EvalSet *set, const EvalScore *s, gboolean few,
                          const double *paper, const double *raw, const double *single,
                          GError **error) {
  g_autoptr(GString) out = g_string_new(
      "file,label,zero_score,few_score,paper_image_score,single_raw_score,single_score\n");
  for (guint i = 0; i < set->paths->len; i++) {
    const char *file = set->paths->pdata[i];
    g_auto(GStrv) parts = strpbrk(file, ",\"\n") ? g_strsplit(file, "\"", -1) : NULL;
    g_autofree char *joined = parts ? g_strjoinv("\"\"", parts) : NULL;
    g_autofree char *quoted = joined ? g_strdup_printf("\"%s\"", joined) : NULL;
    g_string_append_printf(out, "%s,%d", quoted ? quoted : file,
                           g_array_index(set->labels, guint8, i));
    csv_number(out, s[i].zero);
    csv_number(out, few ? s[i].few : NAN);
    csv_number(out, paper ? paper[i] : NAN);
    csv_number(out, raw ? raw[i] : NAN);
    csv_number(out, single ? single[i] : NAN);
    g_string_append_c(out, '\n');
  }
  return g_file_set_contents(path, out->str, (gssize)out->len, error); /* atomic */
}

static void add_result(JsonBuilder *b, const char *name, const EvalResult *r) {
  const struct {
    const char *key;
    double v;
  } fields[] = {{"image_auroc", r->image_auroc},   {"image_ap", r->image_ap},
                {"image_f1_max", r->image_f1},     {"pixel_auroc", r->pixel_auroc},
                {"pixel_ap", r->pixel_ap},         {"pixel_aupro", r->pixel_aupro},
                {"image_f1_at_0.5", r->f1_at_half}};
  json_builder_set_member_name(b, name);
  json_builder_begin_object(b);
  for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
    json_builder_set_member_name(b, fields[i].key);
    if (isfinite(fields[i].v))
      json_builder_add_double_value(b, fields[i].v);
    else
      json_builder_add_null_value(b);
  }
  json_builder_end_object(b);
}

static void print_row(const char *label, double paper, double single) {
  printf("  %-18s", label);
  for (int k = 0; k < 2; k++) {
    double v = k ? single : paper;
    if (isfinite(v))
      printf(" %8.4f", v);
    else
      printf(" %8s", "-");
  }
  printf("\n");
}

static void print_table(const EvalResult *p, const EvalResult *s, const char *calibration) {
  printf("  %-18s %8s %8s\n", "", "paper", "single");
  print_row("image AUROC", p->image_auroc, s->image_auroc);
  print_row("image AP", p->image_ap, s->image_ap);
  print_row("image F1-max", p->image_f1, s->image_f1);
  print_row("image F1 at 0.5", NAN, s->f1_at_half);
  print_row("pixel AUROC", p->pixel_auroc, s->pixel_auroc);
  print_row("pixel AP", p->pixel_ap, s->pixel_ap);
  print_row("pixel AUPRO@0.3", p->pixel_aupro, s->pixel_aupro);
  if (calibration)
    printf("single: each image alone, calibration %s\n", calibration);
}

/* --calibration FILE (checked against the weights, class and mode), or one
 * fitted on DIR/valid as vigil-cli calibrate would. */
static VigilCalibration *eval_calibration(VigilEngine *engine, const EvalArgs *a, gboolean few,
                                          GError **error) {
  if (!a->calibration)
    return vigil_cli_calibrate_on_valid("eval", engine, a->engine.class_name, a->data, a->shots,
                                        a->seed, a->refs, error);
  g_autoptr(VigilCalibration) c = vigil_calibration_load(a->calibration, engine, error);
  if (c && (c->few_shot != few || g_strcmp0(c->class_name, a->engine.class_name) != 0)) {
    g_set_error(error, VIGIL_CALIBRATION_ERROR, VIGIL_CALIBRATION_ERROR_MISMATCH,
                "%s is for %s %s; this evaluation is %s %s", a->calibration, c->class_name,
                c->few_shot ? "few-shot" : "zero-shot", a->engine.class_name,
                few ? "few-shot" : "zero-shot");
    return NULL;
  }
  return g_steal_pointer(&c);
}

static void print_json(const EvalArgs *a, VigilEngine *engine, const EvalSet *set, gboolean seg,
                       const EvalResult *paper, const EvalResult *single,
                       const VigilCalibration *cal) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_cli_json_add_string(b, "class", a->engine.class_name);
  vigil_cli_json_add_string(b, "mode", a->shots > 0 || a->refs ? "few-shot" : "zero-shot");
  json_builder_set_member_name(b, "shots");
  json_builder_add_int_value(b, a->shots);
  json_builder_set_member_name(b, "images");
  json_builder_add_int_value(b, set->paths->len);
  json_builder_set_member_name(b, "segmentation");
  json_builder_add_boolean_value(b, seg);
  if (paper)
    add_result(b, "paper", paper);
  if (single)
    add_result(b, "single", single);
  g_autofree char *described = cal ? vigil_calibration_describe(cal) : NULL;
  vigil_cli_json_add_string(b, "calibration", described);
  g_autofree char *identity = vigil_engine_dup_identity(engine);
  vigil_cli_json_add_string(b, "model", identity);
  json_builder_set_member_name(b, "random_model");
  json_builder_add_boolean_value(b, vigil_engine_is_random(engine));
  json_builder_end_object(b);
  vigil_cli_print_json(b);
}

static int run_eval(const EvalArgs *a, gboolean json) {
  const gboolean few = a->shots > 0 || a->refs;
  const gboolean want_paper = !a->protocol || g_str_equal(a->protocol, "paper");
  const gboolean want_single = !a->protocol || g_str_equal(a->protocol, "single");
  g_autoptr(VigilEngine) engine = vigil_cli_open_engine("eval", &a->engine);
  if (!engine)
    return VIGIL_CLI_FAILED;
  g_autoptr(GError) error = NULL;
  g_auto(EvalSet) set = {0};
  g_autoptr(VigilCalibration) cal = want_single ? eval_calibration(engine, a, few, &error) : NULL;
  g_autofree float *text =
      (!want_single || cal) ? vigil_engine_text_features(engine, a->engine.class_name, NULL, &error)
                            : NULL;
  gboolean ok = text && vigil_cli_eval_set_load(a->data, "test", &set, &error);
  vg_membank *bank =
      ok && few ? vigil_cli_eval_bank(engine, a->data, a->shots, a->seed, a->refs, NULL, &error)
                : NULL;
  ok = ok && (!few || bank);
  const guint n = ok ? set.paths->len : 0;
  const gboolean seg = ok && vigil_cli_eval_set_has_masks(&set);
  int side = 0;
  EvalScore *s = ok ? vigil_cli_eval_score("eval", "test", engine, text, bank, &set,
                                           seg && want_paper, &side, &error)
                    : NULL;
  vigil_engine_free_bank(engine, bank);
  if (!s) {
    fprintf(stderr, "vigil-cli eval: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  const guint8 *labels = (const guint8 *)set.labels->data;
  g_autofree double *paper_scores = want_paper ? g_new(double, n) : NULL;
  g_autofree double *raw = want_single ? g_new(double, n) : NULL;
  g_autofree double *single_scores = want_single ? g_new(double, n) : NULL;
  EvalResult paper = no_result, single = no_result;
  if (want_paper)
    paper = paper_protocol(s, n, labels, side, few, seg, paper_scores);
  if (want_single)
    single = single_protocol(cal, s, n, labels, few, raw, single_scores);
  ok = !a->csv || write_csv(a->csv, &set, s, few, paper_scores, raw, single_scores, &error);
  vigil_cli_eval_scores_free(s, n);
  if (!ok) {
    fprintf(stderr, "vigil-cli eval: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  g_autofree char *described = cal ? vigil_calibration_describe(cal) : NULL;
  if (json) {
    print_json(a, engine, &set, seg, want_paper ? &paper : NULL, want_single ? &single : NULL, cal);
  } else {
    printf("%s, %s, %d references, %u test images%s\n", a->engine.class_name,
           few ? "few-shot" : "zero-shot", few ? a->shots : 0, n,
           seg ? ", with masks" : ", image level");
    print_table(&paper, &single, described);
  }
  return VIGIL_CLI_OK;
}

int vigil_cli_eval(int argc, char **argv) {
  g_auto(EvalArgs) a = {.seed = 1};
  const GOptionEntry entries[] = {
      {"clip", 0, 0, G_OPTION_ARG_FILENAME, &a.engine.clip, "CLIP weights (safetensors)", "FILE"},
      {"adapters", 0, 0, G_OPTION_ARG_FILENAME, &a.engine.adapters,
       "MVFA adapters (.pth/.safetensors)", "FILE"},
      {"class", 0, 0, G_OPTION_ARG_STRING, &a.engine.class_name, "Class name for the prompts",
       "NAME"},
      {"data", 0, 0, G_OPTION_ARG_FILENAME, &a.data, "MVFA layout (test/, valid/)", "DIR"},
      {"shots", 0, 0, G_OPTION_ARG_INT, &a.shots, "Few-shot: K references from valid/good", "K"},
      {"seed", 0, 0, G_OPTION_ARG_INT, &a.seed, "Seed choosing the references (default 1)", "S"},
      {"refs", 0, 0, G_OPTION_ARG_FILENAME, &a.refs, "Few-shot references listed in FILE", "FILE"},
      {"protocol", 0, 0, G_OPTION_ARG_STRING, &a.protocol, "paper or single (default: both)", "P"},
      {"calibration", 0, 0, G_OPTION_ARG_FILENAME, &a.calibration,
       "For single: this file, not one fitted on valid/", "FILE"},
      {"csv", 0, 0, G_OPTION_ARG_FILENAME, &a.csv, "Per-image scores (CSV)", "FILE"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &a.engine.json, "Print JSON", NULL},
      {"backend", 0, 0, G_OPTION_ARG_STRING, &a.engine.backend, "cpu, vulkan or auto", "NAME"},
      {"device", 0, 0, G_OPTION_ARG_STRING, &a.engine.device, "Vulkan device index or name", "DEV"},
      {NULL},
  };
  if (!vigil_cli_parse("eval", "MVFA's evaluation on a labelled folder", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  gboolean protocol_ok =
      !a.protocol || g_str_equal(a.protocol, "paper") || g_str_equal(a.protocol, "single");
  if (argc != 1 || !a.engine.clip || !a.engine.adapters || !a.engine.class_name || !a.data ||
      a.shots < 0 || !protocol_ok) {
    fprintf(stderr, "usage: vigil-cli eval --clip F --adapters F --class NAME --data DIR "
                    "[--shots K] [--seed S] [--protocol paper|single] [--json] [--csv FILE]\n");
    return VIGIL_CLI_USAGE;
  }
  return run_eval(&a, a.engine.json);
}
