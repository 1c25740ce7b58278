#!/usr/bin/env bash
# jq, in the style of sharness-based test suites: the script names its test directory and
# sources test-lib.sh from there; test-lib.sh sources its helpers through that variable, and
# the helpers source their comparisons from their own folder. Each test body runs in a
# scratch folder.

test_description='jq reads fields, counts and fails on false'

TEST_DIRECTORY=lib/sharness
. "$TEST_DIRECTORY/test-lib.sh"

test_expect_success 'jq prints a field as JSON' '
    echo "{\"name\":\"smoke\"}" | jq .name >actual &&
    echo "\"smoke\"" >expect &&
    test_cmp expect actual
'

test_expect_success 'jq -r prints a string raw' '
    echo "{\"name\":\"smoke\"}" | jq -r .name >actual &&
    test_grep -x smoke actual
'

test_expect_success 'jq counts the items of an array' '
    test "$(echo "[1,2,3]" | jq length)" = 3
'

test_expect_success 'jq -e fails when the result is false' '
    echo "{\"ok\":false}" | test_must_fail jq -e .ok
'

test_expect_success 'jq refuses text that is not JSON' '
    echo "not json" | test_must_fail jq . 2>err &&
    test_grep -i "parse error" err
'

test_done
