#!/usr/bin/env python3
"""Times several commands in interleaved rounds and prints each one's median wall time, and the
median of its per-round ratio to the first case.

    interleaved.py --runs N --warmup W --json OUT.json --case NAME CMD [ARG...] --case NAME CMD ...

Each round runs every case once, so a change in the machine's load during the measurement moves
every case alike: their ratios stay comparable where timing one command after another (as
hyperfine does) would lend one case a quiet minute and another a busy one. Round r starts with
case r (mod the number of cases) and goes on in the order given, wrapping around: every case
runs as often in each place and after each other case. In a fixed order a case always follows
the same one, and pays (or is spared) what that one leaves behind: the disk writing back its
files, a fuller page cache (benches/README.md, "Order within a round").
Each command is first run once on its own and must exit 0 (its output is kept in NAME.log);
output is discarded while timing. No shell is involved.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time


def parse(argv):
    head, cases, current = [], [], None
    for arg in argv:
        if arg == "--case":
            current = []
            cases.append(current)
        elif current is None:
            head.append(arg)
        else:
            current.append(arg)
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--json", required=True)
    options = parser.parse_args(head)
    if not cases or any(len(case) < 2 for case in cases):
        parser.error("give at least one --case NAME CMD [ARG...]")
    return options, [(case[0], case[1:]) for case in cases]


def main():
    options, cases = parse(sys.argv[1:])
    for name, command in cases:
        with open(f"{name}.log", "wb") as log:
            status = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT).returncode
        if status != 0:
            with open(f"{name}.log", "rb") as log:
                tail = log.read().decode(errors="replace").splitlines()[-20:]
            print(f"{name} failed (exit {status}); the end of its output ({name}.log):",
                  file=sys.stderr)
            print("\n".join(tail), file=sys.stderr)
            return 1
    times = {name: [] for name, _ in cases}
    for round_number in range(options.warmup + options.runs):
        start = round_number % len(cases)
        for name, command in cases[start:] + cases[:start]:
            started = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elapsed = time.perf_counter() - started
            if round_number >= options.warmup:
                times[name].append(elapsed)
    medians = {name: statistics.median(samples) for name, samples in times.items()}
    # A cross-check that a slow spell cannot tilt: each round's time over the first case's in
    # the same round, and the median of those.
    first = cases[0][0]
    paired = {
        name: statistics.median(a / b for a, b in zip(samples, times[first]))
        for name, samples in times.items()
    }
    with open(options.json, "w") as out:
        json.dump({"medians": medians, "paired": paired, "times": times}, out)
    for name, median in medians.items():
        spread = max(times[name]) - min(times[name])
        print(f"{name}: median {median:.4f} s, range {spread:.4f} s over {options.runs} runs, "
              f"median per-round ratio to {first} {paired[name]:.3f}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
