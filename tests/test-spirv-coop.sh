#!/bin/sh
# The coop GEMM's SPIR-V specialised as gpu/vk_coop.c may specialise it: each
# tiling (vk_coop_pick_tiles) x every fragment shape vk_coop.c accepts (sides
# dividing 32) x subgroup sizes 32 and 64. spirv-opt freezes and folds the
# spec constants, so spirv-val sees the real array sizes (a shape that left a
# subgroup no fragments would be a zero-length array). No GPU needed.
set -u
val=$1 opt=$2 spv=$3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "TAP version 13"
n=0 failed=0
# spec ids: 0 threads, 1 BM, 2 BN, 3 BK, 4-6 fragment M N K, 7 subgroups, 8 WN
# The picked tilings, then those tools/device-run.sh sweeps.
for tiling in "128 128 32 8 2" "64 64 32 4 2" "128 128 64 8 2" "128 256 32 8 2" \
  "256 128 32 8 2" "64 128 32 4 2" "128 128 32 4 2"; do
  set -- $tiling
  bm=$1 bn=$2 bk=$3 sg=$4 wn=$5
  for sgsize in 32 64; do
    for m in 8 16 32; do for nn in 8 16 32; do for k in 8 16 32; do
      n=$((n + 1))
      spec="0:$((sg * sgsize)) 1:$bm 2:$bn 3:$bk 4:$m 5:$nn 6:$k 7:$sg 8:$wn"
      desc="${bm}x$bn tiles, subgroup $sgsize, fragment ${m}x${nn}x$k"
      if "$opt" --set-spec-const-default-value "$spec" --freeze-spec-const \
          --fold-spec-const-op-composite "$spv" -o "$tmp/s.spv" 2>"$tmp/err" &&
          "$val" --target-env vulkan1.1 "$tmp/s.spv" 2>>"$tmp/err"; then
        echo "ok $n - $desc"
      else
        echo "not ok $n - $desc"; sed 's/^/# /' "$tmp/err"; failed=1
      fi
    done; done; done
  done
done
echo "1..$n"
exit $failed
