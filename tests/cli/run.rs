//! The human report, end to end: suites run as users run them, reports compared as whole text.

use std::time::{Duration, Instant};

use crate::support::{TestEnv, normalize_report, stderr, stdout};

/// A suite using every key of the format, all of its steps passing.
const EVERY_KEY: &str = r#"
name = "Every Key"
description = "Each key of the suite format, once at least"
command = "${FAKE}"
timeout = "20s"
fixtures = ["project"]
env = { SUITE_VAR = "from-suite" }
requires = ["bash"]
on_failure = "continue"

[[step]]
section = "Output"
name = "Run string"
run = "out:hello 'out:two words' err:warn"
stdout.contains = "hello"
stdout.not_contains = ["nope", "never"]
stdout.equals = "hello\ntwo words"
stdout.matches = ["^hel+o", "two\\s+words"]
stderr = { contains = ["warn"], not_contains = "hello", equals = "warn", matches = "^w" }
output = { contains = ["hello", "warn"], not_contains = ["nope"], matches = "(?s)hello.*warn" }

[[step]]
section = "Output"
name = "Run array with stdin and env"
run = ["read-stdin", "env:SUITE_VAR", "env:STEP_VAR", "env:HOME"]
stdin = "piped in\n"
env = { STEP_VAR = "from-step" }
env_remove = ["HOME"]
stdout = { contains = "piped in", equals = "piped in\nSUITE_VAR=from-suite\nSTEP_VAR=from-step\nHOME unset" }
output.equals = "piped in\nSUITE_VAR=from-suite\nSTEP_VAR=from-step\nHOME unset"

[[step]]
section = "Status"
name = "Exact status"
run = "exit:3"
status = 3

[[step]]
section = "Status"
name = "Any failure"
sh = "exit 7"
status = "failure"

[[step]]
section = "Status"
name = "Expected timeout"
sh = "sleep 5"
timeout = "0.3s"
status = "timeout"

[[step]]
section = "Status"
name = "Any status"
run = "exit:42"
status = "any"

[[step]]
section = "Files"
name = "Fixture and written files"
sh = "echo written > made.txt"
files = [
  { path = "seed.txt", exists = true, contains = "seed", not_contains = "weed" },
  { path = "made.txt", contains = ["written"], not_contains = ["unwritten"] },
  { path = "absent.txt", exists = false },
]

[[step]]
section = "Files"
name = "Retried until it passes"
sh = "if [ -e tries ]; then echo second; else touch tries; exit 1; fi"
retry = { attempts = 3, interval = "10ms" }
stdout.contains = "second"

[[step]]
section = "Files"
name = "Not ready yet"
run = "exit:1"
ignore = "waiting for a fix"

[[step]]
section = "Files"
name = "Clean up"
sh = "rm -f made.txt tries"
always = true
"#;

const EVERY_KEY_REPORT: &str = "\
=== smoke-runner started at [DATE] ===
→ Loaded environment from /dev/null
→ Running 10 steps from 1 suite (1 at a time)

=== Suite Every Key ===
→ Test dir: [SCRATCH]/tmp/plandex-every_key-[PID]-[RAND]
→ Requirement met: bash

=== Testing Output ===
→ Running (timeout [TIME]): $FAKE out:hello 'out:two words' err:warn
✓ Run string
→ Running (timeout [TIME]): $FAKE read-stdin env:SUITE_VAR env:STEP_VAR env:HOME
✓ Run array with stdin and env

=== Testing Status ===
→ Running (timeout [TIME]): $FAKE exit:3
✓ Exact status
→ Running (timeout [TIME]): exit 7
✓ Any failure
→ Running (timeout [TIME]): sleep 5
✓ Expected timeout
→ Running (timeout [TIME]): $FAKE exit:42
✓ Any status

=== Testing Files ===
→ Running (timeout [TIME]): echo written > made.txt
✓ Fixture and written files
→ Running (timeout [TIME]): if [ -e tries ]; then echo second; else touch tries; exit 1; fi
→ Retrying (attempt 2, timeout [TIME]): if [ -e tries ]; then echo second; else touch tries; exit 1; fi
✓ Retried until it passes (flaky: passed on attempt 2)
- Not ready yet (ignored: waiting for a fix)
→ Running (timeout [TIME]): rm -f made.txt tries
✓ Clean up

=== Test Summary ===
Total tests: 10
Passed: 8
Flaky: 1 (passed on a retry)
Failed: 0
Timeouts: 0
Skipped: 1
Duration: [TIME]
Finished at [DATE]
8 passed, 1 flaky, 0 failed, 1 skipped
";

fn every_key_env() -> TestEnv {
    TestEnv::new()
        .suite("every_key", EVERY_KEY)
        .file("fixtures/project/seed.txt", "seed data\n")
}

#[test]
fn suite_with_every_key_passes_with_the_whole_report() {
    let env = every_key_env();
    let output = env.run(&["--jobs", "1"]);
    assert_eq!(
        normalize_report(&stdout(&output), &env),
        EVERY_KEY_REPORT,
        "stderr: {}",
        stderr(&output)
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(env.test_dirs(), Vec::<std::path::PathBuf>::new());
}

const FAILING: &str = r#"
name = "failing"
command = "${FAKE}"
on_failure = "continue"

[[step]]
section = "Checks"
name = "passes first"
run = "out:fine"
stdout.equals = "fine"

[[step]]
section = "Checks"
name = "wrong output"
run = "out:actual"
stdout.contains = "expected"

[[step]]
section = "Checks"
name = "wrong status"
run = "err:boom exit:4"

[[step]]
section = "Checks"
name = "missing file"
sh = "true"
files = [{ path = "nowhere.txt", exists = true }]

[[step]]
section = "Checks"
name = "passes after failures"
run = "out:still-running"

[[step]]
section = "Checks"
name = "ignored"
run = "out:x"
ignore = ""
"#;

const FAILING_REPORT: &str = "\
=== smoke-runner started at [DATE] ===
→ Loaded environment from /dev/null
→ Running 6 steps from 1 suite (1 at a time)

=== Suite failing ===
→ Test dir: [SCRATCH]/tmp/plandex-failing-[PID]-[RAND]

=== Testing Checks ===
→ Running (timeout [TIME]): $FAKE out:fine
✓ passes first
→ Running (timeout [TIME]): $FAKE out:actual
✗ wrong output
    command:  $FAKE out:actual
    status:   exit status 0
    duration: [TIME]
    check:    stdout does not contain \"expected\"
    test dir: [SCRATCH]/tmp/plandex-failing-[PID]-[RAND]
    log:      target/smoke-logs/[RUN]/failing.log:6
    output (last 1 line):
      | actual
    re-run:   smoke-runner --suites suites/failing.toml --exact failing::checks::wrong_output
→ Running (timeout [TIME]): $FAKE err:boom exit:4
✗ wrong status
    command:  $FAKE err:boom exit:4
    status:   exit status 4
    duration: [TIME]
    check:    expected exit status 0, got exit status 4
    test dir: [SCRATCH]/tmp/plandex-failing-[PID]-[RAND]
    log:      target/smoke-logs/[RUN]/failing.log:11
    output (last 1 line):
      | boom
    re-run:   smoke-runner --suites suites/failing.toml --exact failing::checks::wrong_status
→ Running (timeout [TIME]): true
✗ missing file
    command:  true
    status:   exit status 0
    duration: [TIME]
    check:    file nowhere.txt does not exist
    test dir: [SCRATCH]/tmp/plandex-failing-[PID]-[RAND]
    log:      target/smoke-logs/[RUN]/failing.log:16
    output:   (none)
    re-run:   smoke-runner --suites suites/failing.toml --exact failing::checks::missing_file
→ Running (timeout [TIME]): $FAKE out:still-running
✓ passes after failures
- ignored (ignored)
→ Kept test dir for inspection: [SCRATCH]/tmp/plandex-failing-[PID]-[RAND]

=== Test Summary ===
Total tests: 6
Passed: 2
Failed: 3
Timeouts: 0
Skipped: 1
Duration: [TIME]
Kept test dir: [SCRATCH]/tmp/plandex-failing-[PID]-[RAND]
Finished at [DATE]
2 passed, 3 failed, 1 skipped
";

#[test]
fn failing_steps_are_marked_counted_and_their_test_dir_kept() {
    let env = TestEnv::new().suite("failing", FAILING);
    let output = env.run(&["--jobs", "1"]);
    let report = stdout(&output);
    assert_eq!(normalize_report(&report, &env), FAILING_REPORT);
    assert_eq!(output.status.code(), Some(1));
    let kept = env.test_dirs();
    assert_eq!(kept.len(), 1, "one kept test dir: {kept:?}");
    assert!(
        report.contains(&format!("Kept test dir: {}", kept[0].display())),
        "the kept dir's path is printed:\n{report}"
    );
}

const TIMING_OUT: &str = r#"
name = "slow"
on_failure = "ON_FAILURE"

[[step]]
name = "sleeps too long"
sh = "sleep 30"
timeout = "1s"

[[step]]
name = "next"
sh = "echo next-ran"

[[step]]
name = "clean up"
sh = "echo cleaned"
always = true
"#;

/// Runs the timing-out suite with `on_failure` and returns the output and the wall time.
fn run_timing_out(on_failure: &str) -> (TestEnv, std::process::Output, Duration) {
    let env = TestEnv::new().suite("slow", &TIMING_OUT.replace("ON_FAILURE", on_failure));
    let started = Instant::now();
    let output = env.run(&[]);
    let took = started.elapsed();
    (env, output, took)
}

#[test]
fn timed_out_step_stops_the_suite_but_always_steps_run() {
    let (env, output, took) = run_timing_out("stop");
    assert!(
        took < Duration::from_secs(3),
        "a 1s timeout took {took:?} in all"
    );
    let report = normalize_report(&stdout(&output), &env);
    let steps: Vec<&str> = report
        .lines()
        .filter(|line| {
            ["✓", "✗", "⏱", "- "]
                .iter()
                .any(|mark| line.starts_with(mark))
        })
        .collect();
    assert_eq!(
        steps,
        [
            "⏱ sleeps too long timed out after [TIME]",
            "- next (skipped: earlier step `sleeps too long` failed)",
            "✓ clean up",
        ],
        "{report}"
    );
    // A timeout is a failure, counted once, everywhere.
    assert!(report.contains("\nFailed: 1\nTimeouts: 1\n"), "{report}");
    assert!(
        report.ends_with("\n1 passed, 1 failed (1 timed out), 1 skipped\n"),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn timed_out_step_with_continue_runs_later_steps() {
    let (env, output, took) = run_timing_out("continue");
    assert!(
        took < Duration::from_secs(3),
        "a 1s timeout took {took:?} in all"
    );
    let report = normalize_report(&stdout(&output), &env);
    assert!(report.contains("\n✓ next\n"), "{report}");
    assert!(report.contains("\n✓ clean up\n"), "{report}");
    assert!(report.contains("\nFailed: 1\nTimeouts: 1\n"), "{report}");
    assert!(
        report.ends_with("\n2 passed, 1 failed (1 timed out), 0 skipped\n"),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn missing_requirement_skips_every_step_with_the_reason() {
    let env = TestEnv::new().suite(
        "needs",
        r#"
requires = ["no-such-program-xyz"]

[[step]]
name = "one"
sh = "echo one"

[[step]]
name = "two"
sh = "echo two"
"#,
    );
    let output = env.run(&[]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(
        report.contains(
            "\n- one (skipped: requires `no-such-program-xyz`, not found on PATH)\n\
             - two (skipped: requires `no-such-program-xyz`, not found on PATH)\n"
        ),
        "{report}"
    );
    assert!(
        report.ends_with("\n0 passed, 0 failed, 2 skipped\n"),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(0));
}

const ENV_PRINTER: &str = r#"
command = "${FAKE}"

[[step]]
name = "prints its env"
run = "env:FROM_FILE env:OVERRIDE"
"#;

#[test]
fn env_file_fills_in_what_the_process_env_does_not_set() {
    let env = TestEnv::new()
        .suite(
            "envs",
            &format!("{ENV_PRINTER}stdout.equals = \"FROM_FILE=1\\nOVERRIDE=process\"\n"),
        )
        .file("keys.env", "FROM_FILE=1\nOVERRIDE=file\n")
        .env("OVERRIDE", "process")
        .env("PLANDEX_ENV_FILE", "keys.env");
    let output = env.run(&[]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(
        report.contains("→ Loaded environment from keys.env\n"),
        "{report}"
    );
    assert!(report.contains("\n✓ prints its env\n"), "{report}");
    assert_eq!(output.status.code(), Some(0), "{report}");
}

#[test]
fn explicit_env_file_that_does_not_exist_is_a_usage_error() {
    let env = TestEnv::new()
        .suite("envs", ENV_PRINTER)
        .env("PLANDEX_ENV_FILE", "missing.env");
    let output = env.run(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: environment file missing.env does not exist (it was set with --env-file or \
         PLANDEX_ENV_FILE; fix the path, or pass --no-env-file)\n"
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn env_file_flag_overrides_plandex_env_file() {
    let env = TestEnv::new()
        .suite(
            "envs",
            &format!("{ENV_PRINTER}stdout.contains = \"FROM_FILE=flag\"\n"),
        )
        .file("flag.env", "FROM_FILE=flag\n")
        .env("PLANDEX_ENV_FILE", "missing.env");
    let output = env.run(&["--env-file", "flag.env"]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(
        report.contains("→ Loaded environment from flag.env\n"),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(0), "{report}");
}

const NO_COMMAND: &str = r#"
[[step]]
name = "runs the configured command"
run = "out:from-step"
"#;

#[test]
fn plandex_cmd_is_the_default_command_with_its_arguments() {
    let env = TestEnv::new().suite(
        "cmd",
        &format!("{NO_COMMAND}stdout.equals = \"via-env\\nfrom-step\"\n"),
    );
    let fake = crate::support::fake_program().display().to_string();
    let env = env.env("PLANDEX_CMD", &format!("{fake} out:via-env"));
    let output = env.run(&[]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(
        report.contains("→ Running (timeout [TIME]): $FAKE out:via-env out:from-step\n"),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(0), "{report}");
}

#[test]
fn cmd_flag_overrides_plandex_cmd_and_is_split_like_a_shell() {
    let env = TestEnv::new()
        .suite(
            "cmd",
            &format!("{NO_COMMAND}stdout.equals = \"via cmd\\nfrom-step\"\n"),
        )
        .env("PLANDEX_CMD", "no-such-program-xyz");
    let fake = crate::support::fake_program().display().to_string();
    let output = env.run(&["--cmd", &format!("{fake} 'out:via cmd'")]);
    let report = normalize_report(&stdout(&output), &env);
    assert_eq!(output.status.code(), Some(0), "{report}");
}

#[test]
fn plandex_timeout_is_the_default_step_timeout() {
    let env = TestEnv::new()
        .suite(
            "slow",
            r#"
[[step]]
name = "sleeps"
sh = "sleep 30"
"#,
        )
        .env("PLANDEX_TIMEOUT", "1");
    let started = Instant::now();
    let output = env.run(&[]);
    let took = started.elapsed();
    let report = stdout(&output);
    assert!(took < Duration::from_secs(3), "took {took:?}:\n{report}");
    assert!(
        report.contains("→ Running (timeout 1s): sleep 30\n"),
        "{report}"
    );
    assert!(report.contains("⏱ sleeps timed out after 1s\n"), "{report}");
    assert_eq!(output.status.code(), Some(1));
}

const ONE_STEP: &str = r#"
[[step]]
name = "passes"
sh = "echo ok"
"#;

#[test]
fn keep_temp_keeps_a_passing_suites_test_dir() {
    let env = TestEnv::new().suite("kept", ONE_STEP);
    let output = env.run(&["--keep-temp"]);
    assert_eq!(output.status.code(), Some(0));
    let kept = env.test_dirs();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let report = stdout(&output);
    assert!(
        report.contains(&format!("Kept test dir: {}\n", kept[0].display())),
        "{report}"
    );
}

#[test]
fn parallel_suites_are_printed_one_after_the_other() {
    // Each suite's first step waits for the other suite's first step to have started: both
    // pass only when the two suites really run at the same time.
    let suite = |letter: &str, other: &str| {
        let mut toml = format!(
            "[[step]]\nname = \"{letter}1\"\nsh = \"touch $SHARED/{letter}; for i in $(seq 100); do test -f $SHARED/{other} && exit 0; sleep 0.05; done; exit 1\"\n\n"
        );
        for n in 2..=4 {
            toml.push_str(&format!(
                "[[step]]\nname = \"{letter}{n}\"\nsh = \"echo {letter}{n}\"\n\n"
            ));
        }
        toml
    };
    let shared = tempfile::tempdir().unwrap();
    let env = TestEnv::new()
        .suite("a", &suite("a", "b"))
        .suite("b", &suite("b", "a"))
        .env("SHARED", &shared.path().display().to_string());
    let output = env.run(&["--jobs", "2"]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("(2 at a time)"), "{report}");
    let mut blocks = report.split("=== Suite ").skip(1);
    for _ in 0..2 {
        let block = blocks.next().expect("a block per suite");
        let letter = &block[..1];
        let other = if letter == "a" { "b" } else { "a" };
        for n in 1..=4 {
            assert!(block.contains(&format!("✓ {letter}{n}\n")), "{report}");
            // Only the step lines: a test dir's random name may contain any letters.
            assert!(!block.contains(&format!("✓ {other}{n}")), "{report}");
        }
    }
}

#[test]
fn no_color_and_color_never_print_no_escape_codes() {
    let env = TestEnv::new().suite("plain", ONE_STEP);
    let forced = env.command().env("CLICOLOR_FORCE", "1").output().unwrap();
    assert!(
        stdout(&forced).contains('\x1b'),
        "CLICOLOR_FORCE colours a pipe"
    );
    let no_color = env
        .command()
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&no_color).contains('\x1b'), "{}", stdout(&no_color));
    let never = env
        .command()
        .env("CLICOLOR_FORCE", "1")
        .args(["--color", "never"])
        .output()
        .unwrap();
    assert!(!stdout(&never).contains('\x1b'), "{}", stdout(&never));
}

#[test]
fn color_always_prints_escape_codes() {
    let env = TestEnv::new().suite("coloured", ONE_STEP);
    let output = env.run(&["--color", "always"]);
    assert!(stdout(&output).contains("\x1b["), "{:?}", stdout(&output));
}

#[test]
fn marker_after_64_mib_of_output_is_found() {
    let env = TestEnv::new().suite(
        "big",
        r#"
command = "${FAKE}"

[[step]]
name = "prints a lot"
run = "print-bytes:64M marker:END"
stdout.contains = "END"
"#,
    );
    let output = env.run(&[]);
    let report = stdout(&output);
    assert!(report.contains("\n✓ prints a lot\n"), "{report}");
    assert_eq!(output.status.code(), Some(0));
}

/// A program is found where a fresh lookup would find it, step after step: one installed
/// mid-run is found, one put in an earlier PATH folder wins over the one found before, and one
/// removed gives way to the next in PATH.
#[test]
fn each_step_starts_the_program_a_fresh_path_lookup_finds() {
    let env = TestEnv::new()
        .file("scripts/second", "#!/bin/sh\necho from second\n")
        .file("scripts/first", "#!/bin/sh\necho from first\n");
    let root = env.path().display().to_string();
    let put = |script: &str, folder: &str| {
        format!(
            "mkdir -p '{root}/{folder}' && cp '{root}/scripts/{script}' '{root}/{folder}/tool' && chmod +x '{root}/{folder}/tool'"
        )
    };
    let suite = format!(
        r#"
name = "moving"
command = ""
timeout = "20s"
on_failure = "continue"
env = {{ PATH = "{root}/first:{root}/second:/usr/bin:/bin" }}

[[step]]
name = "not there yet"
run = ["tool"]

[[step]]
name = "install in the second folder"
sh = "{second}"

[[step]]
name = "found in the second folder"
run = ["tool"]
stdout.equals = "from second"

[[step]]
name = "found there again"
run = ["tool"]
stdout.equals = "from second"

[[step]]
name = "install in the first folder too"
sh = "{first}"

[[step]]
name = "found in the first folder"
run = ["tool"]
stdout.equals = "from first"

[[step]]
name = "removed from the first folder"
sh = "rm '{root}/first/tool'"

[[step]]
name = "found in the second folder once more"
run = ["tool"]
stdout.equals = "from second"
"#,
        second = put("second", "second"),
        first = put("first", "first"),
    );
    let env = env.suite("moving", &suite);
    let output = env.run(&["--no-history", "--no-log-dir"]);
    let report = stdout(&output);
    assert!(report.contains("status:   command not found"), "{report}");
    assert!(
        report.contains("7 passed, 1 failed"),
        "{report}\n{}",
        stderr(&output)
    );
}
