#!/usr/bin/env bash
# sort, judged by the lines that read `$?` after each command: past a comment and a blank
# line, after a block and after a here-document, and `check NAME` (whose body reads it) after
# a command that prints a line like a passed check's report.

pass() { echo "PASS $1 (line $2)"; }
fail() { echo "FAIL $1 (line $2)"; }
check() {
    if [ $? -eq 0 ]; then pass "$1" "$2"; else fail "$1" "$2"; fi
}

printf '10\n9\n' | sort -n | head -n 1 | grep -qx 9
# nine comes first as a number

[ $? -eq 0 ] && pass "numbers in order" $LINENO || fail "numbers in order" $LINENO

printf 'b\na\n' | sort | head -n 1 | grep -qx a
# words in dictionary order
if [ $? -eq 0 ]; then pass "words in order" $LINENO; else fail "words in order" $LINENO; fi

if command -v sort > /dev/null; then
    printf '3\n20\n100\n' | sort -n | tail -n 1 | grep -qx 100
fi
[ $? -eq 0 ] && pass "largest last" $LINENO || fail "largest last" $LINENO

sort -n -c <<NUMBERS 2> /dev/null
2
10
NUMBERS
[ $? -eq 0 ] && pass "already in order" $LINENO || fail "already in order" $LINENO

printf 'ok 10\nok 9\n' | sort -k2 -n | head -n 1 | grep -x 'ok 9'
check "fields sort as numbers" $LINENO
