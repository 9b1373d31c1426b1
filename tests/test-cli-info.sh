#!/bin/sh
# vigil-cli info on generated DICOM fixtures: text, JSON, per-file errors, exit codes.
set -u
cli=$1
n=0 failed=0
dir=$(mktemp -d "${TMPDIR:-/tmp}/vigil-cli-info.XXXXXX")
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 "$VIGIL_SOURCE_DIR/tests/dicom-fixtures.py" "$dir" || exit 1
check() { # description, then a command that must succeed
  n=$((n + 1)); desc=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; failed=1; fi
}
echo "TAP version 13"
echo "1..7"
check "--help lists info" sh -c "'$cli' --help | grep -q '^  info '"
check "a series ordered by position, 12 slices" sh -c \
  "'$cli' info '$dir/series_pos' | grep -q '12 slice(s) of 8 x 8 MONOCHROME2.*ordered by position'"
check "--json: slices in position order, metadata, errors listed" sh -c "'$cli' info --json \
  '$dir/series_pos' '$dir/mixed_bag' | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
series = [se for st in d[\"studies\"] for se in st[\"series\"]]
pos = [se for se in series if se[\"description\"] == \"series_pos\"][0]
locs = [s[\"location\"] for s in pos[\"slices\"]]
assert locs == sorted(locs) and len(locs) == 12, locs
assert abs(pos[\"slice_spacing\"] - 2.5) < 1e-3 and pos[\"pixel_spacing\"] == [0.7, 0.7]
assert any(st[\"patient_name\"] == \"CompressedSamples^CT1\" for st in d[\"studies\"])
errs = {e[\"path\"].rsplit(\"/\", 1)[1]: e[\"message\"] for e in d[\"errors\"]}
assert \"not a DICOM file\" in errs[\"notes.txt\"] and \"j2k.dcm\" not in errs, errs
'"
check "the transfer syntax and LOSSY are named (text and JSON)" sh -c "
  '$cli' info '$dir/pd_693_J2KI.dcm' >'$dir/lossy.txt' &&
  grep -q '; JPEG 2000 Image Compression; ' '$dir/lossy.txt' &&
  grep -q 'LOSSY: 1 of 1 slice(s) went through lossy compression, ratio ' '$dir/lossy.txt' &&
  '$cli' info --json '$dir/pd_693_J2KI.dcm' '$dir/u16_j2k.dcm' | /usr/bin/python3 -c '
import json, sys
s = {se[\"transfer_syntaxes\"]: se[\"lossy_slices\"] for st in json.load(sys.stdin)[\"studies\"] for se in st[\"series\"]}
assert s == {\"JPEG 2000 Image Compression\": 1, \"JPEG 2000 Image Compression (Lossless Only)\": 0}, s'"
check "MONOCHROME1 windows are listed with explanations" sh -c \
  "'$cli' info '$dir/mono1.dcm' | grep -q 'window 3095 / 400 SOFT'"
check "nothing opened exits 1 and says why" sh -c \
  "'$cli' info '$dir/mixed_bag/notes.txt' 2>&1 | grep -q 'not a DICOM file'; \
   '$cli' info '$dir/mixed_bag/notes.txt' 2>/dev/null; test \$? -eq 1"
check "no PATH is a usage error (2)" sh -c "'$cli' info; test \$? -eq 2"
exit $failed
