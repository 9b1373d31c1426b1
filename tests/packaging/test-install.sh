#!/bin/sh
# meson install into a temporary destdir, then the installed tree on its own:
# every file XDG expects, the validators on the installed files, the file
# types, vigil-cli (--version, info on a scan, the vocabulary), `model import`
# of a random model, and the installed app under Xvfb analysing a scan with
# that model (no Preferences, no win.load-model). strace records every path the
# installed programs touch: none may be in the source or build tree.
# Usage (inside gui-session.sh): test-install.sh SRC BUILD PREFIX SHOT LOG_DIR MAN(yes|no)
set -u
src=$1 build=$2 prefix=$3 logdir=$5 man=$6
shot=$(cd "$(dirname "$4")" && pwd)/$(basename "$4") # the test runs elsewhere
. "$src/tests/gui-lib.sh"
mkdir -p "$logdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/dest root=$work/dest$prefix
unset GSETTINGS_SCHEMA_DIR VIGIL_MODEL_DIR VIGIL_DATA_DIR VIGIL_SOURCE_DIR
export XDG_DATA_HOME="$work/data" XDG_CACHE_HOME="$work/cache"
export XDG_DATA_DIRS="$root/share:/usr/share" PATH="$root/bin:$PATH"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { _what=$1; shift; if "$@" >"$work/out" 2>&1; then ok "$_what"; else no "$_what"; sed 's/^/# /' "$work/out"; fi; }
# strace_clean LOG: the traced programs touched nothing in the source or build tree.
strace_clean() { ! grep -F -e "\"$src/" -e "\"$build/" "$1" | head -5 | grep .; }
# traced LOG COMMAND...: COMMAND with every path it touches in LOG.
traced=$work/traced
printf '#!/bin/sh\nlog=$1; shift\nexec strace -f -qq --seccomp-bpf -e trace=%%file -o "$log" "$@"\n' >"$traced"
chmod +x "$traced"
echo "TAP version 13"

check "meson install --destdir" meson install -C "$build" --no-rebuild --quiet --destdir "$dest"
files="bin/vigil bin/vigil-cli share/applications/org.vigil.Vigil.desktop
  share/metainfo/org.vigil.Vigil.metainfo.xml share/mime/packages/org.vigil.Vigil.xml
  share/glib-2.0/schemas/org.vigil.Vigil.gschema.xml share/vigil/clip/bpe_simple_vocab_16e6.txt.gz
  share/icons/hicolor/scalable/apps/org.vigil.Vigil.svg
  share/icons/hicolor/symbolic/apps/org.vigil.Vigil-symbolic.svg"
[ "$man" = yes ] && files="$files share/man/man1/vigil.1 share/man/man1/vigil-cli.1"
missing=$(for f in $files; do [ -s "$root/$f" ] || echo "$f"; done)
if [ -z "$missing" ]; then ok "every file is installed"; else no "missing: $missing"; fi
# What a package's triggers do (meson's post-install skips them under --destdir).
check "glib-compile-schemas --strict on the installed schema" \
  glib-compile-schemas --strict "$root/share/glib-2.0/schemas"
check "update-mime-database and update-desktop-database" sh -c \
  "update-mime-database '$root/share/mime' && update-desktop-database '$root/share/applications'"
check "desktop-file-validate" desktop-file-validate "$root/share/applications/org.vigil.Vigil.desktop"
check "appstreamcli validate" appstreamcli validate --no-net "$root/share/metainfo/org.vigil.Vigil.metainfo.xml"

# File types: a session file and a NIfTI volume are recognised and open in Vigil.
printf '{\n  "format" : "vigil-session",\n  "version" : 1\n}\n' >"$work/study.vigil"
check ".vigil is application/x-vigil-session" sh -c \
  "gio info -a standard::content-type '$work/study.vigil' | grep -q 'application/x-vigil-session'"
check ".nii.gz is application/x-compressed-nifti" sh -c "cp /usr/share/mricron/templates/ch2.nii.gz '$work/' &&
  gio info -a standard::content-type '$work/ch2.nii.gz' | grep -q 'application/x-compressed-nifti'"
for type in application/x-vigil-session application/dicom application/x-nifti \
  application/x-compressed-nifti; do
  check "Vigil opens $type" sh -c "gio mime $type | grep -q org.vigil.Vigil.desktop"
done

cd "$work"
cli="$root/bin/vigil-cli"
if [ "$man" = yes ]; then
  check "the man pages say what --help says" sh -c "
    grep -q 'Import model files' '$root/share/man/man1/vigil-cli.1' &&
    '$cli' --help | grep -q 'Import model files' &&
    grep -q 'model folder' '$root/share/man/man1/vigil.1'"
fi
check "installed vigil-cli --version" sh -c "'$cli' --version | grep -qx 'vigil-cli [0-9.]*'"
check "installed vigil --version" sh -c "'$root/bin/vigil' --version | grep -qx 'vigil [0-9.]*'"
ct=/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm
check "vigil-cli info on a NIfTI and a DICOM scan, tokenize with the installed vocabulary" sh -c "
  '$traced' '$work/cli-info.trace' '$cli' info ch2.nii.gz '$ct' >'$work/info' &&
  grep -q 'NIfTI' '$work/info' && grep -q 'CT : 1 slice(s) of 128 x 128' '$work/info' &&
  '$traced' '$work/cli-tok.trace' '$cli' tokenize 'a photo' | grep -q '^49406 320 1125 49407 '"
check "vigil-cli read nothing from the source or build tree" strace_clean "$work/cli-info.trace"
check "... nor for the vocabulary" strace_clean "$work/cli-tok.trace"

"$cli" model random --preset tiny --seed 3 --out "$work/m" >/dev/null
check "vigil-cli model import installs a random model" sh -c "
  '$cli' model import --domain brain-mri '$work/m/clip.safetensors' '$work/m/adapters.pth' &&
  test -s '$XDG_DATA_HOME/vigil/models/model.json'"

log="$logdir/install-vigil.log"
printf '#!/bin/sh\nexec "%s" "%s" "%s" "$@"\n' "$traced" "$work/app.trace" "$root/bin/vigil" >"$work/vigil"
chmod +x "$work/vigil"
vigil=$work/vigil
start_vigil "$log" install-start "$work/ch2.nii.gz"
if kill -0 $pid 2>/dev/null; then ok "the installed app shows its window"; else no "the installed app did not start"; cat "$log"; fi
set -- "$(wait_for_map analyse-slice "$logdir/install-result.png" "$log" 20)"
if awk "BEGIN { exit !($1 > 0.2) }"; then
  ok "it analyses with the imported model, Preferences untouched (coloured $1)"
else
  no "no heatmap from the imported model (coloured $1)"; tail -20 "$log"
fi
if grep -q "schema.*not installed" "$log"; then no "the installed schema was not found"; else ok "its settings schema is found"; fi
n=$((n + 1)); quit_and_check $pid $n
check "the app read nothing from the source or build tree" strace_clean "$work/app.trace"
echo "1..$n"
