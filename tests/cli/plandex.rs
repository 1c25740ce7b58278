//! The Plandex suites (`suites/plandex_*.toml`) against the offline stand-in: green when it
//! behaves, red when one of its subcommands is broken on purpose (`PLANDEX_STANDIN_BREAK`), a
//! hanging step stopped at its deadline, and skipped with the reason without any `plandex`.

use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::{TestEnv, plandex_standin, repo_root, stderr, stdout};

const SMOKE: &str = "plandex_smoke";
const DELETION: &str = "plandex_plan_deletion";
const CUSTOM_MODELS: &str = "plandex_custom_models";

/// A value no output may contain.
const SECRET_KEY: &str = "sk-or-test-9f8e7d6c5b4a";

/// Runs one of the repository's Plandex suites against the stand-in, with `extra` env vars.
fn run_suite(suite: &str, extra: &[(&str, &str)]) -> (Output, Duration) {
    let mut env = TestEnv::new()
        .env("PLANDEX_CMD", &plandex_standin().display().to_string())
        .env("OPENROUTER_API_KEY", SECRET_KEY);
    for (key, value) in extra {
        env = env.env(key, value);
    }
    let suite_file = repo_root().join("suites").join(format!("{suite}.toml"));
    let fixtures = repo_root().join("fixtures");
    let started = Instant::now();
    let output = env.run(&[
        "--suites",
        suite_file.to_str().unwrap(),
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--color",
        "never",
    ]);
    (output, started.elapsed())
}

/// Asserts the run failed at `step` (a `✗` line), and nothing printed the key.
fn assert_failed_at(output: &Output, step: &str) {
    let report = stdout(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{report}\n{}",
        stderr(output)
    );
    assert!(
        report.contains(&format!("✗ {step}")),
        "expected `{step}` to fail:\n{report}"
    );
    assert!(!report.contains(SECRET_KEY) && !stderr(output).contains(SECRET_KEY));
}

/// Asserts every step passed and nothing printed the key.
fn assert_green(output: &Output, steps: usize) {
    let report = stdout(output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{report}\n{}",
        stderr(output)
    );
    assert!(
        report.contains(&format!("{steps} passed, 0 failed, 0 skipped")),
        "{report}"
    );
    assert!(!report.contains(SECRET_KEY) && !stderr(output).contains(SECRET_KEY));
}

#[test]
fn smoke_suite_passes_against_the_standin() {
    let (output, _) = run_suite(SMOKE, &[]);
    assert_green(&output, 45);
}

#[test]
fn plan_deletion_suite_passes_against_the_standin() {
    let (output, _) = run_suite(DELETION, &[]);
    assert_green(&output, 18);
}

#[test]
fn custom_models_suite_passes_against_the_standin() {
    let (output, _) = run_suite(CUSTOM_MODELS, &[]);
    assert_green(&output, 8);
}

#[test]
fn smoke_suite_fails_when_apply_changes_nothing() {
    // `apply` exits 0 but writes nothing: only the check on main.go can notice.
    let (output, _) = run_suite(SMOKE, &[("PLANDEX_STANDIN_BREAK", "apply=noop")]);
    assert_failed_at(&output, "main.go changed");
}

#[test]
fn smoke_suite_fails_when_diff_fails() {
    let (output, _) = run_suite(SMOKE, &[("PLANDEX_STANDIN_BREAK", "diff=fail")]);
    assert_failed_at(&output, "Check diff");
}

#[test]
fn plan_deletion_suite_fails_when_dp_deletes_nothing() {
    // `dp` exits 0 but deletes nothing: the plan count catches it.
    let (output, _) = run_suite(DELETION, &[("PLANDEX_STANDIN_BREAK", "dp=noop")]);
    assert_failed_at(&output, "The three prefixed plans are gone");
    assert!(
        stdout(&output).contains("Two plans remain"),
        "later steps are listed"
    );
}

#[test]
fn custom_models_suite_fails_when_set_model_does_nothing() {
    let (output, _) = run_suite(
        CUSTOM_MODELS,
        &[("PLANDEX_STANDIN_BREAK", "set-model=noop")],
    );
    assert_failed_at(&output, "The plan uses the custom pack");
}

#[test]
fn custom_models_suite_fails_when_the_import_fails() {
    let (output, _) = run_suite(CUSTOM_MODELS, &[("PLANDEX_STANDIN_BREAK", "models=fail")]);
    assert_failed_at(&output, "Show current models");
}

#[test]
fn hanging_ai_step_times_out_at_plandex_timeout() {
    let (output, took) = run_suite(
        SMOKE,
        &[
            ("PLANDEX_STANDIN_BREAK", "tell=hang"),
            ("PLANDEX_TIMEOUT", "1"),
        ],
    );
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("⏱ Execute tell command timed out after 1s"),
        "{report}"
    );
    // 1 s timeout + 5 s kill grace at most; generous for a loaded machine.
    assert!(took < Duration::from_secs(40), "took {took:?}");
    assert!(report.contains("Failed: 1\nTimeouts: 1"), "{report}");
}

#[test]
fn suites_are_skipped_with_the_reason_without_plandex() {
    let suites = repo_root().join("suites");
    let output = TestEnv::new()
        .env("PLANDEX_CMD", "plandex-not-installed-here")
        .run(&[
            "--suites",
            suites.join("plandex_smoke.toml").to_str().unwrap(),
            "--suites",
            suites.join("plandex_plan_deletion.toml").to_str().unwrap(),
            "--suites",
            suites.join("plandex_custom_models.toml").to_str().unwrap(),
            "--color",
            "never",
        ]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("0 passed, 0 failed, 71 skipped"),
        "{report}"
    );
    assert!(
        report.contains("(skipped: requires `plandex-not-installed-here`, not found on PATH)"),
        "{report}"
    );
}

#[test]
fn list_names_every_step_by_suite_section_and_step() {
    let output = TestEnv::new().run(&[
        "--suites",
        repo_root().join("suites").to_str().unwrap(),
        "--list",
    ]);
    let list = stdout(&output);
    for name in [
        "plandex_smoke::setup::create_a_go_project: test",
        "plandex_smoke::multiple_plans::current_plan_is_smoke_test_plan: test",
        "plandex_plan_deletion::delete_by_range::delete_plans_1_to_3: test",
        "plandex_custom_models::api_key::tell_fails_without_the_api_key: test",
    ] {
        assert!(list.contains(name), "{name} missing from:\n{list}");
    }
    let plandex_steps = list.lines().filter(|l| l.starts_with("plandex_")).count();
    assert_eq!(plandex_steps, 71, "{list}");
}

/// The stand-in itself: errors where the real command errors, and keys never printed.
mod standin {
    use super::*;

    fn standin(dir: &std::path::Path, args: &[&str], key: Option<&str>) -> Output {
        let mut command = std::process::Command::new(plandex_standin());
        command
            .args(args)
            .current_dir(dir)
            .env_remove("PLANDEX_STANDIN_BREAK")
            .env_remove("PLANDEX_STANDIN_HOME")
            .env_remove("OPENAI_API_KEY")
            .stdin(std::process::Stdio::null());
        match key {
            Some(key) => command.env("OPENROUTER_API_KEY", key),
            None => command.env_remove("OPENROUTER_API_KEY"),
        };
        command.output().expect("run the stand-in")
    }

    #[test]
    fn unknown_plan_missing_key_and_nothing_to_apply_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let run = |args: &[&str], key| standin(dir, args, key);
        assert!(!run(&["current"], None).status.success(), "no plan yet");
        assert!(run(&["new", "-n", "p1"], None).status.success());
        let cd = run(&["cd", "nope"], None);
        assert!(!cd.status.success());
        assert!(
            stderr(&cd).contains("no plan named `nope`"),
            "{}",
            stderr(&cd)
        );
        let tell = run(&["tell", "add hello"], None);
        assert!(!tell.status.success());
        assert!(stderr(&tell).contains("OPENROUTER_API_KEY is not set"));
        let apply = run(&["apply"], None);
        assert!(stderr(&apply).contains("no pending changes to apply"));
        let tell = run(&["tell", "add hello"], Some(SECRET_KEY));
        assert!(tell.status.success(), "{}", stderr(&tell));
        assert!(!stdout(&tell).contains(SECRET_KEY) && !stderr(&tell).contains(SECRET_KEY));
        let dp = run(&["dp", "p1"], None);
        assert!(!dp.status.success(), "no `y` on stdin: nothing deleted");
        assert!(stdout(&run(&["plans"], None)).contains("p1"));
    }
}
