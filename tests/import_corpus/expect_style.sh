#!/usr/bin/env bash
# seq, checked with argument-list expectations (lib/expect.sh): the command is given as
# words, not as a string.
source lib/expect.sh

expect_run 0 seq 3
expect_run 1 seq 1 0 3
expect_run 1 seq one
test_eq "$(seq -s + 3)" "1+2+3"
test_eq "$(seq 2 2 6 | tr '\n' ' ')" "2 4 6 "
succeeds seq 5
fails seq two
contains "10" seq 8 10
contains "07" seq -w 7 10
