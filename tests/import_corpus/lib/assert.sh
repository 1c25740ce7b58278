# assert.sh: checks that take a command as a string (run with eval) and compare what it did
# with what was expected. Each check prints one PASS or FAIL line naming the caller's line and
# counts failures; the script goes on. assert_end prints the totals and fails if any check did.

_assert_passed=0
_assert_failed=0

# _assert_verdict STATUS DESCRIPTION. Its own status says nothing (with ASSERT_DOTS unset it
# is 1 after a check that held): the counters and the lines printed are the verdict.
_assert_verdict() {
    if [ "$1" -eq 0 ]; then
        _assert_passed=$((_assert_passed + 1))
        echo "PASS $2 (line ${BASH_LINENO[1]})"
    else
        _assert_failed=$((_assert_failed + 1))
        echo "FAIL $2 (line ${BASH_LINENO[1]})"
    fi
    [ -n "${ASSERT_DOTS:-}" ] && printf .
}

# assert COMMAND EXPECTED [INPUT]: the command's standard output is EXPECTED, whose `\n` and
# `\t` are a newline and a tab. INPUT, when given, is the command's standard input.
assert() {
    local got expected
    expected=$(echo -ne "$2")
    if [ $# -ge 3 ]; then
        got=$(eval "$1" 2>/dev/null <<<"$3")
    else
        got=$(eval "$1" 2>/dev/null </dev/null)
    fi
    [ "$got" = "$expected" ]
    _assert_verdict $? "assert $1"
}

# assert_contains COMMAND TEXT: the command's standard output contains TEXT.
assert_contains() {
    local got
    got=$(eval "$1" 2>/dev/null)
    case "$got" in
    *"$2"*) _assert_verdict 0 "assert_contains $1" ;;
    *) _assert_verdict 1 "assert_contains $1" ;;
    esac
}

# assert_raises COMMAND [CODE]: the command exits with CODE (0 when not given).
assert_raises() {
    eval "$1" >/dev/null 2>&1
    [ "$?" -eq "${2:-0}" ]
    _assert_verdict $? "assert_raises $1"
}

# assert_fail COMMAND: the command fails.
assert_fail() {
    ! eval "$1" >/dev/null 2>&1
    _assert_verdict $? "assert_fail $1"
}

# assert_end [NAME]: the totals; fails when a check failed.
assert_end() {
    echo "${1:-tests}: $_assert_passed passed, $_assert_failed failed"
    [ "$_assert_failed" -eq 0 ]
}
