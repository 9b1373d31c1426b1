#!/bin/sh
# Indexing benchmark (not a test): opens a generated folder of SERIES CT
# series x SLICES slices (SIZE x SIZE, 16-bit) in vigil under Xvfb and waits
# (reading win.indexing over D-Bus) until every series is indexed and has its
# thumbnail; then prints the app's own timings: opening to the first series
# shown, and opening to the end of indexing.
# Usage: tests/bench/bench-index.sh BUILD_DIR [SERIES] [SLICES] [SIZE]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${DISPLAY:-}" ]; then exec "$here/../gui-session.sh" "$0" "$@"; fi
build=$1 series=${2:-6} slices=${3:-100} size=${4:-256}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/../dicom-series.py" "$work/scans" --series "$series" --slices "$slices" \
  --size "$size"
files=$((series * slices))
sync
state() {
  gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil/window/1 \
    --method org.gtk.Actions.Describe indexing 2>/dev/null || true
}
field() { printf '%s' "$1" | grep -o "'$2': <[^>]*>" | sed "s/.*<\(uint32 \)\{0,1\}'\{0,1\}\([^'>]*\)'\{0,1\}>/\2/"; }
"$build/ui/vigil" >"$work/vigil.log" 2>&1 &
pid=$!
until [ -n "$(state)" ]; do sleep 0.05; done
gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil \
  --method org.gtk.Actions.Activate open "[<['$work/scans']>]" "{}" >/dev/null
i=0
while :; do
  s=$(state)
  [ "$(field "$s" done)" = true ] && [ "$(field "$s" thumbnails)" = "$series" ] && break
  i=$((i + 1))
  [ $i -gt 6000 ] && { echo "timed out: $s"; break; }
  sleep 0.02
done
echo "$files files ($series series x $slices slices, ${size}x${size}); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "first series shown after $(field "$s" shown-after-ms) ms; all $(field "$s" series) series indexed after $(field "$s" indexed-after-ms) ms"
gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil \
  --method org.gtk.Actions.Activate quit "[]" "{}" >/dev/null
wait $pid
