#!/usr/bin/env bash
# cut, in a driver test in the style of compiler test scripts: run a command, then
# `check NAME` reads its exit status. Output goes to a scratch folder; expected files are in data/.

failures=0

check() {
    if [ $? -eq 0 ]; then
        echo "PASS $1 (line ${BASH_LINENO[0]})"
    else
        echo "FAIL $1 (line ${BASH_LINENO[0]})"
        failures=$((failures + 1))
    fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf 'a:b:c\n' | cut -d: -f2 > "$work/field"
check "cut writes the field"
grep -qx b "$work/field"
check "the field is b"
cut -d, -f1 data/people.csv > "$work/names"
check "cut reads a file"
cmp -s "$work/names" data/names.expected
check "the names are the expected file"
printf 'hello\n' | cut -c 2-4 | grep -qx ell
check "cut by characters"
! cut -f 0 /dev/null 2> /dev/null
check "a field of zero is refused"

exit $failures
