#!/bin/sh
# The repository stands alone: a user's clone has nothing beside it, so no
# file may read the developers' reference folder next to the checkout.
# Usage: test-standalone.sh SOURCE_DIR
set -u
cd "$1" || exit 1
echo "TAP version 13"
echo "1..1"
# Every file of the project (build folders and git's own data aside); the
# pattern is split so that this script does not match itself.
pattern='\.\./'"shared"
hits=$(grep -rlI --exclude-dir=.git --exclude-dir='build*' --exclude-dir=.device \
  --exclude-dir=.whl -e "$pattern" . 2>/dev/null)
if [ -z "$hits" ]; then
  echo "ok 1 - no file names the reference folder beside the checkout"
else
  echo "not ok 1 - these files name it:"
  echo "$hits" | sed 's/^/# /'
  exit 1
fi
