# test-lib-compare.sh: test_cmp EXPECTED ACTUAL, the files equal (a diff when they are not).

test_cmp() {
    diff -u "$@"
}
