#!/bin/sh
# tr, in a compiler-driver style test: each command is followed by `check NAME`, which stops
# the whole script at the first failure.

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

echo hello | tr a-z A-Z > $tmp/loud
check upper $LINENO
grep -qx HELLO $tmp/loud
check "upper result" $LINENO
echo a-b-c | tr -d - > $tmp/joined
check delete $LINENO
[ "`cat $tmp/joined`" = abc ]
check "delete result" $LINENO
echo 'aaa  bbb' | tr -s 'ab ' | grep -qx 'a b'
check squeeze $LINENO
tr --version > /dev/null
check version $LINENO
