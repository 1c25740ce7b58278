#!/bin/sh
# A compiler-driver style test: each command is followed by `check NAME`, which stops the
# whole script at the first failure.

CALC="$1"
tmp=`mktemp -d`
trap 'rm -rf $tmp' INT TERM HUP EXIT

check() {
    if [ $? -eq 0 ]; then
        echo "PASS $1 (line $2)"
    else
        echo "FAIL $1 (line $2)"
        exit 1
    fi
}

$CALC add 1 1 > $tmp/two
check add $LINENO
[ "`cat $tmp/two`" = 2 ]
check "add result" $LINENO
echo hello | $CALC upper > $tmp/loud
check upper $LINENO
grep -qx HELLO $tmp/loud
check "upper result" $LINENO
$CALC greet Ann | grep -q 'hello, Ann'
check greet $LINENO
$CALC version > /dev/null
check version $LINENO
