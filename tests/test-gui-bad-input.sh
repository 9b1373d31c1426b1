#!/bin/sh
# Bad input through the UI under Xvfb: a folder of junk (random bytes named
# .dcm, an empty file, a text file) gives a clear message and leaves the
# window usable, then a real CT opens; weights that are cut off or random
# bytes give a clear message when loaded, the viewer keeps working, and a
# good model loads after them. Real pointer events (XTEST): a right drag
# changes window/level without a menu, a right click opens the context menu,
# and its first item adds the slice as a reference. Every step saves a screenshot.
# Usage (inside gui-session.sh): VIGIL CLI SHOT LOG_DIR POINTER
set -u
. "$(dirname "$0")/gui-lib.sh"
vigil=$1 cli=$2 shot=$3 logdir=$4 pointer=$5
mkdir -p "$logdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache" G_MESSAGES_DEBUG=Vigil
log="$logdir/bad-input-vigil.log"
autosaved="$XDG_STATE_HOME/vigil/autosave.vigil"
ct=/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm
echo "TAP version 13"
echo "1..12"
"$cli" model random --preset tiny --seed 4 --out "$work/m" >/dev/null || exit 1
mkdir "$work/junk"
head -c 5000 /dev/urandom >"$work/junk/scan.dcm"
: >"$work/junk/empty"
echo "patient notes, not an image" >"$work/junk/notes.txt"
size=$(stat -c %s "$work/m/clip.safetensors")
head -c $((size / 2)) "$work/m/clip.safetensors" >"$work/cut.safetensors"
head -c 100000 /dev/urandom >"$work/random.pth"

# lit PNG: the share of the slice view that is not black, and its mean.
lit() {
  /usr/bin/python3 -c "
import sys
import numpy as np
from PIL import Image
x0, y0, x1, y1 = map(int, sys.argv[2:6])
a = np.array(Image.open(sys.argv[1]).convert('RGB')).astype(int)[y0:y1, x0:x1]
print(f'{(a.sum(axis=2) > 60).mean():.4f} {a.mean():.2f}')
" "$1" $(view_box "$log")
}
opened() {
  gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil \
    --method org.gtk.Actions.Activate open "[<['$1']>]" "{}" >/dev/null
}

"$vigil" >"$log" 2>&1 &
pid=$!
"$shot" Vigil "$logdir/bad-input-start.png" 60 16 >/dev/null

# (a) A folder of junk.
opened "$work/junk"
if toast_within 20 "3 files could not be opened, e\.g\. (.*/)?empty: the file is empty" &&
   toast_within 5 "No scans found in what was opened"; then
  echo "ok 1 - the junk folder: a message says 3 files could not be opened, naming one and why"
else
  echo "not ok 1 - no clear message for the junk folder"; grep toast "$log"
fi
alive
"$shot" Vigil "$logdir/bad-input-junk.png" 30 16 >/dev/null
if gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil/window/1 \
     --method org.gtk.Actions.Describe analyse-slice >/dev/null && call analyse-slice "[]" "{}" &&
   toast_within 5 "Open a scan first"; then
  echo "ok 2 - the window still answers: analysing asks for a scan first"
else
  echo "not ok 2 - the window does not answer after the junk folder"
fi
opened "$ct"
sleep 3
"$shot" Vigil "$logdir/bad-input-ct.png" 30 16 >/dev/null
set -- $(lit "$logdir/bad-input-ct.png")
if awk "BEGIN { exit !($1 > 0.05) }"; then
  echo "ok 3 - a real CT opens after the junk folder (lit $1)"
else
  echo "not ok 3 - the CT is not shown after the junk folder (lit $1)"; grep toast "$log"
fi
mean_default=$2

# The slice view's pointer gestures, for real. menu_shown PNG: the context
# menu (a light popover) covers the area below-right of the click at (500, 380).
menu_shown() {
  /usr/bin/python3 -c "
import sys
import numpy as np
from PIL import Image
a = np.array(Image.open(sys.argv[1]).convert('L')).astype(int)[395:520, 510:810]
sys.exit(0 if (a > 235).mean() > 0.5 else 1)
" "$1"
}
"$pointer" Vigil 500 380 3 60 40
sleep 1
VG_SHOT_SCREEN=1 "$shot" Vigil "$logdir/bad-input-right-drag.png" 30 16 >/dev/null
set -- $(lit "$logdir/bad-input-right-drag.png")
if ! menu_shown "$logdir/bad-input-right-drag.png" &&
   awk "BEGIN { exit !($2 - $mean_default > 5 || $mean_default - $2 > 5) }"; then
  echo "ok 4 - a right drag changes window/level (mean $mean_default -> $2) and opens no menu"
else
  echo "not ok 4 - right drag (mean $mean_default -> $2)"
fi
"$pointer" Vigil 500 380 3
sleep 1
VG_SHOT_SCREEN=1 "$shot" Vigil "$logdir/bad-input-context-menu.png" 30 16 >/dev/null
if menu_shown "$logdir/bad-input-context-menu.png"; then
  echo "ok 5 - a right click without motion opens the context menu"
else
  echo "not ok 5 - no context menu after a right click"
fi
"$pointer" Vigil 120 600 1 # a click outside closes it
sleep 0.5

# (b) Weights cut off half way, then random bytes named .pth.
call load-model "[<('$work/cut.safetensors', '$work/m/adapters.safetensors')>]" "{}"
if toast_within 30 "CLIP weights: .*cut\.safetensors: .+"; then
  echo "ok 6 - cut-off CLIP weights: $(grep -E 'toast: ' "$log" | tail -1 | sed 's/.*toast: //')"
else
  echo "not ok 6 - no message for cut-off weights"; grep toast "$log"
fi
alive
"$shot" Vigil "$logdir/bad-input-cut-weights.png" 30 16 >/dev/null
call load-model "[<('$work/random.pth', '$work/m/adapters.safetensors')>]" "{}"
if toast_within 30 "CLIP weights: .*random\.pth.* is neither .+"; then
  echo "ok 7 - random bytes as .pth: $(grep -E 'toast: ' "$log" | tail -1 | sed 's/.*toast: //')"
else
  echo "not ok 7 - no message for a random .pth"; grep toast "$log"
fi
alive
call analyse-slice "[]" "{}"
if toast_within 10 "The model is not loaded yet"; then
  echo "ok 8 - analysing without a model says so"
else
  echo "not ok 8 - analysing with a broken model"; grep toast "$log" | tail -3
fi
call window-preset "[<'lung'>]" "{}" && sleep 1
"$shot" Vigil "$logdir/bad-input-viewer.png" 30 16 >/dev/null
set -- $(lit "$logdir/bad-input-viewer.png")
if awk "BEGIN { exit !($1 > 0.05 && ($2 - $mean_default > 5 || $mean_default - $2 > 5)) }"; then
  echo "ok 9 - the viewer still works: the lung preset changes the shown CT (mean $mean_default -> $2)"
else
  echo "not ok 9 - viewer after bad weights (lit $1, mean $mean_default -> $2)"
fi
alive

# A good model after the bad ones: the context menu's first item adds the
# slice as a reference (asked again until the model is there).
call load-model "[<('$work/m/clip.safetensors', '$work/m/adapters.safetensors')>]" "{}"
added=no
for i in $(seq 30); do
  sleep 1
  "$pointer" Vigil 500 380 3 && sleep 0.5
  [ $i = 1 ] && VG_SHOT_SCREEN=1 "$shot" Vigil "$logdir/bad-input-menu-again.png" 30 16 >/dev/null
  "$pointer" Vigil 630 403 1 # "Add This Slice as Normal Reference"
  if toast_within 2 "Added CT_small\.dcm as a normal reference"; then added=yes; break; fi
done
"$shot" Vigil "$logdir/bad-input-recovered.png" 30 16 >/dev/null
if [ $added = yes ]; then
  echo "ok 10 - the good model loads after the bad ones; the context menu adds the slice as a reference"
else
  echo "not ok 10 - no reference with the good model"; grep toast "$log" | tail -5
fi
if ! grep -qi "critical\|warning" "$log"; then
  echo "ok 11 - no warnings or criticals in the log"
else
  echo "not ok 11 - the log has warnings"; grep -i "critical\|warning" "$log"
fi
quit_and_check $pid 12
