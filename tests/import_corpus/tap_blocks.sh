#!/usr/bin/env bash
# sed, in TAP blocks: each block is one test, run with `set -e` in a subshell.
. "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

begin_test "substituting"
(
    set -e
    [ "$(echo hello | sed s/l/L/)" = heLlo ]
    [ "$(echo hello | sed s/l/L/g)" = heLLo ]
)
end_test

begin_test "line addresses"
(
    set -e
    [ "$(printf 'a\nb\nc\n' | sed -n 2p)" = b ]
    [ "$(printf 'a\nb\nc\n' | sed 1d | wc -l)" -eq 2 ]
)
end_test

begin_test "editing a file in place"
(
    set -e
    file=$(mktemp)
    echo old > "$file"
    sed -i s/old/new/ "$file"
    out=$(cat "$file")
    rm -f "$file"
    [ "$out" = new ]
)
end_test

begin_test "errors go to standard error with a status"
(
    set -e
    ! sed 's/unclosed' </dev/null 2>/dev/null
    sed 's/unclosed' 2>&1 >/dev/null </dev/null | grep -q 'unterminated'
)
end_test
