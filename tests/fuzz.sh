#!/bin/sh
# Runs a libFuzzer harness for a fixed time from its seeds (never writing into
# the source tree). A crash fails the test and leaves the input in the
# artifacts folder: copy it into tests/fuzz/<set>/ so test-pth replays it.
# Usage: fuzz.sh HARNESS SEEDS_DIR SECONDS ARTIFACTS_DIR | fuzz.sh --no-clang
set -u
if [ "$1" = --no-clang ]; then
  echo "SKIP: clang with libFuzzer not found (tools/install-deps installs clang and libclang-rt-14-dev)"
  exit 77
fi
exe=$1 seeds=$2 secs=$3 out=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
"$exe" -seed=1 -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$out/" -print_final_stats=1 "$work" "$seeds"
rc=$?
[ $rc -eq 0 ] || echo "fuzz: $(basename "$exe") failed (exit $rc); crashing input under $out/" >&2
exit $rc
