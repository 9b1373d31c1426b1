#!/bin/sh
# The app end to end under Xvfb: open a real CT slice (pydicom's CT_small) and
# a NIfTI brain, see the scan, load a random test model over D-Bus, analyse the
# slice, see the heatmap over it (checked on pixels), add a normal reference,
# quit cleanly. Usage (inside gui-session.sh): VIGIL CLI SHOT LOG_DIR
set -u
. "$(dirname "$0")/gui-lib.sh"
vigil=$1 cli=$2 shot=$3 logdir=$4
mkdir -p "$logdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
ct=/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm
echo "TAP version 13"
echo "1..12"
"$cli" model random --preset tiny --seed 1 --out "$work/m" >/dev/null || exit 1
# A labelled calibration beside the adapters for this class and mode: the app finds it.
"$cli" synth --out "$work/synth" --seed 1 >/dev/null &&
  "$cli" calibrate --clip "$work/m/clip.safetensors" --adapters "$work/m/adapters.safetensors" \
    --class Brain --data "$work/synth" --out "$work/m/adapters.Brain.zero-shot.calibration.json" \
    >/dev/null 2>&1 || exit 1
log="$logdir/analysis-vigil.log"
start_vigil "$log" analysis-start "$ct" /usr/share/mricron/templates/ch2.nii.gz
sleep 3
"$shot" Vigil "$logdir/analysis-opened.png" 60 16 >/dev/null
set -- $(view_pixels "$logdir/analysis-opened.png" "$log")
if awk "BEGIN { exit !($2 > 0.05 && $1 < 0.01) }"; then
  echo "ok 1 - the CT slice is shown, without overlay (lit $2, coloured $1)"
else
  echo "not ok 1 - no scan on screen (lit $2, coloured $1)"
fi

call window-preset "[<'lung'>]" "{}" && sleep 1
"$shot" Vigil "$logdir/analysis-lung.png" 30 16 >/dev/null
if /usr/bin/python3 - "$logdir/analysis-opened.png" "$logdir/analysis-lung.png" \
  $(view_box "$log") <<'PY'
import sys
import numpy as np
from PIL import Image
x0, y0, x1, y1 = map(int, sys.argv[3:7])
a, b = (np.array(Image.open(p).convert("L")).astype(float)[y0:y1, x0:x1] for p in sys.argv[1:3])
assert abs(a.mean() - b.mean()) > 5, (a.mean(), b.mean())
PY
then
  echo "ok 2 - the CT lung preset changes what is shown"
else
  echo "not ok 2 - the lung preset changed nothing"
fi
call window-preset "[<'default'>]" "{}"
if call load-model "[<('$work/m/clip.safetensors', '$work/m/adapters.safetensors')>]" "{}"; then
  echo "ok 3 - win.load-model accepted a random test model"
else
  echo "not ok 3 - win.load-model failed"
fi
# Ask again until the overlay shows (90 s at most).
set -- "$(wait_for_map analyse-slice "$logdir/analysis-result.png" "$log")"
if awk "BEGIN { exit !($1 > 0.2) }"; then
  echo "ok 4 - the heatmap covers the slice after analysis (coloured $1)"
else
  echo "not ok 4 - no heatmap after analysis (coloured $1)"; cat "$logdir/analysis-vigil.log"
fi
if kill -0 $pid 2>/dev/null; then
  echo "ok 5 - the app is still running after the analysis"
else
  echo "not ok 5 - the app died during the analysis"; cat "$logdir/analysis-vigil.log"; exit 1
fi
call export-view "[<'$logdir/analysis-export.png'>]" "{}" && sleep 1
if /usr/bin/python3 - "$logdir/analysis-export.png" "$work/m/adapters.Brain.zero-shot.calibration.json" <<'PY'
import json, sys
import numpy as np
from PIL import Image
im = Image.open(sys.argv[1])
raw = float(im.text["vigil.zero_det_score"])
assert raw > 0, im.text
# The calibrated score is anomalib's normalisation with the file's numbers.
c = json.load(open(sys.argv[2]))
want = min(1, max(0, (raw - c["threshold"]) / (c["max"] - c["min"]) + 0.5))
assert abs(float(im.text["vigil.calibrated_score"]) - want) < 1e-4, (im.text, want)
assert im.text["vigil.calibration"].startswith("zero-shot, labelled set (6 normal"), im.text
assert "RANDOM TEST MODEL" in im.text["vigil.model"], im.text
# The map is on the calibration's scale (its map part) and its region is measured in mm.
assert im.text["vigil.map_scale"] == "calibrated", im.text
region = im.text["vigil.region"]
assert region == "no region above threshold" or " mm², max " in region, region
a = np.array(im.convert("RGB")).astype(int)
assert (a.max(axis=2) - a.min(axis=2) > 40).mean() > 0.2  # the overlay is in the file (saturated)
PY
then
  echo "ok 6 - Export View wrote the PNG with overlay, scores, the calibrated score and model identity"
else
  echo "not ok 6 - export"
fi
call add-reference "[]" "{}" && sleep 3
"$shot" Vigil "$logdir/analysis-reference.png" 30 16 >/dev/null && echo "ok 7 - reference added, window alive" ||
  echo "not ok 7 - window gone after adding a reference"
# The first reference turns few-shot on and the slice's few-shot result
# appears with no further step (the export's text chunks carry its score).
few=no
for i in $(seq 30); do
  rm -f "$work/few.png"
  call export-view "[<'$work/few.png'>]" "{}"
  sleep 1
  if [ -f "$work/few.png" ] && /usr/bin/python3 -c "
import sys
from PIL import Image
t = Image.open(sys.argv[1]).text
assert t['vigil.mode'] == 'few-shot' and float(t['vigil.few_det_score']) >= 0, t
" "$work/few.png" 2>/dev/null; then few=yes; break; fi
done
if [ $few = yes ] && grep -q "toast: Few-shot on" "$log"; then
  echo "ok 8 - the first reference turns few-shot on and its result shows by itself"
else
  echo "not ok 8 - few-shot did not come on by itself"; grep toast "$log" | tail -3
fi

call save-session "[<'$work/study.vigil'>]" "{}" && sleep 1
if /usr/bin/python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert len(s['open']) == 2 and len(s['references']) == 1, s
assert s['references'][0]['slice'] == 0 and s['view']['series'], s
" "$work/study.vigil"; then
  echo "ok 9 - Save Session wrote what is open, the view and the reference"
else
  echo "not ok 9 - session file"; cat "$work/study.vigil"
fi

quit_and_check $pid 10 || cat "$logdir/analysis-vigil.log"

# Reopen the session: the scans, the view and (once the model is back) the reference.
autosaved="$XDG_STATE_HOME/vigil/autosave.vigil"
rm -f "$autosaved"
"$vigil" "$work/study.vigil" >"$logdir/session-vigil.log" 2>&1 &
pid=$!
"$shot" Vigil "$logdir/session-restored.png" 60 16 >/dev/null
sleep 2
call load-model "[<('$work/m/clip.safetensors', '$work/m/adapters.safetensors')>]" "{}"
restored=no
for i in $(seq 40); do
  sleep 2
  if [ -s "$autosaved" ] && /usr/bin/python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert len(s['references']) == 1 and len(s['open']) == 2 and s['view']['series']
" "$autosaved" 2>/dev/null; then restored=yes; break; fi
done
"$shot" Vigil "$logdir/session-restored.png" 30 16 >/dev/null
if [ $restored = yes ]; then
  echo "ok 11 - reopening the session restored the scans and recomputed the reference"
else
  echo "not ok 11 - session not restored"; cat "$logdir/session-vigil.log"
fi
quit_and_check $pid 12
