#!/usr/bin/env bash
# comm, with checks grouped in test functions: each check runs a command and then reads its
# status in an `if [ $? … ]` block that reports a coloured ✔ or ✖ on standard error. The
# inputs are arrays set before the checks that use them.

RED=$(printf '\033[31m')
GREEN=$(printf '\033[32m')
RESET=$(printf '\033[0m')

passed() {
    printf '%s✔ %s%s\n' "$GREEN" "$*" "$RESET" >&2
}

failed() {
    printf '%s✖ %s%s\n' "$RED" "$*" "$RESET" >&2
}

test_common_lines() {
    left=(apple banana cherry)
    right=(banana cherry date)
    [ "$(comm -12 <(printf '%s\n' "${left[@]}") <(printf '%s\n' "${right[@]}") | wc -l)" -eq 2 ]
    if [ $? -eq 0 ]; then
        passed "comm -12 keeps the lines both files have"
    else
        failed "comm -12 should keep two lines"
    fi

    comm -23 <(printf '%s\n' "${left[@]}") <(printf '%s\n' "${right[@]}") | grep -qx apple
    if [ $? -eq 0 ]; then
        passed "comm -23 keeps the lines only the first file has"
    else
        failed "comm -23 should keep apple"
    fi
}

test_unsorted_input() {
    comm --check-order <(printf 'b\na\n') <(printf 'a\n') >/dev/null 2>&1
    if [ $? -ne 0 ]; then
        passed "comm --check-order refuses unsorted input"
    else
        failed "comm --check-order should fail on unsorted input"
    fi
}

test_common_lines
test_unsorted_input
