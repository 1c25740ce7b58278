//! Questions about processes the tests started: is this pid still running, which pids did the
//! fake program report, how much memory does this test process hold.
//!
//! Linux only: everything is read from `/proc`.

#![allow(dead_code, reason = "each test module uses a different part")]

use std::time::{Duration, Instant};

/// Whether `pid` is running: it exists and is not a zombie. A killed process whose parent
/// has not reaped it yet (orphans under a container's init may wait) counts as gone.
pub fn is_running(pid: i32) -> bool {
    let Ok(stat) = std::fs::read(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The command name may contain spaces and ')', so the state is after the last ')'.
    let Some(end_of_name) = stat.iter().rposition(|&b| b == b')') else {
        return false;
    };
    let state = stat[end_of_name + 1..]
        .iter()
        .find(|b| !b.is_ascii_whitespace());
    !matches!(state, None | Some(b'Z' | b'X'))
}

/// Waits up to `within` for `pid` to stop running; whether it did.
///
/// SIGKILL is delivered asynchronously, so a process the runner killed a moment before it
/// exited can take a few milliseconds to disappear.
pub fn gone_within(pid: i32, within: Duration) -> bool {
    let until = Instant::now() + within;
    loop {
        if !is_running(pid) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Asserts that every pid in `pids` is gone within a second of the runner ending.
pub fn assert_all_gone(pids: &[i32], context: &str) {
    let alive: Vec<i32> = pids
        .iter()
        .copied()
        .filter(|&pid| !gone_within(pid, Duration::from_secs(1)))
        .collect();
    for &pid in &alive {
        // Do not leave the survivor running for the rest of the test run.
        // SAFETY: kill(2) on a pid this test started; no memory involved.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(alive.is_empty(), "{context}: still running: {alive:?}");
}

/// The pids the fake program reported as `LABEL:N` lines (`grandchild-pid`, `daemon-pid`,
/// `pid`), in order.
pub fn reported_pids(output: &[u8], label: &str) -> Vec<i32> {
    let prefix = format!("{label}:");
    String::from_utf8_lossy(output)
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix)?.trim().parse().ok())
        .collect()
}

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
pub fn own_memory(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|number| number.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    kib * 1024
}
