# Shared by the GUI test scripts (sourced, not run): talking to vigil over D-Bus.

# call ACTION PARAMS: activate a window action (win.*) of the first window.
call() {
  gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil/window/1 \
    --method org.gtk.Actions.Activate "$@" >/dev/null
}

# quit_and_check PID N: app.quit, then TAP line N says whether vigil exited with 0 within 10 s.
quit_and_check() {
  gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil \
    --method org.gtk.Actions.Activate quit "[]" "{}" >/dev/null
  i=0
  while kill -0 "$1" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then echo "not ok $2 - did not quit"; kill -9 "$1"; exit 1; fi
    sleep 0.1
  done
  if wait "$1"; then echo "ok $2 - quit cleanly"; else echo "not ok $2 - exit status $?"; return 1; fi
}

# Where a part of the window is comes from the app itself, not a fixed crop:
# part_box NAME LOG: "x y width height" of part NAME (slice-view,
# reference-strip, series-profile, analysis-panel; zeros when not shown),
# from win.print-layout (which the app logs to LOG, its stderr).
part_box() {
  n=$(grep -c "layout: " "$2" 2>/dev/null)
  call print-layout "[]" "{}" 2>/dev/null || true
  for i in $(seq 40); do
    [ "$(grep -c "layout: " "$2" 2>/dev/null)" -gt "${n:-0}" ] && break
    sleep 0.1
  done
  grep "layout: " "$2" | tail -1 | /usr/bin/python3 -c "
import sys
line = sys.stdin.read().split('layout: ', 1)[1]
parts = {p.split()[0]: [int(float(v)) for v in p.split()[1:]] for p in line.split('; ')}
print(*parts[sys.argv[1]])" "$1"
}

# view_box LOG: "x0 y0 x1 y1" of the slice view, a few pixels inside its edges.
view_box() {
  part_box slice-view "$1" | awk '{ print $1 + 8, $2 + 8, $1 + $3 - 8, $2 + $4 - 8 }'
}

# view_pixels PNG LOG: the fraction of the slice view that is strongly
# coloured (covered by the heatmap) and the fraction that is lit.
view_pixels() {
  /usr/bin/python3 -c "
import sys
import numpy as np
from PIL import Image
x0, y0, x1, y1 = map(int, sys.argv[2:6])
a = np.array(Image.open(sys.argv[1]).convert('RGB')).astype(int)[y0:y1, x0:x1]
print(f'{(a.max(axis=2) - a.min(axis=2) > 40).mean():.4f} {(a.sum(axis=2) > 60).mean():.4f}')
" "$1" $(view_box "$2")
}

# coloured PNG LOG: the first of view_pixels.
coloured() { view_pixels "$1" "$2" | cut -d' ' -f1; }

# start_vigil LOG NAME [ARGS...]: starts vigil with ARGS, logging to LOG, sets
# $pid, and waits (60 s at most) for its window, shot into $logdir/NAME.png.
start_vigil() {
  _log=$1 _name=$2
  shift 2
  "$vigil" "$@" >"$_log" 2>&1 &
  pid=$!
  "$shot" Vigil "$logdir/$_name.png" 60 16 >/dev/null
}

# wait_for_map ACTION PNG LOG [TRIES]: activates win.ACTION every 3 s until a
# screenshot (PNG) shows the heatmap over the slice view; prints how much of
# the view it covers (0 if it never did). Lavapipe runs models slowly.
wait_for_map() {
  _c=0
  for i in $(seq "${4:-30}"); do
    sleep 3
    call "$1" "[]" "{}" 2>/dev/null || true
    "$shot" Vigil "$2" 30 16 >/dev/null
    _c=$(coloured "$2" "$3")
    awk "BEGIN { exit !($_c > 0.2) }" && break
  done
  echo "$_c"
}

# toast_within SECONDS PATTERN: a toast matching PATTERN (grep -E) was logged
# to "$log" within SECONDS.
toast_within() {
  for i in $(seq $(($1 * 2))); do
    grep -qE "toast: $2" "$log" && return 0
    sleep 0.5
  done
  return 1
}

# alive: bail out of the TAP run if vigil ($pid) died; its log ($log) shows why.
alive() { kill -0 $pid 2>/dev/null || { echo "Bail out! vigil died"; tail -20 "$log"; exit 1; }; }
