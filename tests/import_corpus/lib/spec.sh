# spec.sh: describe/it blocks closed by `end`, with `expect ACTUAL to_be EXPECTED`.
# Each expectation prints "PASS|FAIL context: example (line N)"; the script goes on.

_spec_contexts=()
_spec_example=""

describe() {
    _spec_contexts+=("$1")
    _spec_open+=(describe)
}

it() {
    _spec_example=$1
    _spec_open+=(it)
}

end() {
    local last=$((${#_spec_open[@]} - 1))
    if [ "${_spec_open[$last]}" = describe ]; then
        unset '_spec_contexts[${#_spec_contexts[@]}-1]'
    else
        _spec_example=""
    fi
    unset '_spec_open[$last]'
}

# expect ACTUAL to_be EXPECTED
expect() {
    local what="${_spec_contexts[*]}: $_spec_example"
    if [ "$2" = to_be ] && [ "$1" = "$3" ]; then
        echo "PASS $what (line ${BASH_LINENO[0]})"
    else
        echo "FAIL $what, got '$1' (line ${BASH_LINENO[0]})"
    fi
}
