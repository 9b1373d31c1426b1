#!/usr/bin/python3
"""Reads back what `vigil-cli report --out DIR --dicom [--seg-binary]` wrote, with
tools that share no code with Vigil (tests/test-report-dicom.sh):
  report-dicom-check.py DIR PRINTED MODE [exact]
DIR the bundle, PRINTED the paths vigil-cli printed, MODE zero-shot or few-shot;
`exact` when the slices are 240 x 240 (the map's own grid: no resampling), so the
SEG's maximum must equal round(255 * the JSON's scaled maximum).
dciodvfy must report no error; pydicom and numpy check study, series, geometry,
the values against the JSON's map_scale, the SC against report.png and the
encapsulated PDF against report.pdf."""
import json
import os
import sys

import numpy as np
import pydicom
from PIL import Image

from dicom_checks import PDF, PMAP, SC, SEG, check, dciodvfy, finish

DIR, PRINTED, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
EXACT = len(sys.argv) > 4 and sys.argv[4] == "exact"


report = json.load(open(os.path.join(DIR, "report.json")))
slices = report["slices"]
names = ["report.pdf", "report.png", "report.json"]
for s in slices:
    names += [f"slice-{s['slice'] + 1:03d}-{k}.dcm" for k in ("seg", "seg-binary", "pmap", "sc")]
names.append("report-pdf.dcm")
printed = open(PRINTED).read().split()
check(printed == [os.path.join(DIR, n) for n in names], f"printed {printed}, expected {names}")
check(sorted(os.listdir(DIR)) == sorted(names), f"the folder holds {sorted(os.listdir(DIR))}")

series_seen = set()
for s in slices:
    src = pydicom.dcmread(s["path"])
    series_seen.add(src.SeriesInstanceUID)
    scale = s["map_scale"]
    check(scale["map"] == ("few_seg_map" if MODE == "few-shot" else "zero_seg_map"), scale)
    raw = s[scale["map"]]
    if MODE == "zero-shot":  # probabilities summed over the layers: 0..layers, as the legend
        check(scale["lo"] == 0 and scale["hi"] == len(s["layers"]), f"zero-shot scale {scale}")
    else:  # few-shot: the map's own range
        check(scale["lo"] == raw["min"] and scale["hi"] == raw["max"], f"few-shot scale {scale}")
    want_max = (raw["max"] - scale["lo"]) / (scale["hi"] - scale["lo"])
    check(abs(scale["scaled_map"]["max"] - want_max) < 1e-6, f"scaled max {scale}")
    objs = {}
    for kind in ("seg", "seg-binary", "pmap", "sc"):
        path = os.path.join(DIR, f"slice-{s['slice'] + 1:03d}-{kind}.dcm")
        dciodvfy(path)
        ds = objs[kind] = pydicom.dcmread(path)
        check(ds.StudyInstanceUID == src.StudyInstanceUID, f"{kind}: not in the source study")
        check(ds.SeriesInstanceUID not in series_seen, f"{kind}: series UID reused")
        series_seen.add(ds.SeriesInstanceUID)
        check(ds.PatientID == src.PatientID, f"{kind}: patient {ds.PatientID}")
    seg, binary, pmap, sc = objs["seg"], objs["seg-binary"], objs["pmap"], objs["sc"]
    for kind, ds, cls in (("seg", seg, SEG), ("seg-binary", binary, SEG), ("pmap", pmap, PMAP),
                          ("sc", sc, SC)):
        check(ds.SOPClassUID == cls, f"{kind}: SOP class {ds.SOPClassUID}")
    check(seg.SeriesDescription == f"Vigil anomaly map ({MODE})", seg.SeriesDescription)
    check(MODE in binary.SeriesDescription and MODE in pmap.SeriesDescription
          and MODE in sc.SeriesDescription, "descriptions name the mode")
    for kind, ds in (("seg", seg), ("seg-binary", binary), ("pmap", pmap)):
        check((ds.Rows, ds.Columns) == (src.Rows, src.Columns),
              f"{kind}: {ds.Rows}x{ds.Columns}, source {src.Rows}x{src.Columns}")
    check(seg.SegmentationType == "FRACTIONAL" and binary.SegmentationType == "BINARY", "types")
    frac = seg.pixel_array.astype(float)
    values = pmap.pixel_array.astype(float)
    check("FloatPixelData" in pmap and pmap.pixel_array.dtype == np.float32, "PMAP as Float32")
    check(0 <= values.min() and values.max() <= 1,
          f"pmap range {values.min()}..{values.max()}")
    check(np.abs(frac - np.round(255 * values)).max() <= 1, "SEG = round(255 * PMAP) +-1")
    if EXACT:
        check(abs(values.max() - scale["scaled_map"]["max"]) < 1e-5,
              f"PMAP max {values.max()} != JSON scaled max {scale['scaled_map']['max']}")
        check(abs(frac.max() - round(255 * scale["scaled_map"]["max"])) <= 1,
              f"SEG max {frac.max()} != round(255 * {scale['scaled_map']['max']})")
    else:
        check(frac.max() <= round(255 * scale["scaled_map"]["max"]) + 1, "SEG max within scale")
    bits = binary.pixel_array
    want = values >= report["threshold"]
    check(set(np.unique(bits)) <= {0, 1} and (bits.astype(bool) != want).mean() < 0.001,
          f"binary SEG at {report['threshold']}: {(bits.astype(bool) != want).mean()} differ")
    if s is slices[0]:  # report.png is the first slice's annotated view
        png = np.asarray(Image.open(os.path.join(DIR, "report.png")).convert("RGB"))
        check(sc.SamplesPerPixel == 3 and (sc.Rows, sc.Columns) == png.shape[:2],
              f"SC {sc.Rows}x{sc.Columns}, PNG {png.shape}")
        check(np.array_equal(sc.pixel_array, png), "the SC's pixels are report.png's")

doc = pydicom.dcmread(os.path.join(DIR, "report-pdf.dcm"))
dciodvfy(os.path.join(DIR, "report-pdf.dcm"))
pdf = open(os.path.join(DIR, "report.pdf"), "rb").read()
check(doc.SOPClassUID == PDF and doc.Modality == "DOC", "encapsulated PDF class")
check(doc.EncapsulatedDocument[:doc.EncapsulatedDocumentLength] == pdf
      and doc.EncapsulatedDocumentLength == len(pdf), "the encapsulated PDF is report.pdf")
check(doc.StudyInstanceUID == pydicom.dcmread(slices[0]["path"]).StudyInstanceUID, "PDF study")

finish()
