#!/bin/sh
# GUI smoke test: start vigil under Xvfb, wait for its window, screenshot it,
# check it is drawn, open a file through app.open over D-Bus, and quit cleanly.
# Usage (inside gui-session.sh): test-gui-smoke.sh VIGIL SHOT_TOOL LOG_DIR
set -u
. "$(dirname "$0")/gui-lib.sh"
vigil=$1 shot=$2 logdir=$3
mkdir -p "$logdir"
app_id=org.vigil.Vigil
log="$logdir/smoke-vigil.log"
echo "TAP version 13"
echo "1..7"

if start_vigil "$log" smoke-window; then
  echo "ok 1 - window drawn ($logdir/smoke-window.png)"
else
  echo "not ok 1 - window never drawn"; cat "$logdir/smoke-vigil.log"; kill $pid; exit 1
fi

app_call() { # an app.* action (gui-lib.sh's call reaches the window's win.*)
  gdbus call --session --dest $app_id --object-path /org/vigil/Vigil \
    --method org.gtk.Actions.Activate "$@" >/dev/null
}

# app.open takes paths; the window switches from the empty state to the file list.
if app_call open "[<['/usr/share/mricron/templates/ch2.nii.gz', '/usr/share/mricron/templates']>]" "{}"; then
  echo "ok 2 - app.open accepted paths over D-Bus"
else
  echo "not ok 2 - app.open failed"
fi
sleep 1
if "$shot" "Vigil" "$logdir/smoke-opened.png" 20 16 &&
   ! cmp -s "$logdir/smoke-window.png" "$logdir/smoke-opened.png"; then
  echo "ok 3 - window redrawn with the opened files"
else
  echo "not ok 3 - window unchanged or gone after app.open"
fi

# Open Recent: a scan moved away since is said so (and no crash); one that exists opens.
app_call open-recent "[<'file:///nonexistent/moved-away.dcm'>]" "{}" || true
sleep 0.5
if grep -q "moved-away.dcm no longer exists" "$logdir/smoke-vigil.log"; then
  echo "ok 4 - Open Recent of a missing file says so"
else
  echo "not ok 4 - no message for a missing recent file"
fi
"$shot" Vigil "$logdir/smoke-before-recent.png" 20 16 >/dev/null
app_call open-recent "[<'file:///usr/share/mricron/templates/ch2.nii.gz'>]" "{}" || true
sleep 1
if "$shot" Vigil "$logdir/smoke-recent.png" 20 16 >/dev/null &&
   ! cmp -s "$logdir/smoke-before-recent.png" "$logdir/smoke-recent.png"; then
  echo "ok 5 - Open Recent opened the file"
else
  echo "not ok 5 - Open Recent changed nothing"
fi

# At the default size (1100 x 750) the Normal References strip is in view,
# under the slice view, without scrolling (win.print-layout says where it is).
view_box "$log" >/dev/null
if grep "layout: " "$log" | tail -1 | /usr/bin/python3 -c "
import sys
line = sys.stdin.read().split('layout: ', 1)[1]
parts = {p.split()[0]: [float(v) for v in p.split()[1:]] for p in line.split('; ')}
win_w, win_h = parts['window']
x, y, w, h = parts['reference-strip']
sx, sy, sw, sh = parts['slice-view']
assert abs(win_w - 1100) <= 20 and abs(win_h - 750) <= 20, line  # less the frame
assert h >= 60 and w >= 300 and y + h <= win_h and y >= sy + sh, line
"; then
  echo "ok 6 - the references strip is in view under the slice view at 1100 x 750"
else
  echo "not ok 6 - references strip not in view"; grep "layout: " "$logdir/smoke-vigil.log" | sed "s/^/# /"
fi

app_call quit "[]" "{}" || true
i=0
while kill -0 $pid 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 100 ]; then echo "not ok 7 - vigil did not quit"; kill -9 $pid; exit 1; fi
  sleep 0.1
done
wait $pid
rc=$?
if [ $rc -eq 0 ]; then
  echo "ok 7 - quit cleanly"
else
  echo "not ok 7 - exit status $rc"; cat "$logdir/smoke-vigil.log"; exit 1
fi
if grep -E "CRITICAL|WARNING" "$logdir/smoke-vigil.log"; then
  echo "# vigil logged warnings (see above)"; exit 1
fi
