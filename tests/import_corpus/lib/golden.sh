# golden.sh: run a command, then compare its output with the here-document that follows:
#   run_test CMD ARGS...
#   check_output <<'EOF' ... EOF
# Each comparison prints "PASS|FAIL output (line N)".

_golden_out=$(mktemp)

run_test() {
    "$@" >"$_golden_out" 2>/dev/null
}

check_output() {
    if diff -u - "$_golden_out" >/dev/null; then
        echo "PASS output (line ${BASH_LINENO[0]})"
    else
        echo "FAIL output (line ${BASH_LINENO[0]})"
    fi
}
