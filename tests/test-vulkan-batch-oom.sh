#!/bin/sh
# A device too small for a batch of images (VIGIL_VK_FAULT=mem:BYTES, a device
# with BYTES of memory, on a tiny random model): the engine halves the images
# per forward and stays on Vulkan, with the same scores, saying so once on
# stderr and in the JSON; a device too small for even the model and one
# image's activations falls back to the CPU under auto and fails under vulkan.
set -u
cli=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-vk-batch-oom.XXXXXX")
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
r = np.random.default_rng(7)
for i in range(8):
    Image.fromarray(r.integers(0, 256, (64, 72, 3), dtype=np.uint8)).save(sys.argv[1] + '/q%d.png' % i)
Image.fromarray(r.integers(0, 256, (80, 60, 3), dtype=np.uint8)).save(sys.argv[1] + '/ref.png')
" "$tmp"
args="--clip $tmp/m/clip.safetensors --adapters $tmp/m/adapters.safetensors --class Brain"
args="$args --ref $tmp/ref.png"
q4="$tmp/q0.png $tmp/q1.png $tmp/q2.png $tmp/q3.png"
q8="$q4 $tmp/q4.png $tmp/q5.png $tmp/q6.png $tmp/q7.png"

# detect NAME BACKEND BYTES IMAGES...: a device of BYTES, into $tmp/NAME.json,
# .err and .rc. The text features come from the cache the CPU run fills, so
# every Vulkan run allocates the same before its image forwards. Lavapipe is
# named, as auto passes over a CPU-type Vulkan device otherwise.
detect() {
  name=$1 backend=$2 bytes=$3; shift 3
  # shellcheck disable=SC2086
  env XDG_CACHE_HOME="$tmp/cache" VIGIL_VK_DEVICE=llvmpipe VIGIL_VK_FAULT="mem:$bytes" \
    "$cli" detect $args "$@" \
    --backend "$backend" >"$tmp/$name.json" 2>"$tmp/$name.err"
  echo $? >"$tmp/$name.rc"
}
peak() { sed -n 's/^vulkan: fault mem: at most \([0-9]*\) bytes were bound$/\1/p' "$tmp/$1.err"; }
# shrunk NAME: exit 0, still on Vulkan, 4 images per forward and why, one
# note on stderr and no warning, the scores of the unbatched-fault run (vk8)
# and the CPU's.
shrunk() {
  test "$(cat "$tmp/$1.rc")" = 0 || { cat "$tmp/$1.err"; return 1; }
  test "$(grep -c 'note: Vulkan memory too small for 8 images per forward' "$tmp/$1.err")" = 1 &&
    ! grep -q 'warning:' "$tmp/$1.err" || { cat "$tmp/$1.err"; return 1; }
  $py - "$tmp/vk8.json" "$tmp/cpu.json" "$tmp/$1.json" <<'PY'
import json, re, sys
vk, cpu, got = (json.load(open(p)) for p in sys.argv[1:4])
assert got["device"].startswith("llvmpipe") and got["backend_fallback"] is None, got
assert got["batch_limit"] == 4, got["batch_limit"]
assert re.search(r"too small for 8 images per forward \(no memory for the activations of 8 "
                 r"image\(s\): .*out of memory.*\); using 4 from now on", got["batch_reduced"]), got
assert len(got["results"]) == 8
for ref, tol in ((vk, 1e-5), (cpu, 1e-4)):
    for a, b in zip(ref["results"], got["results"]):
        assert a["image"] == b["image"]
        for k in ("zero_det_score", "few_det_score"):
            assert abs(a[k] - b[k]) <= tol * max(1, abs(a[k])), (k, a[k], b[k])
PY
}

echo "TAP version 13"
echo "1..8"
env XDG_CACHE_HOME="$tmp/cache" "$cli" detect $args $q8 --backend cpu >"$tmp/cpu.json" 2>/dev/null
echo $? >"$tmp/cpu.rc"
check "the CPU reference run works" test "$(cat "$tmp/cpu.rc")" = 0
# A device as large as anyone has: the peaks of 4 and of 8 images per forward.
detect vk4 vulkan 1000000000000 $q4
detect vk8 vulkan 1000000000000 $q8
check "with memory to spare 8 images go in one forward and nothing is reduced" $py -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['batch_limit'] == 8 and d['batch_reduced'] is None and d['backend_fallback'] is None, d
" "$tmp/vk8.json"
p4=$(peak vk4) p8=$(peak vk8)
check "the peaks are reported and 8 images take more than 4 ($p4 < $p8)" \
  test "$(cat "$tmp/vk4.rc")$(cat "$tmp/vk8.rc")" = 00 -a "${p4:-0}" -gt 0 -a "${p8:-0}" -gt "${p4:-0}"
# Room for 4 images per forward (and the scoring after them) but not for 8.
room=$((p4 + (p8 - p4) / 16))
detect auto-shrink auto "$room" $q8
detect vk-shrink vulkan "$room" $q8
check "auto: 8 images do not fit, 4 do: stays on Vulkan with the same scores" shrunk auto-shrink
check "vulkan: the same, exit 0 (the retries stay on the device)" shrunk vk-shrink
# Not even the model and one image's activations fit: the model fails to load.
detect auto-none auto 4000000 $q4
detect vk-none vulkan 4000000 $q4
check "auto: no room for one image: the CPU, said once, with its scores" sh -c "
  test \"\$(cat '$tmp/auto-none.rc')\" = 0 &&
  test \"\$(grep -c 'warning: .*out of memory.*using the CPU' '$tmp/auto-none.err')\" = 1 &&
  $py -c \"
import json, sys
cpu, got = (json.load(open(p)) for p in sys.argv[1:3])
assert got['device'].startswith('CPU') and 'out of memory' in got['backend_fallback'], got
for a, b in zip(cpu['results'], got['results']):
    assert abs(a['few_det_score'] - b['few_det_score']) <= 1e-5 * max(1, abs(a['few_det_score']))
\" '$tmp/cpu.json' '$tmp/auto-none.json' || { cat '$tmp/auto-none.err'; exit 1; }"
check "vulkan: no room for one image is an error (1) saying out of memory" sh -c "
  test \"\$(cat '$tmp/vk-none.rc')\" = 1 && test ! -s '$tmp/vk-none.json' &&
  grep -q 'out of memory' '$tmp/vk-none.err' || { cat '$tmp/vk-none.err'; exit 1; }"
check "mem without a size is a clear error" sh -c "
  VIGIL_VK_FAULT=mem '$cli' detect $args $tmp/q0.png --backend vulkan 2>&1 >/dev/null |
    grep -q \"VIGIL_VK_FAULT='mem': expected alloc, pipeline or lost, then :N, or mem:BYTES\""
exit $failed
