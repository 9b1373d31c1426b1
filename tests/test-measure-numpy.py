#!/usr/bin/python3
"""TAP: ROI statistics and rulers as vigil measures them (tests/vg-measure.c,
the viewer's code) equal numpy's on the same pixels of a CT made here with
pydicom: int16 stored values, Rescale Slope 2.5 and Intercept -1024 (so HU),
Pixel Spacing 0.7 (rows) \\ 0.9 (columns). Pixel membership is computed here
independently: a pixel belongs to a shape when its centre (i + 0.5, j + 0.5)
is inside. Then Imager Pixel Spacing only (said so), and no spacing (pixels).
Usage: test-measure-numpy.py VG_MEASURE"""
import json
import subprocess
import sys
import tempfile

import numpy as np
from pydicom.uid import CTImageStorage, generate_uid

from dicom_dataset import new_file_dataset

tool = sys.argv[1]
work = tempfile.mkdtemp(prefix="vigil-measure-")
rng = np.random.default_rng(18)
stored = rng.integers(-200, 1800, size=(48, 64)).astype(np.int16)
hu = stored.astype(np.float64) * 2.5 - 1024


def write_ct(name, spacing_tag):
    ds = new_file_dataset(CTImageStorage, name)
    ds.Modality, ds.PatientName = "CT", "Measure^Test"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = "2.5", "-1024"
    if spacing_tag:
        setattr(ds, spacing_tag, ["0.7", "0.9"])
    ds.PixelData = stored.tobytes()
    path = f"{work}/{name}"
    ds.save_as(path, write_like_original=False)
    return path


def measure(path, kind, *xy):
    out = subprocess.run([tool, path, kind, *map(str, xy)], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else out.stderr.strip()


j, i = np.mgrid[0:stored.shape[0], 0:stored.shape[1]]
cx, cy = i + 0.5, j + 0.5
results = []


def check(name, ok, detail=""):
    results.append((ok, f"{name}{': ' + detail if detail and not ok else ''}"))


def same_stats(name, m, inside):
    v = hu[inside]
    want = dict(pixels=int(inside.sum()), mean=v.mean(), sd=v.std(), min=v.min(), max=v.max())
    got = {k: m[k] for k in want}
    ok = got["pixels"] == want["pixels"] and all(
        abs(got[k] - want[k]) <= 1e-6 * max(1, abs(want[k])) for k in ("mean", "sd", "min", "max"))
    check(f"{name} statistics equal numpy's over {want['pixels']} pixels", ok, f"{got} vs {want}")
    check(f"{name} is in HU", m["unit"] == "HU", str(m["unit"]))


ct = write_ct("ct.dcm", "PixelSpacing")
# An ellipse in the box (10.3, 8.1)-(41.7, 30.9).
e = measure(ct, "ellipse", 10.3, 8.1, 41.7, 30.9)
ex, ey, rx, ry = (10.3 + 41.7) / 2, (8.1 + 30.9) / 2, (41.7 - 10.3) / 2, (30.9 - 8.1) / 2
same_stats("ellipse", e, ((cx - ex) / rx) ** 2 + ((cy - ey) / ry) ** 2 <= 1)
check("ellipse area is pi a b in mm²", abs(e["area"] - np.pi * rx * ry * 0.7 * 0.9) < 1e-9,
      str(e["area"]))
check("ellipse says Pixel Spacing", e["spacing"] == "pixel" and e["units"] == "mm", str(e))
# A freehand triangle (5.2, 4.4), (55.6, 9.8), (20.3, 44.1): inside = same side of all edges.
tri = [(5.2, 4.4), (55.6, 9.8), (20.3, 44.1)]
f = measure(ct, "freehand", *[c for p in tri for c in p])
inside = np.ones_like(cx, dtype=bool)
for (x0, y0), (x1, y1) in zip(tri, tri[1:] + tri[:1]):
    inside &= (x1 - x0) * (cy - y0) - (y1 - y0) * (cx - x0) > 0
same_stats("freehand", f, inside)
shoelace = abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(tri, tri[1:] + tri[:1]))) / 2
check("freehand area is the polygon's in mm²", abs(f["area"] - shoelace * 0.63) < 1e-9, str(f["area"]))
r = measure(ct, "ruler", 3, 4, 33, 44)
check("ruler of 30 columns and 40 rows is hypot(27, 28) mm",
      abs(r["length"] - np.hypot(30 * 0.9, 40 * 0.7)) < 1e-9, str(r))
imager = measure(write_ct("imager.dcm", "ImagerPixelSpacing"), "ruler", 3, 4, 33, 44)
check("Imager Pixel Spacing is used and named", imager["spacing"] == "imager" and
      abs(imager["length"] - np.hypot(27, 28)) < 1e-9, str(imager))
bare = write_ct("bare.dcm", None)
px = measure(bare, "ruler", 3, 4, 33, 44)
check("without spacing the ruler is in pixels", px["spacing"] == "none" and px["units"] == "pixels"
      and abs(px["length"] - 50) < 1e-9, str(px))
zero = measure(bare, "ellipse", 10, 10, 10, 20)
check("a zero-area ROI is refused with a message", isinstance(zero, str) and "zero area" in zero,
      str(zero))
print("TAP version 13")
print(f"1..{len(results)}")
for n, (ok, text) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {n} - {text}")
sys.exit(0 if all(ok for ok, _ in results) else 1)
