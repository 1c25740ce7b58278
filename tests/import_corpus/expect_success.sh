#!/bin/sh
# coreutils' sort, in the style of git's own test suite: each test is a name and a body that
# the library evaluates. The library is found through a variable with a default.

test_description='sort orders, merges and checks lines'

: "${CORPUS_LIB:=lib}"
. "$CORPUS_LIB/expect_success.sh"

test_expect_success 'sort orders lines' '
    test "$(printf "b\na\nc\n" | sort | tr "\n" " ")" = "a b c "
'

test_expect_success 'sort -n orders numbers by value' '
    test "$(printf "10\n9\n100\n" | sort -n | head -n 1)" = 9
'

test_expect_success 'sort -u drops duplicate lines' '
    test "$(printf "a\nb\na\n" | sort -u | wc -l)" -eq 2
'

test_expect_success SORT 'sort -r reverses the order' '
    test "$(printf "a\nb\n" | sort -r | head -n 1)" = b
'

test_expect_success 'sort -c fails on unsorted input' '
    printf "b\na\n" | test_expect_code 1 sort -c
'

test_expect_failure 'sort reads a file that does not exist' '
    sort /nonexistent/input
'

test_done
