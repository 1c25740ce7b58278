# test-lib-functions.sh: the helpers test bodies call, sourced by test-lib.sh. The
# comparison of files comes from beside this file.

. "${BASH_SOURCE%/*}/test-lib-compare.sh"

# test_must_fail COMMAND...: the command fails by itself (a status from 1 to 125), not by a
# signal or by not being found.
test_must_fail() {
    "$@"
    status=$?
    if [ "$status" -eq 0 ]; then
        echo "test_must_fail: $1 succeeded" >&2
        return 1
    elif [ "$status" -gt 125 ]; then
        echo "test_must_fail: $1 ended with status $status" >&2
        return 1
    fi
    return 0
}

# test_grep [GREP OPTIONS] PATTERN FILE: grep, saying what the file held when it fails.
test_grep() {
    if grep "$@" >/dev/null; then
        return 0
    fi
    eval "last=\${$#}"
    echo "test_grep: no match for '$*' in:" >&2
    sed 's/^/	/' "$last" >&2
    return 1
}
