#!/usr/bin/env bash
# Measures the pauses a `retry` with back-off makes between attempts: exponential from 1 s
# (expected 1, 2, 4 s), then the same with jitter (each drawn between half and all of it:
# 0.5-1, 1-2, 2-4 s). A step stamps the time at each attempt and passes at the fourth; the
# pauses are the gaps between stamps, less the step's own run time (measured with an attempt
# that passes at once, and well under a millisecond here).
#
# Usage: benches/retry_backoff.sh   (SMOKE_RUNNER_BIN=PATH: this binary instead of building one)
# Takes about 15 s. Prints one line per run: the three pauses and their ratios to the first.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
if [[ -z ${SMOKE_RUNNER_BIN:-} ]]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin smoke-runner
  SMOKE_RUNNER_BIN="$root/target/release/smoke-runner"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # label, retry table
  local label=$1 retry=$2
  rm -f "$work/stamps"
  cat >"$work/backoff.toml" <<SUITE
name = "backoff"
command = ""

[[step]]
name = "fourth time lucky"
sh = 'date +%s.%N >> "\$STAMPS"; [ "\$(wc -l < "\$STAMPS")" -ge 4 ]'
retry = $retry
SUITE
  STAMPS="$work/stamps" "$SMOKE_RUNNER_BIN" --suites "$work/backoff.toml" --no-env-file \
    --no-history --no-log-dir --format terse >/dev/null
  python3 - "$label" "$work/stamps" <<'PY'
import sys
label, path = sys.argv[1], sys.argv[2]
stamps = [float(line) for line in open(path)]
gaps = [b - a for a, b in zip(stamps, stamps[1:])]
ratios = " ".join(f"{g / gaps[0]:.2f}" for g in gaps)
print(f"{label:<32} pauses " + " ".join(f"{g:.3f}s" for g in gaps) + f"   ratios {ratios}")
PY
}

measure "exponential, 1s" '{ attempts = 4, interval = "1s", backoff = "exponential" }'
measure "exponential, 1s, jitter" '{ attempts = 4, interval = "1s", backoff = "exponential", jitter = true }'
