#!/usr/bin/env python3
"""Peak resident memory of one process on its own, not counting its children.

Usage: peak_rss.py [--runs N] [--json FILE] -- COMMAND [ARGS...]

Runs COMMAND N times (its stdout and stderr are ours) and reports, per run, the VmHWM line of
/proc/PID/status read at the moment the process exits. The process is started under ptrace
with PTRACE_O_TRACEEXIT, so the kernel stops it at the start of exit, before its memory is
released; VmHWM is then final, and it belongs to that process alone (children have their own).

Why not `/usr/bin/time -f %M` or getrusage(RUSAGE_CHILDREN)? Both report the maximum over the
process and every descendant it reaped, so a big child would be reported as the harness's own
peak. That number is kept too, as `with_children_kib`.

If ptrace is refused (some sandboxes forbid it), the process runs untraced and the report says
`"method": "wait4"`: the peak then includes the children, an upper bound of the own peak.

Exits with the first failing run's status (128 + signal when killed), else 0.
"""

import argparse
import ctypes
import json
import os
import signal
import statistics
import sys
import time

PTRACE_TRACEME = 0
PTRACE_CONT = 7
PTRACE_SETOPTIONS = 0x4200
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_TRACEEXIT = 0x40
PTRACE_O_EXITKILL = 0x100000
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_EXIT = 6

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def run_once(command):
    """Runs COMMAND once; returns (exit status, own peak KiB or None, peak with children KiB)."""
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        # If this fails the run goes on untraced, and the parent sees no exec stop.
        libc.ptrace(PTRACE_TRACEME, 0, None, None)
        try:
            os.execvp(command[0], command)
        except OSError as error:
            print(f"peak_rss.py: {command[0]}: {error}", file=sys.stderr)
        finally:
            os._exit(127)

    own_kib = None
    traced = False
    while True:
        _, status, usage = os.wait4(pid, 0)
        if not os.WIFSTOPPED(status):
            break
        stop_signal = os.WSTOPSIG(status)
        event = status >> 16
        deliver = stop_signal
        if not traced and stop_signal == signal.SIGTRAP:
            # The stop after our exec: from now on stop again when the process exits. Later
            # execs (a script's interpreter) become events too, instead of a fatal SIGTRAP.
            traced = True
            deliver = 0
            options = PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL
            libc.ptrace(PTRACE_SETOPTIONS, pid, None, options)
        elif stop_signal == signal.SIGTRAP and event == PTRACE_EVENT_EXEC:
            deliver = 0
        elif stop_signal == signal.SIGTRAP and event == PTRACE_EVENT_EXIT:
            own_kib = vm_hwm_kib(pid)
            deliver = 0
        libc.ptrace(PTRACE_CONT, pid, None, deliver)

    wall = time.monotonic() - started
    if os.WIFSIGNALED(status):
        code = 128 + os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
    return code, own_kib, usage.ru_maxrss, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", help="write the report here (default: stdout)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    runs = []
    for _ in range(args.runs):
        code, own_kib, with_children_kib, wall = run_once(command)
        runs.append(
            {
                "exit": code,
                "own_kib": own_kib,
                "with_children_kib": with_children_kib,
                "wall_s": wall,
            }
        )
        if code != 0:
            break

    exact = all(run["own_kib"] is not None for run in runs)
    peaks = [run["own_kib"] if exact else run["with_children_kib"] for run in runs]
    report = {
        "method": "ptrace-exit" if exact else "wait4",
        "median_kib": statistics.median(peaks),
        "median_wall_s": statistics.median(run["wall_s"] for run in runs),
        "runs": runs,
    }
    text = json.dumps(report, indent=2)
    if args.json:
        with open(args.json, "w") as out:
            out.write(text + "\n")
    else:
        print(text)
    return next((run["exit"] for run in runs if run["exit"] != 0), 0)


if __name__ == "__main__":
    sys.exit(main())
