#!/usr/bin/env bash
# Checks named first: `expect_pass NAME CMD` and `CMD; pass_check $? NAME`.
. lib/harness.sh

calc=$1

expect_pass "adds" "[ \"\$($calc add 2 2)\" = 4 ]"
expect_pass "greets" "$calc greet | grep -q hello"
$calc table 3 | grep -q '3 x 2 = 6'
pass_check $? "table of three"
! $calc div 1 0 2>/dev/null
pass_check $? "division by zero"
expect_pass "upper-cases" "[ \"\$(echo ab | $calc upper)\" = AB ]"

[ "$failures" -eq 0 ]
