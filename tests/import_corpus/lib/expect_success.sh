# expect_success.sh: tests named first, with a body the library evaluates, in the style of
# git's own test suite. test_expect_success [PREREQ] NAME BODY prints "ok N - NAME" or
# "not ok N - NAME" (prerequisites are taken as met); test_expect_failure NAME BODY marks a
# known breakage, reported with "# TODO" and never counted as a failure; test_done prints the
# plan and fails when a test did.

test_count=0
test_failures=0

test_expect_success() {
    [ $# -eq 3 ] && shift
    test_count=$((test_count + 1))
    if (eval "$2") >/dev/null 2>&1; then
        echo "ok $test_count - $1"
    else
        test_failures=$((test_failures + 1))
        echo "not ok $test_count - $1"
    fi
}

test_expect_failure() {
    test_count=$((test_count + 1))
    if (eval "$2") >/dev/null 2>&1; then
        echo "ok $test_count - $1 # TODO known breakage vanished"
    else
        echo "not ok $test_count - $1 # TODO known breakage"
    fi
}

# test_expect_code CODE COMMAND...: the command exits with CODE.
test_expect_code() {
    want=$1
    shift
    "$@"
    [ $? -eq "$want" ]
}

test_done() {
    echo "1..$test_count"
    [ "$test_failures" -eq 0 ]
}
