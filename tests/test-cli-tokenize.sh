#!/bin/sh
# vigil-cli tokenize: output formats, MVFA prompts, bad text, bad vocabulary, usage errors.
set -u
cli=$1 cases=$2
n=0 failed=0
check() { # description, then a command that must succeed
  n=$((n + 1)); desc=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; failed=1; fi
}
py=/usr/bin/python3
echo "TAP version 13"
echo "1..11"
check "--help lists tokenize" sh -c "'$cli' --help | grep -q tokenize"
check "one line of 77 ids per text" sh -c "'$cli' tokenize 'a photo of a brain' '' |
  awk 'NF != 77 || \$1 != 49406 { bad = 1 } END { exit bad || NR != 2 }'"
check "ids of a reference case" sh -c "'$cli' tokenize 'a jpeg corrupted photo of the damaged Chest X-ray film.' |
  grep -q '^49406 320 73 11207 30429 775 1125 539 518 13568 10563 343 268 3077 1860 269 49407 0 0 '"
check "--json matches every case of the reference file" sh -c "
  $py -c 'import json,sys; [print(c[\"text\"]) for c in json.load(open(sys.argv[1]))[\"cases\"]]' '$cases' >/dev/null &&
  $py - '$cli' '$cases' <<'PY'
import json, subprocess, sys
cases = json.load(open(sys.argv[2]))['cases']
out = subprocess.run([sys.argv[1], 'tokenize', '--json', '--'] + [c['text'] for c in cases],
                     capture_output=True, text=True, check=True)
got = json.loads(out.stdout)['texts']
assert len(got) == len(cases)
for c, g in zip(cases, got):
    assert g['ids'] == c['ids'] and g['truncated'] == c['truncated'], c['name']
    assert g['eot_index'] == c['ids'].index(49407)
PY"
check "--mvfa-prompts gives 420 texts" sh -c "test \$('$cli' tokenize --mvfa-prompts Brain | wc -l) -eq 420"
check "invalid UTF-8 fails (1) with a message" sh -c "
  '$cli' tokenize \"\$(printf 'ok \\377')\" 2>&1 | grep -q 'not valid UTF-8';
  '$cli' tokenize \"\$(printf 'ok \\377')\"; test \$? -eq 1"
check "a missing vocabulary fails (1) naming it" sh -c "
  '$cli' tokenize --vocab /nonexistent/v.gz x 2>&1 | grep -q '/nonexistent/v.gz';
  '$cli' tokenize --vocab /nonexistent/v.gz x; test \$? -eq 1"
check "VIGIL_DATA_DIR names where the vocabulary is" sh -c "
  d=\$(mktemp -d) && mkdir \$d/clip && cp '${VIGIL_SOURCE_DIR:?}/resources/clip/bpe_simple_vocab_16e6.txt.gz' \$d/clip/ &&
  VIGIL_DATA_DIR=\$d '$cli' tokenize 'a photo' | grep -q '^49406 320 1125 49407 '; rc=\$?; rm -r \$d; exit \$rc"
check "a VIGIL_DATA_DIR without it fails (1) naming the path" sh -c "
  VIGIL_DATA_DIR=/nonexistent '$cli' tokenize x 2>&1 | grep -q '/nonexistent/clip/bpe';
  VIGIL_DATA_DIR=/nonexistent '$cli' tokenize x; test \$? -eq 1"
check "no text is a usage error (2)" sh -c "'$cli' tokenize; test \$? -eq 2"
check "unknown option is a usage error (2)" sh -c "'$cli' tokenize --bogus x; test \$? -eq 2"
exit $failed
