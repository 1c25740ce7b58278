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
use crate::support::{TestEnv, fake_program, stderr, stdout};

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

/// A suite whose one step runs the fake program's quiz on a terminal, answering `colour`.
fn quiz_suite(colour: &str) -> String {
    format!(
        r#"
command = "${{FAKE}}"

[[step]]
name = "quiz"
run = ["ask:Name? ", "ask:Colour? ", "answers"]
pty = true
interact = [
  {{ expect = "Name? " }},
  {{ send = "alice\n" }},
  {{ expect_regex = 'Colou?r\? ' }},
  {{ send = "{colour}\n" }},
  {{ expect = "answers: alice, blue" }},
]
"#
    )
}

/// Runs the suites of `env` with step logs under `logs/`; the output and every log's text.
fn run_with_logs(env: &TestEnv) -> (std::process::Output, String) {
    let output = env.run(&["--no-history", "--log-dir", "logs"]);
    let mut logs = String::new();
    let mut folders = vec![env.path().join("logs")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "log") {
                logs.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    (output, logs)
}

#[test]
fn an_interact_script_drives_a_program_that_asks_two_questions_to_its_end() {
    let env = TestEnv::new().suite(
        "quiz",
        &(quiz_suite("blue") + "stdout.contains = \"Colour? blue\"\n"),
    );
    let (output, log) = run_with_logs(&env);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("✓ quiz"), "{report}");
    // The log holds the transcript: prompts, the echo of what was typed, the result.
    assert!(
        log.contains("Name? alice\nColour? blue\nanswers: alice, blue\n"),
        "{log}"
    );
}

#[test]
fn a_wrong_answer_fails_with_the_entry_it_stopped_at_and_the_transcript() {
    let env = TestEnv::new().suite("quiz", &quiz_suite("red"));
    let (output, log) = run_with_logs(&env);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains(
            "the terminal never showed \"answers: alice, blue\" \
             (interact entry 5 of 5, before the program ended)"
        ),
        "{report}"
    );
    // The transcript, under the failure and in the log.
    assert!(report.contains("Colour? red"), "{report}");
    assert!(report.contains("answers: alice, red"), "{report}");
    assert!(
        log.contains("Name? alice\nColour? red\nanswers: alice, red\n"),
        "{log}"
    );
}

#[test]
fn a_prompt_that_never_comes_fails_at_the_steps_timeout() {
    let env = TestEnv::new().suite(
        "login",
        r#"
command = "${FAKE}"

[[step]]
name = "login"
run = ["ask:Name? ", "sleep:60"]
pty = true
timeout = "2s"
interact = [{ expect = "Name? " }, { send = "alice\n" }, { expect = "Password: " }]
"#,
    );
    let started = Instant::now();
    let output = env.run(&["--no-history", "--no-log-dir"]);
    let took = started.elapsed();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("timed out"), "{report}");
    assert!(
        report.contains(
            "the terminal never showed \"Password: \" (interact entry 3 of 3, before the step timed out)"
        ),
        "{report}"
    );
    assert!(report.contains("Name? alice"), "{report}");
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(40), "{took:?}");
}

#[test]
fn the_window_size_reaches_the_program() {
    let env = TestEnv::new().suite(
        "window",
        r#"
command = "${FAKE}"

[[step]]
name = "stty"
sh = "stty size"
pty = true
window = "132x43"
stdout.equals = "43 132"

[[step]]
name = "default size"
run = ["terminal"]
pty = true
stdout.equals = "terminal: rows=24 cols=80 controlling=yes"

[[step]]
name = "no terminal"
run = ["terminal"]
stdout.equals = "terminal: rows=? cols=? controlling=no"
"#,
    );
    let output = env.run(&["--no-history", "--no-log-dir"]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
}

#[test]
fn a_secret_typed_on_the_terminal_is_masked_in_the_report_and_the_log() {
    const SECRET: &str = "hunter2-0f9c";
    let env = TestEnv::new()
        .env("QUIZ_TOKEN", SECRET)
        .suite(
            "secret",
            r#"
command = "${FAKE}"
redact = ["QUIZ_TOKEN"]

[[step]]
name = "token"
run = ["ask:Token? ", "answers", "exit:1"]
pty = true
interact = [{ expect = "Token? " }, { send = "${QUIZ_TOKEN}\n" }, { expect = "answers: ${QUIZ_TOKEN}" }]
"#,
        );
    let (output, log) = run_with_logs(&env);
    let report = stdout(&output) + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(!report.contains(SECRET), "{report}");
    assert!(report.contains("Token? [redacted:QUIZ_TOKEN]"), "{report}");
    assert!(!log.contains(SECRET), "{log}");
    assert!(log.contains("answers: [redacted:QUIZ_TOKEN]"), "{log}");
}

/// Loads `toml` as `suites/bad.toml`: refused before anything runs (exit 2); its stderr.
fn load_error(toml: &str) -> String {
    let env = TestEnv::new().suite("bad", toml);
    let output = env.run(&["--no-history", "--no-log-dir"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert_eq!(stdout(&output), "", "nothing runs");
    err
}

#[test]
fn terminal_keys_where_they_cannot_be_are_load_errors_with_a_caret() {
    let err = load_error(
        r#"
[[step]]
name = "no pty"
sh = "true"
interact = [{ expect = "x" }]

[[step]]
name = "both"
sh = "true"
pty = true
interact = [{ expect = "Continue?", send = "y\n" }]

[[step]]
name = "neither"
sh = "true"
pty = true
interact = [{ expect = "Continue?" }, {}]

[[step]]
name = "http"
http = { url = "http://127.0.0.1:1/" }
pty = true

[[step]]
name = "window"
sh = "true"
pty = true
window = "80 by 24"

[[step]]
name = "stdin"
sh = "true"
pty = true
stdin = "y\n"
"#,
    );
    assert_eq!(
        err,
        r#"error: step `no pty` has `interact` but does not run on a terminal
 --> suites/bad.toml:5:12
  |
5 | interact = [{ expect = "x" }]
  |            ^^^^^^^^^^^^^^^^^^
  = help: add `pty = true` to run the step on a terminal

error: an `interact` entry has more than one of `expect`, `expect_regex`, `send`
  --> suites/bad.toml:11:13
   |
11 | interact = [{ expect = "Continue?", send = "y\n" }]
   |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: write one per entry: `[{ expect = "Continue? (y/n)" }, { send = "y\n" }]`

error: an `interact` entry has none of `expect`, `expect_regex`, `send`
  --> suites/bad.toml:17:39
   |
17 | interact = [{ expect = "Continue?" }, {}]
   |                                       ^^
   = help: write one per entry: `[{ expect = "Continue? (y/n)" }, { send = "y\n" }]`

error: step `http` sends an `http` request: it has no terminal
  --> suites/bad.toml:22:7
   |
22 | pty = true
   |       ^^^^
   = help: `pty` runs a command (`run` or `sh`) on a terminal; remove it from this step

error: invalid window "80 by 24"
  --> suites/bad.toml:28:10
   |
28 | window = "80 by 24"
   |          ^^^^^^^^^^
   = help: write columns x rows, each from 1 to 1000: `window = "80x24"`

error: step `stdin` runs on a terminal (`pty = true`) and has `stdin`
  --> suites/bad.toml:34:9
   |
34 | stdin = "y\n"
   |         ^^^^^
   = help: type the input on the terminal instead: `interact = [{ send = "…\n" }]`
"#
    );
}

#[test]
fn an_unknown_key_in_an_interact_entry_is_named_with_the_keys_it_takes() {
    let err = load_error("[[step]]\nsh = \"true\"\npty = true\ninteract = [{ expcet = \"x\" }]\n");
    assert_eq!(
        err,
        r#"error: unknown key `expcet` in an `interact` entry, expected one of `expect`, `expect_regex`, `send`
 --> suites/bad.toml:4:15
  |
4 | interact = [{ expcet = "x" }]
  |               ^^^^^^
  = help: see the suite reference in docs/suites.md
"#
    );
}
