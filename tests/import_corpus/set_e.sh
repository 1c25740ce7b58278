#!/usr/bin/env bash
# python3 -c, in a `set -e` script: every command is a check, and the first one that fails
# ends the script.
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ "$(python3 -c 'print(2 + 2)')" = 4 ]
python3 --version | grep -q '^Python 3\.'
python3 -c 'import sys; print("hello, " + sys.argv[1])' World > "$work/greeting"
diff -q "$work/greeting" data/greeting-world.expected
cd "$work"
python3 -c 'for i in (1, 2): print(i, "x 2 =", i * 2)' > table.txt
test "$(wc -l < table.txt)" -eq 2
grep -q '2 x 2 = 4' table.txt
echo "all checks passed"
