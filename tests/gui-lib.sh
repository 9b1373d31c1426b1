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

# coloured PNG: the fraction of the slice view (between the sidebar and the
# analysis panel) that is strongly coloured, i.e. covered by the heatmap.
coloured() {
  /usr/bin/python3 -c "
import sys
import numpy as np
from PIL import Image
a = np.array(Image.open(sys.argv[1]).convert('RGB')).astype(int)[60:-60, 260:-360]
print(f'{(np.abs(a[..., 0] - a[..., 2]) > 60).mean():.4f}')
" "$1"
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
