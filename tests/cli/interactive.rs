//! Steps on a pseudo-terminal (`pty = true`, `interact`): a program that asks questions driven
//! to its end, a wrong answer and a prompt that never comes as failures with the transcript,
//! the window size and the controlling terminal the program sees, leftovers and deadlines as
//! for every command, and the load errors of the keys.

use std::sync::Arc;
use std::time::{Duration, Instant};

use smoke_runner::exec::{
    ExecRequest, Executor, Interaction, Outcome, ScriptProgress, StreamSelector, Terminal,
    Termination,
};

use crate::process_checks::assert_all_gone;
use crate::support::{TestEnv, fake_program, stdout};

fn expect(text: &str) -> Interaction {
    Interaction::Expect(text.as_bytes().to_vec())
}

fn send(text: &str) -> Interaction {
    Interaction::Send(text.as_bytes().to_vec())
}

/// The fake program with `actions` on an 80×24 terminal playing `script`.
fn on_terminal(actions: &[&str], script: Vec<Interaction>) -> ExecRequest {
    ExecRequest::new(fake_program())
        .args(actions.iter().copied())
        .timeout(Duration::from_secs(60))
        .terminal(Terminal {
            script,
            ..Terminal::new()
        })
}

fn run(request: &ExecRequest) -> (Outcome, Duration) {
    let started = Instant::now();
    let outcome = Executor::new()
        .run(request)
        .expect("the runner itself works");
    (outcome, started.elapsed())
}

fn transcript(outcome: &Outcome) -> String {
    outcome
        .output
        .text_lossy(StreamSelector::Combined)
        .expect("read the transcript")
}

const QUIZ: [&str; 3] = ["ask:Name? ", "ask:Colour? ", "answers"];

#[test]
fn a_script_answers_two_questions_and_sees_the_result() {
    let script = vec![
        expect("Name? "),
        send("alice\n"),
        expect("Colour? "),
        send("blue\n"),
        expect("answers: alice, blue"),
    ];
    let (outcome, _) = run(&on_terminal(&QUIZ, script));
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert_eq!(outcome.script, Some(ScriptProgress { done: 5, total: 5 }));
    // The terminal echoes what is typed, with `\n` kept as it is (no `\r\n`).
    assert_eq!(
        transcript(&outcome),
        "Name? alice\nColour? blue\nanswers: alice, blue\n"
    );
}

#[test]
fn a_regex_expectation_waits_for_its_match() {
    let script = vec![
        Interaction::ExpectRegex(Arc::new(regex::bytes::Regex::new(r"N\w+\? $").unwrap())),
        send("bob\n"),
        expect("Colour? "),
        send("red\n"),
    ];
    let (outcome, _) = run(&on_terminal(&QUIZ, script));
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert!(outcome.script.unwrap().finished());
    assert!(transcript(&outcome).ends_with("answers: bob, red\n"));
}

#[test]
fn the_program_gets_the_window_size_and_the_terminal_as_its_controlling_one() {
    let mut request = on_terminal(&["terminal"], Vec::new());
    request.terminal.as_mut().unwrap().rows = 33;
    request.terminal.as_mut().unwrap().cols = 101;
    let (outcome, _) = run(&request);
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert_eq!(
        transcript(&outcome),
        "terminal: rows=33 cols=101 controlling=yes\n"
    );
    // Without a terminal the same program has none, as every other command.
    let plain = ExecRequest::new(fake_program())
        .args(["terminal"])
        .timeout(Duration::from_secs(60));
    let (outcome, _) = run(&plain);
    assert_eq!(
        transcript(&outcome),
        "terminal: rows=? cols=? controlling=no\n"
    );
}

#[test]
fn an_expectation_never_met_leaves_the_script_where_it_stopped_at_the_deadline() {
    let script = vec![expect("Name? "), send("alice\n"), expect("Password: ")];
    let request = on_terminal(&["ask:Name? ", "sleep:60"], script).timeout(Duration::from_secs(2));
    let (outcome, took) = run(&request);
    assert!(
        matches!(outcome.termination, Termination::TimedOut { .. }),
        "{}",
        outcome.termination
    );
    assert_eq!(outcome.script, Some(ScriptProgress { done: 2, total: 3 }));
    assert_eq!(transcript(&outcome), "Name? alice\n");
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn a_program_that_ends_first_leaves_the_script_unfinished() {
    let script = vec![expect("Name? "), send("alice\n"), expect("never shown")];
    let (outcome, took) = run(&on_terminal(&["ask:Name? ", "out:bye"], script));
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert_eq!(outcome.script, Some(ScriptProgress { done: 2, total: 3 }));
    assert_eq!(transcript(&outcome), "Name? alice\nbye\n");
    // Not held until the deadline.
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn processes_left_on_the_terminal_are_stopped_as_for_every_command() {
    // The grandchild shares the terminal (the kernel hangs it up when the program, the
    // session's leader, exits); the daemon left the session and is found by its tag.
    let actions = ["spawn-grandchild:60", "daemonize:60", "out:done"];
    let (outcome, took) = run(&on_terminal(&actions, Vec::new()));
    assert_eq!(outcome.termination, Termination::Exited(0));
    assert!(
        outcome.leaked_processes >= 1,
        "{}",
        outcome.leaked_processes
    );
    let text = transcript(&outcome);
    let pids: Vec<i32> = ["grandchild-pid:", "daemon-pid:"]
        .iter()
        .map(|label| {
            text.lines()
                .find_map(|line| line.strip_prefix(label))
                .and_then(|pid| pid.parse().ok())
                .unwrap_or_else(|| panic!("no {label} in {text:?}"))
        })
        .collect();
    assert_all_gone(&pids, &text);
    assert!(took < Duration::from_secs(30), "{took:?}");
}
