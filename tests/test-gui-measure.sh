#!/bin/sh
# Measurements and DICOM tags under Xvfb, on a CT made with pydicom (3 slices of 128 x 96,
# Pixel Spacing 0.5 \ 0.5 mm, HU through Rescale Slope/Intercept): a ruler of
# known pixel length through win.add-measurement reports the right mm; the
# ruler tool on a real pointer drag (XTEST) measures the dragged distance, and
# the freehand tool refuses a straight drag (no area); an
# ellipse reports HU statistics; a zero-length ruler is refused with a message;
# the heatmap region needs a map first; Delete-by-action removes one; the
# measurements survive saving the session and opening it again, and a click
# on one in the list goes to its slice; the Delete key removes the selected
# one from the list and from the slice view (real keys, XTEST); the tag
# browser finds PatientName by keyword; with a tiny random model's map, one
# action measures the heatmap region above threshold (area in mm², maximum).
# Usage (inside gui-session.sh): VIGIL CLI SHOT LOG_DIR POINTER KEY
set -u
. "$(dirname "$0")/gui-lib.sh"
vigil=$1 cli=$2 shot=$3 logdir=$4 pointer=$5 key=$6
mkdir -p "$logdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$logdir/measure-vigil.log"
echo "TAP version 13"
echo "1..17"
mkdir "$work/ct"
/usr/bin/python3 - "$work/ct" "$(dirname "$0")" <<'PY'
import sys
import numpy as np
from pydicom.uid import CTImageStorage, generate_uid
sys.path.insert(0, sys.argv[2])
from dicom_dataset import new_file_dataset
study, series = generate_uid(), generate_uid()
for k in range(3):  # three axial slices, 2 mm apart
    ds = new_file_dataset(CTImageStorage, f"{sys.argv[1]}/{k}.dcm")
    ds.Modality, ds.PatientName, ds.PatientID = "CT", "Ruler^Rita", "M18"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.InstanceNumber = study, series, k + 1
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 2 * k], [1, 0, 0, 0, 1, 0]
    ds.Rows, ds.Columns, ds.PixelSpacing = 96, 128, ["0.5", "0.5"]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = "1", "-1024"
    y, x = np.mgrid[0:96, 0:128]
    ds.PixelData = (1024 + 40 + (x + y) % 7).astype(np.int16).tobytes()  # 40..46 HU
    ds.save_as(f"{sys.argv[1]}/{k}.dcm", write_like_original=False)
PY
# logged PATTERN [SECONDS]: a line matching PATTERN (grep -E) is in the log within SECONDS.
logged() {
  for i in $(seq $((${2:-10} * 5))); do
    grep -qE "$1" "$log" && return 0
    sleep 0.2
  done
  return 1
}
tap() { if eval "$2"; then echo "ok $1 - $3"; else echo "not ok $1 - $3"; tail -5 "$log"; fi; }

start_vigil "$log" measure-opened "$work/ct"
logged "layout: " 1 || true
sleep 1
call add-measurement "[<('ruler', [10.0, 20.0, 110.0, 20.0])>]" "{}"
tap 1 'logged "measurement: slice 2: Ruler: 50.00 mm \(Pixel Spacing\)"' \
  "a ruler of 100 pixels at 0.5 mm reports 50.00 mm"

# The ruler tool on a real drag: 200 widget pixels from the view's centre.
set -- $(part_box slice-view "$log")
vx=$1 vy=$2 vw=$3 vh=$4
call measure-tool "[<'ruler'>]" "{}"
sleep 0.3
"$pointer" Vigil $((vx + vw / 2 - 100)) $((vy + vh / 2)) 1 200 0
expected=$(awk "BEGIN { s = $vw / 128; if ($vh / 96 < s) s = $vh / 96; printf \"%.2f\", 200 / s * 0.5 }")
logged "measurement: slice 2: Ruler: [0-9.]+ mm" 5
got=$(grep "Ruler:" "$log" | sed -n 2p | sed 's/.*Ruler: \([0-9.]*\) mm.*/\1/')
tap 2 "awk 'BEGIN { exit !(\"$got\" != \"\" && ($got - $expected) ^ 2 < ($expected * 0.03) ^ 2) }'" \
  "the ruler tool measures a 200-pixel drag as $got mm (expected $expected)"
# The freehand tool on a straight drag: an outline of no area, refused with a message.
call measure-tool "[<'freehand'>]" "{}"
sleep 0.3
"$pointer" Vigil $((vx + vw / 2 - 100)) $((vy + vh / 2 + 40)) 1 150 0
tap 3 'logged "toast: The region has zero area" 5' "a freehand outline of zero area is refused"
call measure-tool "[<'none'>]" "{}"

call add-measurement "[<('ellipse', [20.0, 20.0, 60.0, 50.0])>]" "{}"
tap 4 'logged "measurement: slice 2: Ellipse: [0-9.]+ mm², [0-9]+ pixels, mean 4[0-6]\.[0-9]+ HU, SD [0-9.]+, min 40, max 46"' \
  "an ellipse reports area and HU statistics"
sleep 0.5
"$shot" Vigil "$logdir/measure-drawn.png" 30 16 >/dev/null # the shapes and labels, for people
call add-measurement "[<('ruler', [30.0, 30.0, 30.0, 30.0])>]" "{}"
tap 5 'logged "toast: The ruler has zero length"' "a zero-length ruler is refused with a message"
call measure-region "[]" "{}"
tap 6 'logged "toast: Analyse this slice first"' "the heatmap region without a map says to analyse first"
call add-measurement "[<('freehand', [70.0, 10.0, 120.0, 10.0, 95.0, 60.0])>]" "{}"
logged "Freehand:" 5
call delete-measurement "[<uint32 4>]" "{}" # the freehand one (ids 1-3 before it)
tap 7 'logged "measurement: deleted 4"' "a measurement is deleted"

call save-session "[<'$work/s.vigil'>]" "{}"
logged "" 1
count() {
  /usr/bin/python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))['measurements']
print(len(m), ' '.join(f\"{x['kind']}:{x['length'] or x['area']:.4f}\" for x in m))" "$1"
}
for i in $(seq 20); do [ -s "$work/s.vigil" ] && break; sleep 0.2; done
before=$(count "$work/s.vigil")
quit_and_check $pid 8 >/dev/null || true
start_vigil "$logdir/measure-restored.log" measure-restored "$work/s.vigil"
log="$logdir/measure-restored.log"
sleep 2
call save-session "[<'$work/again.vigil'>]" "{}"
for i in $(seq 20); do [ -s "$work/again.vigil" ] && break; sleep 0.2; done
after=$(count "$work/again.vigil" 2>/dev/null)
tap 8 '[ "$before" = "$after" ] && [ "${before%% *}" = 3 ]' \
  "the 3 measurements survive saving and reopening the session ($after)"

# A wheel step shows slice 3; a click on the list's first row goes back to slice 2.
shown_slice() {
  rm -f "$work/v.vigil"
  call save-session "[<'$work/v.vigil'>]" "{}"
  for i in $(seq 20); do [ -s "$work/v.vigil" ] && break; sleep 0.2; done
  /usr/bin/python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['view']['slice'])" \
    "$work/v.vigil"
}
set -- $(part_box slice-view "$log")
"$pointer" Vigil $(($1 + $3 / 2)) $(($2 + $4 / 2)) 5
sleep 0.3
scrolled=$(shown_slice)
set -- $(part_box measurement-list "$log")
"$pointer" Vigil $(($1 + $3 / 2)) $(($2 + 44)) 1
sleep 0.3
back=$(shown_slice)
tap 9 '[ "$scrolled" = 2 ] && [ "$back" = 1 ]' \
  "a click on a listed measurement goes to its slice (slice index $scrolled, then $back)"
# Delete on the selected row (ids were given again on restoring: 1 to 3), then
# on the slice view with the next one selected.
"$key" Vigil Delete
tap 10 'logged "measurement: deleted 1" 5' "the Delete key removes the measurement selected in the list"
set -- $(part_box measurement-list "$log")
"$pointer" Vigil $(($1 + $3 / 2)) $(($2 + 44)) 1
set -- $(part_box slice-view "$log")
"$pointer" Vigil $(($1 + 20)) $(($2 + $4 - 20)) 1
"$key" Vigil Delete
tap 11 'logged "measurement: deleted 2" 5' "the Delete key on the slice view removes the selected one"
call find-tag "[<'PatientName'>]" "{}"
"$shot" "DICOM Tags" "$logdir/measure-tags.png" 30 16 >/dev/null || true # for people
tap 12 "logged \"tags: 'PatientName' matches 1 rows; first \\(0010,0010\\) PatientName = Ruler\\^Rita\"" \
  "the tag browser finds PatientName by keyword"
export XDG_CACHE_HOME="$work/cache"
"$cli" model random --preset tiny --seed 3 --out "$work/m" >/dev/null || exit 1
call load-model "[<('$work/m/clip.safetensors', '$work/m/adapters.safetensors')>]" "{}"
for i in $(seq 30); do
  grep -q "Heatmap region:" "$log" && break
  call analyse-slice "[]" "{}" 2>/dev/null || true
  sleep 1
  call measure-region "[]" "{}" 2>/dev/null || true
  sleep 1
done
tap 13 'logged "measurement: slice 2: Heatmap region: [0-9.]+ mm², [0-9]+ cells, max [0-9.]+ at \([0-9]+, [0-9]+\) \(Pixel Spacing\)" 1' \
  "one action measures the heatmap region above threshold"
"$shot" Vigil "$logdir/measure-region.png" 30 16 >/dev/null
quit_and_check $pid 14

# A PNG: no pixel spacing (the ruler is in pixels, said so) and no DICOM attributes.
/usr/bin/python3 -c "
import sys
import numpy as np
from PIL import Image
Image.fromarray((np.arange(64 * 48) % 251).reshape(48, 64).astype(np.uint8)).save(sys.argv[1])
" "$work/plain.png"
log="$logdir/measure-png.log"
start_vigil "$log" measure-png "$work/plain.png"
sleep 1
call add-measurement "[<('ruler', [1.0, 1.0, 4.0, 5.0])>]" "{}"
tap 15 'logged "measurement: slice 1: Ruler: 5.00 pixels \(no pixel spacing\)"' \
  "a ruler on a slice without spacing is in pixels, and says so"
call find-tag "[<'PatientName'>]" "{}"
tap 16 'logged "tags: plain.png is a PNG file, not DICOM"' "the tag browser explains a PNG has no tags"
quit_and_check $pid 17
