#!/bin/sh
# grep, in POSIX sh with no library: each check says PASS or FAIL with its line, and the
# script goes on.

failures=0

pass() { echo "PASS $2 (line $1)"; }
fail() {
    echo "FAIL $2 (line $1)"
    failures=$((failures + 1))
}

[ "$(printf 'a\nb\na\n' | grep -c a)" = 2 ] && pass $LINENO "count" || fail $LINENO "count"
printf 'hello\n' | grep -q hello && pass $LINENO "match" || fail $LINENO "match"
test "$(printf 'x1\ny2\n' | grep -v x)" = y2 && pass $LINENO "invert" || fail $LINENO "invert"
if grep -q anything /dev/null; then fail $LINENO "no match"; else pass $LINENO "no match"; fi
grep -q x /nonexistent/file 2>/dev/null; [ $? -eq 2 ] || fail $LINENO "a missing file is status 2"
[ -z "$(grep x /nonexistent/file 2>/dev/null)" ] || fail $LINENO "nothing on standard output after an error"

[ "$failures" -eq 0 ]
