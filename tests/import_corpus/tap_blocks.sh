#!/usr/bin/env bash
# calc, in TAP blocks: each block is one test, run with `set -e` in a subshell.
. "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

CALC="$1"

begin_test "adding"
(
    set -e
    [ "$("$CALC" add 1 2)" = 3 ]
    [ "$("$CALC" add 10 -3)" = 7 ]
)
end_test

begin_test "greeting and version"
(
    set -e
    "$CALC" greet Lin | grep -q '^hello, Lin$'
    "$CALC" version | grep -q 'calc 1'
)
end_test

begin_test "reading standard input"
(
    set -e
    out=$(printf 'mixed Case\n' | "$CALC" upper)
    [ "$out" = "MIXED CASE" ]
)
end_test

begin_test "errors go to standard error with a status"
(
    set -e
    ! "$CALC" div 3 0 2>/dev/null
    "$CALC" div 3 0 2>&1 >/dev/null | grep -q 'division by zero'
)
end_test
