//! The engine: reports on their own thread (a slow reader never holds up a step), runs as
//! values (several in one process, each with its own cancellation).

use std::io::Read;
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::{StopOnDrop, TestEnv, smoke_runner};

/// Steps in the slow-reader suite, each printing this many bytes.
const STEPS: usize = 20;
const STEP_OUTPUT: &str = "10K";
/// How long nobody reads the report.
const READER_ASLEEP: Duration = Duration::from_secs(6);
/// Every step starts this soon after the run did, long before the reader wakes. (20 steps take
/// up to 1.8 s on a 2-core machine with a load of 15; a step waiting for the reader would start
/// after `READER_ASLEEP`.)
const STARTED_WITHIN: Duration = Duration::from_secs(3);

/// A suite whose every step first writes the time it started (nanoseconds since the epoch)
/// to `started-N` in the scratch folder, then prints 10 KiB.
fn timestamped_suite(scratch: &std::path::Path) -> String {
    let mut suite = String::from("name = \"Chatty\"\ncommand = \"${FAKE}\"\n");
    for n in 0..STEPS {
        suite.push_str(&format!(
            "\n[[step]]\nname = \"Step {n}\"\nrun = \"stamp:{}/started-{n} print-bytes:{STEP_OUTPUT}\"\n",
            scratch.display()
        ));
    }
    suite
}

/// Regression: the reports were written on the suite's own thread, so a full pipe on standard
/// output held up every step until somebody read it.
#[test]
fn a_reader_that_does_not_read_never_holds_up_a_step() {
    let env = TestEnv::new();
    let suite = timestamped_suite(env.path());
    let env = env.suite("chatty", &suite);
    // The report goes into a pipe of one page that nobody reads for a while: the report (each
    // step's output tail, 20 lines) is several times what it holds.
    let (mut reader, writer) = std::io::pipe().unwrap();
    // SAFETY: F_SETPIPE_SZ on a pipe this test owns.
    let capacity = unsafe { libc::fcntl(writer.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
    assert!(
        capacity > 0,
        "F_SETPIPE_SZ: {}",
        std::io::Error::last_os_error()
    );
    let started = SystemTime::now();
    let mut runner = StopOnDrop(
        env.std_command(smoke_runner())
            .args([
                "--show-output",
                "--no-history",
                "--no-log-dir",
                "--color",
                "never",
            ])
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(READER_ASLEEP);
    let mut report = String::new();
    reader.read_to_string(&mut report).unwrap();
    let status = runner.0.wait().unwrap();
    let mut errors = String::new();
    runner
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut errors)
        .unwrap();
    assert!(status.success(), "{status}\n{errors}\n{report}");

    let run_start = started.duration_since(UNIX_EPOCH).unwrap();
    let after_start: Vec<Duration> = (0..STEPS)
        .map(|n| {
            let stamp = std::fs::read_to_string(env.path().join(format!("started-{n}"))).unwrap();
            Duration::from_nanos(stamp.trim().parse().unwrap()).saturating_sub(run_start)
        })
        .collect();
    assert!(
        after_start.iter().all(|after| *after < STARTED_WITHIN),
        "steps started this long after the run (did they wait for the report's reader?): \
         {after_start:?}"
    );
    // The whole report arrived once the reader woke: every step's output and the summary.
    for n in 0..STEPS {
        assert!(report.contains(&format!("✓ Step {n} (")), "{report}");
    }
    assert!(
        report.len() > 4 * capacity as usize,
        "{} bytes of report",
        report.len()
    );
    assert!(report.contains("Passed: 20\n"), "{report}");
}
