//! Ctrl-C and termination signals during a run: commands stopped, test dirs removed, a
//! partial summary, exit 128+N.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process_checks::gone_within;
use crate::support::{TestEnv, fake_program, smoke_runner};

const SUITE: &str = r#"
command = "${FAKE}"

[[step]]
name = "Long step with a grandchild"
run = "spawn-grandchild:61 sleep:61"

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
    let tmp = env.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut child = Command::new(smoke_runner())
        .current_dir(env.path())
        .env("PLANDEX_ENV_FILE", "/dev/null")
        .env("TMPDIR", &tmp)
        .env("FAKE", fake_program())
        .env_remove("PLANDEX_TIMEOUT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut report = String::new();
    // Wait until the long step is running and has a test dir.
    for line in lines.by_ref() {
        let line = line.unwrap();
        report.push_str(&line);
        report.push('\n');
        if line.starts_with("→ Running") {
            break;
        }
    }
    assert_eq!(env.test_dirs().len(), 1, "{report}");
    // The grandchild is tagged with the step's SMOKE_RUNNER_TAG; find it by its command line
    // once it exists.
    std::thread::sleep(Duration::from_millis(300));
    let grandchildren = fake_processes_with("sleep:61");
    assert!(
        !grandchildren.is_empty(),
        "the step's processes are running"
    );

    // SAFETY: sending a signal to the child we spawned.
    unsafe { libc::kill(child.id() as i32, signal) };
    for line in lines {
        report.push_str(&line.unwrap());
        report.push('\n');
    }
    let status = child.wait().unwrap();

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

/// Pids of running fake programs whose arguments include `argument`.
fn fake_processes_with(argument: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let mut args = cmdline.split(|&b| b == 0);
        let is_fake = args.next().is_some_and(|a| a.ends_with(b"fake-program"));
        if is_fake && args.any(|a| a == argument.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn ctrl_c_stops_the_step_removes_test_dirs_and_exits_130() {
    interrupt_with(libc::SIGINT);
}

#[test]
fn sigterm_is_handled_like_ctrl_c_and_exits_143() {
    interrupt_with(libc::SIGTERM);
}
