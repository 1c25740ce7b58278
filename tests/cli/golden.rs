//! Golden files: `stdout.equals_file`, placeholders, and the unified diff of a mismatch.

use crate::support::{TestEnv, normalize_report, stderr, stdout};

const SUITE: &str = r#"
name = "help"
command = "${FAKE}"

[[step]]
name = "help text"
run = ["out:Usage: tool [OPTIONS]", "out:", "out:Commands:", "out:  init", "out:  start", "out:  stop", "out:Version 1.4.2", "cwd"]
stdout.equals_file = "expected/help.txt"
"#;

const EXPECTED: &str = "Usage: tool [..]\n\nCommands:\n  init\n...\nVersion [..]\n[TEST_DIR]\n";

#[test]
fn output_matching_the_golden_file_with_placeholders_passes() {
    let env = TestEnv::new()
        .suite("help", SUITE)
        .file("suites/expected/help.txt", EXPECTED);
    let output = env.run(&["--no-history"]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
}

#[test]
fn a_changed_output_fails_with_a_unified_diff_naming_the_file() {
    let env = TestEnv::new()
        .suite("help", &SUITE.replace("out:  init", "out:  setup"))
        .file("suites/expected/help.txt", EXPECTED);
    let output = env.run(&["--no-history", "--no-log-dir", "--format", "tap"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let tap = normalize_report(&stdout(&output), &env);
    let message = tap
        .lines()
        .find(|line| line.starts_with("  message: "))
        .expect("a failure message");
    assert_eq!(
        message,
        r#"  message: "stdout differs from expected/help.txt:\n--- expected/help.txt\n+++ actual output\n Usage: tool [..]\n \n Commands:\n-  init\n+  setup\n ...\n Version [..]\n [TEST_DIR]""#
    );
}

#[test]
fn a_missing_golden_file_and_a_path_outside_the_suite_folder_are_errors() {
    let env = TestEnv::new().suite("help", SUITE);
    let output = env.run(&["--no-history", "--no-log-dir", "--format", "tap"]);
    assert_eq!(output.status.code(), Some(1));
    let tap = normalize_report(&stdout(&output), &env);
    assert!(
        tap.contains(r#"  message: "stdout.equals_file expected/help.txt: "#),
        "{tap}"
    );
    let env = TestEnv::new().suite(
        "help",
        &SUITE.replace("expected/help.txt", "../outside.txt"),
    );
    let output = env.run(&["--list"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "\
error: `../outside.txt` is not a path inside the suite's folder
 --> suites/help.toml:8:22
  |
8 | stdout.equals_file = \"../outside.txt\"
  |                      ^^^^^^^^^^^^^^^^
  = help: write a path relative to the suite file's folder, without `..`: `equals_file = \"expected/help.txt\"`
"
    );
}
