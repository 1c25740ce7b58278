//! Ctrl-C and termination signals during a run: commands stopped, test dirs removed, a
//! partial summary, exit 128+N.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::process_checks::{gone_within, reported_pids};
use crate::support::{StopOnDrop, TestEnv, smoke_runner};

const SUITE: &str = r#"
command = "${FAKE}"

[[step]]
name = "Long step with a grandchild"
sh = "$FAKE spawn-grandchild:61 pid sleep:61 > pids.txt"

[[step]]
name = "Never reached"
run = "out:late"

[[step]]
name = "Cleanup that would run after a failure"
run = "out:cleanup"
always = true
"#;

fn interrupt_with(signal: i32) {
    let env = TestEnv::new().suite("interrupted", SUITE);
    let mut child = StopOnDrop(
        env.std_command(smoke_runner())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(env.path().join("stderr.txt")).unwrap(),
            ))
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut report = String::new();
    // Wait until the long step is running and has a test dir.
    for line in lines.by_ref() {
        let line = line.unwrap();
        report.push_str(&line);
        report.push('\n');
        if line.starts_with("→ Running (timeout") {
            break;
        }
    }
    let stderr_text = || std::fs::read_to_string(env.path().join("stderr.txt")).unwrap_or_default();
    assert_eq!(
        env.test_dirs().len(),
        1,
        "{report}\nstderr:\n{}\nstatus: {:?}",
        stderr_text(),
        child.0.try_wait()
    );
    // The step writes its own pid and its grandchild's into the test dir.
    let pids_file = env.test_dirs()[0].join("pids.txt");
    let mut grandchildren = Vec::new();
    for _ in 0..100 {
        let text = std::fs::read_to_string(&pids_file).unwrap_or_default();
        grandchildren = reported_pids(text.as_bytes(), "grandchild-pid");
        grandchildren.extend(reported_pids(text.as_bytes(), "pid"));
        if grandchildren.len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        grandchildren.len(),
        2,
        "the step's processes are running:\n{report}"
    );

    // SAFETY: sending a signal to the child we spawned.
    unsafe { libc::kill(child.0.id() as i32, signal) };
    for line in lines {
        report.push_str(&line.unwrap());
        report.push('\n');
    }
    let status = child.0.wait().unwrap();

    assert_eq!(status.code(), Some(128 + signal), "{report}");
    assert!(report.contains("Interrupted: partial results"), "{report}");
    assert!(
        report.contains("- Never reached (skipped: interrupted)"),
        "{report}"
    );
    assert!(
        report.contains("- Cleanup that would run after a failure (skipped: interrupted)"),
        "{report}"
    );
    assert!(
        env.test_dirs().is_empty(),
        "test dirs removed after an interrupt"
    );
    for pid in grandchildren {
        assert!(
            gone_within(pid, Duration::from_secs(2)),
            "process {pid} of the step still runs"
        );
    }
}

#[test]
fn ctrl_c_stops_the_step_removes_test_dirs_and_exits_130() {
    interrupt_with(libc::SIGINT);
}

#[test]
fn sigterm_is_handled_like_ctrl_c_and_exits_143() {
    interrupt_with(libc::SIGTERM);
}

/// `smoke-runner` started in `env`, its report written to `report.txt` there.
fn start_runner(env: &TestEnv) -> StopOnDrop {
    let report = std::fs::File::create(env.path().join("report.txt")).unwrap();
    StopOnDrop(
        env.std_command(smoke_runner())
            .stdout(report)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Calls `until` every few milliseconds until it gives a value; panics (the runner is then
/// stopped by [`StopOnDrop`]) when `what` has not happened within a minute.
fn wait_for<T>(what: &str, mut until: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = until() {
            return value;
        }
        assert!(Instant::now() < deadline, "waited a minute for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The size of `name` in the one test dir of `env`, once it exists.
fn size_in_test_dir(env: &TestEnv, name: &str) -> Option<u64> {
    let dir = env.test_dirs().into_iter().next()?;
    std::fs::symlink_metadata(dir.join(name))
        .ok()
        .map(|meta| meta.len())
}

/// Whether the process `pid` has a file named `name` open.
fn has_open(pid: u32, name: &str) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|target| target.file_name() == Some(name.as_ref()))
    })
}

/// Sends `signal` to the runner, then waits for it to exit, calling `meanwhile` every few
/// milliseconds. Returns the exit code and how long the runner took to exit.
fn interrupt_and_wait(
    child: &mut StopOnDrop,
    signal: i32,
    mut meanwhile: impl FnMut(),
) -> (Option<i32>, Duration) {
    let signalled = Instant::now();
    // SAFETY: sending a signal to the child this test spawned.
    unsafe { libc::kill(child.0.id() as i32, signal) };
    let status = wait_for("the runner to exit after the signal", || {
        meanwhile();
        child.0.try_wait().unwrap()
    });
    (status.code(), signalled.elapsed())
}

/// A generous bound for exiting after a signal on a machine whose CPUs are all busy; without
/// the interrupt checks, the runs below take minutes (or write gigabytes) after the signal.
const EXIT_BOUND: Duration = Duration::from_secs(15);

/// SIGTERM during a fixture copy waited for the whole copy (a large fixture took as long as it
/// takes to write it) before the run ended.
#[test]
fn sigterm_during_a_fixture_copy_stops_the_copy_and_removes_the_test_dir() {
    let env = TestEnv::new().suite(
        "copying",
        "fixtures = [\"large\"]\n[[step]]\nname = \"after the copy\"\nsh = \"true\"\n",
    );
    // A sparse file: 2 GiB to copy, nothing on disk until it is copied.
    std::fs::create_dir_all(env.path().join("fixtures/large")).unwrap();
    std::fs::File::create(env.path().join("fixtures/large/big"))
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let mut child = start_runner(&env);
    wait_for("the copy to start", || {
        size_in_test_dir(&env, "big").filter(|&size| size > 0)
    });
    let mut copied_at_signal = None;
    let mut copied_most = 0;
    let (code, took) = interrupt_and_wait(&mut child, libc::SIGTERM, || {
        // Measured after the signal was sent, so no smaller than what was copied by then.
        let size = size_in_test_dir(&env, "big").unwrap_or(0);
        copied_at_signal.get_or_insert(size);
        copied_most = copied_most.max(size);
    });
    let report = std::fs::read_to_string(env.path().join("report.txt")).unwrap();
    assert_eq!(code, Some(128 + libc::SIGTERM), "{report}");
    assert!(
        took < EXIT_BOUND,
        "exited {took:?} after the signal:\n{report}"
    );
    // The copy goes on for at most one block (8 MiB) after the signal arrives.
    let copied_at_signal = copied_at_signal.unwrap_or(0);
    assert!(
        copied_most <= copied_at_signal + (32 << 20),
        "{copied_most} bytes copied, {copied_at_signal} when the signal was sent"
    );
    assert!(
        report.contains("- after the copy (skipped: interrupted)"),
        "{report}"
    );
    assert!(env.test_dirs().is_empty(), "test dir removed");
}

/// Ctrl-C while a file check read a huge file waited for the whole file to be read.
#[test]
fn ctrl_c_during_a_file_check_stops_the_read_and_removes_the_test_dir() {
    // A sparse file of 64 GiB: minutes to read, nothing on disk.
    let env = TestEnv::new().suite(
        "checking",
        r#"
[[step]]
name = "huge file"
sh = "truncate -s 64G huge"
files = [{ path = "huge", contains = "never there" }]

[[step]]
name = "never reached"
sh = "true"
"#,
    );
    let mut child = start_runner(&env);
    let pid = child.0.id();
    wait_for("the file check to open the file", || {
        has_open(pid, "huge").then_some(())
    });
    let (code, took) = interrupt_and_wait(&mut child, libc::SIGINT, || {});
    let report = std::fs::read_to_string(env.path().join("report.txt")).unwrap();
    assert_eq!(code, Some(128 + libc::SIGINT), "{report}");
    assert!(
        took < EXIT_BOUND,
        "exited {took:?} after the signal:\n{report}"
    );
    assert!(
        report.contains("file huge was not checked to the end: the run was interrupted"),
        "{report}"
    );
    assert!(
        report.contains("- never reached (skipped: interrupted)"),
        "{report}"
    );
    assert!(env.test_dirs().is_empty(), "test dir removed");
}

/// SIGTERM while the report was written into a pipe nobody read: the runner stayed blocked in
/// `write` forever, the signal ignored and its test dir left behind.
#[test]
fn sigterm_while_the_report_reader_is_not_reading_ends_the_run() {
    let long_name = "x".repeat(200);
    let steps: String = (1..=2000)
        .map(|n| format!("[[step]]\nname = \"step {n} {long_name}\"\nsh = \"true\"\n\n"))
        .collect();
    let env = TestEnv::new().suite("blocked", &steps);
    let mut child = StopOnDrop(
        env.std_command(smoke_runner())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Never read: once the pipe is full, the runner waits for its reader.
    let unread = child.0.stdout.take().unwrap();
    let pipe_capacity = {
        use std::os::fd::AsRawFd;
        // SAFETY: F_GETPIPE_SZ on a pipe this test owns.
        unsafe { libc::fcntl(unread.as_raw_fd(), libc::F_GETPIPE_SZ) }
    };
    wait_for("the report to fill the pipe", || {
        use std::os::fd::AsRawFd;
        let mut queued: libc::c_int = 0;
        // SAFETY: FIONREAD on a pipe this test owns, into a c_int.
        unsafe { libc::ioctl(unread.as_raw_fd(), libc::FIONREAD, &mut queued) };
        // Short writes leave the end of each page of the pipe unused: nearly full is full.
        (queued > pipe_capacity - 8192).then_some(())
    });
    assert_eq!(env.test_dirs().len(), 1);
    let (code, took) = interrupt_and_wait(&mut child, libc::SIGTERM, || {});
    assert_eq!(code, Some(128 + libc::SIGTERM));
    assert!(took < EXIT_BOUND, "exited {took:?} after the signal");
    assert!(env.test_dirs().is_empty(), "test dir removed");
    drop(unread);
}

/// The children of process `pid`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// How many bytes process `pid` has read so far (`rchar` in `/proc/PID/io`).
fn bytes_read(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    io.lines()
        .find_map(|line| line.strip_prefix("rchar:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}

/// Ctrl-C while output checks read gigabytes of spilled output waited for every check to read
/// all of it.
#[test]
fn ctrl_c_during_output_checks_stops_the_reads() {
    // 300 MB of output, spilled to a temp file, read once per check: minutes of reading.
    let texts: Vec<String> = (0..40).map(|n| format!("\"absent {n}\"")).collect();
    let env = TestEnv::new();
    // The step leaves a mark when its output is written: a handshake that stays true, where
    // seeing the short-lived step among the runner's children could be missed on a busy machine.
    let written = env.path().join("written");
    let env = env.suite(
        "output",
        &format!(
            "[[step]]\nname = \"much output\"\nsh = \"head -c 300000000 /dev/zero; : > '{}'\"\nstdout.contains = [{}]\n\n[[step]]\nname = \"never reached\"\nsh = \"true\"\n",
            written.display(),
            texts.join(", ")
        ),
    );
    let mut child = start_runner(&env);
    let pid = child.0.id();
    // Once the step is gone (its mark written, no child left), the checks read its output.
    wait_for("the step to end", || {
        (written.exists() && children(pid).is_empty()).then_some(())
    });
    // Then the checks read the spilled output: the runner's read count grows by the block.
    let read_before = bytes_read(pid);
    wait_for("the checks to read the output", || {
        (bytes_read(pid) > read_before + (32 << 20)).then_some(())
    });
    let (code, took) = interrupt_and_wait(&mut child, libc::SIGINT, || {});
    let report = std::fs::read_to_string(env.path().join("report.txt")).unwrap();
    assert_eq!(code, Some(128 + libc::SIGINT), "{report}");
    assert!(
        took < EXIT_BOUND,
        "exited {took:?} after the signal:\n{report}"
    );
    assert!(
        report.contains("cannot read captured stdout: the run was interrupted"),
        "{report}"
    );
    assert!(env.test_dirs().is_empty(), "test dir removed");
    // Nor does writing the step's log read all of it: the log says where it stopped.
    let logs = env.path().join("target/smoke-logs");
    let run = std::fs::read_dir(&logs)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.is_dir())
        .expect("the run's log folder");
    let log = run.join("output.log");
    let size = std::fs::metadata(&log).unwrap().len();
    assert!(size < 300_000_000, "{} is {size} bytes", log.display());
    let mut tail = vec![0; size.min(200) as usize];
    let mut file = std::fs::File::open(&log).unwrap();
    std::io::Seek::seek(
        &mut file,
        std::io::SeekFrom::Start(size - tail.len() as u64),
    )
    .unwrap();
    std::io::Read::read_exact(&mut file, &mut tail).unwrap();
    let tail = String::from_utf8_lossy(&tail);
    assert!(
        tail.contains("[the rest of the output is not logged: the run was interrupted]"),
        "{tail}"
    );
}
