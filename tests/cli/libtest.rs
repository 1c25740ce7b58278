//! The libtest front end: `--list`, filters, `--format pretty|terse|json`, `-q`, as `cargo test`
//! users expect them.

use crate::support::{TestEnv, normalize_report, stderr, stdout};

const STEPS: &str = r#"
name = "Lib Test"
command = "${FAKE}"

[[step]]
section = "Group One"
name = "First step"
run = "out:one"

[[step]]
section = "Group One"
name = "Second step!"
run = "out:two"

[[step]]
name = "Later"
run = "out:later"
ignore = "not yet"

[[step]]
name = "Broken"
run = "out:bad exit:3"
stdout.contains = "good"

[[step]]
name = "After the break"
run = "out:after"
"#;

fn env() -> TestEnv {
    TestEnv::new().suite("lt", STEPS)
}

/// Runs with one job, so that libtest prints tests in a fixed order.
fn run(env: &TestEnv, args: &[&str]) -> (String, Option<i32>) {
    let output = env.run(&[&["--jobs", "1"], args].concat());
    (
        normalize_report(&stdout(&output), env),
        output.status.code(),
    )
}

#[test]
fn list_prints_slugged_test_names() {
    let env = env();
    let (out, code) = run(&env, &["--list"]);
    assert_eq!(
        out,
        "\
lib_test::group_one::first_step: test
lib_test::group_one::second_step_: test
lib_test::later: test
lib_test::broken: test
lib_test::after_the_break: test
"
    );
    assert_eq!(code, Some(0));
    assert_eq!(env.test_dirs().len(), 0, "--list runs nothing");
}

#[test]
fn filter_runs_matching_steps_and_passing_ends_with_test_result_ok() {
    let (out, code) = run(&env(), &["--format", "pretty", "group_one"]);
    assert_eq!(
        out,
        "
running 2 tests
test lib_test::group_one::first_step   ... ok
test lib_test::group_one::second_step_ ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out; finished in [TIME]

"
    );
    assert_eq!(code, Some(0));
}

#[test]
fn exact_matches_whole_names_only() {
    let env = env();
    let (out, code) = run(&env, &["--list", "--exact", "lib_test::group_one"]);
    assert_eq!(out, "");
    assert_eq!(code, Some(0));
    let (out, _) = run(
        &env,
        &["--list", "--exact", "lib_test::group_one::first_step"],
    );
    assert_eq!(out, "lib_test::group_one::first_step: test\n");
}

#[test]
fn skip_leaves_out_matching_steps() {
    let (out, code) = run(
        &env(),
        &["--format", "pretty", "--skip", "broken", "--skip", "after"],
    );
    assert_eq!(
        out,
        "
running 3 tests
test lib_test::group_one::first_step   ... ok
test lib_test::group_one::second_step_ ... ok
test lib_test::later                   ... ignored

test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 2 filtered out; finished in [TIME]

"
    );
    assert_eq!(code, Some(0));
}

#[test]
fn ignored_runs_only_ignored_steps() {
    let (out, code) = run(&env(), &["--format", "pretty", "--ignored"]);
    assert_eq!(
        out,
        "
running 1 test
setup lib_test::group_one::first_step ... ok
setup lib_test::group_one::second_step_ ... ok
test lib_test::later ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 4 filtered out; finished in [TIME]

"
    );
    assert_eq!(code, Some(0));
}

#[test]
fn include_ignored_runs_ignored_steps_too() {
    let (out, code) = run(
        &env(),
        &[
            "--format",
            "pretty",
            "--include-ignored",
            "--skip",
            "broken",
            "--skip",
            "after",
        ],
    );
    assert!(
        out.contains("test lib_test::later                   ... ok\n"),
        "{out}"
    );
    assert!(
        out.contains("test result: ok. 3 passed; 0 failed; 0 ignored;"),
        "{out}"
    );
    assert_eq!(code, Some(0));
}

#[test]
fn failure_shows_command_status_and_check_and_later_steps_as_ignored() {
    let env = env();
    let output = env.run(&["--jobs", "1", "--format", "pretty"]);
    let out = normalize_report(&stdout(&output), &env);
    assert_eq!(
        out,
        "
running 5 tests
test lib_test::group_one::first_step   ... ok
test lib_test::group_one::second_step_ ... ok
test lib_test::later                   ... ignored
test lib_test::broken                  ... FAILED
test lib_test::after_the_break         ... ignored (skipped: earlier step `Broken` failed)

failures:

---- lib_test::broken stdout ----
command:  $FAKE out:bad exit:3
status:   exit status 3
duration: [TIME]
check:    expected exit status 0, got exit status 3
check:    stdout does not contain \"good\"
test dir: [SCRATCH]/tmp/plandex-lib_test-[PID]-[RAND]
log:      target/smoke-logs/[RUN]/lib_test.log:11
output (last lines):
  | bad
re-run:   smoke-runner --suites suites/lt.toml --exact lib_test::broken


failures:
    lib_test::broken

test result: FAILED. 2 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in [TIME]

"
    );
    assert_eq!(output.status.code(), Some(1));
    let kept = env.test_dirs();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(stderr(&output), "");
}

#[test]
fn terse_and_quiet_print_one_character_per_test() {
    let env = env();
    for args in [&["--format", "terse"][..], &["-q"]] {
        let (out, code) = run(&env, args);
        assert!(
            out.starts_with("\nrunning 5 tests\n..iFi\n"),
            "{args:?}:\n{out}"
        );
        assert!(
            out.contains("test result: FAILED. 2 passed; 1 failed; 2 ignored;"),
            "{args:?}:\n{out}"
        );
        assert_eq!(code, Some(1));
    }
}

#[test]
fn json_prints_one_event_object_per_line() {
    let (out, code) = run(&env(), &["--format", "json"]);
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(
        events[0],
        serde_json::json!({ "type": "suite", "event": "started", "test_count": 5 })
    );
    let finished = |name: &str| {
        events
            .iter()
            .find(|e| e["name"] == name && e["event"] != "started")
            .unwrap_or_else(|| panic!("no result for {name}:\n{out}"))
    };
    let first = finished("lib_test::group_one::first_step");
    assert_eq!(first["event"], "ok");
    assert!(first["exec_time"].is_f64(), "{first}");
    let later = finished("lib_test::later");
    assert_eq!(later["event"], "ignored");
    assert_eq!(later["message"], "not yet");
    let broken = finished("lib_test::broken");
    assert_eq!(broken["event"], "failed");
    let report = broken["stdout"].as_str().unwrap();
    assert!(
        report.starts_with("command:  $FAKE out:bad exit:3\nstatus:   exit status 3\n"),
        "the failure report, not wrapped as an error: {report}"
    );
    assert!(
        report.contains("check:    stdout does not contain \"good\"\n"),
        "{report}"
    );
    assert!(
        report.contains("log:      target/smoke-logs/"),
        "the log's path: {report}"
    );
    assert!(
        report
            .ends_with("re-run:   smoke-runner --suites suites/lt.toml --exact lib_test::broken\n"),
        "the command that re-runs it: {report}"
    );
    assert_eq!(first.get("stdout"), None, "no output without --show-output");
    assert_eq!(
        finished("lib_test::after_the_break")["message"],
        "skipped: earlier step `Broken` failed"
    );
    let last = events.last().expect("a last line");
    assert_eq!(last["type"], "suite");
    assert_eq!(last["event"], "failed");
    assert_eq!(
        (&last["passed"], &last["failed"], &last["ignored"]),
        (&2.into(), &1.into(), &2.into()),
        "{last}"
    );
    assert_eq!(code, Some(1));
}

#[test]
fn show_output_prints_libtests_successes_block_with_passing_steps_output() {
    for flag in ["--show-output", "--nocapture"] {
        let (out, code) = run(
            &env(),
            &[
                "--format", "pretty", flag, "--skip", "broken", "--skip", "after",
            ],
        );
        assert_eq!(
            out,
            "
running 3 tests
test lib_test::group_one::first_step   ... ok
test lib_test::group_one::second_step_ ... ok
test lib_test::later                   ... ignored

successes:

---- lib_test::group_one::first_step stdout ----
one

---- lib_test::group_one::second_step_ stdout ----
two


successes:
    lib_test::group_one::first_step
    lib_test::group_one::second_step_

test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 2 filtered out; finished in [TIME]

",
            "{flag}"
        );
        assert_eq!(code, Some(0));
    }
}

#[test]
fn show_output_in_terse_lists_successes_before_failures() {
    let (out, code) = run(&env(), &["--format", "terse", "--show-output"]);
    let successes =
        out.find("\nsuccesses:\n\n---- lib_test::group_one::first_step stdout ----\none\n");
    let failures = out.find("\nfailures:\n\n---- lib_test::broken stdout ----\n");
    assert!(
        successes.is_some() && failures.is_some() && successes < failures,
        "{out}"
    );
    assert!(out.contains("\nsuccesses:\n    lib_test::group_one::first_step\n    lib_test::group_one::second_step_\n\nfailures:"), "{out}");
    assert_eq!(code, Some(1));
}

#[test]
fn show_output_in_json_puts_passing_output_in_stdout() {
    let (out, _) = run(&env(), &["--format", "json", "--show-output", "group_one"]);
    let ok: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .filter(|event: &serde_json::Value| event["event"] == "ok" && event["type"] == "test")
        .collect();
    assert_eq!(ok.len(), 2, "{out}");
    assert_eq!(ok[0]["stdout"], "one\n", "{out}");
    assert_eq!(ok[1]["stdout"], "two\n", "{out}");
}

#[test]
fn show_output_masks_a_secret_printed_by_a_passing_step() {
    const SECRET: &str = "sk-live-abcdef0123456789";
    let env = TestEnv::new()
        .suite(
            "leak",
            "name = \"Leak\"\ncommand = \"${FAKE}\"\n[[step]]\nname = \"Prints it\"\nrun = \"out:key=${SERVICE_TOKEN} err:${SERVICE_TOKEN}\"\n",
        )
        .file("keys.env", &format!("SERVICE_TOKEN={SECRET}\n"));
    let keys = env.path().join("keys.env");
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    for format in ["pretty", "terse", "json"] {
        let output = env.run(&[
            "--env-file",
            "keys.env",
            "--format",
            format,
            "--show-output",
        ]);
        let out = stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{format}: {out}");
        assert!(!out.contains(SECRET), "{format} shows the secret: {out}");
        assert!(!stderr(&output).contains(SECRET), "{format}");
        assert!(
            out.contains("key=[redacted:SERVICE_TOKEN]"),
            "{format}: the passing step's output, masked: {out}"
        );
    }
}
