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
log:      target/smoke-logs/[RUN]/counts/02-hangs.log
re-run:   smoke-runner --suites suites/counts.toml --exact counts::hangs

---- counts::fails stdout ----
command:  echo broken; exit 3
status:   exit status 3
duration: [TIME]
check:    expected exit status 0, got exit status 3
test dir: [SCRATCH]/tmp/plandex-counts-[PID]-[RAND]
log:      target/smoke-logs/[RUN]/counts/03-fails.log
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
log:       target/smoke-logs/[RUN]/counts/02-hangs.log
reproduce: smoke-runner --suites suites/counts.toml --exact counts::hangs
</failure>
        </testcase>
        <testcase name="counts::fails" classname="counts" time="T" file="suites/counts.toml" line="14">
            <failure message="expected exit status 0, got exit status 3" type="failure">command:   echo broken; exit 3
status:    exit status 3
duration:  [TIME]
check:     expected exit status 0, got exit status 3
test dir:  [SCRATCH]/tmp/plandex-counts-[PID]-[RAND]
log:       target/smoke-logs/[RUN]/counts/03-fails.log
reproduce: smoke-runner --suites suites/counts.toml --exact counts::fails
output (last lines):
  | broken
</failure>
            <system-out>broken</system-out>
        </testcase>
    </testsuite>
</testsuites>
"#;

const JSON_RUN_FINISHED: &str = r#"{"broken_rules":[],"counts":{"failed":2,"flaky":0,"passed":1,"skipped":0,"timed_out":1,"total":3},"duration_secs":T,"event":"run_finished","filtered_out":0,"finished_at":"[DATE]","interrupted":false,"kept_test_dirs":["[SCRATCH]/tmp/plandex-counts-[PID]-[RAND]"],"leaked_processes":0,"schema":1,"skipped_suites":[],"success":false}"#;

const GITHUB_SUMMARY: &str = "### ❌ smoke-runner: 1 passed, 2 failed (1 timed out), 0 skipped

| Total | Passed | Flaky | Failed | Timeouts | Skipped | Duration |
|---|---|---|---|---|---|---|
| 3 | 1 | 0 | 2 | 1 | 0 | [TIME] |

| | Suite | Step | Details | Reproduce |
|---|---|---|---|---|
| ⏱ | counts | hangs | timed out after [TIME] (stopped with SIGTERM)<br>expected exit status 0, got timed out (stopped with SIGTERM) | `smoke-runner --suites suites/counts.toml --exact counts::hangs` |
| ✗ | counts | fails | expected exit status 0, got exit status 3 | `smoke-runner --suites suites/counts.toml --exact counts::fails` |


";

const HTML_COUNTS: &str = "<p class=\"counts\"><span class=\"\">Total: 3</span>\
<span class=\"passed\">Passed: 1</span><span class=\"flaky\">Flaky: 0</span>\
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
