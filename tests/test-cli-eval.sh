#!/bin/sh
# vigil-cli synth, calibrate and eval on phantom data with the tiny random
# model: the layout and its determinism, eval's AUROC and AP against
# scikit-learn's on eval's own CSV (1e-9), both modes, a calibration file
# refused for other weights, CPU and Vulkan (lavapipe) giving equal scores.
set -u
cli=$1
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
check() { # description, then a command that must succeed
  n=$((n + 1)); desc=$1; shift
  if "$@" >"$tmp/out" 2>&1; then echo "ok $n - $desc"; else
    echo "not ok $n - $desc"; sed 's/^/# /' "$tmp/out"; failed=1; fi
}
echo "TAP version 13"
echo "1..12"
"$cli" model random --preset tiny --seed 5 --out "$tmp/m" >/dev/null
"$cli" model random --preset tiny --seed 6 --out "$tmp/other" >/dev/null
model="--clip $tmp/m/clip.safetensors --adapters $tmp/m/adapters.safetensors --class Brain"
other="--clip $tmp/other/clip.safetensors --adapters $tmp/other/adapters.safetensors --class Brain"

check "synth writes MVFA's layout with masks under the same names" sh -c "
  '$cli' synth --out '$tmp/d' --seed 3 --count 4 &&
  for s in valid test; do for l in good Ungood; do
    test \$(ls '$tmp/d/'\$s/\$l/img | wc -l) -eq 4 || exit 1; done
    test \"\$(ls '$tmp/d/'\$s/Ungood/img)\" = \"\$(ls '$tmp/d/'\$s/Ungood/anomaly_mask)\" || exit 1
  done"
check "synth masks mark the lesion (nonzero) and nothing in good images" $py -c "
from PIL import Image; import numpy as np, glob
m = [np.array(Image.open(f)) for f in glob.glob('$tmp/d/test/Ungood/anomaly_mask/*.png')]
assert m and all(0 < (x > 0).sum() < x.size / 10 for x in m)"
check "synth is deterministic by seed" sh -c "
  '$cli' synth --out '$tmp/d2' --seed 3 --count 4 && diff -r '$tmp/d' '$tmp/d2' &&
  '$cli' synth --out '$tmp/d3' --seed 4 --count 4 && ! diff -rq '$tmp/d' '$tmp/d3'"
check "each texture writes slices" sh -c "
  '$cli' synth --out '$tmp/liver' --texture liver --count 1 &&
  '$cli' synth --out '$tmp/retina' --texture retina --count 1 &&
  ! '$cli' synth --out '$tmp/x' --texture bone 2>/dev/null"

# Eval's image AUROC and AP against scikit-learn on its own CSV.
sklearn_check="
import csv, json, sys
from sklearn.metrics import roc_auc_score, average_precision_score
res = json.load(open(sys.argv[1])); rows = list(csv.DictReader(open(sys.argv[2])))
y = [int(r['label']) for r in rows]
assert len(rows) == res['images'] and sum(y) and len(y) - sum(y), rows
for proto, col in (('paper', 'paper_image_score'), ('single', 'single_score')):
    s = [float(r[col]) for r in rows]
    for key, f in (('image_auroc', roc_auc_score), ('image_ap', average_precision_score)):
        want, got = f(y, s), res[proto][key]
        assert abs(want - got) < 1e-9, (proto, key, got, want)
print('ok')"
check "zero-shot eval: AUROC and AP equal scikit-learn's on eval's CSV" sh -c "
  '$cli' eval $model --data '$tmp/d' --backend cpu --json --csv '$tmp/zero.csv' >'$tmp/zero.json' &&
  $py -c \"$sklearn_check\" '$tmp/zero.json' '$tmp/zero.csv' &&
  $py -c \"import json; d = json.load(open('$tmp/zero.json')); assert d['segmentation'] and d['mode'] == 'zero-shot' and 0 <= d['paper']['pixel_aupro'] <= 1 and 0 <= d['paper']['pixel_auroc'] <= 1, d\""
check "few-shot eval: AUROC and AP equal scikit-learn's on eval's CSV" sh -c "
  '$cli' eval $model --data '$tmp/d' --shots 2 --seed 7 --backend cpu --json --csv '$tmp/few.csv' >'$tmp/few.json' &&
  $py -c \"$sklearn_check\" '$tmp/few.json' '$tmp/few.csv' &&
  $py -c \"import json; d = json.load(open('$tmp/few.json')); assert d['mode'] == 'few-shot' and d['shots'] == 2, d\""
check "eval shows progress on stderr and both protocols side by side" sh -c "
  '$cli' eval $model --data '$tmp/d' --backend cpu 2>'$tmp/err' >'$tmp/table' &&
  grep -q 'test 8/8' '$tmp/err' && grep -q 'paper *single' '$tmp/table' && grep -q 'image AUROC' '$tmp/table'"
check "calibrate writes a calibration tied to both weights' SHA-256" sh -c "
  '$cli' calibrate $model --data '$tmp/d' --out '$tmp/cal.json' &&
  $py -c \"import json, hashlib; c = json.load(open('$tmp/cal.json'));
h = lambda p: hashlib.sha256(open(p, 'rb').read()).hexdigest()
assert c['format'] == 'vigil-calibration' and c['source'] == 'labelled' and c['mode'] == 'zero-shot'
assert c['clip_sha256'] == h('$tmp/m/clip.safetensors') and c['adapters_sha256'] == h('$tmp/m/adapters.safetensors')
assert c['normal'] == 4 and c['abnormal'] == 4 and c['min'] <= c['threshold'] <= c['max'], c
assert c['map_min'] <= c['map_threshold'] <= c['map_max'] and c['map_percentile'] == 0, c\""
check "eval --calibration uses the file (same numbers as fitting on valid/)" sh -c "
  '$cli' eval $model --data '$tmp/d' --protocol single --calibration '$tmp/cal.json' --backend cpu --csv '$tmp/s.csv' >/dev/null &&
  cut -d, -f7 '$tmp/s.csv' >'$tmp/a' && cut -d, -f7 '$tmp/zero.csv' >'$tmp/b' && cmp '$tmp/a' '$tmp/b'"
check "a calibration for other weights is refused, with a message" sh -c "
  ! '$cli' eval $other --data '$tmp/d' --protocol single --calibration '$tmp/cal.json' 2>'$tmp/err' &&
  grep -q 'made for other weights' '$tmp/err'"
check "bad usage (2) and a missing folder (1)" sh -c "
  '$cli' eval $model --data '$tmp/d' --protocol bogus 2>/dev/null; test \$? -eq 2 &&
  '$cli' eval $model --data '$tmp/none' 2>/dev/null; test \$? -eq 1"
check "eval on Vulkan (lavapipe) gives the CPU's scores" sh -c "
  '$cli' eval $model --data '$tmp/d' --backend vulkan --protocol paper --csv '$tmp/vk.csv' >/dev/null &&
  $py -c \"import csv
a = list(csv.DictReader(open('$tmp/zero.csv'))); b = list(csv.DictReader(open('$tmp/vk.csv')))
assert len(a) == len(b)
for x, y in zip(a, b):
    assert abs(float(x['zero_score']) - float(y['zero_score'])) < 1e-4, (x, y)\""
exit $failed
