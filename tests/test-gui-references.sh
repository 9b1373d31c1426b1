#!/bin/sh
# Few-shot references through the UI under Xvfb: a session restores two
# references, files dropped on the strip (win.add-reference-files, what the
# drop target calls) add the good one and name each bad one, a sidebar series
# (win.add-reference-series) adds the shown slice, removing a reference while
# an analysis runs answers at once, and closing the window mid-analysis keeps
# the session. VIGIL_TEST_ANALYSIS_DELAY_MS makes each analysis hold the bank
# for 2 s more, so "answers at once" is measurable.
# Usage (inside gui-session.sh): VIGIL CLI SHOT LOG_DIR
set -u
. "$(dirname "$0")/gui-lib.sh"
vigil=$1 cli=$2 shot=$3 logdir=$4
mkdir -p "$logdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache" G_MESSAGES_DEBUG=Vigil VIGIL_TEST_ANALYSIS_DELAY_MS=2000
log="$logdir/references-vigil.log"
autosaved="$XDG_STATE_HOME/vigil/autosave.vigil"
echo "TAP version 13"
echo "1..14"
"$cli" model random --preset tiny --seed 3 --out "$work/m" >/dev/null || exit 1
vol="$work/vol.nii"
/usr/bin/python3 - "$work" <<'PY' || exit 1
import json, os, struct, sys
import numpy as np
from PIL import Image
work = sys.argv[1]
nx, ny, nz = 48, 40, 3
z, y, x = np.mgrid[0:nz, 0:ny, 0:nx]
vol = (100 + 80 * np.sin(x / 5.0) * np.cos(y / 7.0) + 10 * z).astype(np.int16)
h = bytearray(348)
struct.pack_into("<i", h, 0, 348)
struct.pack_into("<8h", h, 40, 3, nx, ny, nz, 1, 1, 1, 1)
struct.pack_into("<hh", h, 70, 4, 16)
struct.pack_into("<8f", h, 76, 1, 1, 1, 1, 1, 1, 1, 1)
struct.pack_into("<f", h, 108, 352)
struct.pack_into("<f", h, 112, 1)
struct.pack_into("<h", h, 254, 1)
for row, v in zip((280, 296, 312), ((1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0))):
    struct.pack_into("<4f", h, row, *v)
h[344:348] = b"n+1\0"
vol_path = os.path.join(work, "vol.nii")
open(vol_path, "wb").write(bytes(h) + b"\0" * 4 + vol.tobytes(order="C"))
Image.fromarray((np.indices((64, 64)).sum(0) * 2).astype(np.uint8)).save(os.path.join(work, "normal.png"))
open(os.path.join(work, "junk.dcm"), "wb").write(np.random.default_rng(1).bytes(4096))
open(os.path.join(work, "empty.png"), "wb").close()
open(os.path.join(work, "notes.txt"), "w").write("not an image\n")
ref = lambda s: {"path": vol_path, "series": vol_path, "slice": s}
json.dump({"format": "vigil-session", "version": 1, "open": [vol_path],
           "references": [ref(0), ref(1)], "domain": None, "custom_class": "brain",
           "mode": "few-shot", "view": {"series": vol_path, "slice": 2, "zoom": 1,
                                        "pan_x": 0, "pan_y": 0}},
          open(os.path.join(work, "study.vigil"), "w"))
PY

# refs_are N [PY-CONDITION]: the autosave lists N references (and the condition
# holds on `r`, its reference list), within 60 s.
refs_are() {
  for i in $(seq 120); do
    /usr/bin/python3 -c "
import json, os, sys
r = json.load(open(sys.argv[1]))['references']
b = [(os.path.basename(x['path']), x['slice']) for x in r]
assert len(r) == int(sys.argv[2]) and (${2:-True})
" "$autosaved" "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}
# enabled ACTION: whether a window action is enabled now (over D-Bus).
enabled() {
  gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil/window/1 \
    --method org.gtk.Actions.Describe "$1" | grep -q '^((true,'
}

"$vigil" "$work/study.vigil" >"$log" 2>&1 &
pid=$!
"$shot" Vigil "$logdir/references-opened.png" 60 16 >/dev/null
call load-model "[<('$work/m/clip.safetensors', '$work/m/adapters.safetensors')>]" "{}"
if refs_are 2 "b == [('vol.nii', 0), ('vol.nii', 1)]"; then
  echo "ok 1 - the session's two references were recomputed once the model loaded"
else
  echo "not ok 1 - session references"; tail -20 "$log"
fi

# Drop four files on the strip: one good PNG and three bad ones.
call add-reference-files "[<['$work/junk.dcm', '$work/normal.png', '$work/empty.png', '$work/notes.txt']>]" "{}"
if refs_are 3 "b[2] == ('normal.png', 0)"; then
  echo "ok 2 - the dropped PNG became the third reference"
else
  echo "not ok 2 - dropped PNG"; tail -20 "$log"
fi
sleep 1
# One toast for the batch names every bad file and the first one's reason.
if grep -qE "toast: 3 files were not added as references: junk\.dcm, empty\.png, notes\.txt \(junk\.dcm: .+\)" "$log" &&
   grep -q "toast: Added normal.png as a normal reference" "$log" && refs_are 3; then
  echo "ok 3 - one message names the three bad files and why; nothing else was added"
else
  echo "not ok 3 - messages for the dropped files"; grep toast "$log"
fi
"$shot" Vigil "$logdir/references-dropped.png" 30 16 >/dev/null

# A series dragged from the sidebar gives its shown slice (2, from the session).
call add-reference-series "[<('$vol', -1)>]" "{}"
if refs_are 4 "r[3]['slice'] == 2 and r[3]['series'] == '$vol'"; then
  echo "ok 4 - the sidebar series added its shown slice"
else
  echo "not ok 4 - series reference"; tail -5 "$log"
fi

# Remove a reference while an analysis holds the bank (>= 2 s): the call returns at once.
call analyse-slice "[]" "{}"
sleep 0.3
enabled cancel-analysis && running_before=yes || running_before=no
start=$(date +%s%N)
call remove-reference "[<uint64 1>]" "{}"
ms=$((($(date +%s%N) - start) / 1000000))
enabled cancel-analysis && running_after=yes || running_after=no
"$shot" Vigil "$logdir/references-removed-running.png" 30 16 >/dev/null
if [ $running_before = yes ] && [ $running_after = yes ] && [ $ms -lt 1000 ]; then
  echo "ok 5 - removing a reference during an analysis answered in $ms ms, the analysis still running"
else
  echo "not ok 5 - remove took $ms ms (analysis running before: $running_before, after: $running_after)"
fi
if refs_are 3 "b == [('vol.nii', 1), ('normal.png', 0), ('vol.nii', 2)]"; then
  echo "ok 6 - the removed reference is gone from the session at once"
else
  echo "not ok 6 - session after removal"; cat "$autosaved"
fi
alive

# A series run, with a removal in the middle: it restarts with the new bank and finishes.
# (The first analysis also encodes the prompts, which takes a while on lavapipe.)
for i in $(seq 180); do enabled analyse-series && break; sleep 0.5; done
call analyse-series "[]" "{}" || echo "# analyse-series was refused"
# Slices go in batches, so the run may be one job: remove while it runs.
sleep 0.5
enabled cancel-analysis || echo "# the series run already ended"
call remove-reference "[<uint64 2>]" "{}"
done_series=no
for i in $(seq 120); do
  grep -q "toast: The whole series is analysed" "$log" && { done_series=yes; break; }
  sleep 0.5
done
alive
"$shot" Vigil "$logdir/references-series-done.png" 30 16 >/dev/null
stale=$(grep -c "stale result of slice" "$log")
# Slices are analysed in batches, so how many results a removal makes stale
# depends on timing; at least the batch in flight is.
if [ $done_series = yes ] && [ "$stale" -ge 1 ] && refs_are 2; then
  echo "ok 7 - the series run finished after a removal mid-run ($stale results of the old bank discarded); two references remain"
else
  echo "not ok 7 - series run after removal (finished: $done_series, stale: $stale)"; tail -20 "$log"
fi
if ! grep -qi "critical\|warning" "$log"; then
  echo "ok 8 - no warnings or criticals in the log"
else
  echo "not ok 8 - the log has warnings"; grep -i "critical\|warning" "$log"
fi

# Adding a reference while the shown slice has a map: the map is recomputed with the new bank.
has_score() {
  rm -f "$work/view.png"
  call export-view "[<'$work/view.png'>]" "{}" || return 1
  # The export runs on a worker and renames into place: wait for the file.
  for _ in $(seq 100); do [ -s "$work/view.png" ] && break; sleep 0.1; done
  /usr/bin/python3 -c "
import sys
from PIL import Image
assert 'vigil.zero_det_score' in Image.open(sys.argv[1]).text
" "$work/view.png" 2>/dev/null
}
before=no
for i in $(seq 40); do has_score && { before=yes; break; }; sleep 0.5; done
call add-reference-series "[<('$vol', 0)>]" "{}"
refs_are 3 "b[2] == ('vol.nii', 0)" && added=yes || added=no
after=no
for i in $(seq 40); do has_score && { after=yes; break; }; sleep 0.5; done
"$shot" Vigil "$logdir/references-recomputed.png" 30 16 >/dev/null
if [ $before = yes ] && [ $added = yes ] && [ $after = yes ]; then
  echo "ok 9 - after adding a reference the shown slice's map was recomputed"
else
  echo "not ok 9 - map before: $before, added: $added, map after: $after"; tail -5 "$log"
fi

# The same slice again is refused, by name.
call add-reference-files "[<['$work/normal.png']>]" "{}"
if toast_within 20 "normal\.png was not added as a reference: it is already a reference" && refs_are 3; then
  echo "ok 10 - adding the same file again is refused with a message"
else
  echo "not ok 10 - duplicate reference"; grep toast "$log" | tail -3
fi

# Close the window while an analysis runs: no crash, the session is kept.
call analyse-slice "[]" "{}"
sleep 0.5
enabled cancel-analysis && echo "# an analysis is running as the window closes"
quit_and_check $pid 11 || tail -20 "$log"
if refs_are 3 "b == [('normal.png', 0), ('vol.nii', 2), ('vol.nii', 0)]"; then
  echo "ok 12 - the autosave kept the open scan and the three references"
else
  echo "not ok 12 - autosave after closing"; cat "$autosaved"
fi

# Reopen: restore the autosave; the study and both references (one a dropped file) come back.
"$vigil" >"$logdir/references-reopen.log" 2>&1 &
pid=$!
"$shot" Vigil "$logdir/references-reopened.png" 60 16 >/dev/null
cp "$autosaved" "$work/before.vigil"
call restore-autosave "[]" "{}"
sleep 0.5
rm -f "$autosaved"
call load-model "[<('$work/m/clip.safetensors', '$work/m/adapters.safetensors')>]" "{}"
if refs_are 3 && /usr/bin/python3 -c "
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
key = lambda s: sorted((x['path'], x['series'], x['slice']) for x in s['references'])
assert key(a) == key(b) and a['open'] == b['open'] and b['view']['series'], (a, b)
" "$work/before.vigil" "$autosaved"; then
  echo "ok 13 - reopening restored the study and the references"
else
  echo "not ok 13 - restore after closing"; tail -20 "$logdir/references-reopen.log"
fi
"$shot" Vigil "$logdir/references-restored.png" 30 16 >/dev/null
quit_and_check $pid 14
