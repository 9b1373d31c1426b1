#!/bin/sh
# Builds the DICOM loader with clang's libFuzzer + ASan + UBSan and fuzzes it
# for a fixed time. Inputs that crash are written to tests/fuzz/corpus-dicom/
# (commit them: the fuzz-corpus unit test replays that folder).
# Usage: run-fuzz-dicom.sh SOURCE_ROOT WORK_DIR SECONDS
set -eu
src=$1 work=$2 seconds=$3
cxx=$(command -v clang++-14 || command -v clang++) || {
  echo "clang++ not found: run tools/install-deps (clang, libclang-rt-14-dev)" >&2; exit 1; }
cc=$(command -v clang-14 || command -v clang)
mkdir -p "$work/obj" "$work/corpus"
flags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
inc="-I$src/app $(pkg-config --cflags glib-2.0 dcmtk libopenjp2)"
# Every source of the DICOM library (app/meson.build's dicom_lib), and the image allocator.
rm -f "$work"/obj/*.o
for f in vigil-dicom vigil-dicom-load vigil-dicom-codecs; do
  $cxx $flags -std=c++17 $inc -c "$src/app/$f.cpp" -o "$work/obj/$f.o"
done
for f in vigil-j2k vigil-pixels vigil-image; do
  $cc $flags -std=c17 -D_GNU_SOURCE $inc -c "$src/app/$f.c" -o "$work/obj/$f.o"
done
$cc $flags -std=c17 $inc -c "$src/tests/fuzz/fuzz-dicom.c" -o "$work/obj/fuzz-dicom.o"
$cxx -fsanitize=fuzzer,address,undefined "$work"/obj/*.o -o "$work/fuzz-dicom" \
  $(pkg-config --libs glib-2.0 dcmtk libopenjp2) -lm
# Seeds: the committed corpus, pydicom's small test files and the generated test
# fixtures (every supported transfer syntax, multi-frame, enhanced, MONOCHROME1, RGB).
seeds="$work/seeds"
mkdir -p "$seeds"
cp "$src"/tests/fuzz/corpus-dicom/* "$seeds"/ 2>/dev/null || true
find /usr/lib/python3/dist-packages/pydicom/data/test_files -maxdepth 1 -name '*.dcm' \
  -size -12k -exec cp {} "$seeds"/ \;
rm -rf "$work/fixtures"
mkdir -p "$work/fixtures"
/usr/bin/python3 "$src/tests/dicom-fixtures.py" "$work/fixtures"
find "$work/fixtures" -maxdepth 1 -name '*.dcm' -size -16k -exec cp {} "$seeds"/ \;
cd "$work"
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0:allocator_may_return_null=1" \
  ./fuzz-dicom -seed=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
  -malloc_limit_mb=512 -max_len=16384 -print_final_stats=1 \
  -artifact_prefix="$src/tests/fuzz/corpus-dicom/crash-" corpus "$seeds"
