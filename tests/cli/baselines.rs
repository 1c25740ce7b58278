//! Baselines of one git branch or label: runs record the branch their checkout is on (a real
//! repository made by the test) and their `--label`; `--baseline branch:NAME` / `label:NAME`
//! compares only with those runs; `history`, the HTML report, `--json` and `history import`
//! show and keep both.

use std::path::Path;
use std::process::Output;

use crate::support::{TestEnv, stderr, stdout};

/// One step that takes `$DELAY` seconds.
fn timed_env() -> TestEnv {
    TestEnv::new().suite(
        "svc",
        r#"
name = "svc"
timeout = "30s"

[[step]]
name = "answer"
sh = "sleep \"$DELAY\""
"#,
    )
}

/// Runs git in `dir` with a fixed identity and no user or system configuration.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The test's folder as a git repository on `main`, with one commit.
pub(crate) fn make_repository(dir: &Path) {
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(dir.join(".gitignore"), "history.sqlite*\ntmp/\ntarget/\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", "suites"]);
}

/// One run whose step takes `delay_ms`, recorded in `history.sqlite`.
fn run_at(env: &TestEnv, delay_ms: u32, args: &[&str]) -> Output {
    env.command()
        .env_remove("GIT_DIR")
        .env_remove("SMOKE_LABEL")
        .env_remove("SMOKE_BRANCH")
        .env(
            "DELAY",
            format!("{}.{:03}", delay_ms / 1000, delay_ms % 1000),
        )
        .args(["--history", "history.sqlite", "--no-log-dir"])
        .args(args)
        .output()
        .expect("run smoke-runner")
}

/// The gate table's row for `step`.
fn table_row(report: &str, step: &str) -> String {
    report
        .lines()
        .find(|line| line.trim_start().starts_with(step) && line.contains('x'))
        .unwrap_or_else(|| panic!("no row for {step} in:\n{report}"))
        .trim()
        .to_owned()
}

fn history_runs_json(env: &TestEnv, history: &str) -> Vec<serde_json::Value> {
    let output = env.run(&["history", "runs", "--format", "json", "--history", history]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn a_gate_against_branch_main_ignores_slow_runs_from_another_branch() {
    let env = timed_env();
    make_repository(env.path());
    for _ in 0..5 {
        let output = run_at(&env, 50, &[]);
        assert!(output.status.success(), "{}", stdout(&output));
    }
    git(env.path(), &["checkout", "--quiet", "-b", "feature/slow"]);
    for _ in 0..5 {
        let output = run_at(&env, 600, &[]);
        assert!(output.status.success(), "{}", stdout(&output));
    }
    git(env.path(), &["checkout", "--quiet", "main"]);

    // Against main's runs, 300 ms is several times their 50 ms: broken (and, having failed,
    // it is no baseline for the next run). Their median, which one run slowed by a busy
    // machine does not move.
    let gate = ["--gate", "p50 <= 1.5x baseline"];
    let of_main = [&gate[..], &["--baseline", "last:5,branch:main"]].concat();
    let output = run_at(&env, 300, &of_main);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("Gate `p50 <= 1.5x baseline` against baseline last:5,branch:main:"),
        "{report}"
    );
    let row = table_row(&report, "svc::answer");
    assert!(row.ends_with(" BROKEN"), "{row}");

    // Against every branch's runs, the slow ones set the bar: 300 ms keeps it.
    let all = [&gate[..], &["--baseline", "last:5"]].concat();
    let output = run_at(&env, 300, &all);
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    assert!(
        table_row(&report, "svc::answer").ends_with(" ok"),
        "{report}"
    );

    // Each run recorded the branch its checkout was on, newest first.
    let runs = history_runs_json(&env, "history.sqlite");
    let branches: Vec<&str> = runs
        .iter()
        .map(|run| run["git_branch"].as_str().unwrap())
        .collect();
    assert_eq!(
        branches,
        [
            "main",
            "main",
            "feature/slow",
            "feature/slow",
            "feature/slow",
            "feature/slow",
            "feature/slow",
            "main",
            "main",
            "main",
            "main",
            "main"
        ]
    );
    // A detached checkout names no branch, unless told.
    git(env.path(), &["checkout", "--quiet", "--detach", "HEAD"]);
    assert!(run_at(&env, 0, &[]).status.success());
    assert!(
        run_at(&env, 0, &["--branch", "release/2.1"])
            .status
            .success()
    );
    let runs = history_runs_json(&env, "history.sqlite");
    assert_eq!(runs[0]["git_branch"], "release/2.1");
    assert_eq!(runs[1]["git_branch"], serde_json::Value::Null);
}

#[test]
fn labels_are_recorded_shown_exported_imported_and_pick_the_baseline() {
    let env = timed_env();
    for _ in 0..5 {
        let output = run_at(&env, 40, &["--label", "staging"]);
        assert!(output.status.success(), "{}", stdout(&output));
    }
    for n in 0..5 {
        let output = env
            .command()
            .env("SMOKE_LABEL", "prod-eu")
            .env("DELAY", "0.5")
            .args(["--history", "history.sqlite", "--no-log-dir"])
            .args(if n == 4 {
                &["--json", "prod.jsonl"][..]
            } else {
                &[][..]
            })
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stdout(&output));
    }

    // 250 ms: fine next to every run (prod's are slower), broken next to staging's (the run
    // before has no label, so it is none of staging's).
    let output = run_at(&env, 250, &["--gate", "p95 <= 1.5x baseline"]);
    assert!(output.status.success(), "{}", stdout(&output));
    let output = run_at(
        &env,
        250,
        &[
            "--label",
            "staging",
            "--gate",
            "p50 <= 1.5x baseline",
            "--baseline",
            "label:staging",
        ],
    );
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("against baseline last:20,label:staging:"),
        "{report}"
    );

    // `history runs` and `history step` list the label; the HTML report shows it.
    let text = stdout(&env.run(&["history", "runs", "--history", "history.sqlite"]));
    let header = text.lines().next().unwrap();
    assert!(
        header.contains(" branch ") && header.contains(" label "),
        "{text}"
    );
    let labels: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            columns[columns.len() - 2]
        })
        .collect();
    assert_eq!(
        labels[..7],
        [
            "staging", "-", "prod-eu", "prod-eu", "prod-eu", "prod-eu", "prod-eu"
        ],
        "{text}"
    );
    let step = stdout(&env.run(&["history", "step", "answer", "--history", "history.sqlite"]));
    assert!(step.lines().nth(1).unwrap().contains(" label "), "{step}");
    assert_eq!(step.matches(" prod-eu ").count(), 5, "{step}");
    let output = env.run(&[
        "report",
        "--html",
        "report.html",
        "--history",
        "history.sqlite",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let html = std::fs::read_to_string(env.path().join("report.html")).unwrap();
    assert!(html.contains(", label <code>staging</code>"), "{html}");
    assert!(html.contains("<td class=\"mono\">prod-eu</td>"), "{html}");

    // `--json` says it in `run_started`, and `history import` keeps it.
    let events = std::fs::read_to_string(env.path().join("prod.jsonl")).unwrap();
    let start: serde_json::Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    assert_eq!(start["event"], "run_started");
    assert_eq!(start["label"], "prod-eu");
    let output = env.run(&[
        "history",
        "import",
        "prod.jsonl",
        "--history",
        "imported.sqlite",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let runs = history_runs_json(&env, "imported.sqlite");
    assert_eq!(runs[0]["label"], "prod-eu", "{runs:?}");
}

#[test]
fn bad_labels_branches_and_baselines_are_usage_errors_with_an_example() {
    let env = timed_env();
    for (args, says) in [
        (
            &["--label", "prod eu"][..],
            "error: invalid value 'prod eu' for '--label <NAME>': `prod eu` is not a run label: it holds ` `; a label is 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or a digit (for example staging or prod-eu)",
        ),
        (
            &["--branch", "a..b"][..],
            "`a..b` is not a branch name git accepts",
        ),
        (
            &[
                "--baseline",
                "last:20;branch:main",
                "--gate",
                "p95 <= 2x baseline",
            ][..],
            "error: invalid value 'last:20;branch:main' for '--baseline <last:K,branch:NAME,label:NAME>': `last:20;branch:main`: `20;branch:main` is not a K from 1 to 100; a baseline is `last:K` (1 <= K <= 100), `branch:NAME` and `label:NAME`, one or more joined by commas (for example last:20, last:20,branch:main or label:staging)",
        ),
        (&["--baseline", "tag:v1"][..], "unknown part `tag:`"),
    ] {
        let output = run_at(&env, 0, args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let output = env
        .command()
        .env("SMOKE_LABEL", "x".repeat(65))
        .env("DELAY", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("error: SMOKE_LABEL: `xxxxxxxx"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("it has 65 characters"),
        "{}",
        stderr(&output)
    );
    // Unset and empty alike mean no label.
    let output = env
        .command()
        .env("SMOKE_LABEL", "")
        .env("DELAY", "0")
        .args(["--json", "events.jsonl", "--no-history"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let events = std::fs::read_to_string(env.path().join("events.jsonl")).unwrap();
    let start: serde_json::Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    assert_eq!(start["label"], serde_json::Value::Null, "{start}");
}
