#!/bin/sh
# vigil-cli report on a random tiny model: a DICOM series and a PNG analysed
# through the analysis session, written as PDF, JSON and PNG. The facts must
# be in each (pdftotext, pdfimages, PIL), the numbers equal vigil-cli
# detect's, anonymised outputs hold no identity, top-k picks the highest
# scores, and bad input fails clearly without leaving files.
set -eu
cli=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
fail() {
  echo "not ok - $*"
  exit 1
}
"$cli" model random --preset tiny --seed 11 --out "$work/m" >/dev/null
/usr/bin/python3 "$src/tests/dicom-series.py" "$work/ct" --series 1 --slices 5 --size 80
/usr/bin/python3 - "$work" <<'PY'
import sys
import numpy as np
from PIL import Image
r = np.random.default_rng(5)
y, x = np.mgrid[0:90, 0:100]
Image.fromarray((120 + 60 * np.sin(x / 9.0) + r.normal(0, 8, x.shape)).clip(0, 255).astype(np.uint8)).save(sys.argv[1] + "/query.png")
Image.fromarray(r.integers(0, 256, (64, 72, 3), dtype=np.uint8)).save(sys.argv[1] + "/ref.png")
PY
m="--clip $work/m/clip.safetensors --adapters $work/m/adapters.safetensors --backend cpu"
note="Hyperdense Läsion near the left ventricle, Ø 4 mm"

# --- a DICOM slice, few-shot, with a note ---
mkdir "$work/out"
# shellcheck disable=SC2086
"$cli" report $m --class "Brain" --ref "$work/ref.png" --slice 2 --note "$note" \
  --pdf "$work/out/r.pdf" --json "$work/out/r.json" --png "$work/out/r.png" "$work/ct" \
  >"$work/paths.txt" 2>"$work/log" || { cat "$work/log"; fail "report"; }
grep -qx "$work/out/r.pdf" "$work/paths.txt" || fail "the PDF's path is printed"
pdftotext "$work/out/r.pdf" "$work/r.txt"
for want in "Class: Brain" "Vigil is a research tool; its results are not a diagnosis." \
  "uncalibrated score" "$note" "Patient: Series^Test0" "Patient ID: VS000" \
  "random model, results meaningless" "Mode: few-shot" "ref.png" "clip.safetensors" \
  "Vigil version: 0.1.0" "Slice 3 of 5"; do
  grep -qF "$want" "$work/r.txt" || fail "the PDF says '$want'"
done
# Slice images at the slice's own size (80 x 80: overlay and plain), the
# reference thumbnail at its own (72 x 64).
pdfimages -list "$work/out/r.pdf" >"$work/images.txt"
[ "$(awk '$3 == "image" && $4 == 80 && $5 == 80' "$work/images.txt" | wc -l)" -eq 2 ] ||
  { cat "$work/images.txt"; fail "two 80x80 slice images in the PDF"; }
awk '$3 == "image" && $4 == 72 && $5 == 64' "$work/images.txt" | grep -q . ||
  fail "the reference thumbnail at 72x64"
# As pixels (pdftoppm at 72 dpi: a pixel a point): the overlay (left of the
# slice page) is coloured by the map, the slice without it (right) is gray.
pdftoppm -f 2 -l 2 -r 72 -png "$work/out/r.pdf" "$work/page"
/usr/bin/python3 - "$work"/page*.png <<'PY' || fail "the overlay's colours on page 2"
import sys
import numpy as np
from PIL import Image
px = np.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(int)
chroma = px.max(axis=2) - px.min(axis=2)
left, right = chroma[80:260, 60:250], chroma[80:260, 300:490]  # inside each 225 pt image
assert (left > 40).mean() > 0.9, (left > 40).mean()
assert right.max() < 3 and px[80:260, 300:490].max() > 200, right.max()
PY
# The same slice and model through detect: the same numbers, and the PDF
# prints the JSON's score with the same digits.
slice_file=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['slices'][0]['path'])" "$work/out/r.json")
# shellcheck disable=SC2086
"$cli" detect $m --class "Brain" --ref "$work/ref.png" "$slice_file" >"$work/detect.json" 2>/dev/null
/usr/bin/python3 - "$work/out/r.json" "$work/detect.json" "$work/r.txt" "$note" <<'PY' || fail "JSON"
import json, sys
r, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["results"][0]
text, note = open(sys.argv[3]).read(), sys.argv[4]
s = r["slices"][0]
assert s["slice"] == 2 and s["width"] == 80 and s["height"] == 80, s
for k in ("zero_det_score", "few_det_score"):
    assert s[k] == d[k], (k, s[k], d[k])
assert s["score"] == d["few_det_score"] and s["mode"] == "few-shot", s
assert "Image score (few-shot): %.6f" % s["score"] in text, s["score"]
assert "Zero-shot score: %.6f" % s["zero_det_score"] in text
assert r["class"] == "Brain" and r["note"] == note and r["calibration"] == "uncalibrated"
assert r["random_model"] and r["identification"]["patient_name"] == "Series^Test0", r
assert [w["file"] for w in r["weights"]] == ["clip.safetensors", "adapters.safetensors"], r["weights"]
assert all(len(w["sha256"]) == 64 for w in r["weights"])
assert r["device"].startswith("CPU") and r["precision"] == "f32 matmul weights", r
assert r["vigil_version"] == "0.1.0" and r["references"][0]["label"] == "ref.png", r
assert s["model_window"] == {"center": 40, "width": 400}, s["model_window"]
assert len(s["layers"]) == 2 and s["layers"][0]["zero_seg_map"]["max"] >= s["layers"][0]["zero_seg_map"]["min"]
assert not s["stale"] and s["references"] == [r["references"][0]["id"]], s
PY
/usr/bin/python3 - "$work/out/r.png" "$work/out/r.json" "$note" <<'PY' || fail "PNG text chunks"
import json, sys
from PIL import Image
im, r, note = Image.open(sys.argv[1]), json.load(open(sys.argv[2])), sys.argv[3]
t, s = im.text, r["slices"][0]
assert t["vigil.class"] == "Brain" and t["vigil.mode"] == "few-shot", t
assert t["vigil.zero_det_score"] == "%.6f" % s["zero_det_score"], t
assert t["vigil.few_det_score"] == "%.6f" % s["few_det_score"], t
assert t["vigil.note"] == note and t["vigil.calibration"] == "uncalibrated", t
assert t["vigil.patient_name"] == "Series^Test0" and t["vigil.slice"] == "2", t
assert t["vigil.warning"] == "random model, results meaningless", t
assert "not a diagnosis" in t["vigil.notice"] and "sha256" in t["vigil.model"], t
assert im.size[0] >= 512, im.size  # the annotated view, legend included
PY

# --- anonymised: no identity in any output, byte-searched ---
mkdir "$work/anon"
# shellcheck disable=SC2086
"$cli" report $m --class "Brain" --ref "$work/ref.png" --slice 1 --anonymise --paper letter \
  --pdf "$work/anon/r.pdf" --json "$work/anon/r.json" --png "$work/anon/r.png" "$work/ct" \
  >/dev/null 2>&1 || fail "anonymised report"
pdftotext "$work/anon/r.pdf" "$work/anon/r.txt"
grep -q "anonymised" "$work/anon/r.txt" || fail "the PDF says anonymised"
for f in "$work/anon/r.pdf" "$work/anon/r.txt" "$work/anon/r.json" "$work/anon/r.png"; do
  for secret in "Series^Test0" "Series" "VS000" "20240102" "slice001.dcm"; do
    if grep -qaF "$secret" "$f"; then fail "$f holds '$secret'"; fi
  done
done
/usr/bin/python3 -c "
import json, sys
from PIL import Image
r = json.load(open(sys.argv[1]))
assert r['anonymised'] and r['identification'] == 'anonymised', r['identification']
assert Image.open(sys.argv[2]).text['vigil.identification'] == 'anonymised'
" "$work/anon/r.json" "$work/anon/r.png" || fail "anonymised JSON/PNG"
pdfinfo "$work/anon/r.pdf" | grep -q "612 x 792 pts" || fail "letter paper"
pdfinfo "$work/out/r.pdf" | grep -q "595.2.* x 841.8.* pts" || fail "A4 paper"

# --- top-k: the k highest-scoring slices, by detect's scores ---
# shellcheck disable=SC2086
"$cli" report $m --class "Brain" --ref "$work/ref.png" --top 2 --json "$work/top.json" \
  --pdf "$work/top.pdf" "$work/ct" >/dev/null 2>&1 || fail "top-k report"
# shellcheck disable=SC2086
"$cli" detect $m --class "Brain" --ref "$work/ref.png" "$work"/ct/study0/series0/slice00*.dcm \
  >"$work/all.json" 2>/dev/null
/usr/bin/python3 - "$work/top.json" "$work/all.json" <<'PY' || fail "top-k"
import json, os, sys
top, every = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["results"]
scores = {os.path.basename(e["image"]): e["few_det_score"] for e in every}
assert len(scores) == 5 and len(set(scores.values())) == 5, scores
best = sorted(scores, key=scores.get, reverse=True)[:2]
got = [os.path.basename(s["path"]) for s in top["slices"]]
assert got == best, (got, best, scores)
assert [s["few_det_score"] for s in top["slices"]] == [scores[b] for b in best]
PY
[ "$(pdfinfo "$work/top.pdf" | awk '/^Pages:/ {print $2}')" -eq 3 ] || fail "a page per slice"

# --- a PNG scan, zero-shot, --out DIR with the default names ---
mkdir "$work/png"
# shellcheck disable=SC2086
"$cli" report $m --class "Skin" --out "$work/png" "$work/query.png" >"$work/png/paths" 2>&1 ||
  fail "PNG report"
for f in report.pdf report.json report.png; do
  grep -qx "$work/png/$f" "$work/png/paths" || fail "--out writes $f"
done
cp "$work/png/report.json" "$work/png.json" && cp "$work/png/report.pdf" "$work/png.pdf"
# shellcheck disable=SC2086
"$cli" detect $m --class "Skin" "$work/query.png" >"$work/png-detect.json" 2>/dev/null
/usr/bin/python3 -c "
import json, sys
r, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))['results'][0]
s = r['slices'][0]
assert s['mode'] == 'zero-shot' and 'few_det_score' not in s, s
assert s['zero_det_score'] == d['zero_det_score'] and (s['width'], s['height']) == (100, 90), s
" "$work/png.json" "$work/png-detect.json" || fail "PNG scan JSON"
pdfimages -list "$work/png.pdf" | awk '$3 == "image" && $4 == 100 && $5 == 90' | grep -q . ||
  fail "the PNG slice at 100x90 in the PDF"
grep -qF "Mode: zero-shot" "$(pdftotext "$work/png.pdf" "$work/png.txt" && echo "$work/png.txt")" ||
  fail "zero-shot named"

# --- bad input: a clear message, exit 1, no file ---
expect_fail() { # what, pattern, then the command
  what=$1 pattern=$2
  shift 2
  rm -rf "$work/bad" && mkdir "$work/bad"
  if "$@" >"$work/bad.out" 2>"$work/bad.err"; then fail "$what: succeeded"; fi
  grep -q "$pattern" "$work/bad.err" || { cat "$work/bad.err"; fail "$what: message"; }
  [ -z "$(ls -A "$work/bad")" ] || fail "$what: left $(ls "$work/bad")"
}
# shellcheck disable=SC2086
expect_fail "missing folder" "cannot write .*/missing/r.json: the folder" \
  "$cli" report $m --class Brain --slice 0 --pdf "$work/bad/r.pdf" \
  --json "$work/bad/missing/r.json" "$work/ct"
touch "$work/file"
# shellcheck disable=SC2086
expect_fail "folder is a file" "not writable" \
  "$cli" report $m --class Brain --pdf "$work/bad/r.pdf" --png "$work/file/r.png" "$work/ct"
# shellcheck disable=SC2086
expect_fail "slice out of range" "slice 9: the series has 5 slices (from 0 to 4)" \
  "$cli" report $m --class Brain --slice 9 --pdf "$work/bad/r.pdf" "$work/ct"
# shellcheck disable=SC2086
expect_fail "no scan" "$work/nothing" \
  "$cli" report $m --class Brain --pdf "$work/bad/r.pdf" "$work/nothing"
# shellcheck disable=SC2086
expect_fail "bad paper" "expected a4 or letter" \
  "$cli" report $m --class Brain --paper legal --pdf "$work/bad/r.pdf" "$work/ct"
echo "ok - report"
