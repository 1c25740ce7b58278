//! Ctrl-C and termination signals during a run: commands stopped, test dirs removed, a
//! partial summary, exit 128+N.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process_checks::{gone_within, reported_pids};
use crate::support::{TestEnv, fake_program, smoke_runner};

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

/// Stops the runner if an assertion fails before the test interrupts it, so a failing test
/// leaves nothing running.
struct StopOnDrop(std::process::Child);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // SAFETY: signalling the child this test spawned; the runner then cleans up.
            unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
            let _ = self.0.wait();
        }
    }
}

fn interrupt_with(signal: i32) {
    let env = TestEnv::new().suite("interrupted", SUITE);
    let tmp = env.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut child = StopOnDrop(
        Command::new(smoke_runner())
            .current_dir(env.path())
            .env("PLANDEX_ENV_FILE", "/dev/null")
            .env("TMPDIR", &tmp)
            .env("FAKE", fake_program())
            .env_remove("PLANDEX_TIMEOUT")
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
