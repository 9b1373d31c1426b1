/* Writes metric cases for tests/test-metrics.py: random and heavily tied
 * scores with labels, and anomaly maps with masks, each with what
 * vigil-metrics computes for them. The script checks them against
 * scikit-learn and a numpy/scipy statement of AUPRO.
 * Usage: test-metrics OUTDIR */
#include <math.h>
#include <stdio.h>

#include "vigil-metrics.h"

static void add_array(GString *s, const char *key, gsize n, const double *v) {
  g_string_append_printf(s, "\"%s\": [", key);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf(s, "%s%.17g", i ? ", " : "", v[i]);
  g_string_append(s, "],\n");
}

static void add_number(GString *s, const char *key, double v) {
  if (isnan(v))
    g_string_append_printf(s, "\"%s\": NaN,\n", key);
  else
    g_string_append_printf(s, "\"%s\": %.17g,\n", key, v);
}

static void save(const char *dir, const char *name, GString *s) {
  g_string_append(s, "\"end\": 0}\n");
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_file_set_contents(path, s->str, -1, &error))
    g_error("%s", error->message);
}

/* Scores with labels; `f32` takes the float path that pixel maps use. */
static void scores_case(const char *dir, const char *name, gsize n, const double *scores,
                        const guint8 *labels, gboolean f32) {
  g_autofree float *single = g_new(float, n);
  for (gsize i = 0; i < n; i++)
    single[i] = (float)scores[i];
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilCurve) c = f32 ? vigil_curve_new_f32(n, single, labels, &error)
                                : vigil_curve_new(n, scores, labels, &error);
  if (!c)
    g_error("%s: %s", name, error->message);
  g_autoptr(GString) s = g_string_new("{\n");
  g_autofree double *as_read = g_new(double, n), *y = g_new(double, n);
  for (gsize i = 0; i < n; i++)
    as_read[i] = f32 ? single[i] : scores[i], y[i] = labels[i];
  add_array(s, "scores", n, as_read);
  add_array(s, "labels", n, y);
  add_number(s, "auroc", vigil_curve_auroc(c));
  add_number(s, "ap", vigil_curve_average_precision(c));
  double at;
  add_number(s, "f1_max", vigil_curve_f1_max(c, &at));
  add_number(s, "f1_threshold", at);
  g_autofree double *p = NULL, *r = NULL, *t = NULL;
  vigil_curve_pr(c, &p, &r, &t);
  add_array(s, "precision", c->n + 1, p);
  add_array(s, "recall", c->n + 1, r);
  add_array(s, "thresholds", c->n, t);
  save(dir, name, s);
}

/* `levels` > 0 rounds scores to that many values: heavy ties. */
static void random_scores(GRand *rng, const char *dir, const char *name, gsize n, double rate,
                          int levels, gboolean f32) {
  g_autofree double *scores = g_new(double, n);
  g_autofree guint8 *labels = g_new(guint8, n);
  for (gsize i = 0; i < n; i++) {
    labels[i] = g_rand_double(rng) < rate;
    double v = g_rand_double(rng) + 0.35 * labels[i]; /* informative, not perfect */
    scores[i] = levels > 0 ? floor(v * levels) / levels : v;
  }
  scores_case(dir, name, n, scores, labels, f32);
}

/* A rectangle of mask in map m. */
static void paint(guint8 *mask, int w, int x0, int y0, int x1, int y1) {
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      mask[y * w + x] = 1;
}

/* Maps with lesions: regions of several sizes, two touching only at a
 * corner (one region under 8-connectivity), a map with none. */
static void aupro_case(GRand *rng, const char *dir, const char *name, int levels) {
  enum { N = 4, W = 23, H = 19 };
  g_autofree float *maps = g_new(float, N *W *H);
  g_autofree guint8 *masks = g_new0(guint8, N * W * H);
  paint(masks, W, 2, 2, 6, 5);
  paint(masks, W, 6, 5, 9, 9);                /* meets the first at a corner */
  paint(masks + W * H, W, 10, 10, 11, 11);    /* one pixel */
  paint(masks + W * H, W, 0, 15, 23, 19);     /* a band on the edge */
  paint(masks + 2 * W * H, W, 12, 3, 20, 12); /* map 3 has no lesion */
  for (int i = 0; i < N * W * H; i++) {
    double v = g_rand_double(rng) + 0.4 * masks[i];
    maps[i] = (float)(levels > 0 ? floor(v * levels) / levels : v);
  }
  double aupro = vigil_aupro(N, W, H, maps, masks, 0.3);
  g_autoptr(GString) s = g_string_new("{\n");
  g_autofree double *m = g_new(double, N *W *H), *k = g_new(double, N *W *H);
  for (int i = 0; i < N * W * H; i++)
    m[i] = maps[i], k[i] = masks[i];
  g_string_append_printf(s, "\"shape\": [%d, %d, %d],\n", N, H, W);
  add_array(s, "maps", N * W * H, m);
  add_array(s, "masks", N * W * H, k);
  add_number(s, "aupro", aupro);
  save(dir, name, s);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test-metrics OUTDIR\n");
    return 2;
  }
  g_autoptr(GRand) rng = g_rand_new_with_seed(16);
  const char *dir = argv[1];
  random_scores(rng, dir, "random.json", 600, 0.3, 0, FALSE);
  random_scores(rng, dir, "tied.json", 400, 0.4, 6, FALSE);
  random_scores(rng, dir, "tied-f32.json", 1000, 0.2, 13, TRUE);
  random_scores(rng, dir, "random-f32.json", 500, 0.5, 0, TRUE);
  random_scores(rng, dir, "two-levels.json", 300, 0.5, 1, FALSE);
  random_scores(rng, dir, "small.json", 7, 0.5, 3, FALSE);
  const double same[6] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
  const guint8 mixed[6] = {0, 1, 0, 1, 1, 0};
  scores_case(dir, "all-tied.json", 6, same, mixed, FALSE);
  /* F1 2/3 at 4 and at 1: anomalib keeps the lower threshold (1). */
  const double f1_tie[4] = {4, 3, 2, 1};
  const guint8 f1_labels[4] = {1, 0, 0, 1};
  scores_case(dir, "f1-tie.json", 4, f1_tie, f1_labels, FALSE);
  aupro_case(rng, dir, "aupro.json", 0);
  aupro_case(rng, dir, "aupro-tied.json", 5);
  return 0;
}
