#!/usr/bin/env bash
# calc, checked with argument-list expectations (lib/expect.sh): the command is given as
# words, not as a string.
source lib/expect.sh

calc=$1

expect_run 0 "$calc" add 1 1
expect_run 2 "$calc" div 5 0
expect_run 64 "$calc" nonsense
test_eq "$("$calc" add 20 22)" 42
test_eq "$("$calc" greet)" "hello, world"
succeeds "$calc" version
fails "$calc" div 1 0
contains "3 x 2 = 6" "$calc" table 4
contains "hello" "$calc" greet
