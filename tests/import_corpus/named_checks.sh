#!/usr/bin/env bash
# basename, with checks named first: `expect_pass NAME CMD` and `CMD; pass_check $? NAME`.
. lib/harness.sh

expect_pass "strips the folder" "[ \"\$(basename /usr/lib/file.txt)\" = file.txt ]"
expect_pass "strips a suffix" "basename /a/b.txt .txt | grep -qx b"
basename -a /x/one /y/two | grep -qx two
pass_check $? "several names"
! basename 2>/dev/null
pass_check $? "no name is an error"
expect_pass "strips a trailing slash" "[ \"\$(basename /srv/data/)\" = data ]"

[ "$failures" -eq 0 ]
