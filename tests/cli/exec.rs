//! `smoke-runner exec` as a user runs it: exit statuses like GNU `timeout`, deadlines, no
//! process left behind, output and stdin passed through untouched.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::process_checks::{assert_all_gone, reported_pids};
use crate::support::{TestEnv, fake_program, smoke_runner, stderr, stdout};

/// Runs `smoke-runner exec ARGS` in a scratch folder; returns its output and wall time.
fn exec(args: &[&str]) -> (Output, Duration) {
    exec_in(&TestEnv::new(), args)
}

fn exec_in(env: &TestEnv, args: &[&str]) -> (Output, Duration) {
    let mut command = env.command();
    command.arg("exec").args(args);
    let started = Instant::now();
    let output = command.output().expect("run smoke-runner exec");
    (output, started.elapsed())
}

fn fake() -> String {
    fake_program().display().to_string()
}

/// The exit status, or a panic with everything the user would have seen.
/// A bound on wall time that only a command run to its end (`sleep 30`) or a missed signal
/// exceeds: generous, so that it holds on a machine whose CPUs are all busy.
const WELL_BEFORE_THE_END: Duration = Duration::from_secs(10);

/// Asserts that `exec` reported a timeout (124) within `bound` of wall time.
fn assert_timed_out_within(output: &Output, took: Duration, bound: Duration) {
    assert_eq!(code(output), 124, "{}", stderr(output));
    assert!(took < bound, "took {took:?}, bound {bound:?}");
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or_else(|| {
        panic!(
            "smoke-runner died of a signal: {:?}\nstdout: {}\nstderr: {}",
            output.status,
            stdout(output),
            stderr(output)
        )
    })
}

#[test]
fn exits_zero_when_the_command_succeeds() {
    let (output, _) = exec(&["--", &fake(), "out:fine"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "fine\n");
    assert_eq!(stderr(&output), "");
}

#[test]
fn exits_with_the_commands_own_status() {
    let (output, _) = exec(&["--", &fake(), "exit:3"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
}

#[test]
fn missing_program_exits_127_and_says_so() {
    let (output, _) = exec(&["--", "no-such-program-for-smoke-runner"]);
    assert_eq!(code(&output), 127);
    assert_eq!(
        stderr(&output),
        "smoke-runner: failed to run command `no-such-program-for-smoke-runner`: command not found\n"
    );
}

#[test]
fn file_without_execute_permission_exits_126_and_says_so() {
    let env = TestEnv::new().file("not-executable", "#!/bin/sh\necho ran\n");
    let path = env.path().join("not-executable");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shown = path.display().to_string();
    let (output, _) = exec_in(&env, &["--", &shown]);
    assert_eq!(code(&output), 126, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!("smoke-runner: failed to run command `{shown}`: command not executable\n")
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn command_killed_by_a_signal_makes_the_shell_see_128_plus_the_signal() {
    let script = r#""$BIN" exec -- "$FAKE" kill-self:9; echo "status=$?""#;
    let output = Command::new("bash")
        .args(["-c", script])
        .env("BIN", smoke_runner())
        .env("FAKE", fake_program())
        .env_remove("PLANDEX_TIMEOUT")
        .output()
        .expect("run bash");
    assert_eq!(stdout(&output), "status=137\n", "{}", stderr(&output));
}

#[test]
fn timeout_exits_124_quickly_with_a_note() {
    let (output, took) = exec(&["--timeout", "0.3", "--", &fake(), "sleep:30"]);
    assert_timed_out_within(&output, took, WELL_BEFORE_THE_END);
    assert_eq!(
        stderr(&output),
        format!(
            "smoke-runner: `{}` timed out after 300ms; stopped its process group with SIGTERM\n",
            fake()
        )
    );
}

#[test]
fn timeout_of_one_second_stops_sleep() {
    let (output, took) = exec(&["--timeout", "1", "--", "sleep", "30"]);
    assert!(
        took >= Duration::from_secs(1),
        "stopped before its timeout: {took:?}"
    );
    assert_timed_out_within(&output, took, WELL_BEFORE_THE_END);
}

#[test]
fn command_ignoring_sigterm_is_killed_after_kill_after() {
    let script = "trap '' TERM; sleep 30";
    let (output, took) = exec(&[
        "--timeout",
        "1",
        "--kill-after",
        "0.5",
        "--",
        "bash",
        "-c",
        script,
    ]);
    assert_timed_out_within(&output, took, WELL_BEFORE_THE_END);
    assert!(
        stderr(&output).contains("stopped its process group with SIGKILL"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn no_process_survives_a_timeout_when_sigterm_is_ignored() {
    let (output, took) = exec(&[
        "--timeout",
        "1",
        "--kill-after",
        "0.5",
        "--",
        &fake(),
        "ignore-term",
        "spawn-grandchild:30",
        "pid",
        "sleep:30",
    ]);
    assert_timed_out_within(&output, took, WELL_BEFORE_THE_END);
    let mut pids = reported_pids(&output.stdout, "grandchild-pid");
    pids.extend(reported_pids(&output.stdout, "pid"));
    assert_eq!(pids.len(), 2, "{}", stdout(&output));
    assert_all_gone(&pids, "after the timeout");
}

#[test]
fn background_process_holding_stdout_does_not_make_it_wait() {
    let script = r#"sleep 30 & echo "sleep-pid:$!" >&2; echo started"#;
    let (output, took) = exec(&["--timeout", "10", "--", "bash", "-c", script]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "started\n");
    assert!(took < WELL_BEFORE_THE_END, "took {took:?}");
    let pids = reported_pids(&output.stderr, "sleep-pid");
    assert_eq!(pids.len(), 1, "{}", stderr(&output));
    assert_all_gone(&pids, "after bash ended");
}

#[test]
fn background_process_is_killed_and_reported() {
    let (output, took) = exec(&[
        "--timeout",
        "10",
        "--",
        &fake(),
        "spawn-grandchild:30",
        "out:started",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(took < WELL_BEFORE_THE_END, "took {took:?}");
    assert!(
        stdout(&output).ends_with("started\n"),
        "{}",
        stdout(&output)
    );
    let pids = reported_pids(&output.stdout, "grandchild-pid");
    assert_eq!(pids.len(), 1, "{}", stdout(&output));
    assert_all_gone(&pids, "after the command ended");
    assert_eq!(
        stderr(&output),
        format!(
            "smoke-runner: killed 1 leftover process(es) of `{}` after it ended\n",
            fake()
        )
    );
}

#[test]
fn daemon_that_left_the_process_group_is_killed_and_reported() {
    let (output, took) = exec(&["--timeout", "10", "--", &fake(), "daemonize:30"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(took < WELL_BEFORE_THE_END, "took {took:?}");
    let pids = reported_pids(&output.stdout, "daemon-pid");
    assert_eq!(pids.len(), 1, "{}", stdout(&output));
    assert_all_gone(&pids, "after the command ended");
    assert!(
        stderr(&output).contains("killed 1 leftover process(es)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn output_is_forwarded_live_to_the_matching_stream() {
    // Handshake: the command prints its first lines, then waits for its stdin to end, which
    // the test closes only once it has read them. Output held back until the command ends
    // would never arrive: the watchdog kills the command after a minute and the test fails.
    let mut child = Command::new(smoke_runner())
        .env_remove("PLANDEX_TIMEOUT")
        .arg("exec")
        .arg("--")
        .arg(fake_program())
        .args([
            "out:early-out",
            "err:early-err",
            "read-stdin",
            "out:late-out",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start smoke-runner exec");
    let stdin = child.stdin.take().unwrap();
    let (done, watchdog) = std::sync::mpsc::channel::<()>();
    let pid = child.id() as i32;
    let watchdog = std::thread::spawn(move || {
        if watchdog.recv_timeout(Duration::from_secs(60)).is_err() {
            // SAFETY: signalling the runner this test started, which has not been waited for.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(
        line, "early-out\n",
        "the first line arrived only after the command ended"
    );
    line.clear();
    err.read_line(&mut line).unwrap();
    assert_eq!(line, "early-err\n");
    drop(stdin);
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "late-out\n");
    let status = child.wait().unwrap();
    done.send(()).unwrap();
    watchdog.join().unwrap();
    assert!(status.success());
}

#[test]
fn non_utf8_output_passes_through_byte_for_byte() {
    let (output, _) = exec(&["--", &fake(), "out-raw:ff fe 00 c3 28 0a", "err-raw:80 ff"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(output.stdout, b"\xff\xfe\x00\xc3\x28\x0a");
    assert_eq!(output.stderr, b"\x80\xff");
}

#[test]
fn piped_stdin_reaches_the_command() {
    let output = TestEnv::new()
        .command()
        .arg("exec")
        .arg("--")
        .arg(fake_program())
        .arg("read-stdin")
        .write_stdin("hi\n")
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "hi\n");
}

#[test]
fn bad_durations_exit_125_naming_the_flag() {
    for (flag, value) in [("--timeout", "soon"), ("--kill-after", "5 parsecs")] {
        let (output, _) = exec(&[flag, value, "--", "true"]);
        assert_eq!(code(&output), 125, "{flag}: {}", stderr(&output));
        let message = stderr(&output);
        assert!(
            message.starts_with(&format!("smoke-runner: {flag}: invalid duration `{value}`")),
            "{flag}: {message}"
        );
        assert_eq!(stdout(&output), "");
    }
}

#[test]
fn plandex_timeout_is_the_default_deadline() {
    let env = TestEnv::new().env("PLANDEX_TIMEOUT", "0.5");
    let (output, took) = exec_in(&env, &["--", &fake(), "sleep:30"]);
    assert_timed_out_within(&output, took, WELL_BEFORE_THE_END);
    assert!(
        stderr(&output).contains("timed out after 500ms"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn timeout_flag_overrides_plandex_timeout() {
    let env = TestEnv::new().env("PLANDEX_TIMEOUT", "30");
    let (output, took) = exec_in(&env, &["--timeout", "0.3", "--", &fake(), "sleep:30"]);
    assert_timed_out_within(&output, took, WELL_BEFORE_THE_END);
}

#[test]
fn bad_plandex_timeout_exits_125_naming_the_variable() {
    let env = TestEnv::new().env("PLANDEX_TIMEOUT", "later");
    let (output, _) = exec_in(&env, &["--", "true"]);
    assert_eq!(code(&output), 125, "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("smoke-runner: PLANDEX_TIMEOUT: invalid duration `later`"),
        "{}",
        stderr(&output)
    );
}

/// One case of the comparison with GNU `timeout`.
struct TimeoutCase {
    name: &'static str,
    /// Passed to both as `-k`/`--kill-after` when set.
    kill_after: Option<&'static str>,
    /// The command, as shell words (`$FAKE` and `$NOEXEC` are set).
    command: &'static str,
    /// What the shell's `$?` must be after `smoke-runner exec`.
    ours: i32,
    /// What GNU `timeout` gives when it differs from `ours` on purpose, and why.
    gnu_differs: Option<(i32, &'static str)>,
}

const TIMEOUT_CASES: &[TimeoutCase] = &[
    TimeoutCase {
        name: "exit 0",
        kill_after: None,
        command: r#""$FAKE" exit:0"#,
        ours: 0,
        gnu_differs: None,
    },
    TimeoutCase {
        name: "exit 3",
        kill_after: None,
        command: r#""$FAKE" exit:3"#,
        ours: 3,
        gnu_differs: None,
    },
    TimeoutCase {
        name: "not found",
        kill_after: None,
        command: "no-such-program-for-smoke-runner",
        ours: 127,
        gnu_differs: None,
    },
    TimeoutCase {
        name: "not executable",
        kill_after: None,
        command: r#""$NOEXEC""#,
        ours: 126,
        gnu_differs: None,
    },
    TimeoutCase {
        name: "SIGKILL from inside",
        kill_after: None,
        command: r#""$FAKE" kill-self:9"#,
        ours: 137,
        gnu_differs: None,
    },
    TimeoutCase {
        name: "timeout",
        kill_after: None,
        command: r#""$FAKE" sleep:30"#,
        ours: 124,
        gnu_differs: None,
    },
    TimeoutCase {
        name: "timeout, TERM ignored",
        kill_after: Some("0.5"),
        command: r#""$FAKE" ignore-term sleep:30"#,
        ours: 124,
        // GNU timeout sends the final SIGKILL to its whole process group, itself included.
        gnu_differs: Some((137, "GNU timeout dies of its own SIGKILL")),
    },
];

/// The shell's `$?` under smoke-runner, and under GNU `timeout` when it is installed.
type CaseStatuses = (Result<i32, String>, Option<Result<i32, String>>);

/// Runs `script` under bash and returns the `$?` it echoed last as `status=N`.
fn shell_status(script: &str, noexec: &std::path::Path) -> Result<i32, String> {
    let output = Command::new("bash")
        .args(["-c", script])
        .env("BIN", smoke_runner())
        .env("FAKE", fake_program())
        .env("NOEXEC", noexec)
        .env_remove("PLANDEX_TIMEOUT")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    stdout(&output)
        .lines()
        .filter_map(|line| line.strip_prefix("status="))
        .next_back()
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status in {:?} / {:?}", stdout(&output), stderr(&output)))
}

#[test]
fn shell_sees_the_same_status_as_with_gnu_timeout() {
    let gnu_installed = Command::new("timeout")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !gnu_installed {
        println!("note: GNU timeout is not installed; checking smoke-runner's statuses only");
    }
    let env = TestEnv::new().file("not-executable", "#!/bin/sh\necho ran\n");
    let noexec = env.path().join("not-executable");
    std::fs::set_permissions(&noexec, std::fs::Permissions::from_mode(0o644)).unwrap();

    // The cases wait for deadlines; run them side by side.
    let results: Vec<CaseStatuses> = std::thread::scope(|scope| {
        let handles: Vec<_> = TIMEOUT_CASES
            .iter()
            .map(|case| {
                let noexec = &noexec;
                scope.spawn(move || {
                    let (ours_k, gnu_k) = match case.kill_after {
                        Some(after) => (format!("--kill-after {after} "), format!("-k {after} ")),
                        None => (String::new(), String::new()),
                    };
                    let ours = shell_status(
                        &format!(
                            r#""$BIN" exec --timeout 1 {ours_k}-- {}; echo "status=$?""#,
                            case.command
                        ),
                        noexec,
                    );
                    let gnu = gnu_installed.then(|| {
                        shell_status(
                            &format!(r#"timeout {gnu_k}1 {}; echo "status=$?""#, case.command),
                            noexec,
                        )
                    });
                    (ours, gnu)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let show = |result: &Result<i32, String>| match result {
        Ok(code) => code.to_string(),
        Err(error) => error.clone(),
    };
    let mut table = format!(
        "{:<24} {:>12} {:>12}  {}\n",
        "case", "smoke-runner", "GNU timeout", "expected"
    );
    let mut failed = false;
    for (case, (ours, gnu)) in TIMEOUT_CASES.iter().zip(&results) {
        let gnu_expected = case.gnu_differs.map_or(case.ours, |(code, _)| code);
        let ok = ours.as_ref().ok() == Some(&case.ours)
            && gnu
                .as_ref()
                .is_none_or(|gnu| gnu.as_ref().ok() == Some(&gnu_expected));
        failed |= !ok;
        let expected = match case.gnu_differs {
            None => format!("both {}", case.ours),
            Some((code, why)) => format!("ours {}, GNU {code}: {why}", case.ours),
        };
        table.push_str(&format!(
            "{:<24} {:>12} {:>12}  {expected}{}\n",
            case.name,
            show(ours),
            gnu.as_ref().map_or("skipped".into(), show),
            if ok { "" } else { "  <-- mismatch" }
        ));
    }
    assert!(!failed, "shell `$?` differs:\n{table}");
}

#[test]
fn wrong_exec_arguments_exit_125_like_timeout() {
    // An unknown option before CMD is smoke-runner's usage error, not a command to run.
    let (output, _) = exec(&["--bogus", "true"]);
    assert_eq!(code(&output), 125, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("unexpected argument '--bogus'"),
        "{}",
        stderr(&output)
    );
    let (output, _) = exec(&[]);
    assert_eq!(code(&output), 125, "{}", stderr(&output));
    // Options after CMD belong to CMD.
    let (output, _) = exec(&[&fake(), "out:x", "--not-ours"]);
    assert_eq!(
        code(&output),
        2,
        "the fake program rejects the unknown action itself"
    );
    let (output, _) = exec(&["--help"]);
    assert_eq!(code(&output), 0);
    assert!(
        stdout(&output).contains("Usage: smoke-runner exec"),
        "{}",
        stdout(&output)
    );
}
