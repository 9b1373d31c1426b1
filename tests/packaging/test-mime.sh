#!/bin/sh
# Vigil's shared-mime-info package builds a MIME database (update-mime-database
# refuses a malformed one), the session and NIfTI types come out of it by name
# and by content, and every type the desktop file opens exists there or in the
# system's database. Usage: test-mime.sh MIME_XML DESKTOP_FILE
set -u
xml=$1 desktop=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "TAP version 13"
echo "1..5"
mkdir -p "$work/share/mime/packages"
cp "$xml" "$work/share/mime/packages/org.vigil.Vigil.xml"
export XDG_DATA_DIRS="$work/share:/usr/share" XDG_DATA_HOME="$work/none"
if update-mime-database "$work/share/mime" >"$work/log" 2>&1 && ! grep -q . "$work/log"; then
  echo "ok 1 - update-mime-database takes it without a warning"
else
  echo "not ok 1 - update-mime-database: $(cat "$work/log")"
fi
printf '{\n  "format" : "vigil-session",\n  "version" : 1\n}\n' >"$work/study.vigil"
cp "$work/study.vigil" "$work/renamed.json"
type_of() { gio info -a standard::content-type "$1" | sed -n 's/.*content-type: //p'; }
if [ "$(type_of "$work/study.vigil")" = application/x-vigil-session ] &&
   [ "$(type_of "$work/renamed.json")" = application/x-vigil-session ]; then
  echo "ok 2 - a session is application/x-vigil-session by name and by content"
else
  echo "not ok 2 - session types: $(type_of "$work/study.vigil") $(type_of "$work/renamed.json")"
fi
# A NIfTI-1 header: "n+1\0" at byte 344, under a name that says nothing.
/usr/bin/python3 -c "
import sys; h = bytearray(352); h[0:4] = (348).to_bytes(4, 'little'); h[344:348] = b'n+1\0'
open(sys.argv[1], 'wb').write(h)" "$work/volume.bin"
cp "$work/volume.bin" "$work/volume.nii"
if [ "$(type_of "$work/volume.nii")" = application/x-nifti ] &&
   [ "$(type_of "$work/volume.bin")" = application/x-nifti ]; then
  echo "ok 3 - NIfTI is application/x-nifti by name and by content"
else
  echo "not ok 3 - NIfTI types: $(type_of "$work/volume.nii") $(type_of "$work/volume.bin")"
fi
gzip -c "$work/volume.nii" >"$work/volume.nii.gz"
if [ "$(type_of "$work/volume.nii.gz")" = application/x-compressed-nifti ]; then
  echo "ok 4 - a gzipped NIfTI is application/x-compressed-nifti"
else
  echo "not ok 4 - .nii.gz is $(type_of "$work/volume.nii.gz")"
fi
unknown=""
for t in $(sed -n 's/^MimeType=//p' "$desktop" | tr ';' ' '); do
  [ -f "$work/share/mime/$t.xml" ] || [ -f "/usr/share/mime/$t.xml" ] || unknown="$unknown $t"
done
if [ -z "$unknown" ]; then
  echo "ok 5 - every MimeType of the desktop file is a known type"
else
  echo "not ok 5 - unknown types in the desktop file:$unknown"
fi
