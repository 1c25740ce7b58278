//! What runs leave on disk stays bounded: step-log folders and history runs beyond the limits
//! are deleted after each run (a few at a time), and `history prune` deletes the rest and gives
//! the history's space back.

use std::path::Path;

use crate::support::{TestEnv, stderr, stdout};

/// A suite of 20 quick steps, each writing a log.
fn twenty_steps() -> TestEnv {
    let mut toml = String::from("name = \"many\"\ncommand = \"echo\"\n");
    for step in 0..20 {
        toml.push_str(&format!(
            "\n[[step]]\nname = \"step {step}\"\nrun = \"step-{step}-output\"\n"
        ));
    }
    TestEnv::new().suite("many", &toml)
}

/// The run folders under the log dir (named like run ids), sorted.
fn log_runs(env: &TestEnv) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(env.path().join("target/smoke-logs")) else {
        return Vec::new();
    };
    let mut runs: Vec<String> = entries
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.starts_with('.'))
        .collect();
    runs.sort();
    runs
}

fn history_runs(env: &TestEnv) -> usize {
    let output = env.run(&["history", "runs", "-n", "1000", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let runs: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    runs.as_array().expect("a list of runs").len()
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn many_runs_keep_at_most_the_configured_logs_and_history_runs() {
    let env = twenty_steps();
    let history = env.path().join("target/smoke-history.sqlite");
    let limits = ["--keep-logs", "3", "--keep-history", "5"];
    let mut size_when_full = 0;
    for run in 1..=30 {
        let output = env.run(&limits);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stderr(&output), "", "no warning");
        let logs = log_runs(&env);
        assert!(logs.len() <= 3, "run {run}: {logs:?}");
        assert_eq!(logs.len(), run.min(3), "run {run}: {logs:?}");
        if run == 8 {
            size_when_full = file_size(&history);
        }
    }
    assert_eq!(history_runs(&env), 5);
    // Runs 9 to 30 replaced runs and grew the file by no more than a few pages.
    let size = file_size(&history);
    assert!(
        size <= size_when_full + 8 * 4096,
        "the history grew from {size_when_full} to {size} bytes while holding 5 runs"
    );
    // The newest run's logs are whole: the suite's log holds every step, its index each.
    let newest = env
        .path()
        .join("target/smoke-logs")
        .join(log_runs(&env).last().unwrap());
    let log = std::fs::read_to_string(newest.join("many.log")).unwrap();
    assert_eq!(log.matches("\n=== step ").count() + 1, 20, "{log}");
    let index = std::fs::read_to_string(newest.join("many.log.index")).unwrap();
    assert_eq!(index.lines().count(), 20, "{index}");
}

#[test]
fn a_backlog_shrinks_a_little_per_run_and_history_prune_deletes_the_rest() {
    let env = twenty_steps();
    let logs = env.path().join("target/smoke-logs");
    for second in 0..10 {
        let old = logs
            .join(format!("20200101-0000{second:02}-1"))
            .join("many");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("01-step-0.log"), "old\n").unwrap();
    }
    std::fs::create_dir_all(logs.join("not-a-run")).unwrap();
    for _ in 0..12 {
        let output = env.run(&["--keep-history", "100"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    // The default keeps 20 runs (and `not-a-run`).
    assert_eq!(log_runs(&env).len(), 21, "{:?}", log_runs(&env));
    // 21 run folders, limit 5: a run deletes two.
    let output = env.run(&["--keep-logs", "5"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(log_runs(&env).len(), 20, "{:?}", log_runs(&env));
    assert_eq!(history_runs(&env), 13);

    let history = env.path().join("target/smoke-history.sqlite");
    let before = file_size(&history);
    let output = env.run(&[
        "history",
        "prune",
        "--keep-logs",
        "5",
        "--keep-history",
        "2",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let said = stdout(&output);
    assert!(
        said.starts_with("→ Step logs (target/smoke-logs): deleted 14 run(s), "),
        "{said}"
    );
    assert!(
        said.contains("→ History (target/smoke-history.sqlite): deleted 11 run(s), kept 2; file "),
        "{said}"
    );
    // Only run folders are deleted; the oldest went first.
    let left = log_runs(&env);
    assert_eq!(left.len(), 6, "{left:?}");
    assert!(left.contains(&"not-a-run".to_owned()), "{left:?}");
    assert!(!left.iter().any(|run| run.starts_with("2020")), "{left:?}");
    assert_eq!(history_runs(&env), 2);
    // The space of 11 runs of 20 steps went back to the file system.
    let after = file_size(&history);
    assert!(
        after < before,
        "the history file went from {before} to {after} bytes"
    );

    // The limits are checked.
    let output = env.run(&["--keep-logs", "0"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let output = env.run(&["--max-log-size", "12X"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`12X` is not a size such as 512M, 2G, 800K or 1048576"),
        "{}",
        stderr(&output)
    );
}
