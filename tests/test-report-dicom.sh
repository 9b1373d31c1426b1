#!/bin/sh
# vigil-cli report --out DIR --dicom --seg-binary on a random tiny model: the
# bundle's DICOM objects read back by dciodvfy and pydicom
# (tests/report-dicom-check.py), the refusals (a non-DICOM scan gets no
# SEG/PMAP, --dicom without --out), then the report sent with
# --send into a real PACS (Debian's Orthanc, tests/pacs-lib.sh): the source
# study holds the SEG, PMAP, SC and PDF series afterwards. Anonymised objects:
# tests/test-report-anon.sh.
set -u
cli=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/vigil-report-dicom.XXXXXX")
. "$VIGIL_SOURCE_DIR/tests/pacs-lib.sh"
cleanup() {
  pacs_stop
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
export XDG_CACHE_HOME="$dir/cache"
py=/usr/bin/python3
src=$VIGIL_SOURCE_DIR/tests
echo "TAP version 13"
"$cli" model random --preset tiny --seed 11 --out "$dir/m" >/dev/null &&
  $py "$src/dicom-series.py" "$dir/ct240" --series 1 --slices 3 --size 240 &&
  $py "$src/dicom-series.py" "$dir/ct80" --series 1 --slices 3 --size 80 &&
  $py -c "import numpy as np, sys; from PIL import Image
Image.fromarray(np.random.default_rng(3).integers(0, 256, (60, 70), dtype=np.uint8)).save(sys.argv[1])" \
    "$dir/query.png" || exit 1
rep="'$cli' report --clip '$dir/m/clip.safetensors' --adapters '$dir/m/adapters.safetensors' \
  --backend cpu --class Brain"
# shellcheck disable=SC2046
set -- $($pacs_util ports 3)
dicom=$1 http=$2 closed=$3
pacs_start "$dicom" "$http" || exit 1
echo "1..9"
check "zero-shot top 2 on 240 x 240 CT: every object valid, SEG = legend scale exactly" sh -c \
  "$rep --top 2 --out '$dir/a' --dicom --seg-binary '$dir/ct240' >'$dir/a.txt' &&
   $py '$src/report-dicom-check.py' '$dir/a' '$dir/a.txt' zero-shot exact"
check "few-shot on 80 x 80 CT: frames at the slice's size, values on the legend's scale" sh -c \
  "$rep --ref '$dir/query.png' --slice 1 --out '$dir/b' --dicom --seg-binary '$dir/ct80' \
     >'$dir/b.txt' && $py '$src/report-dicom-check.py' '$dir/b' '$dir/b.txt' few-shot"
check "a PNG scan: SC and PDF objects in one new study, no SEG or PMAP" sh -c \
  "$rep --out '$dir/png' --dicom --seg-binary '$dir/query.png' >'$dir/png.txt' &&
   test \"\$(ls '$dir/png' | tr '\n' ' ')\" = 'report-pdf.dcm report.json report.pdf report.png slice-001-sc.dcm ' &&
   $py -c 'import pydicom, sys; a, b = (pydicom.dcmread(p) for p in sys.argv[1:])
assert a.StudyInstanceUID == b.StudyInstanceUID and a.Modality == \"OT\" and b.Modality == \"DOC\"
assert a.PatientID.startswith(\"VIGIL-\") and not str(a.PatientName)' \
     '$dir/png/slice-001-sc.dcm' '$dir/png/report-pdf.dcm'"
# A CT slice that lost its Frame of Reference and Image Plane attributes (as old
# and secondary-capture images do): the SEG references it through Derivation
# Image alone, the Parametric Map is left out with a note that says why.
$py -c "import glob, sys, pydicom
d = pydicom.dcmread(sorted(glob.glob(sys.argv[1] + '/**/*.dcm', recursive=True))[0])
for k in ('FrameOfReferenceUID', 'ImagePositionPatient', 'ImageOrientationPatient',
          'PixelSpacing', 'SliceLocation'):
    if k in d: delattr(d, k)
d.save_as(sys.argv[2])" "$dir/ct80" "$dir/flat.dcm" || exit 1
check "no geometry: SEG and SC written, the PMAP left out with a note naming why" sh -c \
  "$rep --out '$dir/flat' --dicom '$dir/flat.dcm' >'$dir/flat.txt' 2>'$dir/flat.err' &&
   cat '$dir/flat.err' && test -f '$dir/flat/slice-001-seg.dcm' &&
   test -f '$dir/flat/slice-001-sc.dcm' && test ! -e '$dir/flat/slice-001-pmap.dcm' &&
   grep -q 'note: slice 1: no parametric map: .*Frame of Reference UID.*does not invent geometry' \
     '$dir/flat.err'"
check "--dicom, --seg-binary or --send without --out (or with --pdf): usage error 2" sh -c \
  "$rep --dicom --pdf '$dir/x.pdf' '$dir/ct80'; test \$? -eq 2 &&
   $rep --seg-binary --json '$dir/x.json' '$dir/ct80'; test \$? -eq 2 &&
   $rep --out '$dir/x' --send ORTHANCTEST@127.0.0.1 '$dir/ct80'; test \$? -eq 2 &&
   test ! -e '$dir/x' && test ! -e '$dir/x.pdf'"
study=$($py -c "import pydicom, sys; print(pydicom.dcmread(sys.argv[1]).StudyInstanceUID)" \
  "$dir/ct80/study0/series0/slice001.dcm")
check "the source CT slice is sent to Orthanc" sh -c \
  "'$cli' send --node ORTHANCTEST@127.0.0.1:$dicom '$dir/ct80/study0/series0/slice001.dcm'"
check "--send: the report's objects are written, printed and stored" sh -c \
  "$rep --ref '$dir/query.png' --slice 1 --out '$dir/sent' --seg-binary --calling-aet VIGILTEST \
     --send ORTHANCTEST@127.0.0.1:$dicom '$dir/ct80' >'$dir/sent.txt' && cat '$dir/sent.txt' &&
   test \"\$(grep -c ': stored\$' '$dir/sent.txt')\" -eq 5 &&
   grep -qx '$dir/sent/report-pdf.dcm: stored' '$dir/sent.txt' &&
   grep -qx '$dir/sent/report.pdf' '$dir/sent.txt'"
check "Orthanc's source study holds CT, SEG x2, PMAP, SC and PDF, each its own series" sh -c \
  "$pacs_util study $http $study >'$dir/study.txt' && cat '$dir/study.txt' &&
   test \"\$(sort '$dir/study.txt' | cut -d' ' -f1-2 | tr '\n' ,)\" = \
'CT 1.2.840.10008.5.1.4.1.1.2,CT 1.2.840.10008.5.1.4.1.1.30,DOC 1.2.840.10008.5.1.4.1.1.104.1,OT 1.2.840.10008.5.1.4.1.1.7,SEG 1.2.840.10008.5.1.4.1.1.66.4,SEG 1.2.840.10008.5.1.4.1.1.66.4,' &&
   test \"\$(cut -d' ' -f3 '$dir/study.txt' | sort -u | wc -l)\" -eq 6"
check "--send to a closed port: exit 1, the node named, the files kept" sh -c \
  "$rep --slice 1 --out '$dir/kept' --send ORTHANCTEST@127.0.0.1:$closed '$dir/ct80' \
     >'$dir/kept.txt' 2>'$dir/err'; test \$? -eq 1 && cat '$dir/err' &&
   grep -q 'sending failed (the files stay in $dir/kept).*ORTHANCTEST@127.0.0.1:$closed' '$dir/err' &&
   test \"\$(ls '$dir/kept' | wc -l)\" -eq 7"
exit $failed
