/* Detection metrics (vigil-metrics.h). Every metric reads one VigilCurve: the
 * scores sorted once, highest first, and cut at each distinct value, which is
 * how scikit-learn's _binary_clf_curve treats ties. */
#include "vigil-metrics.h"

#include <math.h>
#include <gio/gio.h>
#include <stdlib.h>

/* A score with its label, or its region for AUPRO (0: normal). Float scores
 * keep a pixel at 8 bytes, so a test set's maps sort in memory. */
typedef struct {
  double s;
  guint32 aux;
} PairD;
typedef struct {
  float s;
  guint32 aux;
} PairF;

static int by_score_d(const void *a, const void *b) {
  double x = ((const PairD *)a)->s, y = ((const PairD *)b)->s;
  return (x < y) - (x > y); /* descending */
}

static int by_score_f(const void *a, const void *b) {
  float x = ((const PairF *)a)->s, y = ((const PairF *)b)->s;
  return (x < y) - (x > y);
}

static double pair_score(const void *pairs, gsize i, gboolean f32) {
  return f32 ? ((const PairF *)pairs)[i].s : ((const PairD *)pairs)[i].s;
}

static guint32 pair_aux(const void *pairs, gsize i, gboolean f32) {
  return f32 ? ((const PairF *)pairs)[i].aux : ((const PairD *)pairs)[i].aux;
}

/* Cuts sorted pairs at each distinct score. A positive counts 1, or with
 * `weight` (AUPRO) weight[region]; aux 0 counts one negative. */
static VigilCurve *walk(gsize n, const void *pairs, gboolean f32, const double *weight) {
  VigilCurve *c = g_new0(VigilCurve, 1);
  c->thresholds = g_new(double, n);
  c->tps = g_new(double, n);
  c->fps = g_new(double, n);
  double tp = 0, fp = 0;
  for (gsize i = 0; i < n; i++) {
    guint32 aux = pair_aux(pairs, i, f32);
    if (aux == 0)
      fp += 1;
    else
      tp += weight ? weight[aux] : 1;
    double s = pair_score(pairs, i, f32);
    if (i + 1 == n || pair_score(pairs, i + 1, f32) != s) {
      c->thresholds[c->n] = s;
      c->tps[c->n] = tp, c->fps[c->n] = fp;
      c->n++;
    }
  }
  c->positives = tp, c->negatives = fp;
  return c;
}

static gboolean check_scores(gsize n, gboolean has_nan, GError **error) {
  if (n == 0 || has_nan) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                n ? "a score is not a number" : "no scores to evaluate");
    return FALSE;
  }
  return TRUE;
}

VigilCurve *vigil_curve_new(gsize n, const double *scores, const guint8 *labels, GError **error) {
  g_autofree PairD *p = g_new(PairD, MAX(n, 1));
  gboolean nan = FALSE;
  for (gsize i = 0; i < n; i++)
    p[i] = (PairD){scores[i], labels[i] != 0}, nan |= isnan(scores[i]);
  if (!check_scores(n, nan, error))
    return NULL;
  qsort(p, n, sizeof *p, by_score_d);
  return walk(n, p, FALSE, NULL);
}

VigilCurve *vigil_curve_new_f32(gsize n, const float *scores, const guint8 *labels,
                                GError **error) {
  g_autofree PairF *p = g_new(PairF, MAX(n, 1));
  gboolean nan = FALSE;
  for (gsize i = 0; i < n; i++)
    p[i] = (PairF){scores[i], labels[i] != 0}, nan |= isnan(scores[i]);
  if (!check_scores(n, nan, error))
    return NULL;
  qsort(p, n, sizeof *p, by_score_f);
  return walk(n, p, TRUE, NULL);
}

void vigil_curve_free(VigilCurve *c) {
  if (!c)
    return;
  g_free(c->thresholds), g_free(c->tps), g_free(c->fps);
  g_free(c);
}

double vigil_curve_auroc(const VigilCurve *c) {
  if (c->positives <= 0 || c->negatives <= 0)
    return NAN;
  double area = 0, x0 = 0, y0 = 0; /* the ROC curve starts at (0, 0) */
  for (gsize k = 0; k < c->n; k++) {
    double x = c->fps[k] / c->negatives, y = c->tps[k] / c->positives;
    area += (x - x0) * (y + y0) / 2;
    x0 = x, y0 = y;
  }
  return area;
}

double vigil_curve_average_precision(const VigilCurve *c) {
  if (c->positives <= 0)
    return NAN;
  double ap = 0, r0 = 0; /* sum of (R_k - R_k-1) * P_k, highest threshold first */
  for (gsize k = 0; k < c->n; k++) {
    double r = c->tps[k] / c->positives;
    ap += (r - r0) * (c->tps[k] / (c->tps[k] + c->fps[k]));
    r0 = r;
  }
  return ap;
}

void vigil_curve_pr(const VigilCurve *c, double **precision, double **recall, double **thresholds) {
  double *p = g_new(double, c->n + 1), *r = g_new(double, c->n + 1);
  double *t = g_new(double, c->n);
  for (gsize i = 0; i < c->n; i++) {
    gsize k = c->n - 1 - i; /* ascending thresholds */
    double all = c->tps[k] + c->fps[k];
    p[i] = all > 0 ? c->tps[k] / all : 0;
    r[i] = c->positives > 0 ? c->tps[k] / c->positives : 1;
    t[i] = c->thresholds[k];
  }
  p[c->n] = 1, r[c->n] = 0;
  *precision = p, *recall = r, *thresholds = t;
}

double vigil_curve_f1_max(const VigilCurve *c, double *threshold) {
  double best = 0, at = c->n ? c->thresholds[c->n - 1] : NAN;
  for (gsize i = 0; i < c->n; i++) {
    gsize k = c->n - 1 - i; /* ascending, so ties keep the lowest threshold */
    double p = c->tps[k] / (c->tps[k] + c->fps[k]);
    double r = c->positives > 0 ? c->tps[k] / c->positives : 1;
    double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
    if (f1 > best)
      best = f1, at = c->thresholds[k];
  }
  if (threshold)
    *threshold = at;
  return best;
}

/* Union-find over one mask's pixels, 8-connected as anomalib's labelling. */
static guint32 find(guint32 *parent, guint32 i) {
  while (parent[i] != i)
    i = parent[i] = parent[parent[i]];
  return i;
}

static void join(guint32 *parent, guint32 a, guint32 b) {
  a = find(parent, a), b = find(parent, b);
  if (a != b)
    parent[MAX(a, b)] = MIN(a, b);
}

/* Labels one mask's regions from *next on (region ids across maps) into
 * `region`, counting their sizes into `sizes`. */
static void label_regions(int w, int h, const guint8 *mask, guint32 *region, guint32 *parent,
                          guint32 *next, GArray *sizes) {
  const gsize n = (gsize)w * h;
  for (gsize i = 0; i < n; i++)
    parent[i] = (guint32)i;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      gsize i = (gsize)y * w + x;
      if (!mask[i])
        continue;
      static const int dx[4] = {-1, -1, 0, 1}, dy[4] = {0, -1, -1, -1};
      for (int d = 0; d < 4; d++) {
        int nx = x + dx[d], ny = y + dy[d];
        if (nx >= 0 && nx < w && ny >= 0 && mask[(gsize)ny * w + nx])
          join(parent, (guint32)i, (guint32)((gsize)ny * w + nx));
      }
    }
  /* A region's root is its first pixel in scan order, so it has its id
   * before any other pixel of the region asks for it. */
  for (gsize i = 0; i < n; i++) {
    region[i] = 0;
    if (!mask[i])
      continue;
    guint32 root = find(parent, (guint32)i);
    if (root == i) {
      double zero = 0;
      g_array_append_val(sizes, zero);
      region[i] = (*next)++;
    } else {
      region[i] = region[root];
    }
    g_array_index(sizes, double, region[i]) += 1;
  }
}

/* The area under (fpr, pro) from (0, 0) to fpr_limit, divided by it. */
static double pro_area(const VigilCurve *c, double regions, double fpr_limit) {
  double area = 0, x0 = 0, y0 = 0;
  for (gsize k = 0; k < c->n; k++) {
    double x = c->fps[k] / c->negatives, y = c->tps[k] / regions;
    if (x > fpr_limit) {
      double y_at = y0 + (y - y0) * (fpr_limit - x0) / (x - x0);
      area += (fpr_limit - x0) * (y_at + y0) / 2;
      return area / fpr_limit;
    }
    area += (x - x0) * (y + y0) / 2;
    x0 = x, y0 = y;
  }
  return area / fpr_limit; /* not reached: the lowest score has fpr 1 */
}

double vigil_aupro(gsize n_maps, int width, int height, const float *maps, const guint8 *masks,
                   double fpr_limit) {
  const gsize plane = (gsize)width * height, n = plane * n_maps;
  g_autofree PairF *p = g_new(PairF, MAX(n, 1));
  g_autofree guint32 *parent = g_new(guint32, MAX(plane, 1));
  g_autofree guint32 *region = g_new(guint32, MAX(plane, 1));
  g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(double));
  double none = 0; /* region 0 is the normal pixels */
  g_array_append_val(sizes, none);
  guint32 next = 1;
  for (gsize m = 0; m < n_maps; m++) {
    label_regions(width, height, masks + plane * m, region, parent, &next, sizes);
    for (gsize i = 0; i < plane; i++) {
      if (isnan(maps[plane * m + i]))
        return NAN;
      p[plane * m + i] = (PairF){maps[plane * m + i], region[i]};
    }
  }
  double *weight = (double *)sizes->data; /* each region weighs 1 in all */
  for (guint r = 1; r < sizes->len; r++)
    weight[r] = 1 / weight[r];
  if (sizes->len < 2 || n == 0)
    return NAN;
  qsort(p, n, sizeof *p, by_score_f);
  g_autoptr(VigilCurve) c = walk(n, p, TRUE, weight);
  return c->negatives > 0 ? pro_area(c, sizes->len - 1, fpr_limit) : NAN;
}
