#!/bin/sh
# Reports from the window under Xvfb: a slice is analysed, two slices are
# marked (win.mark-slice, Ctrl+M) and a findings note is typed (win.set-note,
# what the dialog's text view does); the Report dialog opens; Export writes
# the PDF, PNG, JSON and DICOM objects into a folder (win.export-report, what
# the dialog's folder chooser calls); Send to PACS (win.send-report) stores
# the DICOM objects in Debian's Orthanc, started here on loopback, in the
# scan's own study; a closed port and a wrong AE title give clear messages
# and keep the objects, which the next Send to PACS sends again once the
# node is right; the note and the marks survive the session file.
# GSettings come from a keyfile here: the PACS node is a setting.
# Usage (inside gui-session.sh): VIGIL CLI SHOT LOG_DIR SOURCE_DIR
set -u
. "$(dirname "$0")/gui-lib.sh"
vigil=$1 cli=$2 shot=$3 logdir=$4 src=$5
util="/usr/bin/python3 $src/tests/pacs-util.py"
mkdir -p "$logdir"
work=$(mktemp -d)
dir=$work VIGIL_SOURCE_DIR=$src
. "$src/tests/pacs-lib.sh"
cleanup() {
  pacs_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
export XDG_CACHE_HOME="$work/cache" G_MESSAGES_DEBUG=Vigil
log="$logdir/report-vigil.log"
echo "TAP version 13"
"$cli" model random --preset tiny --seed 3 --out "$work/m" >/dev/null || exit 1
/usr/bin/python3 "$src/tests/dicom-series.py" "$work/scan" --series 1 --slices 5 --size 64 || exit 1

# Orthanc on free loopback ports, and the app's settings pointing at it.
# shellcheck disable=SC2046
set -- $($util ports 3)
dicom=$1 http=$2 closed=$3
pacs_start "$dicom" "$http" "$logdir/report-orthanc.log" || exit 1
echo "1..12"
export GSETTINGS_BACKEND=keyfile
mkdir -p "$XDG_CONFIG_HOME/glib-2.0/settings"
# set_node PORT AET: the PACS node in the settings (the app follows the keyfile).
set_node() {
  cat >"$XDG_CONFIG_HOME/glib-2.0/settings/keyfile.new" <<EOF2
[org/vigil/Vigil]
pacs-nodes=[('Other', 'OTHER', '127.0.0.2', 11112), ('Orthanc', '$2', '127.0.0.1', $1)]
pacs-node='Orthanc'
pacs-calling-aet='VIGILTEST'
EOF2
  mv "$XDG_CONFIG_HOME/glib-2.0/settings/keyfile.new" "$XDG_CONFIG_HOME/glib-2.0/settings/keyfile"
  sleep 2
}
set_node "$dicom" ORTHANCTEST

start_vigil "$log" report-opened "$work/scan"
call load-model "[<('$work/m/clip.safetensors', '$work/m/adapters.safetensors')>]" "{}"
set -- "$(wait_for_map analyse-slice "$logdir/report-result.png" "$log")"
if awk "BEGIN { exit !($1 > 0.2) }"; then
  echo "ok 1 - a slice is analysed (coloured $1)"
else
  echo "not ok 1 - no heatmap (coloured $1)"; tail -20 "$log"
fi

# Mark the shown slice (2 of 5) and the next one, type the findings.
call mark-slice "[]" "{}"
call set-note "[<'Hypodense focus, segment VII — check'>]" "{}"
call report-dialog "[]" "{}"
sleep 2
"$shot" Report "$logdir/report-dialog.png" 30 16 >/dev/null
if grep -q "report dialog shown" "$log" && grep -q "toast: Slice 3 marked for the report (1 marked)" "$log"; then
  echo "ok 2 - the slice is marked and the Report dialog opens"
else
  echo "not ok 2 - marking or the dialog"; grep -E "toast|report" "$log" | tail -5
fi

# wait_toast TEXT [N]: the app said TEXT (N times in all) within 60 s.
wait_toast() {
  for i in $(seq 120); do
    [ "$(grep -c "toast: $1" "$log")" -ge "${2:-1}" ] && return 0
    sleep 0.5
  done
  grep "toast" "$log" | tail -3; return 1
}

call export-report "[<'$work/out'>]" "{}"
if wait_toast "Report written to $work/out"; then
  echo "ok 3 - Export writes the report into the folder"
else
  echo "not ok 3 - no report written"
fi
if [ -f "$work/out/report.pdf" ] && pdftotext "$work/out/report.pdf" - >"$work/report.txt" &&
   grep -q "Hypodense focus, segment VII" "$work/report.txt" &&
   grep -qi "not a diagnosis" "$work/report.txt" && grep -qi "uncalibrated" "$work/report.txt"; then
  echo "ok 4 - the PDF holds the note, the notice and says the score is uncalibrated"
else
  echo "not ok 4 - PDF contents"; head -40 "$work/report.txt" 2>/dev/null
fi
if /usr/bin/python3 - "$work/out" "$work/scan" <<'PY'
import glob, json, os, sys
import pydicom
out, scan = sys.argv[1:3]
report = json.load(open(os.path.join(out, "report.json")))
assert "Hypodense focus" in report["note"], report.get("note")
source = pydicom.dcmread(sorted(glob.glob(os.path.join(scan, "**", "*.dcm"), recursive=True))[0])
objects = [pydicom.dcmread(p) for p in glob.glob(os.path.join(out, "*.dcm"))]
modalities = sorted(o.Modality for o in objects)
assert "SEG" in modalities and "DOC" in modalities, modalities
assert all(o.StudyInstanceUID == source.StudyInstanceUID for o in objects)
assert all(o.SeriesInstanceUID != source.SeriesInstanceUID for o in objects)
PY
then
  echo "ok 5 - the JSON keeps the note; the DICOM objects are new series of the scan's study"
else
  echo "not ok 5 - JSON or DICOM objects"; ls -l "$work/out"
fi

call send-report "[]" "{}"
if wait_toast "Sent [0-9]* DICOM objects to Orthanc (ORTHANCTEST@127.0.0.1:$dicom)"; then
  echo "ok 6 - Send to PACS stores the DICOM objects"
else
  echo "not ok 6 - sending"
fi
study=$(/usr/bin/python3 -c "
import glob, sys, pydicom
print(pydicom.dcmread(sorted(glob.glob(sys.argv[1] + '/**/*.dcm', recursive=True))[0]).StudyInstanceUID)
" "$work/scan")
if /usr/bin/python3 - "$http" "$study" <<'PY'
import json, sys, urllib.request
http, study = sys.argv[1:3]
def get(path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{http}{path}",
                                 data=json.dumps(body).encode() if body else None)
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)
found = get("/tools/find", {"Level": "Instance", "Query": {"StudyInstanceUID": study}})
classes = {get(f"/instances/{i}/simplified-tags")["SOPClassUID"] for i in found}
wanted = {"1.2.840.10008.5.1.4.1.1.66.4": "SEG", "1.2.840.10008.5.1.4.1.1.30": "Parametric Map",
          "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture",
          "1.2.840.10008.5.1.4.1.1.104.1": "Encapsulated PDF"}
missing = [name for uid, name in wanted.items() if uid not in classes]
assert not missing, (missing, classes)
PY
then
  echo "ok 7 - Orthanc holds the SEG, Parametric Map, SC and PDF in the scan's study"
else
  echo "not ok 7 - not in Orthanc's study"
fi

# A closed port, then a node that refuses our AE title: clear messages, the
# objects kept; the next send, once the node is right, stores the same ones.
outbox="$XDG_CACHE_HOME/vigil/outbox"
set_node "$closed" ORTHANCTEST
call send-report "[]" "{}"
if wait_toast ".*ORTHANCTEST@127.0.0.1:$closed: connection refused.*are kept" &&
   [ "$(ls "$outbox" | grep -c '\.dcm$')" -gt 0 ]; then
  echo "ok 8 - a closed port: the message names the node, the objects stay in the outbox"
else
  echo "not ok 8 - closed port"; ls -l "$outbox"
fi
kept=$(ls "$outbox" | sort | tr '\n' ' ')
set_node "$dicom" NOTORTHANC
call send-report "[]" "{}"
if wait_toast ".*NOTORTHANC@127.0.0.1:$dicom rejected the association.*called AE title.*are kept" &&
   [ "$(ls "$outbox" | sort | tr '\n' ' ')" = "$kept" ]; then
  echo "ok 9 - a refused AE title: the rejection and why; the same objects kept"
else
  echo "not ok 9 - refused AE title"
fi
set_node "$dicom" ORTHANCTEST
call send-report "[]" "{}"
if wait_toast "Sending the DICOM objects kept from the failed send again" &&
   wait_toast "Sent [0-9]* DICOM objects to Orthanc (ORTHANCTEST@127.0.0.1:$dicom)" 2 &&
   [ -z "$(ls "$outbox")" ]; then
  echo "ok 10 - the retry sends the kept objects and empties the outbox"
else
  echo "not ok 10 - retry"; ls -l "$outbox"
fi

call save-session "[<'$work/study.vigil'>]" "{}" && sleep 1
if /usr/bin/python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert 'Hypodense focus' in s['note'] and [m['slice'] for m in s['marked']] == [2], s
" "$work/study.vigil"; then
  echo "ok 11 - the session keeps the note and the marked slice"
else
  echo "not ok 11 - session file"; cat "$work/study.vigil"
fi
quit_and_check $pid 12 || tail -20 "$log"
