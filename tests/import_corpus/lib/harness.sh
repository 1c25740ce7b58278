# harness.sh: a name first, then what to judge. expect_pass NAME COMMAND evals the command;
# pass_check STATUS NAME judges a status the caller hands over. Both print
# "PASS|FAIL NAME (line N)" and count failures; the script goes on.

failures=0

expect_pass() {
    if eval "$2" >/dev/null 2>&1; then
        echo "PASS $1 (line ${BASH_LINENO[0]})"
    else
        failures=$((failures + 1))
        echo "FAIL $1 (line ${BASH_LINENO[0]})"
    fi
}

pass_check() {
    if [ "$1" -eq 0 ]; then
        echo "PASS $2 (line ${BASH_LINENO[0]})"
    else
        failures=$((failures + 1))
        echo "FAIL $2 (line ${BASH_LINENO[0]})"
    fi
}
