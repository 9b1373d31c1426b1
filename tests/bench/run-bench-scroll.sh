#!/bin/sh
# Scroll benchmark (not a test): writes a 512 x 512, 16-bit CT series of
# SLICES slices (default 100) and scrolls it in bench-scroll under Xvfb with
# the cairo renderer, with and without the texture cache and prefetch.
# Usage: tests/bench/run-bench-scroll.sh BUILD_DIR [SLICES] [PASSES]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$1 slices=${2:-100} passes=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/../dicom-series.py" "$work/ct" --series 1 --slices "$slices" --size 512
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
for mode in "" --no-cache; do
  "$here/../gui-session.sh" "$build/tests/bench-scroll" "$work/ct" "$passes" $mode 2>&1 |
    grep -v '^dbus-daemon'
  echo
done
