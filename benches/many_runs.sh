#!/usr/bin/env bash
# Runs W1 (200 steps of `echo hi`, see benches/README.md) many times in a row with the defaults
# (step logs and history on), as a project would over weeks, and checks what that leaves on
# disk and whether the last runs are as fast as the first.
#
# Usage: benches/many_runs.sh
#
# Environment:
#   SMOKE_RUNNER_BIN=PATH  run this binary instead of building this checkout's
#   BENCH_RUNS=N           how many runs (200); the first and last tenth are compared
#   BENCH_KEEP=1           keep the work folder (the path is printed)
#
# Each round runs the C floor (`spawn_floor 200`) and then W1, so that each W1 run is read as a
# ratio to a floor timed a moment before it, not as a wall time that the machine's load moves.
# Checks, after the last run: the log folder holds at most `--keep-logs` (20) run folders, the
# history at most `--keep-history` (500) runs, and W1's median ratio over the last tenth of the
# runs is at most 0.03 over its median over the first tenth. Exits non-zero when a run fails or
# a bound on disk is broken; a slower end shows as MISSED.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
runs=${BENCH_RUNS:-200}
[[ $runs =~ ^[0-9]+$ && $runs -ge 20 && $runs -le 10000 ]] ||
  { echo "benches/many_runs.sh: BENCH_RUNS is a whole number from 20 to 10000, not '$runs'" >&2; exit 1; }

for tool in cargo python3 cc; do
  command -v "$tool" >/dev/null || { echo "benches/many_runs.sh: needs $tool" >&2; exit 1; }
done
if [[ -z ${SMOKE_RUNNER_BIN:-} ]]; then
  (cd "$root" && cargo build --release --quiet --bin smoke-runner)
fi
target_dir=$(cd "$root" && cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin=$(realpath -m "${SMOKE_RUNNER_BIN:-$target_dir/release/smoke-runner}")
[[ -x $bin ]] || { echo "benches/many_runs.sh: no smoke-runner at $bin" >&2; exit 1; }

work=$(mktemp -d "$target_dir/smoke-bench-many.XXXXXX")
clean_up() {
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "kept: $work" >&2; else rm -rf "$work"; fi
}
trap clean_up EXIT
cd "$work"
: >empty.env
chmod 600 empty.env
export PLANDEX_ENV_FILE=$work/empty.env
cc -O2 -o spawn_floor "$here/spawn_floor.c"
cc -O2 -o create_probe "$here/create_probe.c"
{
  printf 'name = "w1 echo"\ncommand = "echo"\ntimeout = "10s"\n'
  for ((i = 1; i <= 200; i++)); do
    printf '\n[[step]]\nname = "echo %d"\nrun = "hi"\nstdout.equals = "hi"\n' "$i"
  done
} >w1.toml

probe() {
  local folder
  folder=$(mktemp -d probe.XXXXXX)
  ./create_probe "$folder" 200
}

echo "==> $runs rounds of the floor and W1 (defaults: step logs and history), $(uptime)" >&2
before=$(probe)
python3 - "$bin" "$runs" <<'PY' >rounds.json
import json, subprocess, sys, time

binary, runs = sys.argv[1], int(sys.argv[2])
def timed(command):
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{command} exited {done.returncode}: {done.stderr.decode(errors='replace')}")
    if done.stderr:
        sys.exit(f"{command} warned: {done.stderr.decode(errors='replace')}")
    return elapsed
rounds = []
for index in range(runs):
    floor = timed(["./spawn_floor", "200"])
    w1 = timed([binary, "--suites", "w1.toml"])
    rounds.append({"floor": floor, "w1": w1})
    if (index + 1) % 20 == 0:
        print(f"  {index + 1} runs", file=sys.stderr)
json.dump(rounds, sys.stdout)
PY
after=$(probe)

# What is left on disk, and the history's own count of its runs.
log_runs=$(find target/smoke-logs -mindepth 1 -maxdepth 1 -type d -name '[0-9]*-[0-9]*-[0-9]*' | wc -l)
log_files=$(find target/smoke-logs -type f | wc -l)
log_kib=$(du -sk target/smoke-logs | cut -f1)
history_kib=$(( $(stat -c %s target/smoke-history.sqlite) / 1024 ))
history_runs=$("$bin" history runs -n 100000 --format json |
  python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')

python3 - "$runs" "$log_runs" "$log_files" "$log_kib" "$history_runs" "$history_kib" \
  "$before" "$after" <<'PY'
import json, statistics, sys

runs, log_runs, log_files, log_kib, history_runs, history_kib = map(int, sys.argv[1:7])
before, after = sys.argv[7:9]
rounds = json.load(open("rounds.json"))
tenth = max(1, runs // 10)
def median_ratio(part):
    return statistics.median(r["w1"] / r["floor"] for r in part)
def median(part, key):
    return statistics.median(r[key] for r in part)
first, last = rounds[:tenth], rounds[-tenth:]
early, late = median_ratio(first), median_ratio(last)
keep_logs, keep_history = 20, 500
failed = []
print(f"\nW1 with the defaults, {runs} runs in a row (each after a C floor run):")
print(f"  runs 1-{tenth}: W1 {median(first, 'w1'):.3f} s, floor {median(first, 'floor'):.3f} s, ratio {early:.2f}x")
print(f"  runs {runs - tenth + 1}-{runs}: W1 {median(last, 'w1'):.3f} s, floor {median(last, 'floor'):.3f} s, ratio {late:.2f}x")
verdict = "ok" if late <= early + 0.03 else "MISSED"
print(f"  last against first: {late - early:+.2f}  (at most +0.03)  {verdict}")
print(f"Step logs: {log_runs} run folders (at most {keep_logs}), {log_files} files, {log_kib} KiB")
if log_runs > keep_logs:
    failed.append("step logs hold more runs than --keep-logs")
print(f"History: {history_runs} runs (at most {keep_history}), file {history_kib} KiB")
if history_runs > keep_history:
    failed.append("the history holds more runs than --keep-history")
print(f"Creating a file in the work folder: {before} µs before, {after} µs after")
if failed:
    sys.exit("failed: " + "; ".join(failed))
PY
