#!/bin/sh
# Cine benchmark (not a test): opens a generated SLICES-slice 512 x 512 CT
# series in vigil under Xvfb (cairo renderer), plays it for SECONDS at each
# rate asked (win.cine-rate, win.cine over D-Bus) and prints, from the app's
# own count, the slices shown per second against the rate asked and the slices
# skipped because a frame came late. A rate whose achieved value is off by
# more than TOLERANCE percent is marked FAIL and the script exits 1.
# Usage: tests/bench/bench-cine.sh BUILD_DIR [SLICES] [SECONDS] [TOLERANCE] [RATES...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${DISPLAY:-}" ]; then exec "$here/../gui-session.sh" "$0" "$@"; fi
build=$1 slices=${2:-100} seconds=${3:-4} tolerance=${4:-5}
shift $(($# < 4 ? $# : 4))
rates=${*:-5 10 20 30 50}
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
/usr/bin/python3 "$here/../dicom-series.py" "$work/ct" --series 1 --slices "$slices" --size 512
act() {
  gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil/window/1 \
    --method org.gtk.Actions.Activate "$@" >/dev/null
}
"$build/ui/vigil" "$work/ct" >"$work/vigil.log" 2>&1 &
pid=$!
"$build/tests/vg-x11-shot" Vigil "$work/start.png" 60 16 >/dev/null
sleep 1
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $slices slices of 512 x 512"
printf '%8s %10s %8s %8s %7s\n' asked achieved error skipped seconds
status=0
for rate in $rates; do
  n=$(grep -c "cine: " "$work/vigil.log" || true)
  act cine-rate "[<$rate.0>]" "{}"
  act cine "[]" "{}"
  sleep "$seconds"
  act cine "[]" "{}"
  for i in $(seq 50); do [ "$(grep -c "cine: " "$work/vigil.log")" -gt "$n" ] && break; sleep 0.1; done
  line=$(grep "cine: " "$work/vigil.log" | tail -1)
  printf '%s\n' "$line" | /usr/bin/python3 -c "
import re, sys
m = re.search(r'cine: (\d+) slices shown in ([\d.]+) s: ([\d.]+) per second \(asked ([\d.]+); (\d+) skipped\)', sys.stdin.read())
shown, secs, got, asked, skipped = int(m[1]), float(m[2]), float(m[3]), float(m[4]), int(m[5])
err = 100 * (got - asked) / asked
bad = abs(err) > float(sys.argv[1])
print(f'{asked:8.1f} {got:10.2f} {err:+7.1f}% {skipped:8d} {secs:7.2f}{\"  FAIL\" if bad else \"\"}')
sys.exit(1 if bad else 0)" "$tolerance" || status=1
done
exit $status
