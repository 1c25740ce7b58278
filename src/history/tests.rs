//! The store and its queries against real database files.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::backend::Backend;
use super::*;
use crate::report::Hint;

fn step(name: &str, outcome: Outcome, ms: u64) -> StepRecord {
    StepRecord {
        test_name: name.to_owned(),
        file: Some("suites/s.toml".to_owned()),
        line: Some(3),
        outcome,
        status: match outcome {
            Outcome::Skipped => String::new(),
            Outcome::Failed => "exit status 1".to_owned(),
            _ => "exit status 0".to_owned(),
        },
        duration: Duration::from_millis(ms),
        attempts: u32::from(outcome.ran()),
        leftovers: 0,
        log_path: None,
        skip_reason: None,
        checks: match outcome {
            Outcome::Failed => vec![CheckRecord {
                kind: Some("status".into()),
                expected: Some("0".into()),
                actual: Some("1".into()),
                message: "expected exit status 0, got 1".into(),
            }],
            _ => Vec::new(),
        },
        output_tail: "last line\n".to_owned(),
    }
}

fn run(n: u64, steps: Vec<StepRecord>) -> RunRecord {
    let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + n * 60);
    RunRecord {
        run_id: format!("run-{n}"),
        started_at,
        finished_at: started_at + Duration::from_secs(2),
        git_commit: Some("0123abcd".into()),
        git_branch: Some("main".into()),
        label: None,
        host: Some("ci-1".into()),
        shard: None,
        exit_status: i32::from(steps.iter().any(|s| s.outcome.is_fail())),
        interrupted: false,
        suites: vec![SuiteRecord {
            name: "s".into(),
            file: Some("suites/s.toml".into()),
            duration: Duration::from_secs(1),
            kept_test_dir: None,
            setup: Vec::new(),
            steps,
        }],
    }
}

/// Five runs: `s::flip` alternates pass and fail, `s::sleeper` takes longer each time,
/// `s::quick` is steady.
fn five_runs(path: &Path) -> HistoryStore {
    let mut store = HistoryStore::open(path).expect("open");
    for n in 0..5u64 {
        let flip = if n % 2 == 0 {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        store
            .record(&run(
                n,
                vec![
                    step("s::quick", Outcome::Passed, 10),
                    step("s::flip", flip, 20),
                    step("s::sleeper", Outcome::Passed, 100 * (n + 1)),
                ],
            ))
            .expect("record");
    }
    store
}

#[test]
fn a_recorded_run_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(&dir.path().join("h.sqlite")).unwrap();
    let mut original = run(1, vec![step("s::a", Outcome::Failed, 5)]);
    original.suites[0].steps.push(StepRecord {
        skip_reason: Some("skipped: earlier step `a` failed".into()),
        ..step("s::b", Outcome::Skipped, 0)
    });
    store.record(&original).unwrap();
    assert_eq!(store.last_run().unwrap(), Some(original));
    assert_eq!(
        store.last_failed().unwrap(),
        Some(("run-1".to_owned(), vec!["s::a".to_owned()]))
    );
}

#[test]
fn recording_leaves_foreign_keys_on() {
    // Recording turns them off for its own transaction (its rows' parents are its own).
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(&dir.path().join("h.sqlite")).unwrap();
    store
        .record(&run(1, vec![step("s::a", Outcome::Passed, 5)]))
        .unwrap();
    let Backend::Sqlite(conn) = &store.db else {
        panic!("a file history is SQLite");
    };
    let on: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
        .unwrap();
    assert_eq!(on, 1);
    let orphan = conn.execute(
        "INSERT INTO suites (run_id, name, duration_us) VALUES (999, 'x', 0)",
        [],
    );
    let error = orphan
        .expect_err("a suite of no run was accepted")
        .to_string();
    assert!(error.contains("FOREIGN KEY"), "{error}");
}

#[test]
fn flaky_lists_the_alternating_step_with_flip_rate_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = five_runs(&dir.path().join("h.sqlite"));
    let flaky = store.flaky(20).unwrap();
    assert_eq!(flaky.len(), 1, "{flaky:?}");
    assert_eq!(flaky[0].test_name, "s::flip");
    assert_eq!(
        (flaky[0].flips, flaky[0].runs, flaky[0].failures),
        (4, 5, 2)
    );
    assert_eq!(flaky[0].flip_rate, 1.0);
}

#[test]
fn slow_ranks_the_growing_step_first_with_a_rising_trend() {
    let dir = tempfile::tempdir().unwrap();
    let store = five_runs(&dir.path().join("h.sqlite"));
    let slow = store.slow(20).unwrap();
    let names: Vec<&str> = slow.iter().map(|s| s.test_name.as_str()).collect();
    assert_eq!(names, ["s::sleeper", "s::flip", "s::quick"]);
    assert_eq!(slow[0].trend, Trend::Rising);
    assert!((slow[0].median_s - 0.3).abs() < 1e-9);
    assert!((slow[0].p95_s - 0.5).abs() < 1e-9);
    assert_eq!(slow[2].trend, Trend::Steady);
    // Only the last three runs: still rising, median of 300, 400, 500.
    let last3 = store.slow(3).unwrap();
    assert!((last3[0].median_s - 0.4).abs() < 1e-9);
}

#[test]
fn step_history_by_full_or_partial_name() {
    let dir = tempfile::tempdir().unwrap();
    let store = five_runs(&dir.path().join("h.sqlite"));
    let (name, entries) = store.step("sleeper", 20).unwrap();
    assert_eq!(name, "s::sleeper");
    let durations: Vec<f64> = entries.iter().map(|e| e.duration_s).collect();
    assert_eq!(durations, [0.1, 0.2, 0.3, 0.4, 0.5]);
    assert!(matches!(
        store.step("s::", 20),
        Err(queries::StepLookupError::Ambiguous { .. })
    ));
    assert!(matches!(
        store.step("nothing", 20),
        Err(queries::StepLookupError::NotFound(_))
    ));
}

#[test]
fn baselines_give_the_hints() {
    let dir = tempfile::tempdir().unwrap();
    let store = five_runs(&dir.path().join("h.sqlite"));
    let baselines = store
        .baselines(["s::sleeper", "s::flip", "s::quick", "s::unknown"])
        .unwrap();
    assert_eq!(
        baselines.hint("s::sleeper", true, Duration::from_secs(2)),
        Some(Hint::SlowerThanUsual {
            median: Duration::from_millis(300)
        })
    );
    assert_eq!(
        baselines.hint("s::flip", false, Duration::from_millis(20)),
        Some(Hint::KnownFlaky {
            failures: 2,
            runs: 5
        })
    );
    assert_eq!(
        baselines.hint("s::quick", false, Duration::from_millis(20)),
        Some(Hint::NewlyFailing)
    );
}

#[test]
fn the_baselines_are_read_from_an_index_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = five_runs(&dir.path().join("h.sqlite"));
    let conn = store.sqlite().unwrap();
    let plan: Vec<String> = conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN {}",
            super::queries::RECENT_STEPS.sqlite_text()
        ))
        .unwrap()
        .query_map([50], |row| row.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|line| line.contains("steps USING COVERING INDEX steps_by_run_name_result")),
        "{plan:?}"
    );
}

#[test]
fn runs_are_listed_newest_first_with_counts() {
    let dir = tempfile::tempdir().unwrap();
    let store = five_runs(&dir.path().join("h.sqlite"));
    let runs = store.runs(2).unwrap();
    let ids: Vec<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["run-4", "run-3"]);
    assert_eq!((runs[0].passed, runs[0].failed), (3, 0));
    assert_eq!(
        (runs[1].passed, runs[1].failed, runs[1].exit_status),
        (2, 1, 1)
    );
    assert_eq!(runs[0].duration_s, 2.0);
}

#[test]
fn a_garbage_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let garbage = "this is not a database\n".repeat(300);
    std::fs::write(&path, &garbage).unwrap();
    let error = HistoryStore::open(&path).unwrap_err();
    assert!(matches!(error, HistoryError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("move it away"), "{error}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), garbage);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    drop(HistoryStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let error = HistoryStore::open(&path).unwrap_err();
    assert!(
        matches!(error, HistoryError::NewerSchema { .. }),
        "{error:?}"
    );
}

#[test]
fn a_folder_that_cannot_be_made_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let error = HistoryStore::open(&blocker.join("h.sqlite")).unwrap_err();
    assert!(matches!(error, HistoryError::CreateDir { .. }), "{error:?}");
}

#[test]
fn two_writers_at_once_both_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|scope| {
        for writer in 0..2u64 {
            let (path, barrier) = (&path, &barrier);
            scope.spawn(move || {
                barrier.wait();
                // Each writer opens the new file itself: creation and migration race too.
                let mut store = HistoryStore::open(path).expect("open");
                for n in 0..20 {
                    let mut record = run(n, vec![step("s::a", Outcome::Passed, 1)]);
                    record.run_id = format!("w{writer}-{n}");
                    store.record(&record).expect("record");
                }
            });
        }
    });
    let store = HistoryStore::open_existing(&path).unwrap();
    assert_eq!(store.runs(100).unwrap().len(), 40);
}

#[test]
fn html_report_holds_failures_grid_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = five_runs(&dir.path().join("h.sqlite"));
    let mut last = run(
        5,
        vec![
            step("s::quick", Outcome::Passed, 10),
            step("s::flip", Outcome::Failed, 20),
            step("s::sleeper", Outcome::Passed, 600),
        ],
    );
    last.suites[0].steps[1].output_tail = "<b>not bold</b>\n".into();
    last.suites[0].steps[1].log_path = Some("target/smoke-logs/run-5/s/02-flip.log".into());
    store.record(&last).unwrap();
    let html = render_html(
        &store,
        &HtmlOptions {
            runs: 20,
            generated_at: SystemTime::now(),
        },
    )
    .unwrap()
    .expect("a run is recorded");
    let failures = html.find("id=\"failures\"").unwrap();
    let grid = html.find("id=\"grid\"").unwrap();
    let flip = html[failures..grid]
        .find("s::flip")
        .expect("failure listed");
    assert!(html[failures + flip..grid].contains("expected exit status 0, got 1"));
    assert!(html.contains("&lt;b&gt;not bold&lt;/b&gt;"));
    assert!(html.contains("target/smoke-logs/run-5/s/02-flip.log"));
    // One grid row per step, one cell per run.
    let grid_html = &html[grid..html.find("id=\"trends\"").unwrap()];
    assert_eq!(grid_html.matches("<td class=\"cell ").count(), 3 * 6);
    // A duration chart per step, and the run-level trend.
    assert_eq!(html.matches("<svg ").count(), 3 + 1);
    assert_eq!(html.matches("<svg class=\"trend\"").count(), 1);
    assert!(!html.contains("<script"));
    assert!(!html.contains("http://") && !html.contains("https://"));
}

/// One shard's `--json` events: one suite with one step.
fn shard_events(suite: &str, outcome: &str, code: i32, started: &str, finished: &str) -> String {
    let file = format!("suites/{suite}.toml");
    [
        serde_json::json!({"schema": 1, "event": "run_started", "started_at": started, "suites": 1, "steps": 1}),
        serde_json::json!({"schema": 1, "event": "suite_started", "suite": {"name": suite, "file": file}, "test_dir": "/tmp/x"}),
        serde_json::json!({"schema": 1, "event": "step_finished", "suite": {"name": suite, "file": file},
            "step": {"name": "one", "test_name": format!("{suite}::one"), "index": 0, "line": 2},
            "setup": false, "outcome": outcome, "status": {"kind": "exited", "code": code},
            "duration_secs": 0.25, "attempts": 1,
            "failures": if code == 0 { serde_json::json!([]) } else { serde_json::json!([{
                "subject": "status", "check": "status", "expected": "exit status 0",
                "actual": format!("exit status {code}"), "message": format!("expected exit status 0, got exit status {code}")}]) },
            "output_tail": "out\n", "leaked_processes": 0, "log": null, "some_later_field": true}),
        serde_json::json!({"schema": 1, "event": "suite_finished", "suite": {"name": suite, "file": file}, "duration_secs": 0.3, "kept_test_dir": null}),
        serde_json::json!({"schema": 1, "event": "run_finished", "success": code == 0, "interrupted": false, "finished_at": finished}),
    ]
    .iter()
    .map(|event| format!("{event}\n"))
    .collect()
}

#[test]
fn shards_event_files_import_as_one_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("shard-1.jsonl");
    let second = dir.path().join("shard-2.jsonl");
    std::fs::write(
        &first,
        shard_events(
            "a",
            "passed",
            0,
            "2026-11-23T10:00:00.000Z",
            "2026-11-23T10:00:05.000Z",
        ),
    )
    .unwrap();
    std::fs::write(
        &second,
        shard_events(
            "b",
            "failed",
            3,
            "2026-11-23T10:00:01.000Z",
            "2026-11-23T10:00:09.500Z",
        ),
    )
    .unwrap();
    let files = [first.clone(), second.clone()];
    let run = import_events(&files, 1).unwrap();
    assert_eq!(run.suites.len(), 2);
    let names: Vec<&str> = run.steps().map(|s| s.test_name.as_str()).collect();
    assert_eq!(names, ["a::one", "b::one"]);
    assert_eq!(run.exit_status, 1);
    assert_eq!(
        run.finished_at.duration_since(run.started_at).unwrap(),
        Duration::from_millis(9500)
    );
    let failed = &run.suites[1].steps[0];
    assert_eq!(failed.status, "exit status 3");
    assert_eq!(
        failed.checks[0].message,
        "expected exit status 0, got exit status 3"
    );
    assert!(run.run_id.starts_with("import-"));
    // The same files in any order are the same run.
    let again = import_events(&[second, first], 1).unwrap();
    assert_eq!(again.run_id, run.run_id);
}

/// Regression: suites were found by file and name, so one suite run twice at once in one run
/// (its copies have ids 0 and 1) became one suite whose steps were both copies'.
#[test]
fn one_suite_twice_in_a_run_is_imported_as_two_suites_told_apart_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let suite = |id: usize| serde_json::json!({"id": id, "name": "a", "file": "suites/a.toml"});
    let step = |id: usize, outcome: &str| {
        serde_json::json!({"schema": 1, "event": "step_finished", "suite": suite(id),
            "step": {"name": "one", "test_name": "a::one", "index": 0, "line": 2},
            "outcome": outcome, "status": {"kind": "exited", "code": 0}, "duration_secs": 0.25})
    };
    let finished = |id: usize, secs: f64| serde_json::json!({"schema": 1, "event": "suite_finished", "suite": suite(id), "duration_secs": secs});
    let events = [
        serde_json::json!({"schema": 1, "event": "run_started", "started_at": "2026-11-23T10:00:00.000Z"}),
        step(0, "passed"),
        step(1, "failed"),
        finished(1, 2.0),
        finished(0, 1.0),
        serde_json::json!({"schema": 1, "event": "run_finished", "success": false, "finished_at": "2026-11-23T10:00:03.000Z"}),
    ];
    let text: String = events.iter().map(|event| format!("{event}\n")).collect();
    std::fs::write(&path, text).unwrap();
    let run = import_events(std::slice::from_ref(&path), 1).unwrap();
    let suites: Vec<(&str, Duration, usize)> = (run.suites.iter())
        .map(|s| (s.name.as_str(), s.duration, s.steps.len()))
        .collect();
    assert_eq!(
        suites,
        [
            ("a", Duration::from_secs(1), 1),
            ("a", Duration::from_secs(2), 1)
        ]
    );
    assert_eq!(run.suites[0].steps[0].outcome, Outcome::Passed);
    assert_eq!(run.suites[1].steps[0].outcome, Outcome::Failed);
}

#[test]
fn a_file_that_is_not_an_event_stream_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.jsonl");
    std::fs::write(&path, "{\"schema\": 1, \"event\": \"run_started\", \"started_at\": \"2026-11-23T10:00:00Z\"}\nnot json\n").unwrap();
    let error = import_events(std::slice::from_ref(&path), 1).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:2: not JSON", path.display())),
        "{error}"
    );
    std::fs::write(&path, "{\"schema\": 99, \"event\": \"run_started\"}\n").unwrap();
    let error = import_events(std::slice::from_ref(&path), 1).unwrap_err();
    assert!(
        error.to_string().contains("event schema 99 is newer"),
        "{error}"
    );
    std::fs::write(&path, "").unwrap();
    let error = import_events(std::slice::from_ref(&path), 1).unwrap_err();
    assert!(matches!(error, ImportError::NotARun(_)), "{error}");
}

/// Writes `run` as the first release did: the columns of schema 1 only.
fn insert_first_schema_run(tx: &rusqlite::Transaction<'_>, run: &RunRecord) {
    use rusqlite::params;
    tx.execute(
        "INSERT INTO runs (run_uid, started_at_ms, finished_at_ms, git_commit, host, shard,
                           exit_status, interrupted)
         VALUES (?1, ?2, ?3, NULL, NULL, NULL, ?4, 0)",
        params![
            run.run_id,
            store::unix_ms(run.started_at),
            store::unix_ms(run.finished_at),
            run.exit_status
        ],
    )
    .unwrap();
    let run_row = tx.last_insert_rowid();
    for suite in &run.suites {
        tx.execute(
            "INSERT INTO suites (run_id, name, file, duration_us) VALUES (?1, ?2, ?3, 0)",
            params![run_row, suite.name, suite.file],
        )
        .unwrap();
        let suite_row = tx.last_insert_rowid();
        for (position, step) in suite.steps.iter().enumerate() {
            tx.execute(
                "INSERT INTO steps (run_id, suite_id, position, test_name, outcome, status,
                                    duration_us, attempts, leftovers, output_tail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, 0, '')",
                params![
                    run_row,
                    suite_row,
                    position as i64,
                    step.test_name,
                    step.outcome.as_str(),
                    step.status,
                    store::micros(step.duration)
                ],
            )
            .unwrap();
            let step_row = tx.last_insert_rowid();
            for (position, check) in step.checks.iter().enumerate() {
                tx.execute(
                    "INSERT INTO checks (step_id, position, kind, expected, actual, message)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        step_row,
                        position as i64,
                        check.kind,
                        check.expected,
                        check.actual,
                        check.message
                    ],
                )
                .unwrap();
            }
        }
    }
}

#[test]
fn a_history_of_the_first_schema_is_migrated_with_its_runs_and_hints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    // A file as the first release wrote it: schema 1, with its two step indexes.
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(store::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        let tx = conn.transaction().unwrap();
        for n in 0..3u64 {
            let outcome = if n == 1 {
                Outcome::Failed
            } else {
                Outcome::Passed
            };
            insert_first_schema_run(&tx, &run(n, vec![step("s::a", outcome, 10)]));
        }
        tx.commit().unwrap();
    }
    let store = HistoryStore::open(&path).unwrap();
    let conn = store.sqlite().unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mut indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'steps'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    indexes.sort();
    assert_eq!(indexes, ["steps_by_run_name_result"]);
    assert_eq!(store.runs(10).unwrap().len(), 3);
    assert!(
        store.setup(10).unwrap().is_empty(),
        "runs of schema 1 had no setup"
    );
    let baselines = store.baselines(["s::a"]).unwrap();
    assert_eq!(
        baselines.hint("s::a", false, Duration::from_millis(10)),
        Some(Hint::NewlyFailing)
    );
    // The failed step's check came through the table's rebuild.
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM checks"), 1);
    assert_eq!(count("SELECT count(*) FROM steps"), 3);
    // The outcome is still checked, and foreign keys are on again: removing a run removes its
    // steps and their checks.
    let bogus = conn.execute("UPDATE steps SET outcome = 'bogus'", []);
    assert!(bogus.is_err(), "{bogus:?}");
    assert_eq!(count("PRAGMA foreign_keys"), 1);
    conn.execute("DELETE FROM runs WHERE run_uid = 'run-1'", [])
        .unwrap();
    assert_eq!(count("SELECT count(*) FROM steps"), 2);
    assert_eq!(count("SELECT count(*) FROM checks"), 0);
}

#[test]
fn hints_look_back_over_the_newest_runs_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(&dir.path().join("h.sqlite")).unwrap();
    // `s::old` passed in the first run only; `s::new` passed in the first run and the last.
    store
        .record(&run(
            0,
            vec![
                step("s::old", Outcome::Passed, 10),
                step("s::new", Outcome::Passed, 10),
            ],
        ))
        .unwrap();
    let window = queries::BASELINE_WINDOW as u64;
    for n in 1..window {
        store
            .record(&run(n, vec![step("s::other", Outcome::Passed, 10)]))
            .unwrap();
    }
    store
        .record(&run(window, vec![step("s::new", Outcome::Passed, 10)]))
        .unwrap();
    let baselines = store.baselines(["s::old", "s::new"]).unwrap();
    // The first run is now one too far back for `s::old`; `s::new` ran in the newest.
    assert_eq!(
        baselines.hint("s::old", false, Duration::from_millis(10)),
        None
    );
    assert_eq!(
        baselines.hint("s::new", false, Duration::from_millis(10)),
        Some(Hint::NewlyFailing)
    );
}

#[test]
fn hints_use_each_steps_last_ten_runs_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(&dir.path().join("h.sqlite")).unwrap();
    // `s::long` failed in its first two runs of twelve, then passed ten times; `s::short` ran
    // in the last three runs only and failed in two of them.
    for n in 0..12u64 {
        let long = if n < 2 {
            Outcome::Failed
        } else {
            Outcome::Passed
        };
        let mut steps = vec![step("s::long", long, 10)];
        if n >= 9 {
            let short = if n == 10 {
                Outcome::Passed
            } else {
                Outcome::Failed
            };
            steps.push(step("s::short", short, 10));
        }
        store.record(&run(n, steps)).unwrap();
    }
    let baselines = store.baselines(["s::long", "s::short"]).unwrap();
    // The two early failures are older than the last ten runs: not flaky, newly failing.
    assert_eq!(
        baselines.hint("s::long", false, Duration::from_millis(10)),
        Some(Hint::NewlyFailing)
    );
    assert_eq!(
        baselines.hint("s::short", false, Duration::from_millis(10)),
        Some(Hint::KnownFlaky {
            failures: 2,
            runs: 3
        })
    );
}

#[test]
fn closing_keeps_an_empty_wal_and_the_database_alone_holds_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let wal = dir.path().join("h.sqlite-wal");
    let store = five_runs(&path);
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the runs are in the WAL while the store is open"
    );
    drop(store);
    // Kept, not deleted (a deleted inode slows the next file creations on some disks), and
    // emptied by the closing checkpoint.
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
    assert!(dir.path().join("h.sqlite-shm").exists());

    // The database file copied alone, as a CI cache would, has all five runs.
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("h.sqlite");
    std::fs::copy(&path, &copy).unwrap();
    let store = HistoryStore::open_existing(&copy).unwrap();
    assert_eq!(store.runs(10).unwrap().len(), 5);
    drop(store);

    // A kept WAL and index do not stop the next run from being recorded and read back.
    let mut store = HistoryStore::open(&path).unwrap();
    store
        .record(&run(5, vec![step("s::quick", Outcome::Passed, 10)]))
        .unwrap();
    drop(store);
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
    let store = HistoryStore::open_existing(&path).unwrap();
    assert_eq!(store.runs(10).unwrap().len(), 6);
}

#[test]
fn gate_baselines_are_the_newest_passing_results_of_runs_that_passed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(&dir.path().join("h.sqlite")).unwrap();
    // Runs 0-5 pass at 10..15 ms; run 6 fails another step, run 7 fails this one.
    for n in 0..6 {
        let steps = vec![
            step("s::web", Outcome::Passed, 10 + n),
            step("s::other", Outcome::Passed, 1),
        ];
        store.record(&run(n, steps)).unwrap();
    }
    let steps = vec![
        step("s::web", Outcome::Passed, 900),
        step("s::other", Outcome::Failed, 1),
    ];
    store.record(&run(6, steps)).unwrap();
    store
        .record(&run(7, vec![step("s::web", Outcome::Failed, 800)]))
        .unwrap();
    let found = store.passing_durations(["s::web", "s::never"], 4).unwrap();
    let ms = |values: &[u64]| -> Vec<Duration> {
        values.iter().copied().map(Duration::from_millis).collect()
    };
    assert_eq!(found["s::web"], ms(&[15, 14, 13, 12]));
    assert!(found["s::never"].is_empty());
}

#[test]
fn gate_baselines_of_one_branch_or_label_skip_the_other_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(&dir.path().join("h.sqlite")).unwrap();
    // main/staging at 10 ms, main/prod at 20 ms, feature/staging at 500 ms; newest last.
    let tagged = |n: u64, branch: &str, label: &str, ms: u64| RunRecord {
        git_branch: Some(branch.into()),
        label: Some(label.into()),
        ..run(n, vec![step("s::web", Outcome::Passed, ms)])
    };
    for n in 0..3 {
        store.record(&tagged(n, "main", "staging", 10 + n)).unwrap();
        store
            .record(&tagged(10 + n, "main", "prod", 20 + n))
            .unwrap();
        store
            .record(&tagged(20 + n, "feature", "staging", 500 + n))
            .unwrap();
    }
    // A run from before branches were recorded is nobody's.
    store
        .record(&RunRecord {
            git_branch: None,
            ..run(30, vec![step("s::web", Outcome::Passed, 900)])
        })
        .unwrap();
    let of = |branch: Option<&str>, label: Option<&str>| -> Vec<u64> {
        let filter = RunFilter {
            branch: branch.map(str::to_owned),
            label: label.map(str::to_owned),
        };
        let found = store.passing_durations_of(["s::web"], 3, &filter).unwrap();
        found["s::web"]
            .iter()
            .map(|d| d.as_millis() as u64)
            .collect()
    };
    assert_eq!(of(None, None), [900, 502, 22]);
    assert_eq!(of(Some("main"), None), [22, 12, 21]);
    assert_eq!(of(None, Some("staging")), [502, 12, 501]);
    assert_eq!(of(Some("main"), Some("staging")), [12, 11, 10]);
    assert_eq!(of(Some("nowhere"), None), Vec::<u64>::new());
    let runs = store.runs(1).unwrap();
    assert_eq!(
        (runs[0].git_branch.as_deref(), runs[0].label.as_deref()),
        (None, None)
    );
    let runs = store.runs(2).unwrap();
    assert_eq!(
        (runs[1].git_branch.as_deref(), runs[1].label.as_deref()),
        (Some("feature"), Some("staging"))
    );
}
