# tap.sh: TAP-style test blocks. begin_test NAME names the block; the block runs in a
# subshell with `set -e`; end_test reads the block's exit status and prints
# "ok N - NAME (line L)" or "not ok N - NAME (line L)".

_tap_count=0

begin_test() {
    _tap_name=$1
}

end_test() {
    local status=$?
    _tap_count=$((_tap_count + 1))
    if [ "$status" -eq 0 ]; then
        echo "ok $_tap_count - $_tap_name (line ${BASH_LINENO[0]})"
    else
        echo "not ok $_tap_count - $_tap_name (line ${BASH_LINENO[0]})"
    fi
}
