//! Deploy gates: a step's duration against its baseline in the history (`--gate`), repeated
//! runs judged by their failure rate (`--repeat`, `--max-failure-rate`). The service is a real
//! HTTP server on loopback (`tests/servers/timed_server.py`) whose latency and failures are set
//! by its environment.

use std::path::PathBuf;
use std::process::Output;

use crate::support::{TestEnv, repo_root, stderr, stdout};

/// A suite with the timed server as its service and one `http` step asking it for an answer.
fn gated_env() -> TestEnv {
    let server = repo_root().join("tests/servers/timed_server.py");
    let suite = format!(
        r#"
name = "web"
command = ""
timeout = "30s"
requires = ["python3"]

[[service]]
name = "web"
run = "python3 {server} ${{PORT}}"
port = "auto"
healthcheck = {{ http = {{ url = "http://127.0.0.1:${{PORT}}/health" }}, interval = "50ms", retries = 600 }}

[[step]]
name = "answer"
http = {{ url = "http://127.0.0.1:${{WEB_PORT}}/answer", status = 200 }}
"#,
        server = server.display()
    );
    TestEnv::new().suite("web", &suite)
}

/// One run with the server answering after `latency_ms`, recorded in `history.sqlite`.
fn run_at(env: &TestEnv, latency_ms: u32, args: &[&str]) -> Output {
    env.command()
        .env("LATENCY_MS", latency_ms.to_string())
        .args(["--history", "history.sqlite", "--no-log-dir"])
        .args(args)
        .output()
        .expect("run smoke-runner")
}

/// Ten past runs in which `web::answer` passed in exactly `millis`, recorded in
/// `history.sqlite` through `history import` of `--json` event files. Measured runs would make
/// the baseline as noisy as the run judged against it: on a busy machine one slow run among
/// ten moves a p95 baseline (the slowest of them), and a 2x run then kept a 1.5x gate.
fn import_baseline(env: &TestEnv, millis: u64) {
    let suite = serde_json::json!({"id": 0, "name": "web", "file": "suites/web.toml"});
    for run in 0..10 {
        let events = [
            serde_json::json!({"schema": 1, "event": "run_started",
                "started_at": format!("2026-11-23T10:{run:02}:00.000Z"), "suites": 1, "steps": 1}),
            serde_json::json!({"schema": 1, "event": "step_finished", "suite": suite,
                "step": {"name": "answer", "test_name": "web::answer", "index": 0, "line": 14},
                "outcome": "passed", "status": {"kind": "http", "code": 200},
                "duration_secs": millis as f64 / 1000.0, "attempts": 1}),
            serde_json::json!({"schema": 1, "event": "run_finished", "success": true,
                "finished_at": format!("2026-11-23T10:{run:02}:01.000Z")}),
        ];
        let file = format!("baseline-{run}.jsonl");
        let text: String = events.iter().map(|event| format!("{event}\n")).collect();
        std::fs::write(env.path().join(&file), text).unwrap();
        let output = env.run(&["history", "--history", "history.sqlite", "import", &file]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
}

#[test]
fn a_step_twice_as_slow_as_its_last_ten_runs_breaks_a_one_and_a_half_gate_and_one_point_two_keeps_it()
 {
    let env = gated_env();
    // A baseline of exactly 1 s: the 2x runs stay broken and the 1.2x run kept unless the
    // machine adds more than 300 ms to a request. The broken runs come first, as they never
    // join the baseline; the kept run would.
    import_baseline(&env, 1000);
    let gate = ["--gate", "p95 <= 1.5x baseline", "--baseline", "last:10"];

    // 2x: broken, with the table in the human report, the JSON events and JUnit.
    let mut args = gate.to_vec();
    args.extend(["--json", "events.jsonl", "--junit", "junit.xml"]);
    let output = run_at(&env, 2000, &args);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let row = table_row(&report, "web::answer");
    assert!(row.ends_with(" BROKEN"), "{row}");
    let ratio = ratio_of(&row);
    assert!((2.0..3.0).contains(&ratio), "{row}");
    assert!(
        report.contains("Failed by --gate `p95 <= 1.5x baseline`: broken by web::answer "),
        "{report}"
    );
    // The step itself passed: the gate, not a check, failed the run.
    assert!(report.contains("1 passed, 0 failed"), "{report}");

    let events = std::fs::read_to_string(env.path().join("events.jsonl")).unwrap();
    let end: serde_json::Value =
        serde_json::from_str(events.lines().last().expect("events")).unwrap();
    assert_eq!(end["success"], false);
    let row = &end["gates"]["tables"][0]["rows"][0];
    assert_eq!(row["test_name"], "web::answer");
    assert_eq!(row["verdict"], "BROKEN");
    assert_eq!(row["baseline_runs"], 10);
    let junit = std::fs::read_to_string(env.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<testsuite name="smoke-runner gates""#),
        "{junit}"
    );
    assert!(junit.contains("BROKEN"), "{junit}");

    // The libtest format prints the table too; the broken run is no baseline (it would have
    // raised the baseline to 2 s and the ratio to 1x).
    let output = run_at(
        &env,
        2000,
        &["--format", "pretty", "--gate", "p95 <= 1.5x baseline"],
    );
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let row = table_row(&report, "web::answer");
    assert!(row.ends_with(" BROKEN"), "{report}");
    assert!((2.0..3.0).contains(&ratio_of(&row)), "{row}");
    assert!(report.contains("run failed by --gate"), "{report}");

    // 1.2x: kept.
    let output = run_at(&env, 1200, &gate);
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("Gate `p95 <= 1.5x baseline` against baseline last:10:"),
        "{report}"
    );
    let row = table_row(&report, "web::answer");
    assert!(row.ends_with(" ok"), "{row}");
    assert!((1.2..1.5).contains(&ratio_of(&row)), "{row}");
}

#[test]
fn a_step_with_too_little_baseline_is_shown_and_fails_only_when_a_baseline_is_required() {
    let env = gated_env();
    let output = run_at(&env, 0, &["--gate", "p50 <= 2x baseline"]);
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    let row = table_row(&report, "web::answer");
    assert!(row.ends_with("no baseline (0 passing past runs)"), "{row}");

    let output = run_at(
        &env,
        0,
        &["--gate", "p50 <= 2x baseline", "--require-baseline"],
    );
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("broken by web::answer (no baseline)"),
        "{report}"
    );
}

#[test]
fn bad_gate_flags_are_usage_errors_that_show_the_form() {
    let env = gated_env();
    let output = env.run(&["--gate", "p99 <= 2x baseline"]);
    assert_eq!(output.status.code(), Some(2));
    let error = crate::support::stderr(&output);
    assert!(error.contains("unknown statistic `p99`"), "{error}");
    assert!(error.contains("p95 <= 2x baseline"), "{error}");

    let output = env.run(&["--gate", "p95 <= 2x baseline", "--no-history"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(crate::support::stderr(&output).contains("--no-history"));

    let output = env.run(&["--max-failure-rate", "12"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(crate::support::stderr(&output).contains("percentage"));
}

/// Twenty runs against a server failing every `fail_every`-th answer (0: never), its count
/// kept across its restarts.
fn repeat_twenty(fail_every: u32) -> Output {
    let env = gated_env();
    let counter: PathBuf = env.path().join("requests");
    env.command()
        .env("FAIL_EVERY", fail_every.to_string())
        .env("COUNTER_FILE", &counter)
        .args(["--no-history", "--no-log-dir", "--repeat", "20"])
        .args(["--max-failure-rate", "5%", "--json", "events.jsonl"])
        .output()
        .expect("run smoke-runner")
}

#[test]
fn twenty_runs_against_a_server_failing_one_request_in_ten_break_a_five_percent_rate() {
    let output = repeat_twenty(10);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report
            .contains("Failure rate: 2 of 20 step runs failed (10%; at most 5%): web::answer 2/20"),
        "{report}"
    );
    assert!(
        report.contains("Failed by --max-failure-rate: 2 of 20 step runs failed"),
        "{report}"
    );
    assert!(report.contains("18 passed, 2 failed"), "{report}");
}

#[test]
fn twenty_runs_against_a_server_that_never_fails_keep_the_rate() {
    let output = repeat_twenty(0);
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("Failure rate: 0 of 20 step runs failed (0%; at most 5%)"),
        "{report}"
    );
    assert!(report.contains("20 passed, 0 failed"), "{report}");
}

#[test]
fn one_failure_in_twenty_is_within_a_five_percent_rate_and_passes_the_run() {
    let output = repeat_twenty(20);
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("1 of 20 step runs failed (5%; at most 5%): web::answer 1/20"),
        "{report}"
    );
}

/// The gate table's line for `step`.
fn table_row(report: &str, step: &str) -> String {
    report
        .lines()
        .find(|line| line.trim_start().starts_with(step))
        .unwrap_or_else(|| panic!("no gate row for {step} in:\n{report}"))
        .trim_end()
        .to_owned()
}

/// The ratio column (`2.01x`) of a gate table row.
fn ratio_of(row: &str) -> f64 {
    row.split_whitespace()
        .find_map(|word| word.strip_suffix('x')?.parse().ok())
        .unwrap_or_else(|| panic!("no ratio in {row}"))
}

/// `--for` used to start another pass whenever any time was left, so a run overran its budget
/// by up to a whole pass: `--for 1500ms` of 1 s passes ran two, ending after 2 s.
#[test]
fn a_time_budget_starts_no_pass_that_would_end_past_it() {
    let env = TestEnv::new().suite(
        "slow",
        r#"
name = "slow"
command = "${FAKE}"

[[step]]
name = "one second"
run = "sleep:1"
"#,
    );
    let output = env.run(&["--no-history", "--no-log-dir", "--for", "1500ms"]);
    let report = stdout(&output);
    assert!(output.status.success(), "{report}{}", stderr(&output));
    assert!(report.contains("1 passed, 0 failed"), "{report}");
}
