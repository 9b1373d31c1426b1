#!/bin/sh
# vigil-cli model random / model info / bench on the tiny preset.
set -u
cli=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-cli-model.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
check() { # description, then a command that must succeed
  n=$((n + 1)); desc=$1; shift
  if "$@" >"$tmp/out" 2>&1; then echo "ok $n - $desc"; else
    echo "not ok $n - $desc"; sed 's/^/# /' "$tmp/out"; failed=1; fi
}
py=/usr/bin/python3
echo "TAP version 13"
echo "1..16"
check "model random writes CLIP and adapters" sh -c "'$cli' model random --preset tiny --seed 5 --out '$tmp/a' && test -s '$tmp/a/clip.safetensors' && test -s '$tmp/a/adapters.safetensors'"
check "the same seed gives the same files" sh -c "'$cli' model random --preset tiny --seed 5 --out '$tmp/b' && cmp '$tmp/a/clip.safetensors' '$tmp/b/clip.safetensors' && cmp '$tmp/a/adapters.safetensors' '$tmp/b/adapters.safetensors'"
check "another seed gives other weights" sh -c "'$cli' model random --preset tiny --seed 6 --out '$tmp/c' && ! cmp -s '$tmp/a/clip.safetensors' '$tmp/c/clip.safetensors'"
check "model info describes the random model" sh -c "'$cli' model info --clip '$tmp/a/clip.safetensors' --adapters '$tmp/a/adapters.safetensors' | grep 'ViT width 64, 2 layers' | grep -q 'random weights'"
check "model info --json has the architecture" sh -c "'$cli' model info --clip '$tmp/a/clip.safetensors' --adapters '$tmp/a/adapters.safetensors' --json | $py -c 'import json,sys; d=json.load(sys.stdin); assert d[\"random\"] and d[\"image\"][\"width\"]==64 and d[\"image\"][\"grid\"]==17 and d[\"text\"][\"vocab\"]==49408 and d[\"adapters\"][\"after_blocks\"]==[1,2] and d[\"params\"]>3000000, d'"
check "f16 random weights are reported as F16" sh -c "'$cli' model random --preset tiny --dtype f16 --out '$tmp/h' && '$cli' model info --clip '$tmp/h/clip.safetensors' --json | grep -q '\"dtype\" : \"F16\"'"
check "model info on a missing file fails (1) naming it" sh -c "'$cli' model info --clip '$tmp/nope.safetensors' 2>&1 | grep -q nope.safetensors; '$cli' model info --clip '$tmp/nope.safetensors'; test \$? -eq 1"
check "model info on a truncated file fails (1)" sh -c "head -c 5000 '$tmp/a/clip.safetensors' >'$tmp/t.safetensors'; '$cli' model info --clip '$tmp/t.safetensors'; test \$? -eq 1"
check "adapters are not a CLIP checkpoint" sh -c "'$cli' model info --clip '$tmp/a/adapters.safetensors' 2>&1 | grep -q 'not a CLIP checkpoint'"
check "model random without --out is a usage error (2)" sh -c "'$cli' model random --preset tiny; test \$? -eq 2"
check "bench --preset tiny --json reports timings" sh -c "'$cli' bench --preset tiny --iters 2 --threads 1 --json | $py -c 'import json,sys; d=json.load(sys.stdin); assert 0 < d[\"min_ms\"] <= d[\"median_ms\"] <= d[\"max_ms\"] and d[\"gflops\"] > 0 and d[\"peak_rss_mb\"] > 0, d'"
check "bench --batch 3 --profile --json: per image figures and a wall-clock op table" sh -c "'$cli' bench --preset tiny --iters 1 --threads 1 --batch 3 --profile --json | $py -c 'import json,sys; d=json.load(sys.stdin); p=d[\"profile\"]; ops={o[\"op\"]: o for o in p[\"ops\"]}; assert d[\"batch\"]==3 and d[\"backend\"]==\"cpu\" and abs(d[\"ms_per_image\"]*3-d[\"median_ms\"])<1e-6 and d[\"images_per_s\"]>0 and p[\"clock\"]==\"wall clock\" and p[\"dispatches\"]==0 and ops[\"matmul\"][\"calls\"]==18 and ops[\"attention\"][\"calls\"]==2 and ops[\"matmul\"][\"gflops\"]>0 and 0<p[\"ops_ms\"]<=p[\"forward_wall_ms\"]*1.01, d'"
check "bench --backend vulkan --profile ran on the device (timestamps, dispatches, one submission)" sh -c "'$cli' bench --preset tiny --backend vulkan --iters 1 --warmup 0 --batch 2 --profile --json | $py -c 'import json,sys; d=json.load(sys.stdin); p=d[\"profile\"]; assert d[\"backend\"]==\"vulkan\" and \"llvmpipe\" in d[\"device\"] and p[\"clock\"]==\"vulkan timestamps\" and p[\"dispatches\"]>=40 and p[\"submits\"]==1 and p[\"ops_ms\"]>0, d'"
check "bench --layers 1 is labelled a truncated forward" sh -c "'$cli' bench --preset mid --layers 1 --iters 1 --warmup 0 --f16 | grep -q 'TRUNCATED FORWARD: 1 of the preset.s 4 blocks' && '$cli' bench --preset mid --layers 1 --iters 1 --warmup 0 --json | $py -c 'import json,sys; d=json.load(sys.stdin); assert d[\"truncated\"] and d[\"layers\"]==1 and d[\"preset_layers\"]==4, d'"
check "bench --batch 0 is a usage error (2)" sh -c "'$cli' bench --preset tiny --batch 0; test \$? -eq 2"
check "bench with an unknown preset is a usage error (2)" sh -c "'$cli' bench --preset huge; test \$? -eq 2"
exit $failed
