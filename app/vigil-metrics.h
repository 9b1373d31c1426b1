/* Detection metrics as scikit-learn and anomalib compute them: AUROC, average
 * precision, the precision-recall curve and F1-max over scores with 0/1
 * labels, and AUPRO over anomaly maps with masks. Ties follow scikit-learn:
 * one curve point per distinct score, areas by the trapezoid rule. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The ROC/PR counts: per distinct score, highest first, how many positives
 * and negatives score at least that much. */
typedef struct {
  gsize n;            /* distinct scores */
  double *thresholds; /* n, descending */
  double *tps, *fps;  /* n, cumulative */
  double positives, negatives;
} VigilCurve;

/* NULL (with an error) when n is 0 or a score is NaN. */
VigilCurve *vigil_curve_new(gsize n, const double *scores, const guint8 *labels, GError **error);
/* The same from float scores (anomaly maps): half the memory per pixel. */
VigilCurve *vigil_curve_new_f32(gsize n, const float *scores, const guint8 *labels, GError **error);
void vigil_curve_free(VigilCurve *curve);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilCurve, vigil_curve_free)

/* sklearn.metrics.roc_auc_score; NAN when one class is missing. */
double vigil_curve_auroc(const VigilCurve *c);
/* sklearn.metrics.average_precision_score; NAN without positives. */
double vigil_curve_average_precision(const VigilCurve *c);
/* sklearn.metrics.precision_recall_curve: n + 1 points, thresholds ascending,
 * the last point (precision 1, recall 0) without a threshold. g_free each. */
void vigil_curve_pr(const VigilCurve *c, double **precision, double **recall, double **thresholds);
/* The highest F1 on the PR curve, and (when `threshold` is not NULL) the
 * lowest score reaching it: anomalib's F1Max and F1AdaptiveThreshold. */
double vigil_curve_f1_max(const VigilCurve *c, double *threshold);

/* Anomalib's AUPRO: masks' regions are 8-connected components per map; the
 * PRO curve is the mean per-region overlap against the false positive rate
 * over all normal pixels, one point per distinct score, integrated by the
 * trapezoid rule up to `fpr_limit` (interpolated there) and divided by it.
 * `maps` and `masks` hold n_maps planes of width x height; NAN without
 * regions or without normal pixels. */
double vigil_aupro(gsize n_maps, int width, int height, const float *maps, const guint8 *masks,
                   double fpr_limit);

G_END_DECLS
