//! Filters on sequential suites: the selected steps are the tests, the earlier steps of their
//! suite run first as setup (shown, not counted), so a step filtered alone sees its state.

use crate::support::{TestEnv, normalize_report, stdout};

const STATEFUL: &str = r#"
name = "state"

[[step]]
name = "Make a file"
sh = "echo one > state.txt"

[[step]]
name = "Count"
sh = "wc -l < state.txt"
capture = "LINES"

[[step]]
name = "Append"
sh = "echo two >> state.txt"

[[step]]
name = "File has both lines"
sh = "cat state.txt"
stdout.equals = "one\ntwo"

[[step]]
name = "Captured count reached here"
sh = "test ${LINES} -eq 1"

[[step]]
name = "Clean up"
sh = "rm state.txt"
always = true
"#;

#[test]
fn exact_step_runs_after_its_suites_earlier_steps_shown_as_setup() {
    let env = TestEnv::new().suite("state", STATEFUL);
    let output = env.run(&["--exact", "state::file_has_both_lines"]);
    let report = normalize_report(&stdout(&output), &env);
    let body = report
        .split_once("→ Test dir: ")
        .and_then(|(_, rest)| rest.split_once('\n'))
        .map(|(_, rest)| rest)
        .unwrap_or(&report);
    assert!(
        body.starts_with(
            "→ Setting up (timeout [TIME]): echo one > state.txt\n\
             ✓ setup: Make a file\n\
             → Setting up (timeout [TIME]): wc -l < state.txt\n\
             ✓ setup: Count\n\
             → Setting up (timeout [TIME]): echo two >> state.txt\n\
             ✓ setup: Append\n\
             → Running (timeout [TIME]): cat state.txt\n\
             ✓ File has both lines\n\
             → Setting up (timeout [TIME]): rm state.txt\n\
             ✓ setup: Clean up\n"
        ),
        "{report}"
    );
    assert!(report.contains("Total tests: 1\nPassed: 1\n"), "{report}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn several_filters_select_the_union_and_captures_survive_setup() {
    let env = TestEnv::new().suite("state", STATEFUL);
    let output = env.run(&["captured", "make_a"]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(report.contains("✓ Make a file\n"), "{report}");
    assert!(report.contains("✓ setup: Count\n"), "{report}");
    assert!(
        report.contains("✓ Captured count reached here\n"),
        "{report}"
    );
    assert!(report.contains("Total tests: 2\nPassed: 2\n"), "{report}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_failing_setup_step_fails_the_selected_step_naming_it() {
    let env = TestEnv::new().suite(
        "broken",
        r#"
on_failure = "continue"

[[step]]
name = "Prepare"
sh = "exit 4"

[[step]]
name = "Use it"
sh = "true"
"#,
    );
    let output = env.run(&["--exact", "broken::use_it"]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(report.contains("✗ setup: Prepare\n"), "{report}");
    assert!(report.contains("✗ Use it\n"), "{report}");
    assert!(
        report.contains("setup step `Prepare` (broken::prepare) failed"),
        "{report}"
    );
    assert!(
        report.contains("Total tests: 1\nPassed: 0\nFailed: 1\n"),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn setup_steps_are_shown_but_not_counted_in_libtest_json() {
    let env = TestEnv::new().suite("state", STATEFUL);
    let output = env.run(&["--format", "json", "--exact", "state::append"]);
    let out = stdout(&output);
    assert!(
        out.contains("\"name\": \"state::append\", \"event\": \"ok\""),
        "{out}"
    );
    assert!(out.contains("\"passed\": 1, \"failed\": 0"), "{out}");
    assert!(
        !out.contains("\"name\": \"state::count\", \"event\": \"ok\""),
        "{out}"
    );
    assert_eq!(output.status.code(), Some(0));
}

/// The `re-run:` line a failure prints is a command that reproduces exactly that failure.
#[test]
fn the_printed_rerun_command_reproduces_the_failure_alone() {
    let env = TestEnv::new().suite(
        "flow",
        r#"
[[step]]
name = "Write"
sh = "echo 41 > n"

[[step]]
name = "Check"
sh = "test $(cat n) -eq 42"
"#,
    );
    let output = env.run(&[]);
    let report = stdout(&output);
    let rerun = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("re-run:"))
        .expect("a re-run line")
        .trim();
    assert_eq!(
        rerun,
        "smoke-runner --suites suites/flow.toml --exact flow::check"
    );
    let args: Vec<String> = shell_words::split(rerun).unwrap();
    let args: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let again = env.run(&args);
    let report = normalize_report(&stdout(&again), &env);
    assert!(report.contains("✓ setup: Write\n"), "{report}");
    assert!(report.contains("✗ Check\n"), "{report}");
    assert!(
        report.contains("Total tests: 1\nPassed: 0\nFailed: 1\n"),
        "{report}"
    );
    assert_eq!(again.status.code(), Some(1));
}
