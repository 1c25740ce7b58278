//! The executor through its library API: what a command sees (stdin, environment, directory),
//! what comes back (output in order, spilled output, leftovers), and how it is stopped.

use std::time::{Duration, Instant};

use smoke_runner::exec::{
    Environment, ExecRequest, Executor, Outcome, Stdin, StreamSelector, Termination,
};

use crate::process_checks::{assert_all_gone, own_memory, reported_pids};
use crate::support::fake_program;

/// A request for the fake program with these actions and a deadline no test should reach.
fn fake(actions: &[&str]) -> ExecRequest {
    ExecRequest::new(fake_program())
        .args(actions.iter().copied())
        .timeout(Duration::from_secs(60))
}

/// Runs `request`; returns the outcome and the wall time of the run.
fn run(request: &ExecRequest) -> (Outcome, Duration) {
    let started = Instant::now();
    let outcome = Executor::new()
        .run(request)
        .expect("the runner itself works");
    (outcome, started.elapsed())
}

fn text(outcome: &Outcome, which: StreamSelector) -> String {
    outcome
        .output
        .text_lossy(which)
        .expect("read captured output")
}

#[test]
fn combined_stream_keeps_arrival_order() {
    // Paced, so that each line has arrived before the next one is written: two pipes cannot
    // order writes that land between two reads.
    let (outcome, _) = run(&fake(&[
        "out:one",
        "sleep:0.05",
        "err:two",
        "sleep:0.05",
        "out:three",
        "sleep:0.05",
        "err:four",
    ]));
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert_eq!(
        text(&outcome, StreamSelector::Combined),
        "one\ntwo\nthree\nfour\n"
    );
    assert_eq!(text(&outcome, StreamSelector::Stdout), "one\nthree\n");
    assert_eq!(text(&outcome, StreamSelector::Stderr), "two\nfour\n");
}

#[test]
fn interleaved_streams_keep_each_streams_order() {
    // Without pacing, writes to two pipes can land between two reads, and the fixture writes
    // each stderr line in pieces: the combined view must be *some* merge of the two streams
    // that keeps each stream's own order, with nothing lost or added.
    let count = 200;
    let (outcome, _) = run(&fake(&[&format!("interleave:{count}")]));
    assert_eq!(outcome.termination, Termination::Exited(0));
    let expected =
        |prefix: &str| -> String { (1..=count).map(|i| format!("{prefix}-{i}\n")).collect() };
    let (out, err) = (expected("out"), expected("err"));
    assert_eq!(text(&outcome, StreamSelector::Stdout), out);
    assert_eq!(text(&outcome, StreamSelector::Stderr), err);
    let combined = text(&outcome, StreamSelector::Combined);
    assert!(
        is_merge_of(combined.as_bytes(), out.as_bytes(), err.as_bytes()),
        "combined view is not an interleaving of stdout and stderr:\n{combined}"
    );
}

/// Whether `merged` is `a` and `b` interleaved, each keeping its own order.
fn is_merge_of(merged: &[u8], a: &[u8], b: &[u8]) -> bool {
    if merged.len() != a.len() + b.len() {
        return false;
    }
    // reachable[j]: the first i + j bytes of `merged` can be the first i of `a` and j of `b`.
    let mut reachable = vec![false; b.len() + 1];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            reachable[j] = if i == 0 && j == 0 {
                true
            } else {
                let from_a = i > 0 && reachable[j] && a[i - 1] == merged[i + j - 1];
                let from_b = j > 0 && reachable[j - 1] && b[j - 1] == merged[i + j - 1];
                from_a || from_b
            };
        }
    }
    reachable[b.len()]
}

#[test]
fn stdin_bytes_are_delivered_then_end_of_file() {
    let (outcome, _) = run(&fake(&["read-stdin"]).stdin(Stdin::Bytes(b"hello\nworld".to_vec())));
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert_eq!(text(&outcome, StreamSelector::Stdout), "hello\nworld");
}

#[test]
fn large_stdin_and_large_output_flow_at_the_same_time() {
    // More than a pipe holds in both directions: the runner must feed and read in one loop.
    let input: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let (outcome, _) = run(&fake(&["read-stdin"]).stdin(Stdin::Bytes(input.clone())));
    assert_eq!(outcome.termination, Termination::Exited(0));
    let output = outcome.output.bytes(StreamSelector::Stdout).unwrap();
    assert!(
        output.as_ref() == input.as_slice(),
        "stdin came back altered"
    );
}

#[test]
fn command_that_never_reads_stdin_does_not_hang_or_fail_the_runner() {
    let input = vec![b'x'; 4 * 1024 * 1024];
    for actions in [&["exit:0"][..], &["sleep:0.2", "out:done"][..]] {
        let (outcome, took) = run(&fake(actions).stdin(Stdin::Bytes(input.clone())));
        assert!(
            matches!(outcome.termination, Termination::Exited(0)),
            "{actions:?}: {}",
            outcome.termination
        );
        assert!(took < Duration::from_secs(10), "{actions:?} took {took:?}");
    }
}

#[test]
fn environment_is_exactly_what_was_asked_for() {
    let mut env = Environment::inherit();
    env.set("SMOKE_RUNNER_API_TEST", "set by the test")
        .remove("HOME");
    let (outcome, _) = run(&fake(&["env:SMOKE_RUNNER_API_TEST", "env:HOME"]).env(env));
    assert_eq!(
        text(&outcome, StreamSelector::Stdout),
        "SMOKE_RUNNER_API_TEST=set by the test\nHOME unset\n"
    );
}

#[test]
fn every_command_is_tagged_even_when_the_caller_sets_the_tag() {
    let mut env = Environment::inherit();
    env.set("SMOKE_RUNNER_TAG", "forged");
    let (outcome, _) = run(&fake(&["env:SMOKE_RUNNER_TAG"]).env(env));
    let tag = text(&outcome, StreamSelector::Stdout);
    assert!(
        tag.starts_with(&format!("SMOKE_RUNNER_TAG={}-", std::process::id())),
        "{tag}"
    );
}

#[test]
fn command_runs_in_the_requested_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (outcome, _) = run(&fake(&["cwd"]).cwd(dir.path()));
    let expected = dir.path().canonicalize().unwrap();
    assert_eq!(
        text(&outcome, StreamSelector::Stdout),
        format!("{}\n", expected.display())
    );
}

#[test]
fn output_beyond_the_memory_cap_is_spilled_and_still_searchable() {
    let (outcome, _) = run(&fake(&["print-bytes:8M", "marker:END"]).memory_cap(1024));
    assert_eq!(outcome.termination, Termination::Exited(0));
    let output = &outcome.output;
    assert!(output.is_spilled());
    assert_eq!(output.len(StreamSelector::Stdout), 8 * 1024 * 1024 + 4);
    assert_eq!(output.len(StreamSelector::Stderr), 0);
    assert!(output.contains(StreamSelector::Stdout, b"END").unwrap());
    assert!(
        output
            .contains(StreamSelector::Combined, b"x\nEND\n")
            .unwrap()
    );
    assert!(!output.contains(StreamSelector::Stderr, b"END").unwrap());
}

#[test]
fn grandchild_left_running_is_counted_and_killed() {
    let (outcome, took) = run(&fake(&["spawn-grandchild:30", "out:done"]));
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert_eq!(outcome.leaked_processes, 1);
    // The grandchild sleeps 30 s: waiting for it would take that long.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let stdout = outcome.output.bytes(StreamSelector::Stdout).unwrap();
    let pids = reported_pids(&stdout, "grandchild-pid");
    assert_eq!(pids.len(), 1);
    assert_all_gone(&pids, "after the command ended");
}

#[test]
fn command_without_leftovers_reports_none() {
    let (outcome, _) = run(&fake(&["out:alone"]));
    assert_eq!(outcome.leaked_processes, 0);
}

#[test]
fn kill_grace_is_the_pause_before_sigkill() {
    let request = fake(&["ignore-term", "sleep:30"])
        .timeout(Duration::from_millis(500))
        .kill_grace(Duration::from_secs(1));
    let (outcome, took) = run(&request);
    assert_eq!(
        outcome.termination,
        Termination::TimedOut {
            signal: libc::SIGKILL
        }
    );
    assert!(took >= Duration::from_millis(1500), "took {took:?}");
    // The command sleeps 30 s: without SIGKILL it would run that long.
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn command_that_obeys_sigterm_is_stopped_without_sigkill() {
    let request = fake(&["sleep:30"])
        .timeout(Duration::from_millis(300))
        .kill_grace(Duration::from_secs(20));
    let (outcome, took) = run(&request);
    assert_eq!(
        outcome.termination,
        Termination::TimedOut {
            signal: libc::SIGTERM
        }
    );
    // Waiting out the 20 s grace would take that long.
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn reading_the_terminal_fails_fast_without_one() {
    // The command leads a new session, so it has no controlling terminal: opening /dev/tty
    // fails at once instead of waiting for the deadline.
    let request = ExecRequest::new("bash")
        .args(["-c", "read -r x < /dev/tty && echo got"])
        .timeout(Duration::from_secs(30));
    let (outcome, took) = run(&request);
    assert!(
        matches!(outcome.termination, Termination::Exited(code) if code != 0),
        "{}",
        outcome.termination
    );
    // Waiting for the terminal would last until the 30 s deadline.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(text(&outcome, StreamSelector::Stdout), "");
    assert!(
        text(&outcome, StreamSelector::Stderr).contains("/dev/tty"),
        "{}",
        text(&outcome, StreamSelector::Stderr)
    );
}

#[test]
#[ignore = "1 GiB of output: run with --ignored"]
fn one_gib_of_output_is_captured_in_bounded_memory() {
    let before = own_memory("VmHWM");
    let (outcome, _) = run(&fake(&["print-bytes:1G", "marker:END-MARKER-42"]));
    let after = own_memory("VmHWM");
    assert_eq!(outcome.termination, Termination::Exited(0));
    let output = &outcome.output;
    assert!(output.is_spilled());
    assert_eq!(
        output.len(StreamSelector::Stdout),
        (1 << 30) + "END-MARKER-42\n".len() as u64
    );
    assert!(
        output
            .contains(StreamSelector::Stdout, b"END-MARKER-42")
            .unwrap()
    );
    let growth = after.saturating_sub(before);
    assert!(
        growth < 64 * 1024 * 1024,
        "peak RSS grew by {} MiB",
        growth / (1024 * 1024)
    );
}

/// Regression: every `Executor` numbered its commands from 0, so two executors in one process
/// gave their commands the same tag, and one executor's timeout or leftover cleanup killed
/// the other's running command.
#[test]
fn two_executors_in_one_process_do_not_kill_each_others_commands() {
    // The first command ends on its own (leftover cleanup), the second times out (deadline
    // signals); each time the other executor's command starts while it runs.
    let first_commands = [
        fake(&["sleep:1.5"]),
        fake(&["sleep:30"]).timeout(Duration::from_millis(1500)),
    ];
    for first in &first_commands {
        std::thread::scope(|scope| {
            let first_run = scope.spawn(|| Executor::new().run(first).unwrap());
            std::thread::sleep(Duration::from_millis(200));
            let (outcome, _) = run(&fake(&["sleep:3", "out:survived"]));
            assert_eq!(
                outcome.termination,
                Termination::Exited(0),
                "next to {:?}",
                first.args
            );
            assert_eq!(text(&outcome, StreamSelector::Stdout), "survived\n");
            let first_outcome = first_run.join().unwrap();
            assert_eq!(
                first_outcome.leaked_processes, 0,
                "took the other executor's command for a leftover"
            );
        });
    }
}

#[test]
fn a_started_command_can_be_probed_then_stopped_with_what_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    let request = fake(&["spawn-grandchild:60", "out:ready", "sleep:60"]).log_to(&log);
    let executor = Executor::new();
    let mut running = executor.start(&request).unwrap();
    let pid = running.pid().expect("it started");
    // Handshake: the log says the grandchild exists before anything is stopped.
    let until = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&log).unwrap().contains("ready") {
        assert!(Instant::now() < until, "the command never wrote `ready`");
        assert!(
            !running
                .wait_until(Instant::now() + Duration::from_millis(20))
                .unwrap()
        );
    }
    assert!(running.is_running().unwrap());
    let grandchildren = reported_pids(&std::fs::read(&log).unwrap(), "grandchild-pid");
    assert_eq!(grandchildren.len(), 1);
    let outcome = running.stop().unwrap();
    assert_eq!(outcome.termination, Termination::Signaled(SIGTERM));
    assert_all_gone(&[vec![pid], grandchildren].concat(), "after stop");
}

#[test]
fn a_probe_reads_the_output_that_is_ready_at_once() {
    // A command run to its end has its output read once it exits (or after its first 5 ms);
    // a probe reads what is ready whenever it is called, a young command's too.
    let dir = tempfile::tempdir().unwrap();
    let stamp = dir.path().join("written");
    let request = fake(&[
        "out:ready",
        &format!("stamp:{}", stamp.display()),
        "sleep:60",
    ]);
    let executor = Executor::new();
    let mut running = executor.start(&request).unwrap();
    // Handshake: the stamp is made after `ready` was written.
    let until = Instant::now() + Duration::from_secs(30);
    while !stamp.exists() {
        assert!(Instant::now() < until, "the command never made its stamp");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(running.is_running().unwrap());
    let output = running.output().expect("it started");
    assert_eq!(
        output.text_lossy(StreamSelector::Stdout).unwrap(),
        "ready\n"
    );
    let outcome = running.stop().unwrap();
    assert_eq!(outcome.termination, Termination::Signaled(SIGTERM));
}

#[test]
fn a_command_logging_to_a_file_is_never_blocked_by_a_full_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("big.log");
    let request = fake(&["print-bytes:1M", "err:done"]).log_to(&log);
    let executor = Executor::new();
    let mut running = executor.start(&request).unwrap();
    // Nothing reads the output while waiting: a pipe would fill at 64 KiB and never drain.
    assert!(
        running
            .wait_until(Instant::now() + Duration::from_secs(30))
            .unwrap(),
        "the command did not finish writing 1 MiB to its log"
    );
    let outcome = running.wait().unwrap();
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert!(outcome.output.is_empty());
    let written = std::fs::read(&log).unwrap();
    assert_eq!(written.len(), 1024 * 1024 + "done\n".len());
}

#[test]
fn a_command_that_cannot_start_gives_a_handle_that_says_why() {
    let executor = Executor::new();
    let request = ExecRequest::new("/nonexistent/program");
    let mut running = executor.start(&request).unwrap();
    assert_eq!(running.pid(), None);
    assert!(!running.is_running().unwrap());
    assert_eq!(
        running.wait().unwrap().termination,
        Termination::FailedToStart(smoke_runner::exec::StartFailure::NotFound)
    );
}

const SIGTERM: i32 = 15;

#[test]
fn output_held_open_by_a_process_the_runner_cannot_find_ends_the_wait_soon() {
    // The background `sleep` leaves the command's session and drops its environment (and so
    // its tag): no leftover search finds it, yet it holds the command's stdout open. The
    // command ends only once that process is `sleep` itself (`setsid` and `env` have run) and
    // carries no tag; while it execs, its `environ` can read empty with the tag still to come
    // back. The command's own output is kept, and the run goes on well before `sleep` ends.
    let script = "echo before; setsid env -i sleep 60 & echo \"pid:$!\"; \
                  until [ \"$(cat /proc/$!/comm)\" = sleep ] \
                  && ! grep -q SMOKE_RUNNER_TAG \"/proc/$!/environ\"; do sleep 0.01; done; \
                  echo after";
    let request = ExecRequest::new("sh")
        .args(["-c", script])
        .timeout(Duration::from_secs(60));
    let (outcome, took) = run(&request);
    let stdout = text(&outcome, StreamSelector::Stdout);
    let orphan: Option<i32> = stdout
        .lines()
        .find_map(|line| line.strip_prefix("pid:"))
        .and_then(|pid| pid.parse().ok());
    if let Some(pid) = orphan {
        // SAFETY: plain kill(2) on the pid the script reported.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert!(orphan.is_some(), "no pid reported: {stdout:?}");
    assert!(
        stdout.starts_with("before\n") && stdout.ends_with("after\n"),
        "{stdout:?}"
    );
    assert_eq!(outcome.leaked_processes, 0, "the runner cannot know of it");
    assert!(took < Duration::from_secs(30), "waited {took:?}");
}
