#!/bin/sh
# POSIX sh, no library: each check says PASS or FAIL with its line, and the script goes on.

CALC=$1
failures=0

pass() { echo "PASS $2 (line $1)"; }
fail() {
    echo "FAIL $2 (line $1)"
    failures=$((failures + 1))
}

[ "$($CALC add 3 4)" = 7 ] && pass $LINENO "add" || fail $LINENO "add"
$CALC greet | grep -q hello && pass $LINENO "greet" || fail $LINENO "greet"
test "$($CALC div 9 3)" -eq 3 && pass $LINENO "div" || fail $LINENO "div"
if $CALC div 1 0 2>/dev/null; then fail $LINENO "division by zero"; else pass $LINENO "division by zero"; fi
$CALC version >/dev/null || fail $LINENO "version"
[ -z "$($CALC div 0 0 2>/dev/null)" ] || fail $LINENO "nothing on standard output after an error"

[ "$failures" -eq 0 ]
