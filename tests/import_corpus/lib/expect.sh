# expect.sh: checks that take the command as separate words (no eval) and print
# "PASS|FAIL what (line N)" for the line that called them; the script goes on.

# _expect_verdict STATUS DESCRIPTION
_expect_verdict() {
    if [ "$1" -eq 0 ]; then
        echo "PASS $2 (line ${BASH_LINENO[1]})"
    else
        echo "FAIL $2 (line ${BASH_LINENO[1]})"
        _expect_failures=$((${_expect_failures:-0} + 1))
    fi
}

# expect_run CODE COMMAND ARGS...: the command exits with CODE.
expect_run() {
    local want=$1
    shift
    "$@" >/dev/null 2>&1
    [ "$?" -eq "$want" ]
    _expect_verdict $? "expect_run $want $*"
}

# test_eq A B: two values are the same.
test_eq() {
    [ "$1" = "$2" ]
    _expect_verdict $? "test_eq '$1' '$2'"
}

# succeeds COMMAND ARGS...
succeeds() {
    "$@" >/dev/null 2>&1
    _expect_verdict $? "succeeds $*"
}

# fails COMMAND ARGS...
fails() {
    ! "$@" >/dev/null 2>&1
    _expect_verdict $? "fails $*"
}

# contains TEXT COMMAND ARGS...: the command's standard output contains TEXT.
contains() {
    local text=$1 out
    shift
    out=$("$@" 2>/dev/null)
    case "$out" in
    *"$text"*) _expect_verdict 0 "contains '$text' $*" ;;
    *) _expect_verdict 1 "contains '$text' $*" ;;
    esac
}
