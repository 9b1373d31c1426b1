#!/bin/sh
# Which device --backend auto picks, and Vulkan failures on a tiny random
# model (faults injected by VIGIL_VK_FAULT, no driver, lowered limits).
# Lavapipe, a CPU-type Vulkan device, is slower than the CPU backend: auto
# skips it unless it is named (VIGIL_VK_DEVICE), as the fault runs here do.
# There auto moves to the CPU, says so on stderr and in the JSON, and gives
# the CPU's scores; with --backend vulkan the same failure is an error and
# exit code 1.
set -u
cli=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-vk-fallback.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
py=${VIGIL_PYTHON:-/usr/bin/python3} # numpy and PIL
check() { # description, then a command that must succeed
  n=$((n + 1)); desc=$1; shift
  if "$@" >"$tmp/out" 2>&1; then echo "ok $n - $desc"; else
    echo "not ok $n - $desc"; sed 's/^/# /' "$tmp/out"; failed=1; fi
}
"$cli" model random --preset tiny --seed 11 --out "$tmp/m" >/dev/null
$py -c "
import numpy as np, sys
from PIL import Image
r = np.random.default_rng(5)
Image.fromarray(r.integers(0, 256, (64, 72, 3), dtype=np.uint8)).save(sys.argv[1] + '/q.png')
Image.fromarray(r.integers(0, 256, (80, 60, 3), dtype=np.uint8)).save(sys.argv[1] + '/ref.png')
" "$tmp"
model="--clip $tmp/m/clip.safetensors --adapters $tmp/m/adapters.safetensors"
args="$model --class Brain --ref $tmp/ref.png $tmp/q.png"

# detect NAME BACKEND [VAR=VALUE...]: runs with a fresh cache (text features
# are computed, not read back) into $tmp/NAME.json, .err and .rc.
detect() {
  name=$1 backend=$2; shift 2
  # shellcheck disable=SC2086
  env XDG_CACHE_HOME="$tmp/cache-$name" "$@" "$cli" detect $args --backend "$backend" \
    >"$tmp/$name.json" 2>"$tmp/$name.err"
  echo $? >"$tmp/$name.rc"
}
# fell_back NAME PATTERN: exit 0, on the CPU, the reason (matching PATTERN)
# in the JSON and as one warning on stderr, and the CPU's scores.
fell_back() {
  test "$(cat "$tmp/$1.rc")" = 0 || { cat "$tmp/$1.err"; return 1; }
  test "$(grep -c 'warning: .*using the CPU' "$tmp/$1.err")" = 1 || { cat "$tmp/$1.err"; return 1; }
  $py - "$tmp/cpu.json" "$tmp/$1.json" "$2" <<'PY'
import json, re, sys
cpu, got = (json.load(open(p)) for p in sys.argv[1:3])
assert got["device"].startswith("CPU"), got["device"]
assert re.search(sys.argv[3], got["backend_fallback"] or ""), got["backend_fallback"]
assert "on CPU" in got["model"], got["model"]
for a, b in zip(cpu["results"], got["results"]):
    for k in ("zero_det_score", "few_det_score"):
        assert abs(a[k] - b[k]) <= 1e-5 * max(1, abs(a[k])), (k, a[k], b[k])
PY
}
# refused NAME PATTERN: exit 1, no JSON, the message on stderr.
refused() {
  test "$(cat "$tmp/$1.rc")" = 1 && test ! -s "$tmp/$1.json" && grep -q "$2" "$tmp/$1.err" ||
    { cat "$tmp/$1.err"; return 1; }
}

echo "TAP version 13"
echo "1..21"
lvp=VIGIL_VK_DEVICE=llvmpipe
detect cpu cpu
detect auto auto
detect vulkan vulkan
detect vk auto $lvp
check "the CPU reference run works" test "$(cat "$tmp/cpu.rc")" = 0
# on DEVICE NAME: exit 0, no warning, that device in the JSON, no fallback.
on() {
  test "$(cat "$tmp/$2.rc")" = 0 && ! grep -q warning "$tmp/$2.err" || { cat "$tmp/$2.err"; return 1; }
  $py -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['device'].startswith(sys.argv[2]) and d['backend_fallback'] is None, d
" "$tmp/$2.json" "$1"
}
check "with only lavapipe, auto runs on the CPU backend (no fallback)" on CPU auto
check "with only lavapipe, --backend vulkan runs on it" on llvmpipe vulkan
check "auto with lavapipe named stays on it and reports no fallback" on llvmpipe vk
check "devices says auto chose the CPU and why" sh -c "
  '$cli' devices | grep -q '^auto: the CPU: no GPU; llvmpipe.*(cpu) runs Vulkan in software' &&
  '$cli' devices --json | $py -c '
import json, sys
a = json.load(sys.stdin)[\"auto\"]
assert a[\"backend\"] == \"cpu\" and a[\"index\"] is None and \"software\" in a[\"why\"], a'"
for fault in alloc pipeline lost lost:3; do
  case $fault in
  alloc) want='out of memory' ;;
  pipeline) want='vkCreateComputePipelines failed .VK_ERROR_OUT_OF_DEVICE_MEMORY' ;;
  *) want='VK_ERROR_DEVICE_LOST' ;;
  esac
  detect "auto-$fault" auto $lvp VIGIL_VK_FAULT=$fault
  detect "vk-$fault" vulkan VIGIL_VK_FAULT=$fault
  check "fault $fault: auto falls back to the CPU with its scores" fell_back "auto-$fault" "$want"
  check "fault $fault: --backend vulkan fails (1) saying why" refused "vk-$fault" "$want"
done
nodriver="VK_ICD_FILENAMES=/nonexistent.json VK_DRIVER_FILES=/nonexistent.json"
# shellcheck disable=SC2086
detect auto-nodriver auto $nodriver
# shellcheck disable=SC2086
detect auto-nodriver-named auto $lvp $nodriver
# shellcheck disable=SC2086
detect vk-nodriver vulkan $nodriver
check "no Vulkan driver: auto uses the CPU, no warning" on CPU auto-nodriver
check "no Vulkan driver, a device named: auto falls back to the CPU" fell_back auto-nodriver-named \
  "Vulkan unavailable"
check "no Vulkan driver: --backend vulkan fails (1)" refused vk-nodriver "Vulkan unavailable"
detect auto-limit auto $lvp VIGIL_VK_MAX_BUFFER=65536
detect vk-limit vulkan VIGIL_VK_MAX_BUFFER=65536
check "a tensor over the buffer limit: auto uses the CPU" fell_back auto-limit "visual.conv1.weight"
check "a tensor over the buffer limit: vulkan fails (1) naming it and the limit" refused vk-limit \
  "tensor 'visual.conv1.weight' (64 x 588 F32, 147.0 KiB) exceeds .*storage buffer limit (64.0 KiB)"
check "a bad VIGIL_VK_FAULT is a clear error" sh -c "
  VIGIL_VK_FAULT=sometimes '$cli' detect $args --backend vulkan 2>&1 >/dev/null |
    grep -q \"VIGIL_VK_FAULT='sometimes': expected alloc, pipeline or lost\""
# features: a device lost in the image encoder; the rerun on the CPU gives
# exactly the CPU's features.
check "features: a lost device in the image encoder falls back, same features" sh -c "
  '$cli' features $model --image '$tmp/q.png' --backend cpu --out '$tmp/f-cpu' 2>/dev/null &&
  $lvp VIGIL_VK_FAULT=lost '$cli' features $model --image '$tmp/q.png' --backend auto \
    --out '$tmp/f-vk' 2>'$tmp/f.err' &&
  grep -q 'warning: Vulkan failed in the image encoder: .*VK_ERROR_DEVICE_LOST' '$tmp/f.err' &&
  cmp '$tmp/f-cpu/pooled.npy' '$tmp/f-vk/pooled.npy' &&
  cmp '$tmp/f-cpu/seg_tokens_1.npy' '$tmp/f-vk/seg_tokens_1.npy'"
# A device lost in the scoring shaders (text features read from a warm cache,
# so the submits left are the two forwards and the scoring): the bank's device
# copy is dropped and the scores are the CPU's. The first fault count that
# lands in scoring is searched, as the number of submits per forward may change.
cp -r "$tmp/cache-vk" "$tmp/warm"
scoring_lost() {
  for k in 0 1 2 3 4 5 6 7 8 9 10 11 12; do
    rm -rf "$tmp/cache-auto-score" && cp -r "$tmp/warm" "$tmp/cache-auto-score"
    env XDG_CACHE_HOME="$tmp/cache-auto-score" $lvp VIGIL_VK_FAULT="lost:$k" "$cli" detect $args \
      --backend auto >"$tmp/auto-score.json" 2>"$tmp/auto-score.err"
    echo $? >"$tmp/auto-score.rc"
    if grep -q "failed in scoring" "$tmp/auto-score.err"; then
      fell_back auto-score "in scoring: .*VK_ERROR_DEVICE_LOST"
      return
    fi
  done
  echo "no fault count landed in scoring"; return 1
}
check "a device lost in scoring falls back to the CPU with its scores" scoring_lost
exit $failed
