//! Snapshots of the human report: whole outputs for event sequences with fixed timings.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::*;
use crate::report::{
    Actual, CheckFailure, CheckKind, CheckSubject, Counts, PlannedSuite, StepRef, SuiteId,
};
use crate::suite::{Action, Budgets, ExpectedStatus, OnFailure, Step, Template};

/// 2026-01-21 14:30:00 UTC.
const STARTED_AT: u64 = 1_769_005_800;

fn step(name: &str, section: Option<&str>) -> Step {
    Step {
        name: name.to_owned(),
        section: section.map(str::to_owned),
        test_name: name.to_lowercase().replace(' ', "_"),
        action: Action::Shell(Template::literal("true")),
        timeout: None,
        budgets: Budgets::default(),
        env: Vec::new(),
        env_remove: Vec::new(),
        stdin: None,
        status: ExpectedStatus::default(),
        stdout: Vec::new(),
        stderr: Vec::new(),
        output: Vec::new(),
        files: Vec::new(),
        retry: None,
        tags: Vec::new(),
        always: false,
        ignore: None,
        location: None,
        shell: None,
        capture: None,
        workdir: None,
        notes: Vec::new(),
        pty: None,
    }
}

/// A suite with an id of its own, as a run's plan would give it.
fn suite(name: &str, steps: Vec<Step>) -> PlannedSuite {
    static NEXT_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let id = SuiteId(NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let suite = Arc::new(Suite {
        name: name.to_owned(),
        slug: name.to_lowercase(),
        description: None,
        source: None,
        command: None,
        timeout: None,
        budgets: Budgets::default(),
        fixtures: Vec::new(),
        fixtures_root: None,
        env: Vec::new(),
        requires: Vec::new(),
        redact: Vec::new(),
        on_failure: OnFailure::Stop,
        services: Vec::new(),
        shell: None,
        exclusive: None,
        workdir: None,
        tags: Vec::new(),
        steps,
        closing_notes: Vec::new(),
    });
    PlannedSuite::new(id, suite)
}

fn run_start(suites: usize, steps: usize, jobs: usize, env_file: EnvFileStatus) -> RunStart {
    RunStart {
        started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(STARTED_AT),
        env_file,
        suites,
        steps,
        filtered_out: 0,
        longest_name: 0,
        jobs,
        shard: None,
        label: None,
        git_branch: None,
    }
}

fn ran(verdict: Verdict, command_line: &str, status: ExitStatus, millis: u64) -> StepResult {
    StepResult {
        verdict,
        command_line: command_line.to_owned(),
        status,
        duration: Duration::from_millis(millis),
        attempts: 1,
        failures: Vec::new(),
        output_tail: String::new(),
        leaked_processes: 0,
        test_dir: None,
        log_path: None,
        log_span: None,
    }
}

fn passed(command_line: &str, millis: u64) -> StepResult {
    ran(Verdict::Passed, command_line, ExitStatus::Exited(0), millis)
}

fn timed_out(millis: u64) -> ExitStatus {
    ExitStatus::TimedOut {
        after: Duration::from_millis(millis),
        signal: libc::SIGTERM,
    }
}

/// The status check: wanted `expected`, got `actual`.
fn status_check(expected: &str, actual: &str) -> CheckFailure {
    CheckFailure {
        subject: CheckSubject::Status,
        kind: CheckKind::Status,
        expected: expected.to_owned(),
        actual: Actual::Text(actual.to_owned()),
    }
}

fn suite_result(counts: Counts, kept_test_dir: Option<&str>) -> SuiteResult {
    SuiteResult {
        counts,
        kept_test_dir: kept_test_dir.map(PathBuf::from),
        duration: Duration::from_secs(1),
        leaked_processes: 0,
        skipped_because: None,
    }
}

/// A summary of a run that took 3m 42s and ended at 14:33:42.
fn summary(counts: Counts) -> Summary {
    Summary {
        counts,
        duration: Duration::from_secs(222),
        finished_at: SystemTime::UNIX_EPOCH + Duration::from_secs(STARTED_AT + 222),
        interrupted: false,
        kept_test_dirs: Vec::new(),
        filtered_out: 0,
        leaked_processes: 0,
        skipped_suites: Vec::new(),
        broken_rules: Vec::new(),
        gates: None,
    }
}

/// Counts; `failed` does not include `timed_out` here, as timeouts are added to it.
fn counts(passed: usize, failed: usize, timed_out: usize, skipped: usize) -> Counts {
    Counts {
        passed,
        degraded: 0,
        flaky: 0,
        failed: failed + timed_out,
        timed_out,
        skipped,
    }
}

fn render_with(options: HumanOptions, events: &[Event]) -> String {
    let mut reporter = HumanReporter::new(Vec::new(), options);
    for event in events {
        reporter.report(event).unwrap();
    }
    String::from_utf8(reporter.into_inner().unwrap()).unwrap()
}

fn render(events: &[Event]) -> String {
    render_with(HumanOptions::default(), events)
}

/// The position of `step` in `suite`.
fn index_of(suite: &Suite, step: &Step) -> usize {
    (suite.steps.iter())
        .position(|s| std::ptr::eq(s, step))
        .expect("a step of the suite")
}

fn started(suite: &PlannedSuite, step: &Step, command_line: &str) -> Event {
    let index = index_of(suite, step);
    Event::StepStarted {
        suite: PlannedSuite::clone(suite),
        id: suite.step_id(index),
        step: StepRef::new(suite, index),
        setup: false,
        command_line: command_line.to_owned(),
        timeout: Duration::from_secs(120),
        attempt: 1,
    }
}

fn finished(suite: &PlannedSuite, step: &Step, result: &StepResult) -> Event {
    let index = index_of(suite, step);
    Event::StepFinished {
        suite: PlannedSuite::clone(suite),
        id: suite.step_id(index),
        step: StepRef::new(suite, index),
        setup: false,
        result: Box::new(result.clone()),
    }
}

const TEST_DIR: &str = "/tmp/smoke-plans";

fn suite_started(suite: &PlannedSuite) -> Event {
    Event::SuiteStarted {
        suite: PlannedSuite::clone(suite),
        test_dir: TEST_DIR.into(),
    }
}

#[test]
fn passing_run() {
    let plans = suite(
        "plans",
        vec![
            step("Create named plan", Some("Plan Management")),
            step("Check current plan", Some("Plan Management")),
            step("Load note", Some("Context Management")),
        ],
    );
    let [create, current, load] = &plans.steps[..] else {
        unreachable!()
    };
    let start = run_start(1, 3, 1, EnvFileStatus::Loaded("../.env.client-keys".into()));
    let results = [
        passed("plandex-dev new -n smoke-test-plan", 410),
        passed("plandex-dev current", 120),
        passed("plandex-dev load -n 'keep code simple'", 1234),
    ];
    let suite_done = suite_result(counts(3, 0, 0, 0), None);
    let end = summary(counts(3, 0, 0, 0));
    let output = render(&[
        Event::RunStarted(start.clone()),
        suite_started(&plans),
        Event::SectionStarted {
            suite: PlannedSuite::clone(&plans),
            section: "Plan Management".into(),
        },
        started(&plans, create, &results[0].command_line),
        finished(&plans, create, &results[0]),
        started(&plans, current, &results[1].command_line),
        finished(&plans, current, &results[1]),
        Event::SectionStarted {
            suite: PlannedSuite::clone(&plans),
            section: "Context Management".into(),
        },
        started(&plans, load, &results[2].command_line),
        finished(&plans, load, &results[2]),
        Event::SuiteFinished {
            suite: PlannedSuite::clone(&plans),
            result: suite_done.clone(),
        },
        Event::RunFinished(end.clone()),
    ]);
    assert_eq!(
        output,
        "\
=== smoke-runner started at 2026-01-21 14:30:00 UTC ===
→ Loaded environment from ../.env.client-keys
→ Running 3 steps from 1 suite (1 at a time)

=== Suite plans ===
→ Test dir: /tmp/smoke-plans

=== Testing Plan Management ===
→ Running (timeout 120s): plandex-dev new -n smoke-test-plan
✓ Create named plan
→ Running (timeout 120s): plandex-dev current
✓ Check current plan

=== Testing Context Management ===
→ Running (timeout 120s): plandex-dev load -n 'keep code simple'
✓ Load note

=== Test Summary ===
Total tests: 3
Passed: 3
Failed: 0
Timeouts: 0
Skipped: 0
Duration: 3m 42s
Finished at 2026-01-21 14:33:42 UTC
3 passed, 0 failed, 0 skipped
"
    );
}

#[test]
fn failing_step_shows_the_detail_block() {
    let keys = suite("keys", vec![step("Fails without the key", None)]);
    let step = &keys.steps[0];
    let start = run_start(1, 1, 4, EnvFileStatus::Disabled);
    let mut result = ran(
        Verdict::Failed,
        "plandex-dev tell hello",
        ExitStatus::Exited(0),
        410,
    );
    result.failures = vec![
        status_check("a failure (non-zero exit)", "exit status 0"),
        CheckFailure {
            subject: CheckSubject::Output,
            kind: CheckKind::Contains,
            expected: "API key".to_owned(),
            actual: Actual::Unknown,
        },
    ];
    result.output_tail = "Thinking...\n\nHello! How can I help?\n".to_owned();
    let end = summary(counts(0, 1, 0, 0));
    let output = render(&[
        Event::RunStarted(start.clone()),
        suite_started(&keys),
        started(&keys, step, &result.command_line),
        finished(&keys, step, &result),
        Event::RunFinished(end.clone()),
    ]);
    assert_eq!(
        output,
        "\
=== smoke-runner started at 2026-01-21 14:30:00 UTC ===
→ Running 1 step from 1 suite (4 at a time)

=== Suite keys ===
→ Test dir: /tmp/smoke-plans
→ Running (timeout 120s): plandex-dev tell hello
✗ Fails without the key
    command:  plandex-dev tell hello
    status:   exit status 0
    duration: 0.41s
    check:    expected a failure (non-zero exit), got exit status 0
    check:    output does not contain \"API key\"
    output (last 3 lines):
      | Thinking...
      |
      | Hello! How can I help?

=== Test Summary ===
Total tests: 1
Passed: 0
Failed: 1
Timeouts: 0
Skipped: 0
Duration: 3m 42s
Finished at 2026-01-21 14:33:42 UTC
0 passed, 1 failed, 0 skipped
"
    );
}

#[test]
fn multi_line_values_stay_inside_their_block() {
    let shell = suite("shell", vec![step("Heredoc", None)]);
    let step = &shell.steps[0];
    let mut result = ran(
        Verdict::Failed,
        "cat <<EOF\nhello\nEOF",
        ExitStatus::Exited(1),
        2000,
    );
    result.attempts = 3;
    result.failures = vec![CheckFailure::error("stdout differs:\n- hello\n+ bye")];
    let output = render(&[
        Event::StepStarted {
            id: shell.step_id(0),
            setup: false,
            suite: PlannedSuite::clone(&shell),
            step: StepRef::new(&shell, 0),
            command_line: result.command_line.clone(),
            timeout: Duration::from_millis(1500),
            attempt: 3,
        },
        finished(&shell, step, &result),
    ]);
    assert_eq!(
        output,
        "
=== Suite shell ===
→ Retrying (attempt 3, timeout 1.5s): cat <<EOF
    hello
    EOF
✗ Heredoc
    command:  cat <<EOF
              hello
              EOF
    status:   exit status 1
    duration: 2s
    attempts: 3
    check:    stdout differs:
              - hello
              + bye
    output:   (none)
"
    );
}

#[test]
fn control_characters_in_output_cannot_restyle_the_report() {
    let noisy = suite("noisy", vec![step("Progress bar", None)]);
    let mut result = ran(Verdict::Failed, "download", ExitStatus::Exited(1), 10);
    result.output_tail = "\x1b[31merror\x1b[0m\n50%\r100%\tdone\x07\n".to_owned();
    let output = render(&[finished(&noisy, &noisy.steps[0], &result)]);
    assert_eq!(
        output,
        "
=== Suite noisy ===
✗ Progress bar
    command:  download
    status:   exit status 1
    duration: 0.01s
    output (last 2 lines):
      | ␛[31merror␛[0m
      | 50%␍100%\tdone␇
"
    );
}

#[test]
fn timeout_names_the_deadline() {
    let slow = suite("slow", vec![step("Tell waits for the model", None)]);
    let step = &slow.steps[0];
    let mut result = ran(
        Verdict::TimedOut,
        "plandex-dev tell 'add a function'",
        timed_out(500),
        612,
    );
    result.output_tail = "waiting for model...".to_owned();
    let mut end = summary(counts(0, 0, 1, 0));
    end.duration = Duration::from_millis(1234);
    let output = render(&[
        suite_started(&slow),
        Event::StepStarted {
            id: slow.step_id(0),
            setup: false,
            suite: PlannedSuite::clone(&slow),
            step: StepRef::new(&slow, 0),
            command_line: result.command_line.clone(),
            timeout: Duration::from_millis(500),
            attempt: 1,
        },
        finished(&slow, step, &result),
        Event::RunFinished(end.clone()),
    ]);
    assert_eq!(
        output,
        "
=== Suite slow ===
→ Test dir: /tmp/smoke-plans
→ Running (timeout 500ms): plandex-dev tell 'add a function'
⏱ Tell waits for the model timed out after 500ms
    command:  plandex-dev tell 'add a function'
    status:   timed out after 500ms (stopped with SIGTERM)
    duration: 0.61s
    output (last 1 line):
      | waiting for model...

=== Test Summary ===
Total tests: 1
Passed: 0
Failed: 1
Timeouts: 1
Skipped: 0
Duration: 1.23s
Finished at 2026-01-21 14:33:42 UTC
0 passed, 1 failed (1 timed out), 0 skipped
"
    );
}

#[test]
fn skipped_steps_say_why() {
    let skips = suite(
        "skips",
        vec![
            step("After a failure", None),
            step("Needs docker", None),
            step("Flaky upstream", None),
            step("Ignored without reason", None),
            step("No fixtures", None),
            step("After Ctrl-C", None),
        ],
    );
    let results = [
        StepResult::skipped(SkipReason::EarlierFailure {
            step: "Create named plan".to_owned(),
        }),
        StepResult::skipped(SkipReason::MissingRequirement("docker".to_owned())),
        StepResult::skipped(SkipReason::Ignored("upstream is flaky, see #12".to_owned())),
        StepResult::skipped(SkipReason::Ignored(String::new())),
        StepResult::skipped(SkipReason::SetupFailed(
            "fixture `plans` not found".to_owned(),
        )),
        StepResult::skipped(SkipReason::Interrupted),
    ];
    let events: Vec<Event> = std::iter::once(suite_started(&skips))
        .chain(
            skips
                .steps
                .iter()
                .zip(&results)
                .map(|(step, result)| finished(&skips, step, result)),
        )
        .collect();
    assert_eq!(
        render(&events),
        "
=== Suite skips ===
→ Test dir: /tmp/smoke-plans
- After a failure (skipped: earlier step `Create named plan` failed)
- Needs docker (skipped: requires `docker`, not found on PATH)
- Flaky upstream (ignored: upstream is flaky, see #12)
- Ignored without reason (ignored)
- No fixtures (skipped: suite setup failed: fixture `plans` not found)
- After Ctrl-C (skipped: interrupted)
"
    );
}

#[test]
fn leaked_processes_are_reported_on_the_step_and_in_the_summary() {
    let daemon = suite(
        "daemon",
        vec![step("Starts a server", None), step("Forks twice", None)],
    );
    let mut one = passed("plandex-dev serve &", 50);
    one.leaked_processes = 1;
    let mut two = ran(Verdict::Failed, "sh fork.sh", ExitStatus::Exited(2), 30);
    two.leaked_processes = 2;
    let mut end = summary(counts(1, 1, 0, 0));
    end.leaked_processes = 3;
    let output = render(&[
        finished(&daemon, &daemon.steps[0], &one),
        finished(&daemon, &daemon.steps[1], &two),
        Event::RunFinished(end.clone()),
    ]);
    assert_eq!(
        output,
        "
=== Suite daemon ===
✓ Starts a server
⚠ killed 1 leftover process after Starts a server
✗ Forks twice
    command:  sh fork.sh
    status:   exit status 2
    duration: 0.03s
    output:   (none)
⚠ killed 2 leftover processes after Forks twice

=== Test Summary ===
Total tests: 2
Passed: 1
Failed: 1
Timeouts: 0
Skipped: 0
Duration: 3m 42s
Leftover processes killed: 3
Finished at 2026-01-21 14:33:42 UTC
1 passed, 1 failed, 0 skipped
"
    );
}

#[test]
fn kept_test_dir_is_named_after_the_suite_and_in_the_summary() {
    let plans = suite("plans", vec![step("Create named plan", None)]);
    let result = passed("plandex-dev new", 100);
    let suite_done = suite_result(counts(1, 0, 0, 0), Some("/tmp/smoke-plans-kept"));
    let mut end = summary(counts(1, 0, 0, 0));
    end.kept_test_dirs = vec![PathBuf::from("/tmp/smoke-plans-kept")];
    let output = render(&[
        suite_started(&plans),
        finished(&plans, &plans.steps[0], &result),
        Event::SuiteFinished {
            suite: PlannedSuite::clone(&plans),
            result: suite_done.clone(),
        },
        Event::RunFinished(end.clone()),
    ]);
    assert_eq!(
        output,
        "
=== Suite plans ===
→ Test dir: /tmp/smoke-plans
✓ Create named plan
→ Kept test dir for inspection: /tmp/smoke-plans-kept

=== Test Summary ===
Total tests: 1
Passed: 1
Failed: 0
Timeouts: 0
Skipped: 0
Duration: 3m 42s
Kept test dir: /tmp/smoke-plans-kept
Finished at 2026-01-21 14:33:42 UTC
1 passed, 0 failed, 0 skipped
"
    );
}

#[test]
fn interrupted_run_says_results_are_partial() {
    let plans = suite(
        "plans",
        vec![step("Create named plan", None), step("List plans", None)],
    );
    let start = run_start(1, 2, 1, EnvFileStatus::DefaultMissing(".env".into()));
    let first = passed("plandex-dev new", 100);
    let second = StepResult::skipped(SkipReason::Interrupted);
    let mut end = summary(counts(1, 0, 0, 1));
    end.interrupted = true;
    let output = render(&[
        Event::RunStarted(start.clone()),
        suite_started(&plans),
        finished(&plans, &plans.steps[0], &first),
        finished(&plans, &plans.steps[1], &second),
        Event::RunFinished(end.clone()),
    ]);
    assert_eq!(
        output,
        "\
=== smoke-runner started at 2026-01-21 14:30:00 UTC ===
→ No environment file at .env (skipped)
→ Running 2 steps from 1 suite (1 at a time)

=== Suite plans ===
→ Test dir: /tmp/smoke-plans
✓ Create named plan
- List plans (skipped: interrupted)

=== Test Summary ===
Total tests: 2
Passed: 1
Failed: 0
Timeouts: 0
Skipped: 1
Duration: 3m 42s
Interrupted: partial results
Finished at 2026-01-21 14:33:42 UTC
1 passed, 0 failed, 1 skipped
"
    );
}

#[test]
fn parallel_suites_are_grouped_in_start_order() {
    let alpha = suite("alpha", vec![step("A1", None), step("A2", None)]);
    let beta = suite("beta", vec![step("B1", None)]);
    let gamma = suite("gamma", vec![step("C1", None)]);
    let delta = suite("delta", vec![step("D1", None)]);
    let ok = passed("true", 10);
    let done = suite_result(counts(1, 0, 0, 0), None);
    let end = summary(counts(5, 0, 0, 0));
    let suite_done = |suite: &PlannedSuite| Event::SuiteFinished {
        suite: PlannedSuite::clone(suite),
        result: done.clone(),
    };
    let output = render(&[
        suite_started(&alpha),
        suite_started(&beta),
        started(&beta, &beta.steps[0], "beta one"),
        started(&alpha, &alpha.steps[0], "alpha one"),
        suite_started(&gamma),
        finished(&beta, &beta.steps[0], &ok),
        suite_done(&beta),
        finished(&alpha, &alpha.steps[0], &ok),
        started(&gamma, &gamma.steps[0], "gamma one"),
        started(&alpha, &alpha.steps[1], "alpha two"),
        finished(&alpha, &alpha.steps[1], &ok),
        // Alpha ends: beta (already done) is written out whole, gamma becomes the foreground.
        suite_done(&alpha),
        suite_started(&delta),
        started(&delta, &delta.steps[0], "delta one"),
        finished(&gamma, &gamma.steps[0], &ok),
        // Neither gamma nor delta finishes: the summary writes out what is held first.
        Event::RunFinished(end.clone()),
    ]);
    assert_eq!(
        output,
        "
=== Suite alpha ===
→ Test dir: /tmp/smoke-plans
→ Running (timeout 120s): alpha one
✓ A1
→ Running (timeout 120s): alpha two
✓ A2

=== Suite beta ===
→ Test dir: /tmp/smoke-plans
→ Running (timeout 120s): beta one
✓ B1

=== Suite gamma ===
→ Test dir: /tmp/smoke-plans
→ Running (timeout 120s): gamma one
✓ C1

=== Suite delta ===
→ Test dir: /tmp/smoke-plans
→ Running (timeout 120s): delta one

=== Test Summary ===
Total tests: 5
Passed: 5
Failed: 0
Timeouts: 0
Skipped: 0
Duration: 3m 42s
Finished at 2026-01-21 14:33:42 UTC
5 passed, 0 failed, 0 skipped
"
    );
}

#[test]
fn foreground_suite_is_written_live() {
    let alpha = suite("alpha", vec![step("A1", None)]);
    let beta = suite("beta", vec![step("B1", None)]);
    let mut reporter = HumanReporter::new(Vec::new(), HumanOptions::default());
    reporter.report(&suite_started(&alpha)).unwrap();
    reporter.report(&suite_started(&beta)).unwrap();
    reporter
        .report(&started(&beta, &beta.steps[0], "beta one"))
        .unwrap();
    reporter
        .report(&started(&alpha, &alpha.steps[0], "alpha one"))
        .unwrap();
    // Everything written so far reached the writer, except beta's held lines.
    let written = String::from_utf8(reporter.into_inner().unwrap()).unwrap();
    assert_eq!(
        written,
        "
=== Suite alpha ===
→ Test dir: /tmp/smoke-plans
→ Running (timeout 120s): alpha one
"
    );
}

#[test]
fn verbose_shows_passed_durations_and_output() {
    let plans = suite("plans", vec![step("List plans", None), step("Quiet", None)]);
    let mut listed = passed("plandex-dev plans", 1500);
    listed.output_tail = "smoke-test-plan\n".to_owned();
    let quiet = passed("true", 3);
    let output = render_with(
        HumanOptions {
            color: false,
            verbose: true,
        },
        &[
            finished(&plans, &plans.steps[0], &listed),
            finished(&plans, &plans.steps[1], &quiet),
        ],
    );
    assert_eq!(
        output,
        "
=== Suite plans ===
✓ List plans (1.5s)
    output (last 1 line):
      | smoke-test-plan
✓ Quiet (0s)
"
    );
}

/// Every kind of line the report can print, for the colour tests.
fn render_everything(color: bool) -> String {
    let all = suite(
        "all",
        vec![
            step("Passes", Some("Everything")),
            step("Fails", Some("Everything")),
            step("Hangs", Some("Everything")),
            step("Skipped", Some("Everything")),
        ],
    );
    let start = run_start(1, 4, 1, EnvFileStatus::Loaded(".env".into()));
    let mut pass = passed("true", 10);
    pass.leaked_processes = 1;
    let mut fail = ran(Verdict::Failed, "false", ExitStatus::Exited(1), 10);
    fail.failures = vec![status_check("exit status 0", "exit status 1")];
    fail.output_tail = "boom".to_owned();
    let hang = ran(Verdict::TimedOut, "sleep 9", timed_out(1000), 1000);
    let skip = StepResult::skipped(SkipReason::Interrupted);
    let done = suite_result(counts(1, 1, 1, 1), Some("/tmp/kept"));
    let mut end = summary(counts(1, 1, 1, 1));
    end.interrupted = true;
    end.leaked_processes = 1;
    render_with(
        HumanOptions {
            color,
            verbose: true,
        },
        &[
            Event::RunStarted(start.clone()),
            suite_started(&all),
            Event::SectionStarted {
                suite: PlannedSuite::clone(&all),
                section: "Everything".into(),
            },
            started(&all, &all.steps[0], "true"),
            finished(&all, &all.steps[0], &pass),
            finished(&all, &all.steps[1], &fail),
            finished(&all, &all.steps[2], &hang),
            finished(&all, &all.steps[3], &skip),
            Event::SuiteFinished {
                suite: PlannedSuite::clone(&all),
                result: done.clone(),
            },
            Event::RunFinished(end.clone()),
        ],
    )
}

#[test]
fn colors_on_paints_verdicts() {
    let output = render_everything(true);
    assert!(output.contains("\x1b[32m✓ Passes"), "{output}");
    assert!(output.contains("\x1b[31m✗ Fails"), "{output}");
    assert!(output.contains("\x1b[33m⏱ Hangs"), "{output}");
    assert!(output.contains("\x1b[2m- Skipped"), "{output}");
    assert!(
        output.contains("\x1b[31;1m1 passed, 2 failed (1 timed out), 1 skipped"),
        "{output}"
    );
}

#[test]
fn colors_off_writes_no_escape_codes() {
    let output = render_everything(false);
    assert!(!output.contains('\x1b'), "{output}");
    assert!(output.contains("✓ Passes"), "{output}");
}

#[test]
fn colour_changes_nothing_but_escape_codes() {
    let coloured = render_everything(true);
    let mut stripped = String::new();
    let mut rest = coloured.as_str();
    while let Some(start) = rest.find('\x1b') {
        stripped.push_str(&rest[..start]);
        let end = rest[start..].find('m').expect("escape codes end with `m`");
        rest = &rest[start + end + 1..];
    }
    stripped.push_str(rest);
    assert_eq!(stripped, render_everything(false));
}
