#!/usr/bin/env bash
# base64, in the style of shUnit2 test scripts: test functions with assertions, setUp making
# a scratch file, and shUnit2 (found on PATH) sourced last to run them.

setUp() {
    scratch=$(mktemp)
    printf 'smoke' >"$scratch"
}

tearDown() {
    rm -f "$scratch"
}

testEncodesAFile() {
    assertEquals "c21va2U=" "$(base64 "$scratch")"
}

testDecodesWhatItEncoded() {
    assertEquals "smoke" "$(base64 "$scratch" | base64 -d)"
}

testRefusesInvalidInput() {
    echo '@@@' | base64 -d >/dev/null 2>&1
    assertFalse "invalid input is refused" $?
}

. shunit2
