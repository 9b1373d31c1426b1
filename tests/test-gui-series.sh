#!/bin/sh
# Analyse Series under Xvfb: a small generated NIfTI volume, its 5 slices
# analysed in one batched job (one forward); the shown (middle) slice gets its
# overlay from the series run; the series profile appears under the slider
# and a click on it goes to that slice; the app stays responsive and quits
# cleanly. Usage (inside gui-session.sh): VIGIL CLI SHOT LOG_DIR POINTER
set -u
. "$(dirname "$0")/gui-lib.sh"
vigil=$1 cli=$2 shot=$3 logdir=$4 pointer=$5
mkdir -p "$logdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
echo "TAP version 13"
echo "1..4"
"$cli" model random --preset tiny --seed 2 --out "$work/m" >/dev/null || exit 1
/usr/bin/python3 - "$work/vol.nii" <<'PY'
import struct, sys
import numpy as np
nx, ny, nz = 48, 40, 5
z, y, x = np.mgrid[0:nz, 0:ny, 0:nx]
vol = (100 + 80 * np.sin(x / 5.0) * np.cos(y / 7.0) + 10 * z).astype(np.int16)
h = bytearray(348)
struct.pack_into("<i", h, 0, 348)
struct.pack_into("<8h", h, 40, 3, nx, ny, nz, 1, 1, 1, 1)
struct.pack_into("<hh", h, 70, 4, 16)  # datatype int16, bitpix
struct.pack_into("<8f", h, 76, 1, 1, 1, 1, 1, 1, 1, 1)
struct.pack_into("<f", h, 108, 352)  # vox_offset
struct.pack_into("<f", h, 112, 1)  # scl_slope
struct.pack_into("<h", h, 254, 1)  # sform_code
for row, v in zip((280, 296, 312), ((1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0))):
    struct.pack_into("<4f", h, row, *v)
h[344:348] = b"n+1\0"
open(sys.argv[1], "wb").write(bytes(h) + b"\0" * 4 + vol.tobytes(order="C"))
PY
start_vigil "$logdir/series-vigil.log" series-opened "$work/vol.nii"
sleep 1
call load-model "[<('$work/m/clip.safetensors', '$work/m/adapters.safetensors')>]" "{}"
coloured=$(wait_for_map analyse-series "$logdir/series-result.png" "$logdir/series-vigil.log" 40)
if awk "BEGIN { exit !($coloured > 0.2) }"; then
  echo "ok 1 - Analyse Series reached the shown slice and drew its map (coloured $coloured)"
else
  echo "not ok 1 - no map from Analyse Series (coloured $coloured)"; cat "$logdir/series-vigil.log"
fi
if kill -0 $pid 2>/dev/null; then echo "ok 2 - the app is alive"; else echo "not ok 2 - the app died"; exit 1; fi

# shown_slice: the view's slice, from a saved session.
shown_slice() {
  rm -f "$work/s.vigil"
  call save-session "[<'$work/s.vigil'>]" "{}"
  for i in $(seq 20); do [ -s "$work/s.vigil" ] && break; sleep 0.2; done
  /usr/bin/python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['view']['slice'])" \
    "$work/s.vigil"
}
# The profile shows once two slices have results; its ends are the first and last slice.
set -- 0 0 0 0
for i in $(seq 60); do
  set -- $(part_box series-profile "$logdir/series-vigil.log")
  [ "${4:-0}" -gt 0 ] && break
  sleep 1
done
px=$1 py=$2 pw=$3 ph=$4
"$shot" Vigil "$logdir/series-profile.png" 30 16 >/dev/null
first=x last=x
if [ "$ph" -gt 0 ]; then
  "$pointer" Vigil $((px + pw / 10)) $((py + ph / 2)) 1 && sleep 1 && first=$(shown_slice)
  "$pointer" Vigil $((px + pw * 9 / 10)) $((py + ph / 2)) 1 && sleep 1 && last=$(shown_slice)
fi
if [ "$first" = 0 ] && [ "$last" = 4 ]; then
  echo "ok 3 - the series profile is drawn and a click on it goes to that slice"
else
  echo "not ok 3 - profile $px $py $pw $ph; clicks gave slices $first and $last"
fi
quit_and_check $pid 4
