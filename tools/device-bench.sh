#!/bin/bash
# On a machine with a real GPU (written for an NVIDIA H200): build Vigil,
# check the Vulkan ops there (the cooperative-matrix GEMM against the CPU
# included), and time the GEMMs and the ViT-L/14 forward. Run it from the
# repository root; everything goes under $OUT (default ./build-device-out):
# summary.txt says what ran, each step's output is in <step>.log.
#
# Finishes within ~7.5 minutes: each step has a time cap and the steps left
# after 450 s (VIGIL_DEVICE_BUDGET) are skipped, and listed as such.
#
# The forward bench uses `vigil-cli bench --batch N` and `--profile` when the
# binary has them (another branch adds them); without --batch it runs batch 1
# only and says so in the summary.
#
# Needs: meson, ninja, a C/C++ compiler, pkg-config, glslangValidator, the
# Vulkan loader and a GPU driver's ICD, and the -dev packages Vigil's core
# needs (tools/install-deps names them for Debian 12; the GUI's are not
# needed). What is missing is listed and the script stops with status 3.
# VIGIL_BUILD=dir reuses a build directory instead of ./build-device.
set -u
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-$PWD/build-device-out}
BUILD=${VIGIL_BUILD:-build-device}
BUDGET=${VIGIL_DEVICE_BUDGET:-450}
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }
# The tests' lavapipe default must not leak in: use the system's drivers.
unset VK_ICD_FILENAMES VK_DRIVER_FILES VIGIL_VK_DEVICE VIGIL_VK_NO_COOPMAT

# step NAME CAP_SECONDS CMD...: runs CMD with output in NAME.log, capped by
# CAP and by what is left of the budget.
step() {
  local name=$1 cap=$2 left=$((BUDGET - SECONDS))
  shift 2
  if [ "$left" -le 10 ]; then say "SKIP $name: out of time"; return 1; fi
  [ "$cap" -gt "$left" ] && cap=$left
  local t0=$SECONDS
  timeout -k 5 "$cap" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  say "$( [ $rc = 0 ] && echo OK || echo "FAIL (status $rc$( [ $rc = 124 ] && echo ", timed out after ${cap}s"))") $name: $((SECONDS - t0)) s: $*"
  return $rc
}

# --- what the build needs ---------------------------------------------------
missing=""
for t in meson ninja cc c++ pkg-config glslangValidator timeout; do
  command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if command -v pkg-config >/dev/null 2>&1; then
  for m in vulkan glib-2.0 gio-2.0 json-glib-1.0 libpng cairo openblas libzip zlib libjpeg dcmtk; do
    pkg-config --exists "$m" || missing="$missing pkg-config:$m"
  done
fi
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
for l in libnifti2.so libznz.so libvulkan.so.1; do
  "$ldconfig" -p 2>/dev/null | grep -q "$l " || missing="$missing $l"
done
icds=$(find /usr/share/vulkan/icd.d /etc/vulkan/icd.d -name '*.json' 2>/dev/null | tr '\n' ' ')
say "Vulkan ICDs: ${icds:-none}"
echo "$icds" | grep -qi nvidia || say "WARNING: no NVIDIA ICD manifest found; Vulkan may see no GPU"
if [ -n "$missing" ]; then
  say "MISSING:$missing"
  say "Install them (Debian/Ubuntu: tools/install-deps lists the packages), then rerun."
  exit 3
fi
# The tests use the Khronos validation layer; without it they run unvalidated.
if ! ls /usr/share/vulkan/explicit_layer.d/*validation* >/dev/null 2>&1; then
  export VIGIL_TEST_NO_VALIDATION=1
  say "NOTE: no VK_LAYER_KHRONOS_validation; the Vulkan tests run without validation"
fi
command -v nvidia-smi >/dev/null && nvidia-smi >"$OUT/nvidia-smi.log" 2>&1
command -v vulkaninfo >/dev/null && vulkaninfo --summary >"$OUT/vulkaninfo.log" 2>&1

# --- build and test ----------------------------------------------------------
# vulkan_test_icd= (empty): the tests run on the system's drivers, the GPU.
if [ ! -f "$BUILD/build.ninja" ]; then
  # No -Werror: another compiler may warn where Debian 12's gcc does not.
  step setup 90 meson setup "$BUILD" --buildtype=debugoptimized -Dgui=false -Dwerror=false \
    -Dvulkan_test_icd= ||
    exit 1
fi
step build 200 ninja -C "$BUILD" || exit 1
cli=$BUILD/app/vigil-cli
step devices 20 "$cli" devices
cat "$OUT/devices.log"
step devices-json 20 "$cli" devices --json
rm -f "$BUILD/meson-logs/testlog.txt"
step test-vulkan 120 meson test -C "$BUILD" --suite vulkan --no-rebuild --print-errorlogs
cp "$BUILD/meson-logs/testlog.txt" "$OUT/test-vulkan-testlog.txt" 2>/dev/null
grep -E "^ *[0-9]+/[0-9]+ " "$OUT/test-vulkan.log" >>"$SUMMARY"
# The coop GEMM's own lines: its device, verdicts, and ViT-L shapes vs the CPU.
grep -E "^(ok|not ok) .*vulkan-coop|^# (Vulkan device|coop GEMM|emulated)|^# coop 290x(3072|1024)x" \
  "$OUT/test-vulkan-testlog.txt" 2>/dev/null | head -40 >>"$SUMMARY"

# --- GEMM bench: F32, F16, F16 coop vs CPU; errors above 2e-3 fail it ----
step gemm-b1 60 "$BUILD/tests/bench-gemm" --batch 1 --iters 20 --cpu-iters 3 --max-err 2e-3
step gemm-b32 90 "$BUILD/tests/bench-gemm" --batch 32 --iters 10 --cpu-iters 1 --max-err 2e-3
grep -H "ViT-L/14 block GEMMs\|cooperative matrices\|exceeds" "$OUT"/gemm-b*.log >>"$SUMMARY"

# --- ViT-L/14 forward: F32, F16 without and with cooperative matrices -------
# (F32 weights never use them, so F32 runs once per batch.)
help=$("$cli" bench --help 2>&1)
batches=1
if echo "$help" | grep -q -- "--batch"; then batches="1 32"; else
  say "NOTE: this vigil-cli bench has no --batch; batch 1 only"; fi
prof=()
# Only a plain flag: a --profile=FILE form would need a value this script can't know.
echo "$help" | grep -qE -- "--profile( |$)" && prof=(--profile)
for b in $batches; do
  base=("$cli" bench --preset vit-l-14 --backend vulkan --warmup 1 "${prof[@]}")
  if [ "$b" = 1 ]; then base+=(--iters 5); else base+=(--iters 3 --batch "$b"); fi
  step "vit-b$b-f32" 60 "${base[@]}" --dtype f32
  step "vit-b$b-f16" 60 env VIGIL_VK_NO_COOPMAT=1 "${base[@]}" --dtype f16
  step "vit-b$b-f16-coop" 60 "${base[@]}" --dtype f16
done
grep -H "image forward" "$OUT"/vit-*.log 2>/dev/null | head -20 >>"$SUMMARY"
say "done in $SECONDS s"
