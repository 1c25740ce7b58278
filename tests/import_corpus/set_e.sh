#!/usr/bin/env bash
# A `set -e` script: every command is a check, and the first one that fails ends the script.
set -euo pipefail

CALC=${1:-./calc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ "$("$CALC" add 2 2)" = 4 ]
"$CALC" version | grep -q '^calc 1\.'
"$CALC" greet World > "$work/greeting"
diff -q "$work/greeting" data/greeting-world.expected
cd "$work"
"$CALC" table 2 > table.txt
test "$(wc -l < table.txt)" -eq 2
grep -q '2 x 2 = 4' table.txt
echo "all checks passed"
