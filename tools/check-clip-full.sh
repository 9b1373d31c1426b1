#!/bin/sh
# End-to-end check of a full-size random ViT-L/14-336 (at 240 px, MVFA's 4 x 768
# adapters, 12-layer text tower; F16 weights) against the PyTorch reference:
# tests/reference/clip_ref.py writes the weights, input and PyTorch's outputs,
# then tests/test-clip compares every output within 1e-4 relative.
# Needs /usr/bin/python3 with torch; about 2 GB of disk and 6 GB of memory.
#   tools/check-clip-full.sh [BUILD_DIR]      (default: build)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
dir=$(mktemp -d "${TMPDIR:-/tmp}/vigil-clip-full.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "check-clip-full: writing the reference model and outputs to $dir"
/usr/bin/python3 "$root/tests/reference/clip_ref.py" full "$dir"
echo "check-clip-full: comparing"
VIGIL_CLIP_VECTORS=$dir "$build/tests/test-clip" --verbose
