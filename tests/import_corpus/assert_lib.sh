#!/usr/bin/env bash
# expr, checked with command-as-string assertions from lib/assert.sh.
# Run from this folder: bash assert_lib.sh

. "$(dirname "$0")/lib/assert.sh"

# Arithmetic, string functions and exit statuses.

assert "expr 2 + 3" "5"
assert "expr -4 + 4" "0"
assert "expr length Ada" "3"
assert_contains "expr substr lovelace 5 4" "lace"
assert_raises "expr 1 / 0" 2
assert_raises "expr 1 + 1"
assert_fail "expr 0 + 0"
assert "echo 6 | xargs expr 7 '*'" "42"
assert "xargs expr 10 -" "7" "3"
assert "expr 3 '*' 3; expr 2 '*' 2" "9\n4"
assert "head -n 2 < $0 | tail -n 1" "# expr, checked with command-as-string assertions from lib/assert.sh."

assert_end expr
