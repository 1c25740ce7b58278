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

/// The golden file's text.
fn golden(env: &TestEnv) -> String {
    std::fs::read_to_string(env.path().join("suites/expected/help.txt")).unwrap()
}

/// The failure message of the TAP report's first failing step.
fn tap_message(output: &std::process::Output, env: &TestEnv) -> String {
    let tap = normalize_report(&stdout(output), env);
    tap.lines()
        .find(|line| line.starts_with("  message: "))
        .unwrap_or_else(|| panic!("no failure in:\n{tap}"))
        .to_owned()
}

#[test]
fn bless_rewrites_only_the_changed_lines_keeping_placeholders_and_the_next_run_passes() {
    let env = TestEnv::new()
        .suite("help", &SUITE.replace("out:  init", "out:  setup"))
        .file("suites/expected/help.txt", EXPECTED);
    let args = ["--no-history", "--no-log-dir", "--format", "tap", "--bless"];
    let output = env.run(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        tap_message(&output, &env),
        r#"  message: "stdout differs from expected/help.txt (--bless rewrote it):\n--- expected/help.txt\n+++ actual output\n Usage: tool [..]\n \n Commands:\n-  init\n+  setup\n ...\n Version [..]\n [TEST_DIR]""#
    );
    assert_eq!(
        golden(&env),
        "Usage: tool [..]\n\nCommands:\n  setup\n...\nVersion [..]\n[TEST_DIR]\n"
    );
    let again = env.run(&["--no-history", "--no-log-dir"]);
    assert!(again.status.success(), "{}", stdout(&again));
}

#[test]
fn smoke_bless_creates_a_missing_file_with_secrets_masked() {
    let env = TestEnv::new()
        .suite(
            "help",
            &SUITE.replace("\"cwd\"]", "\"cwd\", \"out:token=${HELP_TOKEN}\"]"),
        )
        .file("keys.env", "HELP_TOKEN=tok-0123456789abcdef\n");
    std::fs::set_permissions(
        env.path().join("keys.env"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let output = env
        .command()
        .env("SMOKE_BLESS", "1")
        .args([
            "--env-file",
            "keys.env",
            "--no-history",
            "--no-log-dir",
            "--format",
            "tap",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        tap_message(&output, &env),
        r#"  message: "stdout.equals_file expected/help.txt (--bless created it)""#
    );
    assert_eq!(
        golden(&env),
        "Usage: tool [OPTIONS]\n\nCommands:\n  init\n  start\n  stop\nVersion 1.4.2\n[TEST_DIR]\ntoken=[redacted:HELP_TOKEN]\n"
    );
}

#[test]
fn bless_never_writes_through_a_link_out_of_the_suite_folder() {
    let env = TestEnv::new()
        .suite("help", &SUITE.replace("out:  init", "out:  setup"))
        .file("elsewhere/help.txt", EXPECTED);
    std::os::unix::fs::symlink(
        env.path().join("elsewhere"),
        env.path().join("suites/expected"),
    )
    .unwrap();
    let output = env.run(&["--no-history", "--no-log-dir", "--format", "tap", "--bless"]);
    assert_eq!(output.status.code(), Some(1));
    let message = tap_message(&output, &env);
    assert!(
        message.starts_with(
            r#"  message: "stdout differs from expected/help.txt (--bless could not write it: "#
        ),
        "{message}"
    );
    let outside = std::fs::read_to_string(env.path().join("elsewhere/help.txt")).unwrap();
    assert_eq!(outside, EXPECTED);
}
