#!/bin/sh
# tools/fetch-model without the network: offline it says so in one line and
# exits 2; with --from, random test models stand in for the downloads and go
# through the checksum, the zip check and vigil-cli model import; a wrong
# checksum or a cut zip imports nothing. Usage: test-fetch-model.sh FETCH CLI
set -u
fetch=$1
export VIGIL_CLI=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache" VIGIL_MODEL_DIR="$work/models"
echo "TAP version 13"
echo "1..5"
# A proxy on a closed port: no request leaves, whatever this machine can reach.
https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 "$fetch" >"$work/out" 2>"$work/err"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q "^fetch-model: offline: " "$work/err" &&
   [ ! -s "$work/out" ] && [ ! -e "$work/models" ]; then
  echo "ok 1 - offline: one line, exit 2, nothing imported"
else
  echo "not ok 1 - offline gave exit $rc"; sed 's/^/# /' "$work/err"
fi

"$VIGIL_CLI" model random --preset tiny --seed 4 --out "$work/m" >/dev/null || exit 1
mkdir -p "$work/dl/zero-shot"
cp "$work/m/clip.safetensors" "$work/dl/open_clip_model.safetensors"
cp "$work/m/adapters.pth" "$work/dl/zero-shot/Brain.pth"
cp "$work/m/adapters.pth" "$work/dl/zero-shot/Liver.pth"
(cd "$work/dl" && zip -qr zero-shot.zip zero-shot)
sha=$(sha256sum "$work/m/clip.safetensors" | cut -d' ' -f1)

VIGIL_CLIP_SHA256=0000000000000000000000000000000000000000000000000000000000000000 \
  "$fetch" --from "$work/dl" >"$work/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "is not the published" "$work/out" && [ ! -e "$work/models" ]; then
  echo "ok 2 - a wrong CLIP checksum stops it before anything is imported"
else
  echo "not ok 2 - wrong checksum gave exit $rc"; sed 's/^/# /' "$work/out"
fi
head -c 2000 "$work/dl/zero-shot.zip" >"$work/cut.zip"
mkdir -p "$work/cut" && cp "$work/dl/open_clip_model.safetensors" "$work/cut/" &&
  cp "$work/cut.zip" "$work/cut/zero-shot.zip"
VIGIL_CLIP_SHA256=$sha "$fetch" --from "$work/cut" >"$work/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "not a complete zip" "$work/out" && [ ! -e "$work/models" ]; then
  echo "ok 3 - a cut zip is refused, nothing imported"
else
  echo "not ok 3 - cut zip gave exit $rc"; sed 's/^/# /' "$work/out"
fi
VIGIL_CLIP_SHA256=$sha "$fetch" --from "$work/dl" >"$work/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && "$VIGIL_CLI" model list >"$work/list" &&
   grep -q "^brain-mri: $work/models/adapters/brain-mri.pth" "$work/list" &&
   grep -q "^liver-ct: $work/models/adapters/liver-ct.pth" "$work/list" &&
   grep -q "^clip: $work/models/clip.safetensors" "$work/list"; then
  echo "ok 4 - verified and imported: CLIP, Brain and Liver adapters"
else
  echo "not ok 4 - import gave exit $rc"; sed 's/^/# /' "$work/out" "$work/list"
fi
if cmp -s "$work/models/clip.safetensors" "$work/m/clip.safetensors" &&
   grep -q "\"sha256\" : \"$sha\"" "$work/models/model.json"; then
  echo "ok 5 - model.json records the CLIP's SHA-256"
else
  echo "not ok 5 - model.json lacks the CLIP digest"
fi
