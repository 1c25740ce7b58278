# Loaded by bash (BASH_ENV) before the script that `smoke-runner import --check` runs: records,
# for each line of the script's top level, the status it left, the failures its helpers
# counted, and where the script ended. Records go to the script's standard output (which
# standard error joins), so that what each line printed sits between two records:
#   \036smoke line PREVIOUS STATUS COUNT FLAGS NEXT   (PREVIOUS left STATUS; NEXT starts)
#   \036smoke end LAST STATUS COUNT FLAGS             (the script ended on LAST with STATUS)
# COUNT is the sum of the failure counters; FLAGS has `f` when the line called a function
# and `c` when the script has a failure counter, `-` for neither.
# The script's own `trap … EXIT` runs after the end record. Programs the script starts do
# not load this file (BASH_ENV is unset first).
unset BASH_ENV
exec 2>&1
exec {__smoke_out}>&1
__smoke_line=0
__smoke_counted=0
__smoke_on_exit=
__smoke_called=
__smoke_counters=
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
__smoke_step() {
    [[ $BASH_SUBSHELL == 0 && ${FUNCNAME[1]:-main} == main ]] || return 0
    [[ $BASH_COMMAND == __smoke_end* ]] && return 0
    if [[ $2 != "$__smoke_line" ]]; then
        __smoke_count
        printf '\036smoke line %s %s %s %s %s\n' "$__smoke_line" "$1" "$__smoke_counted" \
            "${__smoke_called}${__smoke_counters:--}" "$2" >&"$__smoke_out"
        __smoke_line=$2
        __smoke_called=
    fi
    declare -F "${BASH_COMMAND%%[[:space:]]*}" >/dev/null && __smoke_called=f
    return 0
}
__smoke_end() {
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
