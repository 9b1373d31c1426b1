#!/bin/bash
# On a GPU machine without Vigil's build tools (the CUDA image the device tool
# lends): unpacks .device/vigil-device.tar.xz (made here by
# tools/device-bundle.sh), then
#   1. lists the Vulkan devices (vigil-cli devices),
#   2. runs the Vulkan test suite on the GPU, validation layer on (the
#      cooperative-matrix GEMM against the CPU included),
#   3. times the GEMMs (bench-gemm, batch 1 and 32; F32, F16, F16 on
#      cooperative matrices, NV and KHR) and a few coop tilings
#      (VIGIL_VK_COOP_TILES),
#   4. times the ViT-L/14 forward at 240 px, batch 1 and 32, F32, F16 and
#      F16 with cooperative matrices (NV and KHR), and profiles one,
#   5. profiles batch 1 under five attention layouts (VIGIL_VK_ATTN).
# Everything lands under $OUT: summary.txt (what ran, the figures) and
# logs.tar.gz (every step's output). Each step is capped and steps left after
# VIGIL_DEVICE_BUDGET seconds (default 420) are skipped and listed as such.
#
# Device tool call (from the repository root here, after device-bundle.sh):
#   run(command="tools/device-run.sh", carry=[".device"], timeout_s=540)
# Locally, to check the bundle itself on lavapipe:
#   VIGIL_DEVICE_ICD=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json VIGIL_DEVICE_QUICK=1 tools/device-run.sh
set -u
cd "$(dirname "$0")/.." || exit 1
S=$PWD
OUT=${OUT:-$PWD/build-device-out}
BUDGET=${VIGIL_DEVICE_BUDGET:-420}
QUICK=${VIGIL_DEVICE_QUICK:-}
R=${VIGIL_BUNDLE_DIR:-/tmp/vigil-bundle}
TARBALL=${VIGIL_DEVICE_TARBALL:-.device/vigil-device.tar.xz}
ONLY=${VIGIL_DEVICE_ONLY:-} # space-separated step names: run only these (tests)
LOGS=$OUT/logs
mkdir -p "$OUT" "$LOGS"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }
pack() { tar -C "$OUT" -czf "$OUT/logs.tar.gz" logs && rm -rf "$LOGS"; }
trap pack EXIT

# step NAME CAP CMD...: CMD's output in logs/NAME.log, capped by CAP seconds
# and by what is left of the budget; one line in the summary.
step() {
  local name=$1 cap=$2 left=$((BUDGET - SECONDS))
  shift 2
  [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]] && return 2
  if [ "$left" -le 10 ]; then say "SKIP $name: out of time"; return 1; fi
  [ "$cap" -gt "$left" ] && cap=$left
  local t0=$SECONDS rc
  timeout -k 5 "$cap" "$@" >"$LOGS/$name.log" 2>&1
  rc=$?
  local verdict=OK
  [ $rc != 0 ] && verdict="FAIL (status $rc$([ $rc = 124 ] && echo ", timed out after ${cap}s"))"
  say "$verdict $name: $((SECONDS - t0)) s"
  return $rc
}

# --- unpack ------------------------------------------------------------------
if [ ! -f "$TARBALL" ]; then
  say "MISSING $TARBALL: run tools/device-bundle.sh here, carry .device"
  exit 3
fi
rm -rf "$R" && mkdir -p "$R" && tar -xJf "$TARBALL" -C "$R" || exit 3
say "bundle: $(head -1 "$R/commit.txt")"
export VIGIL_BUNDLE=$R VIGIL_DATA_DIR=$R/data VIGIL_SOURCE_DIR=$S
# The fallback test makes its images with numpy and PIL: the first Python that has both.
for p in "${VIGIL_PYTHON:-}" "$(command -v python3)" /usr/bin/python3; do
  [ -n "$p" ] && "$p" -c "import numpy, PIL" 2>/dev/null && export VIGIL_PYTHON=$p && break
done
B=$R/build
cli=$B/cli/vigil-cli

# --- the driver ----------------------------------------------------------------
unset VK_ICD_FILENAMES VK_DRIVER_FILES VIGIL_VK_DEVICE VIGIL_VK_NO_COOPMAT VIGIL_VK_COOP_TILES VIGIL_VK_ATTN
icd=${VIGIL_DEVICE_ICD:-}
if [ -z "$icd" ]; then
  icd=$(find /usr/local/nvidia/share/vulkan /usr/share/vulkan /etc/vulkan -name '*nvidia*.json' \
    2>/dev/null | head -1)
fi
if [ -n "$icd" ]; then
  export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
  say "Vulkan driver: $icd: $(tr -d '\n ' <"$icd" | grep -o '"library_path":"[^"]*"')"
else
  say "WARNING: no NVIDIA Vulkan driver manifest found; the loader searches its defaults"
fi
# The driver's libraries (libGLX_nvidia.so.0 and friends) where ld.so may not look.
libs=$R/lib
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
  ls "$d"/libGLX_nvidia.so* >/dev/null 2>&1 && libs=$libs:$d
done
export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export VK_LAYER_PATH=$R/layers
command -v nvidia-smi >/dev/null && nvidia-smi >"$LOGS/nvidia-smi.log" 2>&1

# The programs were built against Debian 12's glibc; an older one needs the
# bundled loader.
if ! "$cli" --version >"$LOGS/version.log" 2>&1; then
  export VIGIL_BUNDLE_LOADER=1
  say "NOTE: the system's loader failed ($(head -c 200 "$LOGS/version.log")); using the bundled glibc"
  "$cli" --version >"$LOGS/version.log" 2>&1 || { say "FAIL: vigil-cli does not start"; exit 4; }
fi
step devices 30 "$cli" devices
cat "$LOGS/devices.log" 2>/dev/null | tee -a "$SUMMARY"
step devices-json 30 "$cli" devices --json
# No GPU listed: the loader's own account of why, for the next try.
if ! grep -qiE "^vulkan [0-9]+: .*(discrete|integrated)" "$LOGS/devices.log" 2>/dev/null &&
  [ -z "$ONLY" ]; then
  say "WARNING: no GPU among the Vulkan devices; loader debug output in logs/devices-loader.log"
  VK_LOADER_DEBUG=error,warn,info step devices-loader 30 "$cli" devices
  ls -l /usr/local/nvidia /usr/local/nvidia/lib64 >"$LOGS/nvidia-files.log" 2>&1
fi

# --- the Vulkan suite on the GPU --------------------------------------------
# t NAME TIMEOUT [VAR=VALUE...] CMD...: one test of tests.sh, run in $B.
# A validation layer that does not load there is said, and the test rerun
# without it.
t() {
  local name=$1 cap=$2
  shift 2
  (cd "$B" && step "test-$name" "$cap" env "$@")
  local rc=$?
  [ $rc = 0 ] || [ $rc = 2 ] && return
  if grep -qE "validation requested but|no Vulkan driver could be loaded" "$LOGS/test-$name.log" &&
    [ -z "${VIGIL_TEST_NO_VALIDATION:-}" ]; then
    mv "$LOGS/test-$name.log" "$LOGS/test-$name-validated.log"
    say "NOTE: test-$name again without the validation layer"
    (cd "$B" && step "test-$name" "$cap" env VIGIL_TEST_NO_VALIDATION=1 "$@")
  fi
  grep -hE "^(not ok|Bail out)" "$LOGS/test-$name.log" 2>/dev/null | head -5 | sed 's/^/    /' >>"$SUMMARY"
}
# shellcheck disable=SC1091
. "$R/tests.sh"
# The coop GEMM's verdict and its errors on ViT-L's shapes.
grep -hE "^# (Vulkan device|coop GEMM)|^# coop [0-9]+x" "$LOGS/test-vulkan-coop.log" 2>/dev/null |
  head -20 >>"$SUMMARY"

# --- GEMMs -------------------------------------------------------------------
if [ -n "$QUICK" ]; then shape=(--shape 290x256x64); else shape=(); fi
step gemm-b1 60 "$B/tests/bench-gemm" --batch 1 --iters 20 --cpu-iters 3 --max-err 2e-3 "${shape[@]}"
step gemm-b32 90 "$B/tests/bench-gemm" --batch 32 --iters 10 --cpu-iters 1 --max-err 2e-3 "${shape[@]}"
(cd "$LOGS" && grep -HE "TFLOP/s|cooperative" gemm-b1.log gemm-b32.log 2>/dev/null) >>"$SUMMARY"
# The same through VK_KHR_cooperative_matrix (the module translated from NV's).
step gemm-b32-khr 90 env VIGIL_VK_COOP=khr "$B/tests/bench-gemm" --batch 32 --iters 10 --no-cpu \
  --max-err 2e-3 "${shape[@]}"
grep -hE "cooperative" "$LOGS/gemm-b32-khr.log" 2>/dev/null >>"$SUMMARY"
# Coop tilings at batch 32 (the picked one is 128x128x32/8/2 where it fits).
for tiles in 64x64x32/4/2 128x128x64/8/2 128x256x32/8/2 256x128x32/8/2 64x128x32/4/2 128x128x32/4/2; do
  name=gemm-b32-tiles-${tiles//\//-}
  step "$name" 40 env VIGIL_VK_COOP_TILES="$tiles" "$B/tests/bench-gemm" --batch 32 --iters 10 \
    --no-cpu "${shape[@]}"
  grep -hE "cooperative|coop" "$LOGS/$name.log" 2>/dev/null | head -8 >>"$SUMMARY"
done

# --- the ViT-L/14 forward ----------------------------------------------------
preset=vit-l-14
[ -n "$QUICK" ] && preset=tiny
for b in 1 32; do
  base=("$cli" bench --preset "$preset" --backend vulkan --warmup 1 --batch "$b")
  if [ "$b" = 1 ]; then base+=(--iters 10); else base+=(--iters 3); fi
  step "vit-b$b-f32" 90 "${base[@]}" --dtype f32
  step "vit-b$b-f16" 90 env VIGIL_VK_NO_COOPMAT=1 "${base[@]}" --dtype f16
  step "vit-b$b-f16-coop" 90 "${base[@]}" --dtype f16
  step "vit-b$b-f16-coop-khr" 90 env VIGIL_VK_COOP=khr "${base[@]}" --dtype f16
  (cd "$LOGS" && grep -HE "^(forward of|per image)" vit-b"$b"-*.log 2>/dev/null) >>"$SUMMARY"
done
step vit-b32-f16-coop-profile 90 "$cli" bench --preset "$preset" --backend vulkan --batch 32 \
  --dtype f16 --iters 1 --profile
# Attention layouts at batch 1, where a few query rows per head must fill the
# GPU (VIGIL_VK_ATTN=ROWSxLANES; GPUs default to 16x4, 64x1 is one invocation
# per row); each run profiled, so the attention line shows its own time.
for layout in 64x1 16x4 8x8 32x2 16x8; do
  name=vit-b1-attn-$layout
  step "$name" 40 env VIGIL_VK_ATTN="$layout" "$cli" bench --preset "$preset" --backend vulkan \
    --batch 1 --dtype f16 --iters 10 --profile
  (cd "$LOGS" && grep -HE "^forward of|^  (attention|sum of ops) " "$name.log" 2>/dev/null) >>"$SUMMARY"
done
say "done in $SECONDS s"
