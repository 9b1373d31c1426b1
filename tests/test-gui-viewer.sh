#!/bin/sh
# The viewer's annotations under Xvfb, on generated DICOM of known orientation
# (tests/viewer-fixtures.py): the corner text names the patient, study and
# series (read from win.print-annotations, not from pixels) and goes when
# toggled; Export View is the same with and without it; the orientation letters
# of an axial series follow a turn and a flip; transforms, inversion and the
# corner toggle survive a session save and restore; a sagittal multi-frame file
# shows A/P/H/F, takes its Frame Time as the cine rate, and cine advances.
# Usage (inside gui-session.sh): VIGIL SHOT LOG_DIR
set -u
. "$(dirname "$0")/gui-lib.sh"
vigil=$1 shot=$2 logdir=$3
mkdir -p "$logdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "TAP version 13"
echo "1..9"
/usr/bin/python3 "$(dirname "$0")/viewer-fixtures.py" "$work" || exit 1

# annotations: the view's corner text and letters, as the app logs them to $log.
annotations() {
  n=$(grep -c "annotations: " "$log" 2>/dev/null)
  call print-annotations "[]" "{}" 2>/dev/null || true
  for i in $(seq 40); do
    [ "$(grep -c "annotations: " "$log" 2>/dev/null)" -gt "${n:-0}" ] && break
    sleep 0.1
  done
  grep "annotations: " "$log" | tail -1 | sed 's/.*annotations: //'
}
# check N TEXT PATTERN DESCRIPTION: TAP line N, ok when TEXT matches PATTERN (grep -E).
check() {
  if printf '%s\n' "$2" | grep -qE "$3"; then echo "ok $1 - $4"; else echo "not ok $1 - $4: $2"; fi
}
view_json() {
  /usr/bin/python3 -c "import json, sys; print(json.dumps(json.load(open(sys.argv[1]))['view'], sort_keys=True))" "$1"
}

log="$logdir/viewer-vigil.log"
start_vigil "$log" viewer-axial "$work/axial"
for i in $(seq 50); do annotations | grep -q "Slice" && break; sleep 0.2; done
a=$(annotations)
check 1 "$a" "top-left: DOE, JANE \| ID: P-0042 \| DOB: 1970-01-31  Sex: F; top-right: Vigil General \| CHEST \| 2024-01-02; bottom-left: Se: 3  Axial 5mm \| CT \| Slice 2 / 3 \| Loc: 15.00 mm \| Thick: 5.00 mm; bottom-right: W [0-9]+  L [0-9-]+ \| Zoom 100%" \
  "the corner text shows patient, study, series, slice, location, thickness, W/L and zoom"
check 2 "$a" "left: R; right: L; top: A; bottom: P$" "an axial slice has R, L, A, P at its edges"

call export-view "[<'$work/with.png'>]" "{}"
call corner-text "[]" "{}"
a=$(annotations)
if ! printf '%s' "$a" | grep -qE "DOE|top-left|Slice" && printf '%s' "$a" | grep -q "left: R; right: L"; then
  echo "ok 3 - the toggle hides the corner text and keeps the letters"
else
  echo "not ok 3 - after the toggle: $a"
fi
call export-view "[<'$work/without.png'>]" "{}"
sleep 1
same=$(/usr/bin/python3 -c "
import sys
import numpy as np
from PIL import Image
a, b = (np.asarray(Image.open(p).convert('RGB')) for p in sys.argv[1:3])
print('same' if a.shape == b.shape and (a == b).all() else 'different')" "$work/with.png" "$work/without.png" 2>&1)
check 4 "$same" "^same$" "Export View carries no corner text: the same pixels with it shown and hidden"

call rotate "[<1>]" "{}"
call flip "[<'horizontal'>]" "{}"
call invert "[]" "{}"
call flip "[<'diagonal'>]" "{}" # refused with a message, nothing changes
a=$(annotations)
if toast_within 5 "No flip 'diagonal'"; then told=" (a bad flip is refused)"; else told=" BUT no message for a bad flip"; a="$a; no toast"; fi
check 5 "$a" "left: A; right: P; top: R; bottom: L$" "turned clockwise and flipped, the letters follow (A, P, R, L)$told"
"$shot" Vigil "$logdir/viewer-turned.png" 30 16 >/dev/null
call save-session "[<'$work/s.vigil'>]" "{}"
for i in $(seq 20); do [ -s "$work/s.vigil" ] && break; sleep 0.2; done
v=$(view_json "$work/s.vigil" 2>&1)
check 6 "$v" '"corner_text": false, .*"transforms": \[\{"flip_h": true, "flip_v": false, "invert": true, "rotate": 270, "series": ' \
  "the session keeps the series' transform and the corner toggle"
quit_and_check $pid 7 >/dev/null || true

log="$logdir/viewer-restore.log"
start_vigil "$log" viewer-restored "$work/s.vigil"
a=""
for i in $(seq 50); do a=$(annotations); printf '%s' "$a" | grep -q "left: A" && break; sleep 0.2; done
if printf '%s' "$a" | grep -q "left: A; right: P; top: R; bottom: L$" && ! printf '%s' "$a" | grep -q "top-left"; then
  echo "ok 7 - a restored session shows the turn, the flip and no corner text"
else
  echo "not ok 7 - restored: $a"
fi
quit_and_check $pid 8 >/dev/null || true

log="$logdir/viewer-sagittal.log"
start_vigil "$log" viewer-sagittal "$work/sagittal.dcm"
for i in $(seq 50); do annotations | grep -q "Slice" && break; sleep 0.2; done
a=$(annotations)
call cine "[]" "{}"
sleep 0.5
seen=""
# Slices the view shows while playing, sampled at uneven gaps: even ones can
# alias with the loop's period (6 slices at 20 fps) and see two slices only.
for gap in 0.05 0.08 0.11 0.05 0.08 0.11 0.05 0.08 0.11 0.05; do
  seen="$seen $(annotations | sed -n 's/.*Slice \([0-9]*\) \/ 6.*/\1/p')"
  sleep $gap
done
call cine "[]" "{}"
stats=""
for i in $(seq 50); do # the stop's statistics line, logged once cine has stopped
  stats=$(grep "cine: " "$log" | tail -1)
  [ -n "$stats" ] && break
  sleep 0.1
done
distinct=$(printf '%s\n' $seen | sort -u | wc -l)
if printf '%s' "$a" | grep -q "left: A; right: P; top: H; bottom: F$" && [ "$distinct" -ge 3 ] &&
   printf '%s' "$stats" | grep -qE "cine: [1-9][0-9]* slices shown in .*asked 20.00"; then
  echo "ok 8 - a sagittal file shows A, P, H, F; cine advances (slices$seen) at its Frame Time's rate"
else
  echo "not ok 8 - letters: $a; slices while playing:$seen; cine: $stats"
fi
quit_and_check $pid 9
