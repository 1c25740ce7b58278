//! The summary's counts in every format, for one run with a timeout and another failure:
//! `Failed` counts both, `Timeouts` says how many of them timed out, and the closing line agrees.

use regex::Regex;

use crate::support::{TestEnv, normalize_report, stderr, stdout};

const ONE_TIMEOUT_ONE_FAILURE: &str = r#"
name = "counts"
on_failure = "continue"

[[step]]
name = "passes"
sh = "echo fine"

[[step]]
name = "hangs"
sh = "sleep 30"
timeout = "500ms"

[[step]]
name = "fails"
sh = "echo broken; exit 3"
"#;

fn counts_env() -> TestEnv {
    TestEnv::new().suite("counts", ONE_TIMEOUT_ONE_FAILURE)
}

/// Replaces every match of `pattern` with `replacement`.
fn replace(text: &str, pattern: &str, replacement: &str) -> String {
    Regex::new(pattern)
        .unwrap()
        .replace_all(text, replacement)
        .into_owned()
}

const HUMAN_SUMMARY: &str = "
=== Test Summary ===
Total tests: 3
Passed: 1
Failed: 2
Timeouts: 1
Skipped: 0
Duration: [TIME]
Kept test dir: [SCRATCH]/tmp/plandex-counts-[PID]-[RAND]
Finished at [DATE]
1 passed, 2 failed (1 timed out), 0 skipped
";

#[test]
fn human_summary_has_a_timeouts_line_within_failed() {
    let env = counts_env();
    let output = env.run(&["--color", "never"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = normalize_report(&stdout(&output), &env);
    let summary = &report[report.find("\n=== Test Summary ===").expect("summary")..];
    assert_eq!(summary, HUMAN_SUMMARY);
}

const TERSE: &str = "
running 3 tests
.FF

failures:

---- counts::hangs stdout ----
command:  sleep 30
status:   timed out after [TIME] (stopped with SIGTERM)
duration: [TIME]
check:    expected exit status 0, got timed out (stopped with SIGTERM)
test dir: [SCRATCH]/tmp/plandex-counts-[PID]-[RAND]
log:      target/smoke-logs/[RUN]/counts.log:6
re-run:   smoke-runner --suites suites/counts.toml --exact counts::hangs

---- counts::fails stdout ----
command:  echo broken; exit 3
status:   exit status 3
duration: [TIME]
check:    expected exit status 0, got exit status 3
test dir: [SCRATCH]/tmp/plandex-counts-[PID]-[RAND]
log:      target/smoke-logs/[RUN]/counts.log:10
output (last lines):
  | broken
re-run:   smoke-runner --suites suites/counts.toml --exact counts::fails


failures:
    counts::fails
    counts::hangs

timeouts: 1

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in [TIME]

";

#[test]
fn libtest_pretty_and_terse_count_the_timeout_among_the_failures() {
    let env = counts_env();
    let terse = env.run(&["--format", "terse", "--color", "never"]);
    assert_eq!(terse.status.code(), Some(1), "{}", stderr(&terse));
    assert_eq!(normalize_report(&stdout(&terse), &env), TERSE);

    let pretty = env.run(&["--format", "pretty", "--color", "never"]);
    assert_eq!(pretty.status.code(), Some(1), "{}", stderr(&pretty));
    let expected = TERSE.replace(
        ".FF\n",
        "test counts::passes ... ok\n\
         test counts::hangs  ... FAILED (timed out)\n\
         test counts::fails  ... FAILED\n",
    );
    assert_eq!(normalize_report(&stdout(&pretty), &env), expected);
}

#[test]
fn libtest_json_suite_event_says_how_many_failures_timed_out() {
    let env = counts_env();
    let output = env.run(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let last = text.lines().last().expect("a closing line");
    assert_eq!(
        replace(last, r#""exec_time": [0-9.e-]+"#, r#""exec_time": T"#),
        r#"{ "type": "suite", "event": "failed", "passed": 1, "failed": 2, "ignored": 0, "measured": 0, "filtered_out": 0, "exec_time": T, "timed_out": 1 }"#
    );
    let timed_out: Vec<&str> = text
        .lines()
        .filter(|line| line.contains(r#""timed_out": true"#))
        .collect();
    assert_eq!(timed_out.len(), 1, "{text}");
    assert!(
        timed_out[0].contains(r#""name": "counts::hangs""#),
        "{text}"
    );
}

const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="smoke-runner" tests="3" skipped="0" failures="2" errors="0" time="T">
    <testsuite name="counts" tests="3" skipped="0" errors="0" failures="2" time="T" file="suites/counts.toml" timeouts="1">
        <testcase name="counts::passes" classname="counts" time="T" file="suites/counts.toml" line="5"/>
        <testcase name="counts::hangs" classname="counts" time="T" file="suites/counts.toml" line="9">
            <failure message="timed out after [TIME] (stopped with SIGTERM)" type="timeout">command:   sleep 30
status:    timed out after [TIME] (stopped with SIGTERM)
duration:  [TIME]
check:     expected exit status 0, got timed out (stopped with SIGTERM)
test dir:  [SCRATCH]/tmp/plandex-counts-[PID]-[RAND]
log:       target/smoke-logs/[RUN]/counts.log:6
reproduce: smoke-runner --suites suites/counts.toml --exact counts::hangs
</failure>
        </testcase>
        <testcase name="counts::fails" classname="counts" time="T" file="suites/counts.toml" line="14">
            <failure message="expected exit status 0, got exit status 3" type="failure">command:   echo broken; exit 3
status:    exit status 3
duration:  [TIME]
check:     expected exit status 0, got exit status 3
test dir:  [SCRATCH]/tmp/plandex-counts-[PID]-[RAND]
log:       target/smoke-logs/[RUN]/counts.log:10
reproduce: smoke-runner --suites suites/counts.toml --exact counts::fails
output (last lines):
  | broken
</failure>
            <system-out>broken</system-out>
        </testcase>
    </testsuite>
</testsuites>
"#;

const JSON_RUN_FINISHED: &str = r#"{"broken_rules":[],"counts":{"degraded":0,"failed":2,"flaky":0,"passed":1,"skipped":0,"timed_out":1,"total":3},"duration_secs":T,"event":"run_finished","filtered_out":0,"finished_at":"[DATE]","interrupted":false,"kept_test_dirs":["[SCRATCH]/tmp/plandex-counts-[PID]-[RAND]"],"leaked_processes":0,"schema":1,"skipped_suites":[],"success":false}"#;

const GITHUB_SUMMARY: &str = "### ❌ smoke-runner: 1 passed, 2 failed (1 timed out), 0 skipped

| Total | Passed | Degraded | Flaky | Failed | Timeouts | Skipped | Duration |
|---|---|---|---|---|---|---|---|
| 3 | 1 | 0 | 0 | 2 | 1 | 0 | [TIME] |

| | Suite | Step | Details | Reproduce |
|---|---|---|---|---|
| ⏱ | counts | hangs | timed out after [TIME] (stopped with SIGTERM)<br>expected exit status 0, got timed out (stopped with SIGTERM) | `smoke-runner --suites suites/counts.toml --exact counts::hangs` |
| ✗ | counts | fails | expected exit status 0, got exit status 3 | `smoke-runner --suites suites/counts.toml --exact counts::fails` |


";

const HTML_COUNTS: &str = "<p class=\"counts\"><span class=\"\">Total: 3</span>\
<span class=\"passed\">Passed: 1</span><span class=\"degraded\">Degraded: 0</span>\
<span class=\"flaky\">Flaky: 0</span>\
<span class=\"failed\">Failed: 2</span><span class=\"timed_out\">Timeouts: 1</span>\
<span class=\"skipped\">Skipped: 0</span><span>Duration: [TIME]</span></p>";

#[test]
fn junit_json_github_and_html_agree_on_failed_and_timeouts() {
    let env = counts_env();
    let summary_file = env.path().join("step-summary.md");
    let output = env
        .command()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .args(["--junit", "junit.xml", "--json", "events.jsonl"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let read = |name: &str| {
        let text = std::fs::read_to_string(env.path().join(name)).unwrap();
        normalize_report(&text, &env)
    };

    let junit = replace(&read("junit.xml"), r#"time="[0-9.]+""#, r#"time="T""#);
    assert_eq!(junit, JUNIT);

    let events = read("events.jsonl");
    let last = events.lines().last().expect("a run_finished line");
    let last = replace(last, r#""duration_secs":[0-9.e-]+"#, r#""duration_secs":T"#);
    let last = replace(&last, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", "[DATE]");
    assert_eq!(last, JSON_RUN_FINISHED);

    let github = read("step-summary.md");
    assert_eq!(github, GITHUB_SUMMARY);

    let html_path = env.path().join("report.html");
    let html = env.run(&["report", "--html", html_path.to_str().unwrap()]);
    assert_eq!(html.status.code(), Some(0), "{}", stderr(&html));
    let html = read("report.html");
    assert!(html.contains(HTML_COUNTS), "{html}");
}

/// A step well under large budgets, one that sleeps 1.5 s against a 100 ms `warn_duration`
/// (degraded) and one that sleeps 1.5 s against a 100 ms `max_duration` (failed). Sleeping
/// never ends early, so neither verdict depends on how busy the machine is.
const ONE_DEGRADED_ONE_OVER_BUDGET: &str = r#"
name = "budgets"
on_failure = "continue"
command = "${FAKE}"

[[step]]
name = "quick"
run = "out:fine"
max_duration = "60s"
warn_duration = "30s"

[[step]]
name = "slow"
run = "sleep:1.5"
warn_duration = "100ms"

[[step]]
name = "over budget"
run = "sleep:1.5"
max_duration = "100ms"
"#;

/// Budget times (`1503 ms`) as the reports print them, fixed.
fn budget_times(text: &str) -> String {
    replace(text, r"\b\d+ ms\b", "[MS]")
}

const DEGRADED_HUMAN_SUMMARY: &str = "
=== Test Summary ===
Total tests: 3
Passed: 2
Degraded: 1 (passed, over warn_duration)
Failed: 1
Timeouts: 0
Skipped: 0
Duration: [TIME]
Kept test dir: [SCRATCH]/tmp/plandex-budgets-[PID]-[RAND]
Finished at [DATE]
2 passed (1 degraded), 1 failed, 0 skipped
";

const DEGRADED_JSON_RUN_FINISHED: &str = r#"{"broken_rules":[],"counts":{"degraded":1,"failed":1,"flaky":0,"passed":2,"skipped":0,"timed_out":0,"total":3},"duration_secs":T,"event":"run_finished","filtered_out":0,"finished_at":"[DATE]","interrupted":false,"kept_test_dirs":["[SCRATCH]/tmp/plandex-budgets-[PID]-[RAND]"],"leaked_processes":0,"schema":1,"skipped_suites":[],"success":false}"#;

const DEGRADED_GITHUB_COUNTS: &str =
    "### ❌ smoke-runner: 2 passed (1 degraded), 1 failed, 0 skipped

| Total | Passed | Degraded | Flaky | Failed | Timeouts | Skipped | Duration |
|---|---|---|---|---|---|---|---|
| 3 | 2 | 1 | 0 | 1 | 0 | 0 | [TIME] |
";

const DEGRADED_HTML_COUNTS: &str = "<p class=\"counts\"><span class=\"\">Total: 3</span>\
<span class=\"passed\">Passed: 2</span><span class=\"degraded\">Degraded: 1</span>\
<span class=\"flaky\">Flaky: 0</span><span class=\"failed\">Failed: 1</span>\
<span class=\"timed_out\">Timeouts: 0</span><span class=\"skipped\">Skipped: 0</span>";

#[test]
fn degraded_steps_are_passes_counted_apart_in_every_format() {
    let env = TestEnv::new().suite("budgets", ONE_DEGRADED_ONE_OVER_BUDGET);
    let summary_file = env.path().join("step-summary.md");
    let output = env
        .command()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .args(["--color", "never", "--junit", "junit.xml"])
        .args(["--json", "events.jsonl", "--tap", "run.tap"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let read = |name: &str| {
        let text = std::fs::read_to_string(env.path().join(name)).unwrap();
        budget_times(&normalize_report(&text, &env))
    };

    let human = budget_times(&normalize_report(&stdout(&output), &env));
    assert!(
        human.contains("\n✓ slow (degraded: took [MS], warn_duration [MS])\n"),
        "{human}"
    );
    assert!(human.contains("\n✗ over budget\n"), "{human}");
    assert!(
        human.contains("\n    check:    took [MS], budget [MS]\n"),
        "{human}"
    );
    let summary = &human[human.find("\n=== Test Summary ===").expect("summary")..];
    let summary = replace(summary, r"(?m)^::.*\n", "");
    assert_eq!(summary, DEGRADED_HUMAN_SUMMARY);
    let warnings: Vec<&str> = (human.lines())
        .filter(|line| line.starts_with("::warning "))
        .collect();
    assert_eq!(
        warnings,
        [
            "::warning file=suites/budgets.toml,line=12,title=budgets%3A%3Aslow degraded::passed, but took [MS], warn_duration [MS]"
        ],
        "{human}"
    );

    let junit = read("junit.xml");
    assert!(
        junit.contains(
            r#"<testsuites name="smoke-runner" tests="3" skipped="0" failures="1" errors="0""#
        ),
        "{junit}"
    );
    assert!(
        junit.contains(r#"timeouts="0""#) || !junit.contains("timeouts="),
        "{junit}"
    );
    assert!(junit.contains(r#" degraded="1">"#), "{junit}");
    assert!(
        junit.contains(r#"<property name="degraded" value="took [MS], warn_duration [MS]"/>"#),
        "{junit}"
    );
    assert!(junit.contains("took [MS], budget [MS]"), "{junit}");

    let events = read("events.jsonl");
    let outcomes: Vec<String> = (events.lines())
        .filter(|line| line.contains(r#""event":"step_finished""#))
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["outcome"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(outcomes, ["passed", "degraded", "failed"]);
    let last = events.lines().last().expect("a run_finished line");
    let last = replace(last, r#""duration_secs":[0-9.e-]+"#, r#""duration_secs":T"#);
    let last = replace(&last, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", "[DATE]");
    assert_eq!(last, DEGRADED_JSON_RUN_FINISHED);

    let github = read("step-summary.md");
    assert!(github.starts_with(DEGRADED_GITHUB_COUNTS), "{github}");

    let tap = read("run.tap");
    let points: Vec<&str> = (tap.lines())
        .filter(|line| line.starts_with("ok ") || line.starts_with("not ok "))
        .collect();
    assert_eq!(
        points,
        [
            "ok 1 - budgets::quick",
            "ok 2 - budgets::slow",
            "not ok 3 - budgets::over_budget"
        ]
    );
    assert!(
        tap.contains("ok 2 - budgets::slow\n  ---\n  message: \"degraded: took [MS], warn_duration [MS]\"\n  severity: warn\n"),
        "{tap}"
    );

    let runs = env.run(&["history", "runs", "--format", "json"]);
    assert_eq!(runs.status.code(), Some(0), "{}", stderr(&runs));
    let runs: serde_json::Value = serde_json::from_str(&stdout(&runs)).unwrap();
    let counts = |key: &str| runs[0][key].as_u64().unwrap();
    assert_eq!(
        [counts("passed"), counts("degraded"), counts("failed")],
        [1, 1, 1],
        "the history keeps each outcome apart: passed and degraded make the 2 passes: {runs:#}"
    );
    let step = env.run(&["history", "step", "budgets::slow"]);
    assert!(stdout(&step).contains(" degraded "), "{}", stdout(&step));

    let html = env.run(&["report", "--html", "report.html"]);
    assert_eq!(html.status.code(), Some(0), "{}", stderr(&html));
    let html = read("report.html");
    assert!(html.contains(DEGRADED_HTML_COUNTS), "{html}");
}

#[test]
fn libtest_formats_show_degraded_steps_as_passes() {
    let env = TestEnv::new().suite("budgets", ONE_DEGRADED_ONE_OVER_BUDGET);
    let terse = env.run(&["--format", "terse", "--color", "never"]);
    assert_eq!(terse.status.code(), Some(1), "{}", stderr(&terse));
    let terse = budget_times(&normalize_report(&stdout(&terse), &env));
    assert!(terse.contains("\nrunning 3 tests\n..F\n"), "{terse}");
    assert!(
        terse.contains("\ndegraded: 1\n\ntest result: FAILED. 2 passed; 1 failed; 0 ignored;"),
        "{terse}"
    );

    let json = env.run(&["--format", "json"]);
    assert_eq!(json.status.code(), Some(1), "{}", stderr(&json));
    let text = budget_times(&stdout(&json));
    let slow = (text.lines())
        .find(|line| line.contains(r#""name": "budgets::slow", "event": "ok""#))
        .expect("the slow step's line");
    assert!(
        slow.contains(
            r#""event": "ok", "degraded": true, "message": "took [MS], warn_duration [MS]""#
        ),
        "{slow}"
    );
    let last = text.lines().last().expect("a closing line");
    assert!(
        last.contains(r#""passed": 2, "failed": 1, "ignored": 0,"#)
            && last.ends_with(r#", "degraded": 1 }"#),
        "{last}"
    );
}
