#!/bin/sh
# vigil-cli send against a real PACS: Debian's Orthanc on loopback with a
# temporary configuration (free ports, storage in a temporary folder, called
# AE title checked). C-ECHO, C-STORE checked through Orthanc's REST API, and
# the failures a user meets: a closed port, a wrong AE title, a file that is
# not DICOM or ends early, an object the node does not accept, a node that
# never answers.
# Orthanc and the silent listener are killed on exit, whatever happened.
set -u
cli=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/vigil-pacs-send.XXXXXX")
. "$VIGIL_SOURCE_DIR/tests/pacs-lib.sh"
util=$pacs_util silent_pid=""
cleanup() {
  pacs_stop
  [ -z "$silent_pid" ] || { kill "$silent_pid" 2>/dev/null && wait "$silent_pid" 2>/dev/null; }
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
echo "TAP version 13"
# shellcheck disable=SC2046
set -- $($util ports 4)
dicom=$1 http=$2 closed=$3 hung=$4
$util fixtures "$dir" && pacs_start "$dicom" "$http" || exit 1
uid() { cat "$dir/$1.uid"; }
node="--host 127.0.0.1 --port $dicom --aet ORTHANCTEST"
send="'$cli' send $node"
echo "1..13"
check "--echo: the node answers a C-ECHO" sh -c \
  "$send --echo | grep -qx 'C-ECHO to ORTHANCTEST@127.0.0.1:$dicom: success'"
check "--node AE@HOST:PORT and a calling AE title work too" sh -c \
  "'$cli' send --node ORTHANCTEST@127.0.0.1:$dicom --calling-aet VIGILTEST --echo"
check "a CT arrives: exit 0, 'stored', Orthanc holds its SOP instance as CT" sh -c \
  "$send '$dir/ct1.dcm' | grep -qx '$dir/ct1.dcm: stored' &&
   $util holds $http $(uid ct1) 1.2.840.10008.5.1.4.1.1.2"
check "a closed port: exit 1 at once, 'connection refused' naming the node" sh -c \
  "timeout 10 '$cli' send --host 127.0.0.1 --port $closed --aet ORTHANCTEST '$dir/ct2.dcm' \
     2>'$dir/err'; test \$? -eq 1 &&
   grep -q 'ORTHANCTEST@127.0.0.1:$closed: connection refused' '$dir/err'"
check "a wrong called AE title: exit 1, the rejection and its reason (send and echo)" sh -c \
  "'$cli' send --host 127.0.0.1 --port $dicom --aet NOTORTHANC '$dir/ct2.dcm' 2>'$dir/err';
   test \$? -eq 1 && cat '$dir/err' &&
   grep -q 'NOTORTHANC@127.0.0.1:$dicom rejected the association (permanent): the node does not recognise the called AE title' '$dir/err' &&
   '$cli' send --host 127.0.0.1 --port $dicom --aet NOTORTHANC --echo 2>&1 |
   grep -q 'rejected the association.*called AE title' &&
   $util lacks $http $(uid ct2)"
check "a retry once the AE title is right stores the file" sh -c \
  "$send '$dir/ct2.dcm' && $util holds $http $(uid ct2) 1.2.840.10008.5.1.4.1.1.2"
check "a file that is not DICOM: exit 1, named, and nothing is sent" sh -c \
  "$send '$dir/ct3.dcm' '$dir/notes.txt' 2>'$dir/err'; test \$? -eq 1 && cat '$dir/err' &&
   grep -q 'notes.txt: not a DICOM file' '$dir/err' && $util lacks $http $(uid ct3)"
check "a missing file: exit 1, named" sh -c \
  "$send '$dir/none.dcm' 2>&1 | grep -q 'none.dcm: no such file'; $send '$dir/none.dcm'; test \$? -eq 1"
check "an object the node does not accept: exit 1, named with why; the others arrive" sh -c \
  "$send '$dir/ct3.dcm' '$dir/private.dcm' '$dir/ct4.dcm' >'$dir/log' 2>'$dir/err';
   test \$? -eq 1 && cat '$dir/log' '$dir/err' &&
   grep -q 'did not store 1 of 3 file(s)' '$dir/err' &&
   grep -q 'private.dcm: not sent: the node accepts no 1.3.6.1.4.1.99999.1.1' '$dir/err' &&
   grep -qx '$dir/ct4.dcm: stored' '$dir/log' &&
   $util holds $http $(uid ct3) 1.2.840.10008.5.1.4.1.1.2 &&
   $util holds $http $(uid ct4) 1.2.840.10008.5.1.4.1.1.2 && $util lacks $http $(uid private)"
check "a file that ends early: exit 1, named; the file after it arrives" sh -c \
  "$send '$dir/truncated.dcm' '$dir/ct1.dcm' >'$dir/log' 2>'$dir/err'; test \$? -eq 1 &&
   cat '$dir/log' '$dir/err' &&
   grep -q 'truncated.dcm: not sent: the file could not be read as DICOM' '$dir/err' &&
   grep -qx '$dir/ct1.dcm: stored' '$dir/log' && $util lacks $http $(uid truncated)"
$util silent "$hung" 60 &
silent_pid=$!
sleep 0.5
check "a node that never answers: exit 1 after --timeout, 'no answer within 1 s'" sh -c \
  "timeout 10 '$cli' send --host 127.0.0.1 --port $hung --aet ORTHANCTEST --timeout 1 \
     '$dir/ct1.dcm' 2>'$dir/err'; test \$? -eq 1 && cat '$dir/err' &&
   grep -q 'ORTHANCTEST@127.0.0.1:$hung: no answer within 1 s' '$dir/err'"
check "an unknown host: exit 1, 'host not found'" sh -c \
  "$send --host no-such-host.invalid '$dir/ct1.dcm' 2>&1 | grep -q 'no-such-host.invalid:$dicom: host not found'"
check "bad AE titles and ports are usage errors (2) with the rule" sh -c \
  "'$cli' send $node --calling-aet ABCDEFGHIJKLMNOPQ --echo 2>&1 | grep -q 'at most 16' &&
   '$cli' send --host 127.0.0.1 --port 70000 --aet ORTHANCTEST --echo; test \$? -eq 2 &&
   '$cli' send --host 127.0.0.1 --port $dicom --aet 'A\\B' --echo; test \$? -eq 2 &&
   '$cli' send --node ORTHANCTEST@127.0.0.1 --echo; test \$? -eq 2"
exit $failed
