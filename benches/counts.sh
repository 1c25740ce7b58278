#!/usr/bin/env bash
# Counts what W1 costs per step, for the default, `--format terse` and bare (no logs, no
# history) variants and the C floor: numbers that load does not change, for a machine too busy
# for wall-clock ratios (see benches/README.md, "Results").
#
# Usage: benches/counts.sh [BIN]   (default: this checkout's release build)
#
# Per variant: syscalls, futex, ppoll, wait4 and write calls (perf's syscall tracepoints, no
# ptrace; median of 3 runs, runner and children), and with valgrind, the instructions of the
# runner (all threads) and of the suite's thread alone. Runs in a pid namespace of its own when
# `unshare` allows it, so that other people's processes do not move `ns_last_pid` (as on a quiet
# machine). The work folder (history, logs) is kept between calls, under the target dir:
# `smoke-counts/`; 12 runs are made first so that the history has some.
#
# Needs perf (with tracepoints) and valgrind; cc for the floor.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
die() {
  printf 'benches/counts.sh: %s\n' "$*" >&2
  exit 1
}
for tool in perf valgrind cc python3; do
  command -v "$tool" >/dev/null || die "$tool is needed"
done
if [[ -n ${1:-} ]]; then
  bin=$(realpath "$1")
else
  (cd "$root" && cargo build --release --quiet --bin smoke-runner)
  bin=$root/target/release/smoke-runner
fi
[[ -x $bin ]] || die "$bin is not an executable file"

work=$root/target/smoke-counts
mkdir -p "$work"
cd "$work"
: >empty.env
chmod 600 empty.env
export PLANDEX_ENV_FILE=$work/empty.env
cc -O2 -o spawn_floor "$here/spawn_floor.c"
{
  printf 'name = "w1 echo"\ncommand = "echo"\ntimeout = "10s"\n'
  for ((i = 1; i <= 200; i++)); do
    printf '\n[[step]]\nname = "echo %d"\nrun = "hi"\nstdout.equals = "hi"\n' "$i"
  done
} >w1.toml

isolate=()
if unshare --pid --fork --mount-proc true 2>/dev/null; then
  isolate=(unshare --pid --fork --mount-proc)
else
  echo "unshare refused: counting in the machine's pid namespace (leftover checks vary with load)" >&2
fi
for ((i = 0; i < 12; i++)); do "$bin" --suites w1.toml >/dev/null 2>&1 || true; done

events=raw_syscalls:sys_enter,syscalls:sys_enter_futex,syscalls:sys_enter_ppoll
events+=,syscalls:sys_enter_wait4,syscalls:sys_enter_write

# syscalls COMMAND...: the median of 3 runs of each tracepoint's count, as NAME=N words.
syscalls() {
  local i
  for i in 1 2 3; do
    "${isolate[@]}" perf stat -x, -e "$events" "$@" 2>&1 >/dev/null | awk -F, 'NF >= 3 && $3 ~ /sys_enter/ {printf "%s=%s ", $3, $1}'
    echo
  done | python3 -c '
import statistics, sys
rows = [dict(word.split("=") for word in line.split()) for line in sys.stdin if line.strip()]
print(" ".join("%s=%d" % (key.split(":")[-1].replace("sys_enter_", "").replace("sys_enter", "syscalls"),
                          statistics.median(int(row[key]) for row in rows)) for key in rows[0]))'
}

# instructions COMMAND...: the runner's instructions, all threads and the suite's thread.
instructions() {
  local out=$work/callgrind.out
  rm -f "$out"*
  "${isolate[@]}" valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" \
    "$@" >/dev/null 2>&1
  python3 - "$out" <<'PY'
import glob, sys
total = suite = 0
for path in glob.glob(sys.argv[1] + "-*"):
    text = open(path, errors="replace").read()
    count = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("summary:"))
    total += count
    if "run_gated" in text:
        suite = max(suite, count)
print(f"instructions={total} suite_thread={suite}")
PY
}

printf '%-8s %s\n' floor "$(syscalls ./spawn_floor 200)"
for variant in default terse bare; do
  case $variant in
    default) args=() ;;
    terse) args=(--format terse) ;;
    bare) args=(--no-log-dir --no-history) ;;
  esac
  cmd=("$bin" --suites w1.toml "${args[@]}")
  printf '%-8s %s %s\n' "$variant" "$(syscalls "${cmd[@]}")" "$(instructions "${cmd[@]}")"
done
echo "(per step: divide by 200; syscalls, futex and write over the floor's are the runner's)"
