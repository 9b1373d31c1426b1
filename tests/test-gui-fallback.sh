#!/bin/sh
# The device is lost under the app (VIGIL_VK_FAULT, compute device Automatic):
# the engine moves to the CPU, the window says so once, the analysis still
# draws its map, and the app quits cleanly.
# Usage (inside gui-session.sh): VIGIL CLI SHOT LOG_DIR
set -u
. "$(dirname "$0")/gui-lib.sh"
vigil=$1 cli=$2 shot=$3 logdir=$4
mkdir -p "$logdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
ct=/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm
echo "TAP version 13"
echo "1..4"
"$cli" model random --preset tiny --seed 1 --out "$work/m" >/dev/null || exit 1
# Two submits succeed (the model's upload), then the device is lost in the
# first forward pass.
# Lavapipe is named: Automatic passes over a CPU-type Vulkan device otherwise.
VIGIL_VK_DEVICE=llvmpipe VIGIL_VK_FAULT=lost:2 start_vigil "$logdir/fallback-vigil.log" \
  fallback-opened "$ct"
call load-model "[<('$work/m/clip.safetensors', '$work/m/adapters.safetensors')>]" "{}"
coloured=$(wait_for_map analyse-slice "$logdir/fallback-result.png" "$logdir/fallback-vigil.log")
if awk "BEGIN { exit !($coloured > 0.2) }"; then
  echo "ok 1 - the analysis drew its map after the fallback (coloured $coloured)"
else
  echo "not ok 1 - no map (coloured $coloured)"; cat "$logdir/fallback-vigil.log"
fi
n=$(grep -c "Vulkan failed .*VK_ERROR_DEVICE_LOST.*using the CPU" "$logdir/fallback-vigil.log")
if [ "$n" = 1 ]; then
  echo "ok 2 - the window said once that the CPU took over"
else
  echo "not ok 2 - the fallback was said $n times"; cat "$logdir/fallback-vigil.log"
fi
if grep -qE "CRITICAL|WARNING" "$logdir/fallback-vigil.log"; then
  echo "not ok 3 - warnings logged"; cat "$logdir/fallback-vigil.log"
else
  echo "ok 3 - no warnings"
fi
quit_and_check $pid 4
