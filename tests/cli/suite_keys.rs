//! Suite keys that change how steps run: `shell`, `capture`, `note`, default names, and
//! `exclusive` suites.

use crate::support::{TestEnv, normalize_report, stdout};

#[test]
fn sh_steps_fail_on_a_failing_command_in_a_list_or_a_pipeline() {
    let env = TestEnv::new().suite(
        "strict",
        r#"
on_failure = "continue"

[[step]]
name = "list"
sh = "false; echo x"

[[step]]
name = "pipeline"
sh = "false | wc -l"

[[step]]
name = "unset variable is allowed"
sh = "echo \"[$UNSET_IN_TEST]\""
stdout.equals = "[]"

[[step]]
name = "errexit is on"
sh = "echo \"$0 $-\""
stdout.matches = "^bash [a-zA-Z]*e"
"#,
    );
    let output = env.run(&[]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(report.contains("✗ list\n"), "{report}");
    assert!(report.contains("✗ pipeline\n"), "{report}");
    assert!(report.contains("✓ unset variable is allowed"), "{report}");
    assert!(report.contains("✓ errexit is on"), "{report}");
    assert!(report.contains("Passed: 2\nFailed: 2\n"), "{report}");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn shell_bash_restores_plain_bash_c_at_suite_or_step_level() {
    let env = TestEnv::new()
        .suite(
            "suite_level",
            r#"
shell = "bash"

[[step]]
name = "list"
sh = "false; echo x"
stdout.equals = "x"

[[step]]
name = "pipeline"
sh = "false | wc -l"
stdout.equals = "0"
"#,
        )
        .suite(
            "step_level",
            r#"
[[step]]
name = "plain"
shell = "bash"
sh = "false; echo x"

[[step]]
name = "python"
shell = "python3 -c"
sh = "import sys; print(sys.argv[0])"
stdout.equals = "-c"
"#,
        );
    let output = env.run(&["-j", "1"]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(report.contains("Passed: 4\nFailed: 0\n"), "{report}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn captured_values_and_notes_reach_later_steps_and_the_report() {
    let env = TestEnv::new().suite(
        "plans",
        r#"
[[step]]
note = "Counting plans before and after"

[[step]]
section = "Plans"
name = "Count plans"
sh = 'printf "  3\n\n"'
capture = "BEFORE"

[[step]]
section = "Plans"
sh = "echo $(( ${BEFORE} - 1 ))"
capture = "AFTER"
note = "There were ${BEFORE} plans"

[[step]]
section = "Testing Plans again"
name = "Compare"
sh = "test ${AFTER} -lt ${BEFORE}"

[[step]]
note = "Done: ${AFTER} left"
"#,
    );
    let output = env.run(&[]);
    let report = normalize_report(&stdout(&output), &env);
    let body = report
        .split_once("=== Suite plans ===\n")
        .map(|(_, rest)| rest)
        .unwrap_or(&report);
    assert!(
        body.starts_with(
            "→ Test dir: [SCRATCH]/tmp/plandex-plans-[PID]-[RAND]\n\
             \n\
             === Testing Plans ===\n\
             ℹ Counting plans before and after\n\
             → Running (timeout [TIME]): printf \"  3\\n\\n\"\n\
             ✓ Count plans\n\
             ℹ There were 3 plans\n\
             → Running (timeout [TIME]): echo $(( 3 - 1 ))\n\
             ✓ echo $(( ${BEFORE} - 1 ))\n\
             \n\
             === Testing Plans again ===\n\
             → Running (timeout [TIME]): test 2 -lt 3\n\
             ✓ Compare\n\
             ℹ Done: 2 left\n"
        ),
        "{report}"
    );
    assert!(report.contains("Passed: 3\nFailed: 0\n"), "{report}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_failed_capture_leaves_the_variable_unset_for_later_steps() {
    let env = TestEnv::new().suite(
        "capture",
        r#"
on_failure = "continue"

[[step]]
name = "fails"
sh = "echo value; exit 3"
capture = "VALUE"

[[step]]
name = "uses it"
sh = "echo ${VALUE}"
"#,
    );
    let output = env.run(&[]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(report.contains("✗ uses it"), "{report}");
    assert!(report.contains("VALUE"), "{report}");
    assert!(report.contains("Passed: 0\nFailed: 2\n"), "{report}");
}

/// Three suites on two jobs: `a` and `b` share a resource, `c` does not. `a` waits for `c` to
/// have started (so `c` ran beside it), and `a` and `b` each hold a lock dir that the other
/// would fail to create if they overlapped.
#[test]
fn exclusive_suites_never_overlap_while_others_run_beside_them() {
    let locked = r#"
exclusive = "account"

[[step]]
name = "hold the account"
sh = """
mkdir "$SCRATCH/account.lock"
NAME
sleep 0.3
rmdir "$SCRATCH/account.lock"
"""
timeout = "90s"
"#;
    let env = TestEnv::new();
    let scratch = env.path().display().to_string();
    let env = env
        .env("SCRATCH", &scratch)
        .suite(
            "a",
            &locked.replace(
                "NAME",
                "for _ in $(seq 600); do [ -e \"$SCRATCH/c.started\" ] && break; sleep 0.1; done\n\
                 [ -e \"$SCRATCH/c.started\" ]",
            ),
        )
        .suite("b", &locked.replace("NAME", "true"))
        .suite(
            "c",
            "[[step]]\nname = \"beside\"\nsh = 'touch \"$SCRATCH/c.started\"'\n",
        );
    let output = env.run(&["-j", "2"]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(report.contains("Passed: 3\nFailed: 0\n"), "{report}");
    assert_eq!(output.status.code(), Some(0));
}

/// Two runs started together (as nextest's processes are) keep `exclusive` suites apart too:
/// each holds a lock dir the other would fail to create if they overlapped.
#[test]
fn exclusive_suites_never_overlap_across_processes() {
    let env = TestEnv::new();
    let scratch = env.path().display().to_string();
    let env = env.env("SCRATCH", &scratch).suite(
        "holder",
        r#"
exclusive = "shared account"

[[step]]
name = "hold the account"
sh = """
mkdir "$SCRATCH/account.lock"
touch "$SCRATCH/held.$$"
sleep 1
rmdir "$SCRATCH/account.lock"
"""
timeout = "90s"
"#,
    );
    let outputs: Vec<std::process::Output> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2).map(|_| scope.spawn(|| env.run(&[]))).collect();
        runs.into_iter()
            .map(|run| run.join().expect("a run thread"))
            .collect()
    });
    for output in outputs {
        let report = normalize_report(&stdout(&output), &env);
        assert!(report.contains("Passed: 1\nFailed: 0\n"), "{report}");
        assert_eq!(output.status.code(), Some(0));
    }
    let held = std::fs::read_dir(env.path())
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|entry| entry.file_name().to_string_lossy().starts_with("held."))
        })
        .count();
    assert_eq!(held, 2, "both runs held the account, one after the other");
}

/// A value captured from a secret (here named with `--redact`) is masked wherever the report
/// shows it, like the secret itself.
#[test]
fn a_captured_secret_is_masked_in_notes_and_command_lines() {
    let env = TestEnv::new()
        .env("DEPLOY_API_TOKEN", "tok-4f9a8b7c6d5e")
        .suite(
            "secrets",
            r#"
[[step]]
name = "Read the token"
sh = "echo \"$DEPLOY_API_TOKEN\""
capture = "TOKEN"

[[step]]
name = "Use it"
note = "token is ${TOKEN}"
sh = "test -n '${TOKEN}'"
"#,
        );
    let output = env.run(&["--redact", "DEPLOY_API_TOKEN"]);
    let report = stdout(&output);
    assert!(!report.contains("tok-4f9a8b7c6d5e"), "{report}");
    assert!(
        report.contains("ℹ token is [redacted:DEPLOY_API_TOKEN]"),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(0));
}

/// `sh` lines are bash: its own expansions ran only when written `$${…}`, and were load
/// errors otherwise.
#[test]
fn sh_lines_take_bash_expansions_as_written() {
    let env = TestEnv::new().suite(
        "bash",
        r#"
[env]
KEY = "abcdef"
P = "/srv/app/bin"

[[step]]
name = "capture"
sh = "echo captured-value"
capture = "C"

[[step]]
name = "expansions"
sh = 'arr=(x y); echo ${KEY:0:3} ${#KEY} ${P%/*} ${arr[@]} ${#arr[@]} ${C#captured-} ${KEY}'
stdout.equals = "abc 6 /srv/app x y 2 value abcdef\n"

[[step]]
name = "the old escape still means the same"
sh = 'echo $${KEY:0:2}'
stdout.equals = "ab\n"
"#,
    );
    let output = env.run(&[]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(report.contains("Passed: 3\nFailed: 0\n"), "{report}");
    assert_eq!(output.status.code(), Some(0), "{report}");
}

/// Scripts run from their project's root (`./tool`, `tests/data/…`); steps started in an empty
/// test dir could not find what they used.
#[test]
fn workdir_says_where_steps_start() {
    let env = TestEnv::new()
        .file(
            "project/tool",
            "#!/bin/sh\necho tool ran in \"$(basename \"$PWD\")\"\n",
        )
        .file("project/data/input.txt", "hello\n")
        .suite(
            "rooted",
            r#"
workdir = ".."
on_failure = "continue"

[[step]]
name = "the suite's workdir, relative to the suite file"
sh = "test -d suites && test -f project/tool"

[[step]]
name = "a step's own, relative to the suite's"
workdir = "project"
sh = "sh ./tool && cat data/input.txt"
stdout.equals = "tool ran in project\nhello\n"

[[step]]
name = "the test dir, by its variable"
workdir = "${TEST_DIR}"
sh = "test \"$PWD\" = \"$TEST_DIR\""

[[step]]
name = "a missing folder fails the step"
workdir = "project/nowhere"
sh = "true"
"#,
        );
    let output = env.run(&[]);
    let report = normalize_report(&stdout(&output), &env);
    assert!(report.contains("✓ the suite's workdir"), "{report}");
    assert!(report.contains("✓ a step's own"), "{report}");
    assert!(
        report.contains("✓ the test dir, by its variable"),
        "{report}"
    );
    assert!(
        report.contains("✗ a missing folder fails the step"),
        "{report}"
    );
    assert!(
        report.contains("project/nowhere: No such file or directory"),
        "{report}"
    );
    assert!(report.contains("Passed: 3\nFailed: 1\n"), "{report}");
}
