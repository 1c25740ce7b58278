//! Regression tests, each named after what broke, with one line saying what.

use crate::support::{TestEnv, stderr, stdout};

/// Many quick steps, so that the reader of a pipe leaves long before the writer is done.
fn many_steps() -> TestEnv {
    let steps: String = (1..=300)
        .map(|n| format!("[[step]]\nname = \"step {n}\"\nsh = \"true\"\n\n"))
        .collect();
    TestEnv::new().suite("many", &steps)
}

/// `--list | head -1`: the write after `head` exited must not panic.
#[test]
fn list_into_a_closed_pipe_does_not_panic() {
    let env = many_steps();
    let output = env.bash(r#""$SMOKE_RUNNER" --list | head -1"#);
    assert_eq!(stdout(&output), "many::step_1: test\n");
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

/// `--format pretty | head -1` panicked in libtest-mimic's printer with a backtrace (exit 101).
#[test]
fn libtest_report_into_a_closed_pipe_does_not_panic() {
    let env = many_steps();
    for format in ["pretty", "terse", "json"] {
        let output = env.bash(&format!(
            r#""$SMOKE_RUNNER" --format {format} | head -1; exit "${{PIPESTATUS[0]}}""#
        ));
        let err = stderr(&output);
        assert!(!err.contains("panicked"), "{format}: {err}");
        assert_eq!(err, "", "{format}");
        assert_eq!(
            output.status.code(),
            Some(128 + 13),
            "{format}: as if killed by SIGPIPE"
        );
    }
}

/// The summary never counted leftover processes: the per-step warning appeared, but
/// `Summary::leaked_processes` was not added up from the suites.
#[test]
fn leftover_processes_are_counted_in_the_summary() {
    let env = TestEnv::new().suite(
        "leaky",
        "[[step]]\nname = \"Leaves a sleeper\"\nsh = \"sleep 30 & echo started\"\nstdout.equals = \"started\"\n",
    );
    let output = env.run(&[]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("⚠ killed 1 leftover process after Leaves a sleeper\n"),
        "{report}"
    );
    assert!(
        report.contains("Leftover processes killed: 1\n"),
        "{report}"
    );
}
