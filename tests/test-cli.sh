#!/bin/sh
# vigil-cli's plumbing: version, help, usage errors, devices.
set -u
cli=$1
n=0 failed=0
check() { # description, then a command that must succeed
  n=$((n + 1)); desc=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; failed=1; fi
}
echo "TAP version 13"
echo "1..8"
check "--version prints the version" sh -c "'$cli' --version | grep -qx 'vigil-cli [0-9.]*'"
check "--help lists the commands" sh -c "'$cli' --help | grep -q devices"
check "no command is a usage error (2)" sh -c "'$cli'; test \$? -eq 2"
check "unknown command is a usage error (2)" sh -c "'$cli' frobnicate 2>&1 | grep -q \"unknown command 'frobnicate'\"; '$cli' frobnicate; test \$? -eq 2"
check "unknown option is a usage error (2)" sh -c "'$cli' devices --bogus; test \$? -eq 2"
check "devices lists lavapipe and the CPU" sh -c "'$cli' devices | grep -q 'llvmpipe' && '$cli' devices | grep -q '^cpu:'"
check "devices --json is valid JSON" sh -c "'$cli' devices --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert any(x[\"backend\"]==\"cpu\" for x in d[\"devices\"])'"
check "devices says why lavapipe runs no cooperative matrices" sh -c "'$cli' devices | grep -q '^  cooperative matrix: no extension; unused: the device lacks VK_NV_cooperative_matrix' && '$cli' devices --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)[\"devices\"][0]; assert d[\"cooperative_matrix_extensions\"]==[] and \"lacks\" in d[\"cooperative_matrix_unused_because\"]'"
exit $failed
