#!/bin/sh
# The series browser under Xvfb: a folder of 4 generated CT series is indexed
# slowly (VIGIL_INDEX_DELAY_MS per file); the first series must show before
# indexing ends, every series must be listed at the end with a thumbnail
# (checked in the pixels), opening another folder mid-way restarts indexing
# without leftovers and names its broken file, a series whose files are interleaved with another's
# grows in view, and quitting mid-indexing exits cleanly. Progress is read from the
# win.indexing action's state over D-Bus.
# Usage (inside gui-session.sh): VIGIL SHOT LOG_DIR
set -u
. "$(dirname "$0")/gui-lib.sh"
vigil=$1 shot=$2 logdir=$3
mkdir -p "$logdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "TAP version 13"
echo "1..8"
gen="$(dirname "$0")/dicom-series.py"
/usr/bin/python3 "$gen" "$work/a" --studies 2 --series 2 --slices 10 --size 64 || exit 1
/usr/bin/python3 "$gen" "$work/b" --studies 1 --series 3 --slices 4 --size 32 || exit 1
# One file of b is cut short: it is left out with a message, the rest opens.
/usr/bin/python3 -c "
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1]); ds.PixelData = ds.PixelData[:100]; ds.save_as(sys.argv[1])
" "$work/b/study0/series1/slice001.dcm" || exit 1
/usr/bin/python3 "$gen" "$work/c" --series 2 --slices 6 --size 32 --interleave || exit 1

# state: the win.indexing state as KEY=VALUE lines.
state() {
  gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil/window/1 \
    --method org.gtk.Actions.Describe indexing 2>/dev/null |
    /usr/bin/python3 -c "
import re, sys
s = sys.stdin.read()
for k, v in re.findall(r\"'([a-z-]+)': <([^>]*)>\", s):
    print(f'{k}={v.strip(chr(39)).replace(\"uint32 \", \"\")}')"
}
get() { printf '%s\n' "$1" | sed -n "s/^$2=//p"; }

VIGIL_INDEX_DELAY_MS=120 "$vigil" "$work/a" >"$logdir/browse-vigil.log" 2>&1 &
pid=$!
"$shot" Vigil "$logdir/browse-start.png" 60 16 >/dev/null
early="" partial="" last=""
for i in $(seq 150); do
  s=$(state)
  [ -n "$s" ] || { sleep 0.1; continue; }
  last=$s
  if [ "$(get "$s" done)" = false ]; then
    [ -n "$(get "$s" showing)" ] && [ -z "$early" ] && early="files $(get "$s" files)/$(get "$s" total)"
    n=$(get "$s" series)
    [ "$n" -ge 1 ] && [ "$n" -lt 4 ] && partial="$n series at files $(get "$s" files)"
  elif [ "$(get "$s" thumbnails)" = 4 ]; then
    break
  fi
  sleep 0.1
done
shown_ms=$(get "$last" shown-after-ms) indexed_ms=$(get "$last" indexed-after-ms)
if [ -n "$early" ] && [ "$(get "$last" shown-while-indexing)" = true ] &&
   [ "$shown_ms" -gt 0 ] && [ "$shown_ms" -lt "$indexed_ms" ]; then
  echo "ok 1 - first series shown while indexing ($early; after $shown_ms of $indexed_ms ms)"
else
  echo "not ok 1 - no series shown before indexing ended"; echo "$last" | sed 's/^/# /'
fi
if [ -n "$partial" ] && [ "$(get "$last" done)" = true ] && [ "$(get "$last" series)" = 4 ] &&
   [ "$(get "$last" files)" = 40 ]; then
  echo "ok 2 - series added while indexing ($partial), all 4 at the end of 40 files"
else
  echo "not ok 2 - partial '$partial'"; echo "$last" | sed 's/^/# /'
fi
if [ "$(get "$last" thumbnails)" = 4 ]; then
  echo "ok 3 - every row has a thumbnail"
else
  echo "not ok 3 - thumbnails: $(get "$last" thumbnails)"
fi
# Thumbnails are dark squares (air) with a bright disc; the sidebar is light
# and the placeholder icons are mid-grey. Look at the thumbnail column.
sleep 0.5
"$shot" Vigil "$logdir/browse-done.png" 20 16 >/dev/null
found=$(/usr/bin/python3 -c "
import sys
import numpy as np
from PIL import Image
a = np.array(Image.open(sys.argv[1]).convert('L')).astype(int)
col = a[60:, 4:100]  # below the header bar: the rows' prefix column
# A thumbnail: a band of lines with dark (air) pixels, holding a grey disc
# with a bright blob; the placeholder icon has no black at all.
lines = (col < 20).sum(1) > 6
runs = np.diff(np.concatenate(([0], lines.astype(int), [0])))
starts, ends = np.where(runs == 1)[0], np.where(runs == -1)[0]
bands = [col[s:e] for s, e in zip(starts, ends) if e - s >= 24]
bands = [b[:, (b < 20).any(0)] for b in bands]  # the thumbnail's own columns
ok = [b for b in bands if (b > 230).sum() > 2 and ((b > 80) & (b < 180)).sum() > 200]
print(len(ok), int((col < 20).sum()))
" "$logdir/browse-done.png")
set -- $found
if [ "$1" = 4 ]; then
  echo "ok 4 - 4 thumbnails drawn in the sidebar ($2 dark pixels)"
else
  echo "not ok 4 - sidebar thumbnails: $1 found ($2 dark pixels)"
fi

# Another folder while the first is still indexing: opening adds to what is
# open, so indexing restarts over both folders; rows of the cancelled run
# must not linger (4 + 3 series, not more).
VIGIL_INDEX_DELAY_MS=120 "$vigil" "$work/a" >>"$logdir/browse-vigil.log" 2>&1
sleep 0.8
VIGIL_INDEX_DELAY_MS=120 "$vigil" "$work/b" >>"$logdir/browse-vigil.log" 2>&1
for i in $(seq 100); do
  s=$(state)
  [ "$(get "$s" done)" = true ] && break
  sleep 0.1
done
sleep 1.5 # any batch of the first indexer would land by now
s=$(state)
if [ "$(get "$s" series)" = 7 ] && [ "$(get "$s" total)" = 52 ] &&
   grep -q "slice001.dcm: Pixel Data holds 100 bytes" "$logdir/browse-vigil.log"; then
  echo "ok 5 - opening another folder mid-way restarted indexing (7 series, 52 files, the broken one named)"
else
  echo "not ok 5 - after reopening"; echo "$s" | sed 's/^/# /'
fi

quit_and_check $pid 6

# Files of two series alternate: the series shown first keeps growing, and
# the view follows it; quitting mid-way (the window closes under the worker).
VIGIL_INDEX_DELAY_MS=100 "$vigil" "$work/c" >>"$logdir/browse-vigil.log" 2>&1 &
pid=$!
"$shot" Vigil "$logdir/browse-c.png" 60 16 >/dev/null
for i in $(seq 100); do
  s=$(state)
  [ "$(get "$s" done)" = true ] && break
  sleep 0.1
done
if [ "$(get "$s" series)" = 2 ] && [ "$(get "$s" showing-slices)" = 6 ]; then
  echo "ok 7 - the shown series grew to all 6 slices while indexing"
else
  echo "not ok 7 - interleaved series"; echo "$s" | sed 's/^/# /'
fi
VIGIL_INDEX_DELAY_MS=120 "$vigil" "$work/a" >>"$logdir/browse-vigil.log" 2>&1
sleep 1
s=$(state)
if [ "$(get "$s" done)" = false ]; then
  quit_and_check $pid 8
else
  echo "not ok 8 - indexing had ended before quitting"; kill $pid
fi
