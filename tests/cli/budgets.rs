//! Duration budgets: `max_duration` fails an attempt that takes longer, `warn_duration` makes a
//! passing step degraded, `--degraded-fails` (or `SMOKE_DEGRADED_FAILS`) fails the run on it.
//! Steps over a budget sleep several times longer than it (sleeping never ends early) and
//! steps under one are far under a large one, so no verdict here depends on the machine's load.
//! Counts across every format are in `summary_counts.rs`.

use crate::support::{TestEnv, stderr, stdout};

const ONE_DEGRADED: &str = r#"
command = "${FAKE}"

[[step]]
name = "slow"
run = "sleep:0.5"
warn_duration = "50ms"
"#;

#[test]
fn a_degraded_step_passes_unless_degraded_fails_is_given() {
    let env = TestEnv::new().suite("slow", ONE_DEGRADED);
    let plain = env.run(&["--no-history", "--color", "never"]);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    assert!(
        stdout(&plain).contains("1 passed (1 degraded), 0 failed, 0 skipped"),
        "{}",
        stdout(&plain)
    );

    let flag = env.run(&["--no-history", "--color", "never", "--degraded-fails"]);
    assert_eq!(flag.status.code(), Some(1), "{}", stderr(&flag));
    assert!(
        stdout(&flag).contains(
            "Failed by --degraded-fails: 1 step(s) took longer than their warn_duration\n"
        ),
        "{}",
        stdout(&flag)
    );

    let by_env = env
        .command()
        .env("SMOKE_DEGRADED_FAILS", "1")
        .args(["--no-history", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(by_env.status.code(), Some(1), "{}", stderr(&by_env));
    let switched_off = env
        .command()
        .env("SMOKE_DEGRADED_FAILS", "0")
        .args(["--no-history"])
        .output()
        .unwrap();
    assert_eq!(
        switched_off.status.code(),
        Some(0),
        "{}",
        stderr(&switched_off)
    );
}

#[test]
fn a_suites_budgets_hold_for_every_step_without_its_own() {
    let env = TestEnv::new().suite(
        "defaults",
        r#"
command = "${FAKE}"
on_failure = "continue"
max_duration = "100ms"

[[step]]
name = "inherits the limit"
run = "sleep:1.5"

[[step]]
name = "has its own"
run = "out:quick"
max_duration = "60s"
"#,
    );
    let output = env.run(&["--no-history", "--color", "never", "--json", "events.jsonl"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(report.contains("✗ inherits the limit\n"), "{report}");
    assert!(report.contains("✓ has its own\n"), "{report}");
    let events = std::fs::read_to_string(env.path().join("events.jsonl")).unwrap();
    let finished: Vec<serde_json::Value> = (events.lines())
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|event: &serde_json::Value| event["event"] == "step_finished")
        .collect();
    assert_eq!(finished[0]["max_duration_secs"], 0.1);
    assert_eq!(finished[1]["max_duration_secs"], 60.0);
    let failure = &finished[0]["failures"][0];
    assert_eq!(failure["check"], "duration", "{failure}");
    assert_eq!(failure["expected"], "100 ms", "{failure}");
    let took: u64 = failure["actual"]
        .as_str()
        .and_then(|actual| actual.strip_suffix(" ms"))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("`took … ms`: {failure}"));
    assert!(took >= 1500, "{failure}");
}

/// The budget holds for each attempt: a step over it at first and quick on its retry is flaky.
#[test]
fn an_attempt_over_its_limit_is_retried_like_any_failure() {
    let env = TestEnv::new().suite(
        "retried",
        r#"
[[step]]
name = "slow at first"
sh = "test -e marker || { touch marker; sleep 2.5; }"
max_duration = "2s"
retry = { attempts = 2, interval = "10ms" }
"#,
    );
    let output = env.run(&["--no-history", "--color", "never"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(
        report.contains("✓ slow at first (flaky: passed on attempt 2)"),
        "{report}"
    );
}
