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

/// `--format pretty | head -1` panicked in the libtest printer with a backtrace (exit 101).
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

/// A suite whose second step would run for a minute if nothing stopped it.
fn slow_suite() -> TestEnv {
    TestEnv::new().suite(
        "slow",
        "[[step]]\nname = \"quick\"\nsh = \"true\"\n\n[[step]]\nname = \"slow\"\nsh = \"sleep 60\"\n",
    )
}

/// `--list > /dev/full` and `--format json|pretty|terse > /dev/full` panicked inside the libtest
/// printer; the human report went on running with nowhere to write. Any write error on the report
/// now stops the run: one line on stderr, exit 74, no test dir left, no minute-long wait.
#[test]
fn report_to_a_full_disk_stops_the_run_with_one_error_line() {
    let env = slow_suite();
    for args in [
        "--list",
        "--format json",
        "--format pretty",
        "--format terse",
        "",
    ] {
        let started = std::time::Instant::now();
        let output = env.bash(&format!(r#""$SMOKE_RUNNER" {args} > /dev/full"#));
        let err = stderr(&output);
        assert_eq!(
            err,
            "error: cannot write the report to standard output: No space left on device (os error 28); the run was stopped\n",
            "{args}"
        );
        assert_eq!(output.status.code(), Some(74), "{args}: {err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{args}: the sleeping step was not stopped"
        );
        assert_eq!(env.test_dirs(), Vec::<std::path::PathBuf>::new(), "{args}");
    }
}

/// The human report into a closed pipe went on running every step; it now stops like the
/// libtest formats, quietly, as if killed by SIGPIPE.
#[test]
fn human_report_into_a_closed_pipe_stops_the_run() {
    let env = many_steps();
    let output = env.bash(r#""$SMOKE_RUNNER" | head -1; exit "${PIPESTATUS[0]}""#);
    assert_eq!(stderr(&output), "");
    assert_eq!(output.status.code(), Some(128 + 13));
    assert_eq!(env.test_dirs(), Vec::<std::path::PathBuf>::new());
}
