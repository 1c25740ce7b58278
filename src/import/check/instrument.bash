# Loaded by bash (BASH_ENV) before the script that `smoke-runner import --check` runs: records,
# for each line of the script (its top level and its own functions), the status it left, the
# failures its helpers counted, the failure reporters it called, and where the script ended.
# Records go to the script's standard output (which standard error joins), so that what each
# line printed sits between two records:
#   \036smoke line PREVIOUS STATUS COUNT FLAGS NEXT CALLERS  (PREVIOUS left STATUS; NEXT starts,
#                              in a function called from the lines CALLERS, `a,b`, 0: none)
#   \036smoke report LINE NAME               (the failure reporter NAME ran while LINE was open)
#   \036smoke end LAST STATUS COUNT FLAGS    (the script ended on LAST with STATUS)
# COUNT is the sum of the failure counters; FLAGS has `f` when the line called a function,
# `c` when the script has a failure counter, `n` when STATUS is not the line's own (it called
# one of the script's functions, still running: when that returns, the line is recorded again
# with the status the call left), `-` for none.
# __SMOKE_SCRIPT is the script's path as bash was given it, __SMOKE_REPORTERS the names of the
# functions that report a failed check when called (`tap_fail`, `log_failure`), as the import
# read them.
# The script's own `trap … EXIT` runs after the end record. Programs the script starts do
# not load this file (BASH_ENV is unset first).
unset BASH_ENV
__smoke_script=${__SMOKE_SCRIPT-}
__smoke_reporters=" ${__SMOKE_REPORTERS-} "
unset __SMOKE_SCRIPT __SMOKE_REPORTERS
# The trap follows the script into its functions and subshells.
set -o functrace
exec 2>&1
exec {__smoke_out}>&1
__smoke_line=0
__smoke_counted=0
__smoke_on_exit=
__smoke_called=
__smoke_counters=
# The script lines of the calls still running, outermost first, and how deep each is.
__smoke_callers=()
__smoke_depths=()
# The sum of the script's integer variables named like a failure count.
__smoke_count() {
    local name total=0
    for name in ${!a*} ${!b*} ${!c*} ${!d*} ${!e*} ${!f*} ${!g*} ${!h*} ${!i*} ${!j*} ${!k*} ${!l*} ${!m*} \
        ${!n*} ${!o*} ${!p*} ${!q*} ${!r*} ${!s*} ${!t*} ${!u*} ${!v*} ${!w*} ${!x*} ${!y*} ${!z*} \
        ${!A*} ${!B*} ${!C*} ${!D*} ${!E*} ${!F*} ${!G*} ${!H*} ${!I*} ${!J*} ${!K*} ${!L*} ${!M*} \
        ${!N*} ${!O*} ${!P*} ${!Q*} ${!R*} ${!S*} ${!T*} ${!U*} ${!V*} ${!W*} ${!X*} ${!Y*} ${!Z*} ${!_*}; do
        case $name in
        __smoke_*) continue ;;
        *[Ff][Aa][Ii][Ll]* | *[Ee][Rr][Rr][Oo][Rr]*) ;;
        *) continue ;;
        esac
        [[ ${!name-} =~ ^[0-9]{1,9}$ ]] || continue
        total=$((total + 10#${!name}))
        __smoke_counters=c
    done
    __smoke_counted=$total
}
# The arguments joined with commas, in __smoke_joined (no subshell: this runs on every line).
__smoke_join() {
    local IFS=,
    __smoke_joined="$*"
}
# Back from the script's functions to DEPTH: the last line of each call that returned, then
# the line that called it, get the status the call left.
__smoke_ascend() {
    local n=${#__smoke_depths[@]} caller outer
    while [[ $n -gt 0 && ${__smoke_depths[n - 1]} -ge $2 ]]; do
        caller=${__smoke_callers[n - 1]}
        __smoke_join "${__smoke_callers[@]:0:n-1}"
        outer=$__smoke_joined
        __smoke_count
        printf '\036smoke line %s %s %s %s %s %s\n' "$__smoke_line" "$1" "$__smoke_counted" \
            "${__smoke_called}${__smoke_counters:--}" "$caller" "${outer:-0}" >&"$__smoke_out"
        __smoke_line=$caller
        __smoke_called=f
        unset "__smoke_callers[n - 1]" "__smoke_depths[n - 1]"
        n=$((n - 1))
    done
}
__smoke_step() {
    local status=$1 head=${BASH_COMMAND%%[[:space:]]*}
    if [[ $__smoke_reporters == *" $head "* ]]; then
        printf '\036smoke report %s %s\n' "$__smoke_line" "$head" >&"$__smoke_out"
    fi
    [[ $BASH_SUBSHELL == 0 && ${BASH_SOURCE[1]-} == "$__smoke_script" ]] || return 0
    [[ $BASH_COMMAND == __smoke_end* ]] && return 0
    local depth=${#FUNCNAME[@]} flags= callers
    __smoke_ascend "$status" "$depth"
    if [[ $2 != "$__smoke_line" ]]; then
        __smoke_count
        # Into one of the script's functions: the line that called it is still running.
        if [[ $depth -gt ${__smoke_depth:-$depth} && $__smoke_line != 0 ]]; then
            __smoke_callers+=("$__smoke_line")
            __smoke_depths+=("$__smoke_depth")
            flags=n
        fi
        __smoke_join "${__smoke_callers[@]}"
        callers=$__smoke_joined
        printf '\036smoke line %s %s %s %s %s %s\n' "$__smoke_line" "$status" "$__smoke_counted" \
            "${__smoke_called}${__smoke_counters}${flags:--}" "$2" "${callers:-0}" >&"$__smoke_out"
        __smoke_line=$2
        __smoke_called=
    fi
    __smoke_depth=$depth
    declare -F "$head" >/dev/null && __smoke_called=f
    return 0
}
__smoke_end() {
    __smoke_ascend "$1" 0
    __smoke_count
    printf '\036smoke end %s %s %s %s\n' "$__smoke_line" "$1" "$__smoke_counted" \
        "${__smoke_called}${__smoke_counters:--}" >&"$__smoke_out"
    builtin trap - DEBUG
    eval "$__smoke_on_exit"
}
# The script's own EXIT handler runs after the record of how it ended.
trap() {
    if [[ $# -lt 2 || $1 == -* && $1 != - && $1 != -- ]]; then
        builtin trap "$@"
        return
    fi
    [[ $1 == -- ]] && shift
    local handler=$1 signal
    shift
    for signal in "$@"; do
        case $signal in
        EXIT | 0) if [[ $handler == - ]]; then __smoke_on_exit=; else __smoke_on_exit=$handler; fi ;;
        *) builtin trap -- "$handler" "$signal" ;;
        esac
    done
}
builtin trap '__smoke_end "$?"' EXIT
builtin trap '__smoke_step "$?" "$LINENO"' DEBUG
