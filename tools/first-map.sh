#!/bin/sh
# The app's time from loading a model to the first map, and its peak RSS, on
# the CPU backend: opens a CT slice, loads CLIP + adapters over D-Bus, asks
# for the slice's analysis as soon as the model is in, and reads the app's own
# "first map" debug line (G_MESSAGES_DEBUG). Prints one line:
#   first_map_s=... model_load_s=... peak_rss_mb=...
# Usage, from a build folder's parent:
#   tests/gui-session.sh tools/first-map.sh build CLIP ADAPTERS [CACHE_DIR]
# (gui-session.sh gives it a private X server, D-Bus and XDG folders: an empty
# cache, so the weights are hashed and the class's prompts go through the text
# tower; CACHE_DIR is used as XDG_CACHE_HOME instead, e.g. to keep digests.)
# FIRST_MAP_PRECISION=bf16 (or f16) sets Preferences > Precision; f32 by default.
set -u
build=$1 clip=$2 adapters=$3
precision=${FIRST_MAP_PRECISION:-f32}
case $precision in
  f32 | f16 | bf16) ;;
  *) echo "first-map.sh: FIRST_MAP_PRECISION='$precision' is not f32, f16 or bf16" >&2; exit 2 ;;
esac
vigil="$build/ui/vigil" shot="$build/tests/vg-x11-shot"
logdir=$(mktemp -d "${TMPDIR:-/tmp}/vigil-first-map.XXXXXX")
. "$(dirname "$0")/../tests/gui-lib.sh"
[ -n "${4:-}" ] && export XDG_CACHE_HOME="$4"
export GSETTINGS_SCHEMA_DIR="$build/resources" GSETTINGS_BACKEND=keyfile G_MESSAGES_DEBUG=all
mkdir -p "$XDG_CONFIG_HOME/glib-2.0/settings"
printf "[org/vigil/Vigil]\ncompute-device='cpu'\nprecision='%s'\n" "$precision" \
  >"$XDG_CONFIG_HOME/glib-2.0/settings/keyfile"
ct=/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm
log="$logdir/vigil.log"
/usr/bin/time -v -o "$logdir/time.txt" "$vigil" "$ct" >"$log" 2>&1 &
pid=$!
"$shot" Vigil "$logdir/opened.png" 60 16 >/dev/null
call load-model "[<('$clip', '$adapters')>]" "{}" || { echo "load-model failed"; exit 1; }
for i in $(seq 6000); do # 600 s at most for the load
  grep -q "model loaded in" "$log" && break
  sleep 0.1
done
call analyse-slice "[]" "{}"
for i in $(seq 9000); do # 900 s at most for the map
  grep -q "first map" "$log" && break
  sleep 0.1
done
gdbus call --session --dest org.vigil.Vigil --object-path /org/vigil/Vigil \
  --method org.gtk.Actions.Activate quit "[]" "{}" >/dev/null
wait $pid
first=$(sed -n 's/.*first map \([0-9.]*\) s.*/\1/p' "$log" | head -1)
loaded=$(sed -n 's/.*model loaded in \([0-9.]*\) s.*/\1/p' "$log" | head -1)
rss=$(awk '/Maximum resident/ { printf "%.0f", $NF / 1024 }' "$logdir/time.txt")
echo "first_map_s=${first:-none} model_load_s=${loaded:-none} peak_rss_mb=$rss"
[ -n "$first" ] || tail -20 "$log"
rm -rf "$logdir"
[ -n "$first" ]
