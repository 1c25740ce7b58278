#!/usr/bin/env bash
# calc, checked with command-as-string assertions from lib/assert.sh.
# Run from this folder: bash assert_lib.sh ./calc

. "$(dirname "$0")/lib/assert.sh"

CALC=${1:-./calc}

assert "$CALC add 2 3" "5"
assert "$CALC add -4 4" "0"
assert "$CALC greet Ada" "hello, Ada"
assert_contains "$CALC version" "calc 1."
assert_raises "$CALC div 1 0" 2
assert_raises "$CALC add 1 1"
assert_fail "$CALC frobnicate"
assert "echo abc | $CALC upper" "ABC"
assert "$CALC upper" "SHOUT" "shout"
assert "$CALC table 2" "1 x 2 = 2\n2 x 2 = 4"
assert "head -n 2 < $0 | tail -n 1" "# calc, checked with command-as-string assertions from lib/assert.sh."

assert_end calc
