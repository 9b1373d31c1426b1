#!/bin/bash
# Packs what a GPU machine needs to test and time Vigil's Vulkan engine into
# .device/vigil-device.tar.xz, for tools/device-run.sh to unpack and run there.
#
# Why a bundle: the device machines lent to this project run a CUDA image
# (Ubuntu, Python, nvcc) without glslang, GLib, DCMTK or OpenBLAS, and nothing
# can be installed there. So the engine, vigil-cli and the Vulkan tests are
# built here (Debian 12), and the bundle carries every shared library they load
# (ldd's closure), Debian's Vulkan loader and validation layer, and the
# Vulkan suite's test commands (from meson introspect). glibc's own libraries
# go in a separate folder: device-run.sh starts the programs through the
# bundled loader only when the machine's glibc cannot run them.
#
# Usage: tools/device-bundle.sh   (then: run tools/device-run.sh there, with
# carry [".device"]). VIGIL_BUILD=dir reuses a build directory;
# VIGIL_BUNDLE_STAGE / VIGIL_BUNDLE_OUT / VIGIL_BUNDLE_XZ set the staging
# folder, the tarball and xz's level (for tests).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${VIGIL_BUILD:-build-device}
STAGE=${VIGIL_BUNDLE_STAGE:-$BUILD-bundle}
TARBALL=${VIGIL_BUNDLE_OUT:-.device/vigil-device.tar.xz}
XZ_LEVEL=${VIGIL_BUNDLE_XZ:--6} # tests/test-device-bundle.sh packs faster
py=/usr/bin/python3

if [ ! -f "$BUILD/build.ninja" ]; then
  # vulkan_test_icd= (empty): the tests use whatever driver the machine has.
  meson setup "$BUILD" --buildtype=debugoptimized -Dgui=false -Dvulkan_test_icd=
fi
ninja -C "$BUILD"
BUILD_ABS=$(cd "$BUILD" && pwd)

rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,lib,glibc,layers,build/cli,build/tests,data/clip}

# The Vulkan suite's commands, minus the spirv-val ones (no SPIRV-Tools
# there; they ran here) and the argument-parsing one (a should_fail test that
# introspection does not mark), as a script of `t NAME TIMEOUT [VAR=VALUE...] CMD...`
# lines with $S (the source tree) and $B (the bundle's build tree) in paths.
meson introspect "$BUILD" --tests | "$py" -c '
import json, shlex, sys
src, build = sys.argv[1], sys.argv[2]
def path(a):
    if a.startswith(build + "/"):
        return "\"$B\"" + shlex.quote(a[len(build):])
    if a.startswith(src + "/"):
        return "\"$S\"" + shlex.quote(a[len(src):])
    return shlex.quote(a)
drop = {"VK_DRIVER_FILES", "VK_ICD_FILENAMES", "GSETTINGS_SCHEMA_DIR", "VIGIL_SOURCE_DIR"}
for t in json.load(sys.stdin):
    if ("vigil:vulkan" not in t["suite"] or t["name"].startswith("spirv-")
            or t["name"].endswith("-bad-args")):
        continue
    env = [k + "=" + path(v) for k, v in sorted(t["env"].items()) if k not in drop]
    print(" ".join(["t", shlex.quote(t["name"]), str(t["timeout"] or 60)] + env +
                   [path(a) for a in t["cmd"]]))
' "$SRC" "$BUILD_ABS" >"$STAGE/tests.sh"
echo "vulkan tests: $(wc -l <"$STAGE/tests.sh")"

# The programs those commands and the benchmarks run.
progs=(cli/vigil-cli)
for p in $(grep -o '"$B"/[^ ]*' "$STAGE/tests.sh" | sed 's|"$B"/||' | sort -u); do
  [ -x "$BUILD/$p" ] && [ ! -d "$BUILD/$p" ] && file -b "$BUILD/$p" | grep -q ELF && progs+=("$p")
done
progs+=(tests/bench-gemm)
progs=($(printf '%s\n' "${progs[@]}" | sort -u))

glibc_re='^(ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libresolv\.so\.2|libmvec\.so\.1|libutil\.so\.1)$'
copy_deps() { # copies the shared libraries `$1` loads into lib/ or glibc/
  ldd "$1" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' | while read -r so; do
    name=$(basename "$so")
    if [[ $name =~ $glibc_re ]]; then dest=glibc; else dest=lib; fi
    [ -e "$STAGE/$dest/$name" ] || cp -L "$so" "$STAGE/$dest/$name"
  done
}
for p in "${progs[@]}"; do
  name=$(basename "$p")
  objcopy --strip-debug "$BUILD/$p" "$STAGE/bin/$name"
  copy_deps "$BUILD/$p"
  # What the test commands call: a wrapper at the build tree's path.
  cat >"$STAGE/build/$p" <<EOF
#!/bin/sh
# Runs the bundled $name (tools/device-run.sh sets VIGIL_BUNDLE).
if [ -n "\${VIGIL_BUNDLE_LOADER:-}" ]; then
  exec "\$VIGIL_BUNDLE/glibc/ld-linux-x86-64.so.2" --library-path "\$VIGIL_BUNDLE/glibc:\$LD_LIBRARY_PATH" \\
    "\$VIGIL_BUNDLE/bin/$name" "\$@"
fi
exec "\$VIGIL_BUNDLE/bin/$name" "\$@"
EOF
  chmod +x "$STAGE/build/$p"
done
# The loader itself is needed even when ldd lists it by another path.
cp -L /lib64/ld-linux-x86-64.so.2 "$STAGE/glibc/"
# libGLdispatch (glvnd) and the X libraries: NVIDIA's Vulkan driver,
# libGLX_nvidia.so.0, loads them, and a bare image may lack them.
for so in libvulkan.so.1 libVkLayer_khronos_validation.so libGLdispatch.so.0 libXext.so.6; do
  f=$(ldconfig -p | awk -v n="$so" '$1 == n && /x86-64/ && !f { print $NF; f = 1 }')
  [ -n "$f" ] || f=/usr/lib/x86_64-linux-gnu/$so
  [ -e "$STAGE/lib/$so" ] || cp -L "$f" "$STAGE/lib/$so"
  copy_deps "$f"
done
mv "$STAGE/lib/libVkLayer_khronos_validation.so" "$STAGE/layers/"
sed 's|"library_path": *"[^"]*"|"library_path": "./libVkLayer_khronos_validation.so"|' \
  /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json \
  >"$STAGE/layers/VkLayer_khronos_validation.json"
cp resources/clip/bpe_simple_vocab_16e6.txt.gz "$STAGE/data/clip/"
git -C "$SRC" log -1 --format='%H %s' >"$STAGE/commit.txt"
git -C "$SRC" status --short >>"$STAGE/commit.txt"

mkdir -p "$(dirname "$TARBALL")"
tar -C "$STAGE" -cf - . | xz -T2 "$XZ_LEVEL" >"$TARBALL"
echo "$TARBALL: $(du -h "$TARBALL" | cut -f1)," \
  "${#progs[@]} programs, $(ls "$STAGE/lib" | wc -l) libraries, $(ls "$STAGE/glibc" | wc -l) glibc files"
