#!/bin/bash
# tools/device-bundle.sh and tools/device-run.sh, as a GPU machine would run
# them but on lavapipe: the bundle packs, unpacks elsewhere, and its programs
# run from there (with this machine's loader and with the bundled one), the
# Vulkan tests' commands replay, the benchmarks' figures reach the summary,
# and a missing bundle is refused with a message.
# Usage: test-device-bundle.sh SOURCE_DIR BUILD_DIR   (TAP)
set -u
src=$1 build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-bundle-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
check() { # description, then a command that must succeed
  n=$((n + 1)); desc=$1; shift
  if "$@" >"$tmp/check.out" 2>&1; then echo "ok $n - $desc"; else
    echo "not ok $n - $desc"; sed 's/^/# /' "$tmp/check.out" | tail -30; failed=1; fi
}
lvp=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
echo "TAP version 13"
check "the bundle packs from the build" env VIGIL_BUILD="$build" VIGIL_BUNDLE_STAGE="$tmp/stage" \
  VIGIL_BUNDLE_OUT="$tmp/b.tar.xz" VIGIL_BUNDLE_XZ=-0 "$src/tools/device-bundle.sh"
check "it holds vigil-cli, the Vulkan tests' commands, the loader and the validation layer" sh -c "
  tar -tJf '$tmp/b.tar.xz' >'$tmp/list' &&
  grep -q '^./bin/vigil-cli$' '$tmp/list' && grep -q '^./tests.sh$' '$tmp/list' &&
  grep -q '^./lib/libvulkan.so.1$' '$tmp/list' && grep -q '^./glibc/ld-linux-x86-64.so.2$' '$tmp/list' &&
  grep -q '^./layers/VkLayer_khronos_validation.json$' '$tmp/list' &&
  tar -xJOf '$tmp/b.tar.xz' ./tests.sh | grep -q '^t vulkan-ops [0-9]* .*\"\$B\"/tests/test-vulkan-ops --tap$'"
run() { # out-dir, extra env...: device-run.sh on lavapipe, a few steps only
  local out=$1; shift
  env OUT="$tmp/$out" VIGIL_DEVICE_TARBALL="$tmp/b.tar.xz" VIGIL_BUNDLE_DIR="$tmp/unpacked-$out" \
    VIGIL_DEVICE_ICD=$lvp VIGIL_DEVICE_QUICK=1 "$@" "$src/tools/device-run.sh"
}
(cd "$tmp" && VIGIL_DEVICE_ONLY='devices test-vulkan-ops gemm-b1 vit-b1-f32' run a >"$tmp/a.log" 2>&1)
check "device-run: devices, a Vulkan test, a GEMM bench and a forward bench" sh -c "
  s='$tmp/a/summary.txt'; cat \$s;
  grep -q '^OK devices:' \$s && grep -q '^OK test-vulkan-ops:' \$s && grep -q '^OK gemm-b1:' \$s &&
  grep -q '^OK vit-b1-f32:' \$s && grep -q 'gemm-b1.log:custom .*vulkan f32 .*TFLOP/s' \$s &&
  grep -q '^vit-b1-f32.log:per image: ' \$s && grep -q '^vulkan 0: llvmpipe' \$s &&
  ! grep -q FAIL \$s && test -s '$tmp/a/logs.tar.gz' && test \$(ls '$tmp/a' | wc -l) -le 8"
(cd "$tmp" && VIGIL_BUNDLE_LOADER=1 VIGIL_DEVICE_ONLY='devices test-vulkan-ops' run b >"$tmp/b.log" 2>&1)
check "device-run with the bundled glibc loader" sh -c "
  s='$tmp/b/summary.txt'; cat \$s; grep -q '^OK devices:' \$s && grep -q '^OK test-vulkan-ops:' \$s"
check "no bundle: status 3 and says how to make one" sh -c "
  OUT='$tmp/c' VIGIL_DEVICE_TARBALL='$tmp/none.tar.xz' '$src/tools/device-run.sh' >'$tmp/c.log' 2>&1;
  test \$? = 3 && grep -q 'MISSING .*device-bundle.sh' '$tmp/c/summary.txt'"
echo "1..$n"
exit $failed
