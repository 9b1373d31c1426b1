#!/bin/sh
# MVFA scoring at full size (C=768, G=17, S=240, 3 references; augmentation of a
# 3x240x240 image) against vectors that tests/reference/score_ref.py regenerates
# with PyTorch (too large to commit). Skipped, with the reason, when
# /usr/bin/python3 cannot import torch. Arguments: test-score binary, source root.
set -u
bin=$1
src=$2
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "1..0 # SKIP /usr/bin/python3 cannot import torch, so the full-size vectors cannot be made"
  exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/vg-score-full.XXXXXX")
trap 'rm -rf "$dir"' EXIT
if ! OPENBLAS_NUM_THREADS=2 /usr/bin/python3 "$src/tests/reference/score_ref.py" "$dir" \
  --channels 768 --grid 17 --side 240 --refs 3 --aug-h 240 --aug-w 240 --seed 7 >&2; then
  echo "Bail out! score_ref.py failed"
  exit 1
fi
VG_SCORE_VECTORS=$dir "$bin" --tap -p /score/vectors
