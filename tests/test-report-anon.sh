#!/bin/sh
# vigil-cli report --anonymise with DICOM objects on a random tiny model: a CT
# with planted identity values and distinctive UIDs gives a bundle in which no
# file holds any of them (tests/report-anon-check.py: raw bytes and decoded
# text, DICOM per the basic de-identification profile, objects agreeing on the
# replaced references, dciodvfy); --formats picks formats; and the write
# faults: a read-only folder, a path under a regular file, a full disk
# (ulimit -f) and a non-ASCII folder name give a clear message, exit 1 and no
# partial file.
set -u
cli=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/vigil-report-anon.XXXXXX")
. "$VIGIL_SOURCE_DIR/tests/pacs-lib.sh" # check(); no PACS is started
trap 'rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM HUP
export XDG_CACHE_HOME="$dir/cache"
py=/usr/bin/python3
src=$VIGIL_SOURCE_DIR/tests
echo "TAP version 13"
"$cli" model random --preset tiny --seed 11 --out "$dir/m" >/dev/null &&
  $py "$src/dicom-series.py" "$dir/ct" --series 1 --slices 2 --size 80 || exit 1
# The identity a hospital's CT carries, every value distinctive enough that a
# byte search cannot match by chance; a private tag repeats the name.
cat >"$dir/planted" <<'EOF'
Zzplanted
Hortensia
PID-77341
19370411
ACC-99812
Klinikum Quappendorf
Quappendorfer Weg 7
Drquack
Ottokar
STUDY-4411
Knie links Zzstudy
EOF
$py -c "import glob, sys, pydicom
for i, p in enumerate(sorted(glob.glob(sys.argv[1] + '/study0/series0/*.dcm'))):
    ds = pydicom.dcmread(p)
    ds.PatientName, ds.PatientID = 'Zzplanted^Hortensia', 'PID-77341'
    ds.PatientBirthDate, ds.PatientSex, ds.PatientAge = '19370411', 'F', '089Y'
    ds.AccessionNumber, ds.StudyID = 'ACC-99812', 'STUDY-4411'
    ds.InstitutionName, ds.InstitutionAddress = 'Klinikum Quappendorf', 'Quappendorfer Weg 7'
    ds.ReferringPhysicianName, ds.StudyDescription = 'Drquack^Ottokar', 'Knie links Zzstudy'
    ds.StudyInstanceUID = '1.2.826.0.1.3680043.2.1143.915551'
    ds.SeriesInstanceUID = '1.2.826.0.1.3680043.2.1143.915552'
    ds.FrameOfReferenceUID = '1.2.826.0.1.3680043.2.1143.915553'
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = \
        '1.2.826.0.1.3680043.2.1143.91556%d' % i
    ds.private_block(0x0009, 'ACME 1.0', create=True).add_new(0x01, 'LO', 'Zzplanted Hortensia')
    ds.save_as(p)" "$dir/ct" || exit 1
$py -c "import numpy as np, sys; from PIL import Image
Image.fromarray(np.random.default_rng(3).integers(0, 256, (60, 70), dtype=np.uint8)).save(sys.argv[1])" \
  "$dir/Zzplanted-scan.png" || exit 1
rep="'$cli' report --clip '$dir/m/clip.safetensors' --adapters '$dir/m/adapters.safetensors' \
  --backend cpu --class Brain"
echo "1..11"
check "--anonymise --dicom --seg-binary, top 2: no identity or source UID in any file; \
objects de-identified, in one new study, agreeing on the replaced source" sh -c \
  "$rep --anonymise --top 2 --out '$dir/a' --dicom --seg-binary '$dir/ct' >'$dir/a.txt' &&
   test \"\$(wc -l <'$dir/a.txt')\" -eq 12 &&
   $py '$src/report-anon-check.py' '$dir/a' '$dir/planted' '$dir'/ct/study0/series0/*.dcm"
check "a second anonymised export is another new study, unrelated to the first" sh -c \
  "$rep --anonymise --out '$dir/a2' --formats sc '$dir/ct' >/dev/null &&
   test \"\$(ls '$dir/a2')\" = slice-001-sc.dcm &&
   $py -c 'import pydicom, sys
a, b, s = (pydicom.dcmread(p) for p in sys.argv[1:])
assert a.StudyInstanceUID != b.StudyInstanceUID != s.StudyInstanceUID, \"studies\"
assert a.PatientIdentityRemoved == \"YES\"
assert a.SourceImageSequence[0].ReferencedSOPInstanceUID != s.SOPInstanceUID' \
     '$dir/a2/slice-001-sc.dcm' '$dir/a/slice-001-sc.dcm' '$dir/ct/study0/series0/slice000.dcm'"
check "an anonymised PNG scan: SC and PDF objects marked de-identified, its file name nowhere" sh -c \
  "$rep --anonymise --out '$dir/p' --dicom '$dir/Zzplanted-scan.png' >/dev/null &&
   test \"\$(ls '$dir/p' | tr '\n' ' ')\" = \
'report-pdf.dcm report.json report.pdf report.png slice-001-sc.dcm ' &&
   ! grep -r -l -a Zzplanted '$dir/p' && $py -c 'import pydicom, sys
a, b = (pydicom.dcmread(p) for p in sys.argv[1:])
for d in a, b:
    assert d.PatientIdentityRemoved == \"YES\" and not str(d.PatientName), d
    assert d.DeidentificationMethodCodeSequence[0].CodeValue == \"113100\"
assert a.StudyInstanceUID == b.StudyInstanceUID and a.PatientID == b.PatientID' \
     '$dir/p/slice-001-sc.dcm' '$dir/p/report-pdf.dcm'"
check "--formats pdf,seg,dcmpdf writes just those, and prints them" sh -c \
  "$rep --out '$dir/f' --formats 'pdf, SEG,dcmpdf' '$dir/ct' >'$dir/f.txt' &&
   test \"\$(ls '$dir/f' | tr '\n' ' ')\" = 'report-pdf.dcm report.pdf slice-001-seg.dcm ' &&
   test \"\$(cat '$dir/f.txt' | tr '\n' ' ')\" = \
'$dir/f/report.pdf $dir/f/slice-001-seg.dcm $dir/f/report-pdf.dcm '"
check "--formats with an unknown name, or with --pdf: usage error 2 naming the formats" sh -c \
  "$rep --out '$dir/u' --formats pdf,dicom '$dir/ct' 2>'$dir/err'; test \$? -eq 2 &&
   cat '$dir/err' && grep -q \"unknown report format 'dicom'; the formats are pdf, png, json, \
seg, seg-binary, pmap, sc, dcmpdf\" '$dir/err' &&
   $rep --formats pdf --pdf '$dir/u.pdf' '$dir/ct'; test \$? -eq 2 &&
   $rep --out '$dir/u' --formats json --send AE@127.0.0.1:4242 '$dir/ct'; test \$? -eq 2 &&
   test ! -e '$dir/u' && test ! -e '$dir/u.pdf'"
# Read-only folder: the tests run as root, for whom permissions do not stop a
# write, so the report runs as nobody (util-linux's setpriv) into a folder
# nobody may not write; run by another user it is that user's own folder.
mkdir -p "$dir/ro" "$dir/nobody-cache" && chmod 555 "$dir/ro" && chmod 777 "$dir/nobody-cache" &&
  chmod 755 "$dir" || exit 1
asuser=""
[ "$(id -u)" -ne 0 ] ||
  asuser="setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_CACHE_HOME=$dir/nobody-cache"
check "a read-only folder: exit 1, the folder named, nothing written" sh -c \
  "$asuser $rep --anonymise --dicom --out '$dir/ro' '$dir/ct' 2>'$dir/err'; test \$? -eq 1 &&
   cat '$dir/err' &&
   grep -q 'cannot write $dir/ro/report.pdf: the folder $dir/ro is missing or not writable' \
     '$dir/err' && test -z \"\$(ls -A '$dir/ro')\""
printf 'not a folder\n' >"$dir/file"
check "--out under a regular file: exit 1, why, the file untouched" sh -c \
  "$rep --anonymise --dicom --out '$dir/file/sub' '$dir/ct' 2>'$dir/err'; test \$? -eq 1 &&
   cat '$dir/err' &&
   grep -q 'cannot create the folder $dir/file/sub: Not a directory' '$dir/err' &&
   test \"\$(cat '$dir/file')\" = 'not a folder'"
# A full disk: a file size limit (ulimit -f, in blocks of 512 bytes in dash
# and 1024 in bash: 200 or 400 KiB) that the PDF, PNG, JSON, SEGs and PMAP
# fit under and the secondary capture (900 KiB of RGB) does not, so the
# files written before it must be taken back.
mkdir "$dir/full"
check "a full disk (ulimit -f) at the SC: exit 1, why, the folder left empty" sh -c \
  "(ulimit -f 400; $rep --anonymise --dicom --seg-binary --out '$dir/full' '$dir/ct') \
     >'$dir/full.txt' 2>'$dir/err'; test \$? -eq 1 && cat '$dir/err' &&
   grep -q 'cannot write $dir/full/slice-001-sc.dcm: it is larger than the file size limit' \
     '$dir/err' && test -z \"\$(ls -A '$dir/full')\" && test ! -s '$dir/full.txt'"
check "a full disk at the first file: the folder the call made is removed" sh -c \
  "(ulimit -f 20; $rep --out '$dir/full2' '$dir/ct') 2>'$dir/err'; test \$? -eq 1 &&
   cat '$dir/err' && grep -q 'cannot write the PDF $dir/full2/report.pdf: .*File too large' \
     '$dir/err' && test ! -e '$dir/full2'"
# A folder whose name is not ASCII: written as any other, its name printed as
# given (UTF-8); and a failure in it names it right and leaves nothing.
na="$dir/Bericht-Größe-報告"
check "a non-ASCII folder name: every file written there, paths printed as given" sh -c \
  "$rep --anonymise --out '$na' --formats pdf,json,seg,sc,dcmpdf '$dir/ct' >'$dir/na.txt' &&
   test \"\$(ls '$na' | tr '\n' ' ')\" = \
'report-pdf.dcm report.json report.pdf slice-001-sc.dcm slice-001-seg.dcm ' &&
   test \"\$(head -1 '$dir/na.txt')\" = '$na/report.pdf' && $py -c 'import pydicom, sys
assert pydicom.dcmread(sys.argv[1]).PatientIdentityRemoved == \"YES\"' '$na/slice-001-seg.dcm'"
rm -rf "$na" && mkdir "$na"
check "a non-ASCII folder on a full disk: exit 1, the folder named in UTF-8, left empty" sh -c \
  "(ulimit -f 400; $rep --anonymise --dicom --out '$na' '$dir/ct') 2>'$dir/err';
   test \$? -eq 1 && cat '$dir/err' &&
   grep -q 'cannot write $na/slice-001-sc.dcm: it is larger than the file size limit' \
     '$dir/err' && test -z \"\$(ls -A '$na')\""
exit $failed
