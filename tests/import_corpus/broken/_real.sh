# Sourced by the shims in this folder: real_program NAME prints the path of NAME as found on
# PATH after this folder, or fails saying so.
real_program() {
    local here dir
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    IFS=: read -r -a _dirs <<<"$PATH"
    for dir in "${_dirs[@]}"; do
        [ "$(cd "$dir" 2>/dev/null && pwd)" = "$here" ] && continue
        [ -x "$dir/$1" ] && { echo "$dir/$1"; return 0; }
    done
    echo "broken $1: no real $1 on PATH" >&2
    return 127
}
