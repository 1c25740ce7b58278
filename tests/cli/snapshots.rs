//! Every report format as a whole, from one fixed run: a step that passes, one that fails its
//! checks, one that times out, an ignored one, a flaky one, a degraded one (over its
//! `warn_duration`) and one over its `max_duration` (each sleeping ten times its budget). Times, dates, temp paths and
//! run ids are normalised; everything else a user reads is compared to the letter with insta
//! (`tests/cli/snapshots/`). A changed report fails here until its snapshot is reviewed and
//! accepted (`INSTA_UPDATE=always cargo test --test cli snapshots::`, then read the diff).

use std::path::Path;

use crate::support::{TestEnv, normalize_report, stderr, stdout};

const ALPHA: &str = r#"
on_failure = "continue"

[[step]]
name = "passes"
sh = "echo hello"
stdout = { contains = "hello" }

[[step]]
name = "fails"
sh = "echo out; echo err >&2; exit 3"
env = { GREETING = "hi" }
stdout = { contains = "nope" }

[[step]]
name = "times out"
sh = "sleep 30"
timeout = "300ms"

[[step]]
name = "ignored"
sh = "true"
ignore = "not yet"
"#;

const BRAVO: &str = r#"
[[step]]
name = "flaky"
sh = "test -e marker || { touch marker; exit 1; }"
retry = { attempts = 2 }

[[step]]
name = "slow"
sh = "sleep 1"
warn_duration = "100ms"

[[step]]
name = "over budget"
sh = "sleep 1"
max_duration = "100ms"
"#;

fn fixed_run() -> TestEnv {
    TestEnv::new().suite("alpha", ALPHA).suite("bravo", BRAVO)
}

/// What changes from run to run beyond [`normalize_report`]'s rules: machine-readable times,
/// durations and the imported run's id.
fn normalize_all(text: &str, env: &TestEnv) -> String {
    let rules: [(&str, &str); 7] = [
        (r"\b(\w+_ms): \d+", "$1: [TIME]"),
        (
            r#""(\w*_secs|exec_time)":( ?)[0-9.e-]+"#,
            r#""$1":$2"[TIME]""#,
        ),
        (r#"(time|timestamp)="[^"]*""#, r#"$1="[TIME]""#),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[DATE]"),
        (r"import-[0-9a-f]{16}", "import-[ID]"),
        (r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?( UTC)?", "[DATE]"),
        (r"\b\d+(\.\d+)? ?(ms|s)\b", "[TIME]"),
    ];
    let mut text = normalize_report(text, env);
    for (pattern, replacement) in rules {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, replacement)
            .into_owned();
    }
    text
}

fn read(env: &TestEnv, relative: &str) -> String {
    std::fs::read_to_string(env.path().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Runs smoke-runner on the fixed suites, one suite at a time, without history or logs; with
/// `github`, as in a GitHub Actions job.
fn run(env: &TestEnv, github: bool, args: &[&str]) -> String {
    let mut command = env.command();
    if github {
        command
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", env.path().join("step-summary.md"));
    }
    let output = command
        .args([
            "--no-history",
            "--no-log-dir",
            "-j",
            "1",
            "--color",
            "never",
        ])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    normalize_all(&stdout(&output), env)
}

#[test]
fn human_report_junit_event_json_and_github_output() {
    let env = fixed_run();
    let human = run(
        &env,
        true,
        &["--junit", "junit.xml", "--json", "events.jsonl"],
    );
    insta::assert_snapshot!("human_with_github_annotations", human);
    insta::assert_snapshot!("junit", normalize_all(&read(&env, "junit.xml"), &env));
    insta::assert_snapshot!(
        "event_json",
        normalize_all(&read(&env, "events.jsonl"), &env)
    );
    insta::assert_snapshot!(
        "github_step_summary",
        normalize_all(&read(&env, "step-summary.md"), &env)
    );
    html_report_of(&env, "events.jsonl");
}

/// The HTML report of the run: its events (times fixed, so that the charts are too) imported
/// into a new history.
fn html_report_of(env: &TestEnv, events: &str) {
    let fixed = regex::Regex::new(r#""(\w*_secs)":[0-9.e-]+"#)
        .unwrap()
        .replace_all(&read(env, events), r#""$1":0.25"#)
        .into_owned();
    let fixed = regex::Regex::new(r#""(started_at|finished_at)":"[^"]*""#)
        .unwrap()
        .replace_all(&fixed, r#""$1":"2026-01-02T03:04:05.000Z""#)
        .into_owned();
    std::fs::write(env.path().join("fixed.jsonl"), fixed).unwrap();
    let history = ["--history", "history.sqlite"];
    let import = env.run(&[&["history", "import", "fixed.jsonl"][..], &history].concat());
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    let report = env.run(&[&["report", "--html", "report.html"][..], &history].concat());
    assert_eq!(report.status.code(), Some(0), "{}", stderr(&report));
    assert!(Path::new(&env.path().join("report.html")).is_file());
    insta::assert_snapshot!("html", normalize_all(&read(env, "report.html"), env));
}

#[test]
fn libtest_pretty_terse_json_and_tap() {
    let env = fixed_run();
    for (format, name) in [
        ("pretty", "libtest_pretty"),
        ("terse", "libtest_terse"),
        ("json", "libtest_json"),
        ("tap", "tap"),
    ] {
        let report = run(&env, false, &["--format", format]);
        insta::assert_snapshot!(name, report);
    }
}
