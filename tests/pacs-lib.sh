# Shell functions shared by the tests that talk to a real PACS (sourced, POSIX sh):
# TAP checks and Debian's Orthanc on loopback with a temporary configuration.
# The caller sets `dir` (a temporary folder it removes) and VIGIL_SOURCE_DIR, and
# calls pacs_stop on exit.
pacs_util="/usr/bin/python3 $VIGIL_SOURCE_DIR/tests/pacs-util.py"
orthanc=${VIGIL_ORTHANC:-/usr/sbin/Orthanc}
orthanc_pid="" n=0 failed=0

check() { # description, then a command that must succeed
  n=$((n + 1)); desc=$1; shift
  if "$@" >"$dir/out" 2>&1; then echo "ok $n - $desc"; else
    echo "not ok $n - $desc"; sed 's/^/# /' "$dir/out"; failed=1; fi
}

# pacs_start DICOM_PORT HTTP_PORT [LOG]: Orthanc (AE title ORTHANCTEST, storage
# in $dir/db, its output in LOG or $dir/orthanc.log) answering on its REST API;
# else a TAP failure on stdout and 1.
pacs_start() {
  pacs_log=${3:-$dir/orthanc.log}
  if [ ! -x "$orthanc" ]; then
    echo "1..1"
    echo "not ok 1 - Orthanc is not installed at $orthanc (tools/install-deps installs it)"
    return 1
  fi
  mkdir -p "$dir/db"
  $pacs_util config "$dir/db" "$1" "$2" >"$dir/orthanc.json" || return 1
  "$orthanc" "$dir/orthanc.json" >"$pacs_log" 2>&1 &
  orthanc_pid=$!
  if ! $pacs_util wait "$2" 30; then
    echo "1..1"; echo "not ok 1 - Orthanc started"; sed 's/^/# /' "$pacs_log"; return 1
  fi
}

pacs_stop() {
  [ -z "$orthanc_pid" ] || { kill "$orthanc_pid" 2>/dev/null && wait "$orthanc_pid" 2>/dev/null; }
  orthanc_pid=""
}
