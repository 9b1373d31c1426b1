#!/bin/sh
# Builds one libFuzzer harness with clang (ASan + UBSan) and runs it for a
# fixed time from generated seeds. A crash fails the test; its input is left
# in the artifact folder: copy it to tests/fuzz/regress/KIND/ so the
# fuzz-regress unit test replays it forever.
# Usage: run-fuzz.sh KIND SOURCE_ROOT WORK_DIR SECONDS
set -eu
kind=$1 root=$2 work=$3 seconds=$4
mkdir -p "$work/seeds-$kind" "$work/artifacts-$kind"
rm -f "$work/artifacts-$kind"/*
echo "TAP version 13"
echo "1..2"
# shellcheck disable=SC2046
if clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_GNU_SOURCE -DVIGIL_FUZZING -I"$root/app" -I/usr/include/nifti \
  "$root/tests/fuzz/fuzz-$kind.c" "$root/app/vigil-$kind.c" "$root/app/vigil-image.c" \
  "$root/app/vigil-window-level.c" \
  $(pkg-config --cflags --libs glib-2.0 libpng libjpeg libopenjp2) -lnifti2 -lznz -lm \
  -o "$work/fuzz-$kind" 2>"$work/build-$kind.log"; then
  echo "ok 1 - build fuzz-$kind with clang -fsanitize=fuzzer"
else
  sed 's/^/# /' "$work/build-$kind.log"
  echo "not ok 1 - build fuzz-$kind with clang -fsanitize=fuzzer"
  echo "not ok 2 - fuzz-$kind # not run"
  exit 1
fi
/usr/bin/python3 "$root/tests/fuzz/make-seeds.py" "$kind" "$work/seeds-$kind"
mkdir -p "$work/corpus-$kind"
if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$work/fuzz-$kind" -seed=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=4096 -artifact_prefix="$work/artifacts-$kind/" -print_final_stats=1 \
  "$work/corpus-$kind" "$work/seeds-$kind" "$root/tests/fuzz/regress/$kind" >"$work/fuzz-$kind.log" 2>&1 &&
  # A crash in a child process (vigil-j2k.c decodes HTJ2K in one) leaves
  # only its artifact: the fuzzer itself carries on.
  [ -z "$(ls "$work/artifacts-$kind")" ]; then
  echo "ok 2 - fuzz-$kind ran $seconds s without a crash # $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/fuzz-$kind.log")"
else
  tail -40 "$work/fuzz-$kind.log" | sed 's/^/# /'
  echo "not ok 2 - fuzz-$kind found a crash: see $work/artifacts-$kind/"
  exit 1
fi
