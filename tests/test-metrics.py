#!/usr/bin/python3
"""Checks vigil-metrics against scikit-learn (AUROC, AP, PR curve, F1-max)
and a numpy/scipy statement of anomalib's AUPRO, to 1e-9, on the cases
tests/test-metrics.c writes. Usage: test-metrics.py TEST-METRICS-EXE"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy import ndimage
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

TOL = 1e-9
failures = []
checks = 0


def close(name, what, got, want):
    global checks
    checks += 1
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape or not np.allclose(got, want, rtol=0, atol=TOL, equal_nan=True):
        failures.append(f"{name}: {what}: vigil {got.ravel()[:8]} sklearn {want.ravel()[:8]}")


def f1_reference(y, s):
    """anomalib's F1Max / F1AdaptiveThreshold on sklearn's PR curve: the
    first maximum in ascending threshold order."""
    p, r, t = precision_recall_curve(y, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    best = int(np.argmax(f1[:-1]))
    return f1[best], t[best]


def check_scores(name, c):
    y, s = np.array(c["labels"]), np.array(c["scores"])
    one_class = len(set(y)) < 2
    close(name, "auroc", c["auroc"], np.nan if one_class else roc_auc_score(y, s))
    close(name, "ap", c["ap"], average_precision_score(y, s))
    p, r, t = precision_recall_curve(y, s)
    close(name, "precision", c["precision"], p)
    close(name, "recall", c["recall"], r)
    close(name, "thresholds", c["thresholds"], t)
    f1, at = f1_reference(y, s)
    close(name, "f1_max", c["f1_max"], f1)
    close(name, "f1_threshold", c["f1_threshold"], at)


def aupro_reference(maps, masks, limit=0.3):
    """The PRO curve at every distinct score: the mean overlap of the
    8-connected regions (scipy's label with a 3x3 structure) against the
    false positive rate over all normal pixels; trapezoid from (0, 0) to
    `limit` (interpolated there), divided by `limit`. Returns it and the
    number of regions."""
    regions = []
    for i, mask in enumerate(masks):
        lab, k = ndimage.label(mask, structure=np.ones((3, 3)))
        regions += [(i, lab == j) for j in range(1, k + 1)]
    normal = masks == 0
    fpr, pro = [0.0], [0.0]
    for t in np.unique(maps)[::-1]:
        above = maps >= t
        fpr.append(above[normal].mean())
        pro.append(np.mean([above[i][r].mean() for i, r in regions]))
    fpr, pro = np.array(fpr), np.array(pro)
    i = int(np.argmax(fpr > limit))
    y = pro[i - 1] + (pro[i] - pro[i - 1]) * (limit - fpr[i - 1]) / (fpr[i] - fpr[i - 1])
    xs, ys = np.append(fpr[:i], limit), np.append(pro[:i], y)
    return np.sum(np.diff(xs) * (ys[1:] + ys[:-1]) / 2) / limit, len(regions)


def check_aupro(name, c):
    n, h, w = c["shape"]
    maps = np.array(c["maps"]).reshape(n, h, w)
    masks = np.array(c["masks"]).reshape(n, h, w).astype(int)
    want, regions = aupro_reference(maps, masks)
    close(name, "aupro", c["aupro"], want)
    if regions != 4:  # the rectangles that meet at a corner are one region
        failures.append(f"{name}: expected 4 regions, scipy found {regions}")


def main():
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.argv[1], out], check=True)
        cases = sorted(glob.glob(os.path.join(out, "*.json")))
        for path in cases:
            with open(path) as f:
                c = json.load(f)
            name = os.path.basename(path)
            (check_aupro if "aupro" in c else check_scores)(name, c)
    if len(cases) < 10:
        failures.append(f"only {len(cases)} cases written")
    for f in failures:
        print("FAIL", f)
    print(f"{checks} comparisons over {len(cases)} cases, {len(failures)} failures")
    sys.exit(1 if failures else 0)


main()
