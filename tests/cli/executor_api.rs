//! The executor through its library API: what a command sees (stdin, environment, directory),
//! what comes back (output in order, spilled output, leftovers), and how it is stopped.

use std::time::{Duration, Instant};

use smoke_runner::exec::{ExecRequest, Executor, Outcome, StreamSelector, Termination};

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

/// Regression: every `Executor` numbered its commands from 0, so two executors in one process
/// gave their commands the same tag, and one executor's timeout or leftover cleanup killed
/// the other's running command.
#[test]
fn two_executors_in_one_process_do_not_kill_each_others_commands() {
    // The first command ends on its own (leftover cleanup), the second times out (deadline
    // signals); each time the other executor's command starts while it runs.
    let first_commands = [
        fake(&["sleep:0.6"]),
        fake(&["sleep:30"]).timeout(Duration::from_millis(600)),
    ];
    for first in &first_commands {
        std::thread::scope(|scope| {
            let first_run = scope.spawn(|| Executor::new().run(first).unwrap());
            std::thread::sleep(Duration::from_millis(200));
            let (outcome, _) = run(&fake(&["sleep:1", "out:survived"]));
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
