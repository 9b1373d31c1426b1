#!/bin/sh
# vigil-cli features and detect on a random tiny model, end to end (scan
# loading, model input, forward on the CPU and on Vulkan, prompts, scoring),
# against the PyTorch reference in tests/reference/e2e_ref.py.
set -eu
cli=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
"$cli" model random --preset tiny --seed 11 --out "$work/m" >/dev/null
/usr/bin/python3 - "$work" <<'PY'
import sys
import numpy as np
from PIL import Image
r = np.random.default_rng(5)
y, x = np.mgrid[0:180, 0:200]
Image.fromarray((120 + 60 * np.sin(x / 9.0) + r.normal(0, 8, x.shape)).clip(0, 255).astype(np.uint8)).save(sys.argv[1] + "/query.png")
Image.fromarray(r.integers(0, 256, (64, 72, 3), dtype=np.uint8)).save(sys.argv[1] + "/ref.png")
PY
m="--clip $work/m/clip.safetensors --adapters $work/m/adapters.safetensors"
# shellcheck disable=SC2086
"$cli" features $m --image "$work/query.png" --class "Brain" --backend cpu --out "$work/f" 2>/dev/null
# shellcheck disable=SC2086
"$cli" features $m --image "$work/query.png" --backend vulkan --out "$work/vk" 2>"$work/vk.log" ||
  { cat "$work/vk.log"; exit 1; }
# shellcheck disable=SC2086
"$cli" features $m --image "$work/ref.png" --backend cpu --out "$work/r" 2>/dev/null
# shellcheck disable=SC2086
"$cli" detect $m --class "Brain" --ref "$work/ref.png" "$work/query.png" --backend cpu \
  --maps "$work/maps" >"$work/detect.json" 2>/dev/null
test -s "$work/maps/query/zero_seg_map.png"
# On Vulkan the scoring runs as shaders (vg_score_backend.h); its maps and
# scores match the CPU run's within the forward pass's float differences.
# shellcheck disable=SC2086
"$cli" detect $m --class "Brain" --ref "$work/ref.png" "$work/query.png" \
  --backend vulkan --maps "$work/maps-vk" >"$work/detect-vk.json" 2>"$work/detect-vk.log" ||
  { cat "$work/detect-vk.log"; exit 1; }
/usr/bin/python3 -c "
import glob, json, os, sys
import numpy as np
cpu, vk = sys.argv[1:3]
names = sorted(os.path.basename(f) for f in glob.glob(cpu + '/*.npy'))
assert len(names) == 2 * 2 + 3, names  # 2 layers of zero and few maps, 3 sums
for n in names:
    a, b = np.load(os.path.join(cpu, n)), np.load(os.path.join(vk, n))
    err = np.abs(a - b).max() / np.abs(a).max()
    assert err < 1e-4, (n, err)
a, b = (json.load(open(p))['results'][0] for p in sys.argv[3:5])
assert not a['scored_on_device'] and b['scored_on_device'], (a, b)
for k in ('zero_det_score', 'few_det_score'):
    assert abs(a[k] - b[k]) <= 1e-5 * abs(a[k]), (k, a[k], b[k])
" "$work/maps/query" "$work/maps-vk/query" "$work/detect.json" "$work/detect-vk.json"
# The adapters as a real PyTorch .pth: torch.load reads MVFA's layout, and
# detect gives the same numbers from it as from the safetensors copy.
/usr/bin/python3 -c "
import sys, torch
d = torch.load(sys.argv[1])
assert sorted(d) == ['det_adapters', 'seg_adapters'], sorted(d)
assert '0.fc1.0.weight' in d['seg_adapters'], list(d['seg_adapters'])
" "$work/m/adapters.pth"
"$cli" detect --clip "$work/m/clip.safetensors" --adapters "$work/m/adapters.pth" --class "Brain" \
  --ref "$work/ref.png" "$work/query.png" --backend cpu >"$work/detect-pth.json" 2>/dev/null
/usr/bin/python3 -c "
import json, sys
a, b = (json.load(open(p))['results'][0] for p in sys.argv[1:3])
assert a['zero_det_score'] == b['zero_det_score'] and a['few_det_score'] == b['few_det_score'], (a, b)
" "$work/detect.json" "$work/detect-pth.json"
# Several images in one call are encoded together (one batched forward):
# the same scores as one image per call, on the CPU and on Vulkan.
# shellcheck disable=SC2086
"$cli" detect $m --class "Brain" --ref "$work/ref.png" --backend cpu >"$work/one-ref.json" \
  "$work/ref.png" 2>/dev/null
for be in cpu vulkan; do
  # shellcheck disable=SC2086
  "$cli" detect $m --class "Brain" --ref "$work/ref.png" --backend $be "$work/query.png" \
    "$work/ref.png" "$work/query.png" >"$work/multi-$be.json" 2>"$work/multi.log" ||
    { cat "$work/multi.log"; exit 1; }
done
/usr/bin/python3 -c "
import json, sys
q, r = (json.load(open(p))['results'][0] for p in sys.argv[1:3])
for f in sys.argv[3:]:
    got = json.load(open(f))['results']
    assert [g['image'].split('/')[-1] for g in got] == ['query.png', 'ref.png', 'query.png'], got
    for g, w in zip(got, [q, r, q]):
        for k in ('zero_det_score', 'few_det_score'):
            assert abs(g[k] - w[k]) <= 1e-4 * max(1.0, abs(w[k])), (f, k, g, w)
" "$work/detect.json" "$work/one-ref.json" "$work/multi-cpu.json" "$work/multi-vulkan.json"
# --dtype f16 (half-precision matmul weights, the app's preference): the
# identity and JSON say so, the text features get their own cache file, CPU and
# Vulkan agree as closely as in F32, and against F32 the results move, but by
# less than 5e-3 (one F16 rounding of a weight is up to 2^-11 = 4.9e-4
# relative; 8.7e-4 was seen on the maps).
for be in cpu vulkan; do
  # shellcheck disable=SC2086
  "$cli" detect $m --class "Brain" --ref "$work/ref.png" "$work/query.png" --backend $be \
    --dtype f16 --maps "$work/maps-f16-$be" >"$work/f16-$be.json" 2>"$work/f16.log" ||
    { cat "$work/f16.log"; exit 1; }
done
ls "$XDG_CACHE_HOME"/vigil/text-features/text-*-f16.npy >/dev/null
/usr/bin/python3 -c "
import glob, json, os, sys
import numpy as np
f32, cpu, vk = sys.argv[1:4]
moved = 0
for f in sorted(glob.glob(f32 + '/*.npy')):
    n = os.path.basename(f)
    a, b, c = np.load(f), np.load(os.path.join(cpu, n)), np.load(os.path.join(vk, n))
    scale = np.abs(a).max()
    moved = max(moved, np.abs(a - b).max() / scale)
    assert np.abs(a - b).max() / scale < 5e-3, (n, np.abs(a - b).max() / scale)
    assert np.abs(b - c).max() / scale < 1e-4, (n, np.abs(b - c).max() / scale)
assert moved > 1e-6, 'F16 weights changed nothing: --dtype f16 was ignored'
a, b, c = (json.load(open(p)) for p in sys.argv[4:7])
assert b['weights'] == c['weights'] == 'f16' and a['weights'] == 'f32', (a['weights'], b['weights'])
assert 'F16 matmul weights' in b['model'] and 'F16' not in a['model'], (a['model'], b['model'])
for k in ('zero_det_score', 'few_det_score'):
    x, y, z = (d['results'][0][k] for d in (a, b, c))
    assert abs(x - y) <= 5e-3 * abs(x) and abs(y - z) <= 1e-5 * abs(y), (k, x, y, z)
" "$work/maps/query" "$work/maps-f16-cpu/query" "$work/maps-f16-vulkan/query" "$work/detect.json" \
  "$work/f16-cpu.json" "$work/f16-vulkan.json"
# --dtype bf16 (BF16 matmul weights and activations, F32 accumulation): on a
# CPU with AMX-BF16 or AVX512_BF16 (as `devices --json` says) the identity,
# JSON and cache file say so and the maps stay within 5e-2 of F32's maximum,
# the scores within 1e-2 (seen on this random model: 2.2e-2 on the few-shot
# maps, 1.5e-3 on the scores); elsewhere it is refused with the reason. Vulkan
# refuses it everywhere.
bf16=$("$cli" devices --json | /usr/bin/python3 -c "
import json, sys
print([d for d in json.load(sys.stdin)['devices'] if d['backend'] == 'cpu'][0]['bf16'])")
set +e
# shellcheck disable=SC2086
"$cli" detect $m --class "Brain" --ref "$work/ref.png" "$work/query.png" --backend cpu \
  --dtype bf16 --maps "$work/maps-bf16" >"$work/bf16.json" 2>"$work/bf16.log"
rc=$?
# shellcheck disable=SC2086
"$cli" detect $m --class Brain --dtype bf16 --backend vulkan "$work/query.png" >/dev/null \
  2>"$work/bf16-vk.log"
rc_vk=$?
set -e
test $rc_vk -eq 1 && grep -q "run on the CPU backend only, not on Vulkan" "$work/bf16-vk.log" ||
  { cat "$work/bf16-vk.log"; exit 1; }
if [ "$bf16" = True ]; then
  test $rc -eq 0 || { cat "$work/bf16.log"; exit 1; }
  ls "$XDG_CACHE_HOME"/vigil/text-features/text-*-bf16.npy >/dev/null
  /usr/bin/python3 -c "
import glob, json, os, sys
import numpy as np
f32, bf = sys.argv[1:3]
moved = 0
for f in sorted(glob.glob(f32 + '/*.npy')):
    a, b = np.load(f), np.load(os.path.join(bf, os.path.basename(f)))
    err = np.abs(a - b).max() / np.abs(a).max()
    moved = max(moved, err)
    assert err < 5e-2, (f, err)
assert moved > 1e-4, 'BF16 changed nothing: --dtype bf16 was ignored'
a, b = (json.load(open(p)) for p in sys.argv[3:5])
assert b['weights'] == 'bf16' and 'BF16 matmul weights' in b['model'], b
for k in ('zero_det_score', 'few_det_score'):
    x, y = (d['results'][0][k] for d in (a, b))
    assert abs(x - y) <= 1e-2 * abs(x), (k, x, y)
" "$work/maps/query" "$work/maps-bf16/query" "$work/detect.json" "$work/bf16.json"
else
  test $rc -eq 1 && grep -q "need a CPU with AMX-BF16 or AVX512_BF16" "$work/bf16.log" ||
    { cat "$work/bf16.log"; exit 1; }
fi
set +e
"$cli" detect $m --class Brain --dtype f8 "$work/query.png" >/dev/null 2>"$work/dtype.log"
rc=$?
set -e
test $rc -eq 2 && grep -q "dtype 'f8': expected f32, f16 or bf16" "$work/dtype.log" ||
  { cat "$work/dtype.log"; exit 1; }
# Bad weights and a missing image: exit 1 with a message naming the problem, no crash.
head -c 1000 "$work/m/adapters.pth" >"$work/cut.pth"
set +e
"$cli" detect --clip "$work/m/clip.safetensors" --adapters "$work/cut.pth" --class Brain \
  "$work/query.png" >/dev/null 2>"$work/bad.log"
rc=$?
"$cli" detect $m --class Brain "$work/missing.png" >/dev/null 2>"$work/missing.log"
rc2=$?
set -e
test $rc -eq 1 && grep -q "MVFA adapters" "$work/bad.log" || { cat "$work/bad.log"; exit 1; }
test $rc2 -eq 1 && grep -q "missing.png: .*no such file" "$work/missing.log" ||
  { cat "$work/missing.log"; exit 1; }
OPENBLAS_NUM_THREADS=2 /usr/bin/python3 "$src/tests/reference/e2e_ref.py" "$cli" "$work/m" \
  "$work/f" "$work/r" "$work/maps/query" "$work/detect.json" "Brain" "$work/vk"
