#!/bin/bash
# tools/bench-cpu-vs-torch on the tiny preset: both engines run in each round,
# the table has the F32 row (and BF16 where the CPU has it) with a ratio, and
# a bad option is refused. TAP. Arguments: the tool, the build folder.
set -u
tool=$1 build=$2
cache=$(mktemp -d "${TMPDIR:-/tmp}/vigil-vs-torch-test.XXXXXX")
trap 'rm -rf "$cache"' EXIT
export XDG_CACHE_HOME=$cache # the tool deletes the GEMM probe's verdict: not the user's
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

out=$("$tool" --build "$build" --preset tiny --rounds 2 --iters 1 2>"$cache/err")
rc=$?
ok $rc "runs (exit $rc)"
echo "$out" | sed 's/^/# /'
echo "$out" | grep -Eq '^f32 +[0-9.]+ +[0-9.]+ +[0-9.]+x +[0-9.]+, [0-9.]+ ' ; ok $? "an F32 row with both rounds' ratios"
if grep -q avx512_bf16 /proc/cpuinfo || grep -q amx_bf16 /proc/cpuinfo; then
  echo "$out" | grep -Eq '^bf16 +[0-9.]+ +[0-9.]+ +[0-9.]+x'; ok $? "a BF16 row"
else
  echo "$out" | grep -q '^bf16'; [ $? != 0 ]; ok $? "no BF16 row without BF16 in the CPU"
fi
[ "$(grep -c 'round . done' "$cache/err")" = 2 ]; ok $? "two rounds"
"$tool" --bogus 2>/dev/null; [ $? = 2 ]; ok $? "an unknown option exits 2"
"$tool" --build "$build" --rounds 0 2>/dev/null; [ $? = 2 ]; ok $? "--rounds 0 exits 2"
"$tool" --build "$build" --iters x 2>/dev/null; [ $? = 2 ]; ok $? "--iters x exits 2"
echo "1..$n"
exit $failed
