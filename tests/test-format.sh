#!/bin/sh
# Every C/C++ source is clang-formatted (.clang-format at the root).
set -u
cd "$1"
files=$(find app cli gpu model ui tests tools -name '*.c' -o -name '*.h' -o -name '*.cpp' 2>/dev/null)
if clang-format --dry-run --Werror $files; then
  echo "clang-format: $(echo "$files" | wc -l) files clean"
else
  echo "run: clang-format -i \$(git ls-files '*.c' '*.h' '*.cpp')"
  exit 1
fi
