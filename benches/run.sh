#!/usr/bin/env bash
# Benchmarks smoke-runner on five workloads, against a C floor measured in the same run.
#
# Usage: benches/run.sh [W1 W2 W3 W4 W5]  (no argument: all five; see benches/README.md)
#
# Environment:
#   SMOKE_RUNNER_BIN=PATH  benchmark this binary instead of building this checkout's
#   BENCH_QUICK=1          fewer runs, for checking the plumbing
#   BENCH_KEEP=1           keep the generated workloads and logs (the path is printed)
#   BENCH_SETTLE=0         start W1 at once, not up to 6 minutes after the files were deleted
#   BENCH_SETTLE_US=N      creating a file slower than N microseconds means they were (50)
#
# Exits non-zero when a smoke-runner run itself fails (or a tool is missing); missing a target
# only shows in the table.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
  warmup=1 runs=5 w1_rounds=7 sleep_runs=3 rss_runs=1 ready_runs=2
else
  # W1's rows are ratios of ~0.2 s runs on shared machines: 42 rounds, so that their medians
  # do not hang on a few noisy minutes, and a multiple of its seven cases, so that each case
  # runs as often in each place of a round (interleaved.py).
  warmup=3 runs=20 w1_rounds=42 sleep_runs=10 rss_runs=3 ready_runs=10
fi

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'benches/run.sh: %s\n' "$*" >&2
  exit 1
}

case "${1:-}" in
  -h | --help)
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
    exit 0
    ;;
esac
if (($#)); then selected=("${@^^}"); else selected=(W1 W2 W3 W4 W5); fi
for workload in "${selected[@]}"; do
  [[ $workload =~ ^W[1-5]$ ]] || die "unknown workload '$workload' (pick from W1 W2 W3 W4 W5)"
done
wants() { [[ " ${selected[*]} " == *" $1 "* ]]; }

# --- Tools -------------------------------------------------------------------------------------

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi
}

# apt_install PACKAGE: install from Debian, refreshing the package lists once if needed.
apt_install() {
  log "installing $1 with apt-get"
  as_root apt-get install -y "$1" >/dev/null ||
    { as_root apt-get update >/dev/null && as_root apt-get install -y "$1" >/dev/null; } ||
    die "could not install $1"
}

for tool in cargo python3 cc; do
  command -v "$tool" >/dev/null || die "$tool is needed"
done
command -v hyperfine >/dev/null || apt_install hyperfine

# W2's step runs the fake program (tests/fake_program.rs): it writes 1 GiB in under a second,
# so the workload measures smoke-runner rather than a `head | tr` pipeline.
targets=(--example fake-program)
[[ -n ${SMOKE_RUNNER_BIN:-} ]] || targets+=(--bin smoke-runner)
log "building ${targets[*]} in release"
(cd "$root" && cargo build --release --quiet "${targets[@]}")
target_dir=$(cd "$root" && cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
fake=$target_dir/release/examples/fake-program
bin=$(realpath -m "${SMOKE_RUNNER_BIN:-$target_dir/release/smoke-runner}")
[[ -x $bin ]] || die "$bin is not an executable file"

failed=()
# The workloads run from a folder under the target dir, as smoke-runner runs from a project:
# the step logs (target/smoke-logs/) and the history (target/smoke-history.sqlite) land in the
# project's tree, not in $TMPDIR. That matters on machines where creating a file in /tmp costs
# ten times what it costs elsewhere (see benches/README.md). Test dirs stay in $TMPDIR.
work=$(mktemp -d "$target_dir/smoke-bench.XXXXXX")
# The work dir goes away at the end, unless asked to stay or something failed in it. When it
# goes, the time is noted: the next run's W1 waits until the deletion no longer slows creating
# files (see "Creating files after a mass deletion" in benches/README.md).
cleaned_at=$target_dir/smoke-bench.cleaned-at
clean_up() {
  if [[ ${BENCH_KEEP:-0} == 1 ]] || ((${#failed[@]})); then
    log "workloads and logs kept in $work"
  else
    rm -rf "$work"
    date +%s >"$cleaned_at"
  fi
}
trap clean_up EXIT
cd "$work"

# An empty env file, so that no PLANDEX_* setting leaks in from a developer's .env.
: >empty.env
chmod 600 empty.env
export PLANDEX_ENV_FILE=$work/empty.env

# Three secrets, for W1 with masking: every report and log goes through the masker.
printf 'BENCH_API_KEY=sk-bench-0123456789abcdef\nBENCH_TOKEN=tok-bench-0123456789\nBENCH_SECRET=secret-bench-98765\n' \
  >secrets.env
chmod 600 secrets.env

cc -O2 -o spawn_floor "$here/spawn_floor.c"
cc -O2 -o create_probe "$here/create_probe.c"

settle=${BENCH_SETTLE:-1} settle_us=${BENCH_SETTLE_US:-50}
[[ $settle == [01] ]] || die "BENCH_SETTLE is 0 or 1, not '$settle'"
[[ $settle_us =~ ^[0-9]+$ && $settle_us -gt 0 ]] ||
  die "BENCH_SETTLE_US is a whole number of microseconds, not '$settle_us'"

# --- Workloads ---------------------------------------------------------------------------------

# toml_string TEXT: TEXT as a TOML basic string.
toml_string() {
  local text=${1//\\/\\\\}
  printf '"%s"' "${text//\"/\\\"}"
}

# echo_steps COUNT: COUNT steps running `echo hi` (via the suite's command) and checking "hi".
echo_steps() {
  local i
  for ((i = 1; i <= $1; i++)); do
    printf '\n[[step]]\nname = "echo %d"\nrun = "hi"\nstdout.equals = "hi"\n' "$i"
  done
}

# cpu_times: the machine's CPU times from /proc/stat (user ... steal), one line.
cpu_times() { awk '/^cpu / { print $2, $3, $4, $5, $6, $7, $8, $9; exit }' /proc/stat 2>/dev/null; }
# steal_percent BEFORE AFTER: the share of CPU time stolen by the hypervisor between the two.
steal_percent() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); total = 0
    for (i = 1; i <= n; i++) total += y[i] - x[i]
    if (n < 8 || total <= 0) exit 1
    printf "%.1f", 100 * (y[8] - x[8]) / total
  }'
}

# W1: 200 trivial steps in one suite, the per-step overhead.
{
  printf 'name = "w1 echo"\ncommand = "echo"\ntimeout = "10s"\n'
  echo_steps 200
} >w1.toml

# W2: one step whose stdout is 1 GiB and then a marker, checked with `contains`.
cat >w2.toml <<EOF
name = "w2 big output"
command = $(toml_string "$fake")
timeout = "300s"

[[step]]
name = "1 GiB then a marker"
run = "print-bytes:1G marker:END-MARKER-42"
stdout.contains = "END-MARKER-42"
EOF

# W3: 8 suites of one `sleep 1` each, run in parallel.
mkdir w3
for i in {1..8}; do
  printf 'name = "w3 sleep %d"\ncommand = "sleep"\ntimeout = "30s"\n\n[[step]]\nname = "sleep 1"\nrun = "1"\n' \
    "$i" >"w3/sleep-$i.toml"
done

# W4: 1,000 suites of 10 steps, listed but not run: the cost of loading suites.
mkdir w4
w4_steps=$(echo_steps 10)
for i in $(seq -w 1 1000); do
  printf 'name = "w4 suite %s"\ncommand = "echo"\n%s\n' "$i" "$w4_steps" >"w4/suite-$i.toml"
done

# W5: a service that turns ready after a delay, health-checked with a 1 s interval; the time
# from its being ready to the first step starting. Both instants are written by the processes
# themselves (`date +%s%N`), each stamp taken a little before the event it marks is visible to
# the other side (a rename; bash starting), so the figure errs on the long side.
cat >w5.toml <<'EOF'
name = "w5 ready to first step"
command = ""
timeout = "30s"

[[service]]
name = "slow"
sh = "sleep $READY_AFTER; date +%s%N > $STAMPS.ready.tmp; mv $STAMPS.ready.tmp $STAMPS.ready; exec sleep 600"
healthcheck = { sh = "test -e $STAMPS.ready", interval = "1s", retries = 30 }

[[step]]
name = "first step"
sh = "date +%s%N > $STAMPS.step"
EOF

# W5, failing services: one that never turns healthy (patience 0.5 s + 2 x 0.5 s = 1.5 s), and
# one that exits at once while its check (a closed port) would accept failures for 10 minutes.
cat >w5-never.toml <<'EOF'
name = "w5 never healthy"
command = ""

[[service]]
name = "stuck"
sh = "echo warming up; exec sleep 600"
healthcheck = { sh = "exit 1", interval = "0.5s", retries = 2, start_period = "0.5s" }

[[step]]
name = "never runs"
sh = "true"
EOF
cat >w5-dies.toml <<'EOF'
name = "w5 dies at start"
command = ""

[[service]]
name = "broken"
sh = "echo cannot bind >&2; exit 3"
healthcheck = { tcp = "127.0.0.1:9", interval = "1s", retries = 600 }

[[step]]
name = "never runs"
sh = "true"
EOF
w5_never_budget=1.5

# --- Measuring ---------------------------------------------------------------------------------

# time_median KEY RUNS COMMAND...: run COMMAND once to check it exits 0 (output in KEY.log), then
# time it with hyperfine and print the median wall time in seconds.
time_median() {
  local key=$1 runs=$2
  shift 2
  log "$key: $*"
  if ! "$@" >"$key.log" 2>&1; then
    printf '%s failed; the end of its output (%s.log):\n' "$key" "$key" >&2
    tail -n 20 "$key.log" >&2
    return 1
  fi
  hyperfine --style basic --shell none --warmup "$warmup" --runs "$runs" \
    --export-json "$key.json" "$(printf '%q ' "$@")" >&2 || return 1
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
    "$key.json"
}

# time_failing KEY RUNS TEXT COMMAND...: like time_median, for a COMMAND that must fail with TEXT
# in its output (a suite failing as intended).
time_failing() {
  local key=$1 runs=$2 text=$3
  shift 3
  log "$key: $*"
  if "$@" >"$key.log" 2>&1 || ! grep -qF -- "$text" "$key.log"; then
    printf '%s did not fail with "%s"; the end of its output (%s.log):\n' "$key" "$text" "$key" >&2
    tail -n 20 "$key.log" >&2
    return 1
  fi
  hyperfine --style basic --shell none --ignore-failure --warmup 1 --runs "$runs" \
    --export-json "$key.json" "$(printf '%q ' "$@")" >&2 || return 1
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
    "$key.json"
}

disk_before='' disk_after='' disk_waited=0
w1_steal='' floor='' w1='' w1_terse='' w1_masked='' w1_no_logs='' w1_no_history='' w1_bare='' w2_kib='' w2_wall='' w2_method='' w3='' w4='' w5='' w5_never='' w5_dies=''

# probe_disk: microseconds to create a small file in a new folder of the work dir, where the
# step logs go (the mean over 200 files, which stay until the work dir goes).
probe_disk() {
  local folder
  folder=$(mktemp -d probe.XXXXXX)
  ./create_probe "$folder" 200
}
# slow MICROSECONDS: whether creating a file costs more than BENCH_SETTLE_US.
slow() { awk -v v="$1" -v l="$settle_us" 'BEGIN { exit !(v > l) }'; }

if wants W1; then
  # Every W1 run writes 200 step logs. On a journal-less ext4, creating a file within 60-360 s of
  # a mass deletion costs up to a hundred times its usual price (benches/README.md): wait that
  # window out after the last run's clean-up (some 60,000 files), and after any other deletion
  # a slow probe reveals (a `cargo clean`), since the deleted inodes W1's 56,000 logs run into
  # may lie beyond the few the probe meets. The report shows the probes either way.
  window=360
  disk_before=$(probe_disk)
  if [[ $settle == 1 ]]; then
    now=$(date +%s) until=0
    last=$(cat "$cleaned_at" 2>/dev/null || true)
    [[ $last =~ ^[0-9]+$ ]] && until=$((last + window))
    slow "$disk_before" && until=$((now + window))
    if ((until > now)); then
      log "waiting $((until - now)) s for the disk to settle: files were deleted in the last" \
        "$((window / 60)) minutes (creating one costs $disk_before µs now; BENCH_SETTLE=0 to skip)"
      sleep $((until - now))
      disk_waited=$((until - now))
      disk_before=$(probe_disk)
    fi
  fi
  # The W1 rows are ratios to the floor and to each other: time them in interleaved rounds (one
  # run of each per round), so that a change in load moves every row alike.
  log "w1: the floor and six W1 variants, $w1_rounds interleaved rounds"
  cpu_before=$(cpu_times)
  if python3 "$here/interleaved.py" --runs "$w1_rounds" --warmup "$warmup" --json w1.json \
    --case floor ./spawn_floor 200 \
    --case w1 "$bin" --suites w1.toml \
    --case w1-terse "$bin" --suites w1.toml --format terse \
    --case w1-masked "$bin" --suites w1.toml --env-file secrets.env \
    --case w1-no-logs "$bin" --suites w1.toml --no-log-dir \
    --case w1-no-history "$bin" --suites w1.toml --no-history \
    --case w1-bare "$bin" --suites w1.toml --no-log-dir --no-history; then
    # What the step logs and the run history cost are the last three: extra rows, the default
    # stays the measure.
    read -r floor w1 w1_terse w1_masked w1_no_logs w1_no_history w1_bare < <(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["medians"]
keys = ["floor", "w1", "w1-terse", "w1-masked", "w1-no-logs", "w1-no-history", "w1-bare"]
print(" ".join(str(m[k]) for k in keys))' w1.json)
  else
    failed+=(W1)
  fi
  w1_steal=$(steal_percent "$cpu_before" "$(cpu_times)") || w1_steal=""
  disk_after=$(probe_disk)
fi

if wants W2; then
  log "w2: peak RSS over $rss_runs run(s) of 1 GiB"
  if python3 "$here/peak_rss.py" --runs "$rss_runs" --json w2.json -- \
    "$bin" --suites w2.toml >w2.log 2>&1; then
    read -r w2_kib w2_wall w2_method < <(python3 -c '
import json, sys
report = json.load(open(sys.argv[1]))
print(report["median_kib"], report["median_wall_s"], report["method"])' w2.json)
  else
    printf 'w2 failed; the end of its output (w2.log):\n' >&2
    tail -n 20 w2.log >&2
    failed+=(W2)
  fi
fi

if wants W3; then
  w3=$(time_median w3 "$sleep_runs" "$bin" --suites w3 --jobs 8) || failed+=(W3)
fi

if wants W4; then
  if w4=$(time_median w4 "$runs" "$bin" --suites w4 --list); then
    listed=$(grep -c ': test$' w4.log || true)
    if [[ $listed != 10000 ]]; then
      printf 'w4 listed %s tests, expected 10000 (w4.log)\n' "$listed" >&2
      failed+=(W4)
    fi
  else
    failed+=(W4)
  fi
fi

if wants W5; then
  mkdir -p w5
  delays=(0.05 0.3 0.7 2)
  log "w5: service ready after ${delays[*]} s, $ready_runs run(s) each"
  for delay in "${delays[@]}"; do
    for ((i = 1; i <= ready_runs; i++)); do
      if ! READY_AFTER=$delay STAMPS=$work/w5/$delay-$i "$bin" --suites w5.toml >w5.log 2>&1; then
        printf 'w5 failed; the end of its output (w5.log):\n' >&2
        tail -n 20 w5.log >&2
        failed+=(W5)
        break 2
      fi
    done
  done
  # Failed suites keep their test dirs: in the work dir, removed with it.
  mkdir -p w5-tmp
  if never=$(TMPDIR=$work/w5-tmp time_failing w5-never "$ready_runs" \
    'was not healthy after 1s 500ms' "$bin" --suites w5-never.toml); then
    w5_never=$(awk -v t="$never" -v b="$w5_never_budget" 'BEGIN { printf "%.4f", t - b }')
  else
    failed+=(W5-never-healthy)
  fi
  w5_dies=$(TMPDIR=$work/w5-tmp time_failing w5-dies "$ready_runs" \
    'exited before it was healthy (exit status 3)' "$bin" --suites w5-dies.toml) ||
    failed+=(W5-dies-at-start)
  if [[ " ${failed[*]} " != *" W5 "* ]]; then
    # Median and worst over every run, in milliseconds; per delay below the table.
    read -r w5 w5_max w5_detail < <(python3 - "$work/w5" "${delays[@]}" <<'PY'
import pathlib, statistics, sys
folder, delays = pathlib.Path(sys.argv[1]), sys.argv[2:]
def latency(stem):
    ready = int((folder / f"{stem}.ready").read_text())
    step = int((folder / f"{stem}.step").read_text())
    return (step - ready) / 1e6
per_delay, every = [], []
for delay in delays:
    values = [latency(p.name[: -len(".step")]) for p in sorted(folder.glob(f"{delay}-*.step"))]
    every += values
    per_delay.append(f"{delay}s:{statistics.median(values):.0f}/{max(values):.0f}")
print(f"{statistics.median(every) / 1000:.4f} {max(every):.1f} {','.join(per_delay)}")
PY
    )
  fi
fi

# --- Report ------------------------------------------------------------------------------------

# verdict VALUE LIMIT: "ok" when VALUE <= LIMIT, "MISSED" when over, nothing without a VALUE.
verdict() {
  [[ -z $1 ]] || awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l ? "ok" : "MISSED") }'
}
seconds() {
  if [[ -n $1 ]]; then printf '%.3f s' "$1"; else printf 'failed'; fi
}
row() {
  local line
  line=$(printf '%-30s %-10s %-14s %-7s %-10s %s' "$@")
  echo "${line%"${line##*[! ]}"}"
}

echo
echo "smoke-runner: $bin"
echo "checkout: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
  "$(nproc) cores, $(hyperfine --version), BENCH_QUICK=${BENCH_QUICK:-0}"
echo
row workload median floor/target ratio target ''
if wants W1; then
  row 'C floor (200 x echo hi)' "$(seconds "$floor")" '' '' '' ''
  # against_floor LABEL SECONDS: a W1 row, as a ratio to the C floor (target 1.10x, issue 22),
  # shown and judged to three decimals: 1.104 is over 1.10, not "1.10".
  against_floor() {
    if [[ -n $floor && -n $2 ]]; then
      ratio=$(awk -v a="$2" -v b="$floor" 'BEGIN { printf "%.3f", a / b }')
      row "$1" "$(seconds "$2")" "$(seconds "$floor")" "${ratio}x" '<= 1.10x' \
        "$(verdict "$ratio" 1.10)"
    else
      row "$1" "$(seconds "$2")" '' '' '<= 1.10x' ''
    fi
  }
  against_floor 'W1 200 steps echo hi' "$w1"
  against_floor 'W1 --format terse' "$w1_terse"
  if [[ -n $w1 && -n $w1_masked ]]; then
    ratio=$(awk -v a="$w1_masked" -v b="$w1" 'BEGIN { printf "%.3f", a / b }')
    row 'W1 with 3 secrets masked' "$(seconds "$w1_masked")" "$(seconds "$w1")" "${ratio}x" \
      '<= 1.05x' "$(verdict "$ratio" 1.05)"
  else
    row 'W1 with 3 secrets masked' "$(seconds "$w1_masked")" '' '' '<= 1.05x' ''
  fi
  # info LABEL SECONDS: a W1 variant, as a ratio to the floor, with no target of its own.
  info() {
    if [[ -n $floor && -n $2 ]]; then
      row "$1" "$(seconds "$2")" "$(seconds "$floor")" \
        "$(awk -v a="$2" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')x" '(variant)' ''
    else
      row "$1" "$(seconds "$2")" '' '' '(variant)' ''
    fi
  }
  info '  W1 --no-log-dir' "$w1_no_logs"
  info '  W1 --no-history' "$w1_no_history"
  info '  W1 neither' "$w1_bare"
fi
if wants W2; then
  if [[ -n $w2_kib ]]; then
    mib=$(awk -v k="$w2_kib" 'BEGIN { printf "%.1f", k / 1024 }')
    row 'W2 1 GiB output, peak RSS' "$mib MiB" '' '' '<= 32 MiB' "$(verdict "$mib" 32)"
  else
    row 'W2 1 GiB output, peak RSS' failed '' '' '<= 32 MiB' ''
  fi
fi
if wants W3; then
  row 'W3 8 x sleep 1, --jobs 8' "$(seconds "$w3")" '' '' '<= 1.25 s' \
    "$(verdict "$w3" 1.25)"
fi
if wants W4; then
  row 'W4 --list 1000 files x 10' "$(seconds "$w4")" '' '' '<= 0.5 s' \
    "$(verdict "$w4" 0.5)"
fi
if wants W5; then
  if [[ -n $w5 ]]; then
    row 'W5 service ready -> 1st step' "$(seconds "$w5")" '' '' '<= 0.05 s' "$(verdict "$w5" 0.05)"
  else
    row 'W5 service ready -> 1st step' failed '' '' '<= 0.05 s' ''
  fi
  if [[ -n $w5_never ]]; then
    row 'W5 never healthy, past budget' "$(seconds "$w5_never")" "$(seconds "$w5_never_budget")" \
      '' '<= 0.5 s' "$(verdict "$w5_never" 0.5)"
  else
    row 'W5 never healthy, past budget' failed '' '' '<= 0.5 s' ''
  fi
  row 'W5 dies at start, fail time' "$(seconds "$w5_dies")" '' '' '<= 0.5 s' \
    "$(verdict "$w5_dies" 0.5)"
fi
if [[ -n ${w1_steal:-} ]]; then
  echo
  echo "CPU time the hypervisor took from this machine (steal) during W1: ${w1_steal} %."
  if awk -v s="$w1_steal" 'BEGIN { exit !(s > 2) }'; then
    echo "That is a lot: W1's ratios then move by a few hundredths from run to run" \
      "(benches/README.md)."
  fi
fi
if [[ -n $disk_before ]]; then
  echo
  echo "Creating a file in the work dir: ${disk_before} µs before W1 (after waiting ${disk_waited} s" \
    "for it to settle), ${disk_after:-?} µs after."
  if slow "$disk_before"; then
    echo "That is slow: W1's default, terse and masked rows include the disk's state, not only" \
      "smoke-runner's (benches/README.md)."
  fi
fi
if [[ -n $w5 ]]; then
  echo
  echo "W5: worst ${w5_max} ms; per ready delay, median/worst ms: ${w5_detail//,/ }"
fi
if [[ -n $w2_kib ]]; then
  echo
  if [[ $w2_method == ptrace-exit ]]; then
    how="smoke-runner's own VmHWM, read at its exit"
  else
    how="ptrace refused: includes children, an upper bound"
  fi
  echo "W2: median wall $(printf '%.2f' "$w2_wall") s; peak RSS is $how"
fi

if ((${#failed[@]})); then
  echo
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
