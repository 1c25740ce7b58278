#!/usr/bin/env bash
# A driver test in the style of compiler test scripts: run a command, then `check NAME`
# reads its exit status. Output goes to a scratch folder; expected files are in data/.

CALC=$1
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

"$CALC" add 2 3 > "$work/sum"
check "add writes the sum"
grep -qx 5 "$work/sum"
check "the sum is 5"
"$CALC" greet > "$work/greeting"
check "greet without a name"
cmp -s "$work/greeting" data/greeting.expected
check "the greeting is the expected file"
"$CALC" div 8 2 | grep -qx 4
check "div divides"
! "$CALC" div 1 0 2> /dev/null
check "division by zero fails"

exit $failures
