# test-lib.sh: what a sharness-style script sources from its test directory ($TEST_DIRECTORY).
# It sources its own helpers from there, then moves to a scratch folder of its own (removed
# when the script ends), where every test body runs.
# test_expect_success NAME BODY prints "ok N - NAME" or "not ok N - NAME" followed by the
# body; test_done prints the plan and fails when a test did.

. "$TEST_DIRECTORY/test-lib-functions.sh"

test_count=0
test_failure=0

test_expect_success() {
    test_count=$((test_count + 1))
    if (eval "$2"); then
        echo "ok $test_count - $1"
    else
        test_failure=$((test_failure + 1))
        echo "not ok $test_count - $1"
        echo "$2" | sed 's/^/#	/'
    fi
}

test_done() {
    echo "1..$test_count"
    [ "$test_failure" -eq 0 ]
}

TRASH_DIRECTORY=$(mktemp -d)
trap 'rm -rf "$TRASH_DIRECTORY"' EXIT
cd "$TRASH_DIRECTORY" || exit 1
