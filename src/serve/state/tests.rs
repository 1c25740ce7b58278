//! The monitor's tables, written and read back.

use super::*;
use crate::report::JsonCounts;
use crate::serve::runs::{Progress, RunRequest, RunStatus, Trigger};

fn view(id: &str, status: RunStatus) -> RunView {
    RunView {
        id: id.into(),
        status,
        trigger: Trigger::Api,
        request: RunRequest {
            suites: vec!["api".into()],
            ..RunRequest::default()
        },
        queued_at: rfc3339(SystemTime::now()),
        started_at: None,
        finished_at: None,
        progress: Progress::default(),
        counts: JsonCounts::default(),
        steps: Vec::new(),
        note: None,
    }
}

#[test]
fn runs_of_a_monitor_that_never_stopped_are_found_and_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let state = StateStore::open(&path).unwrap();
    let crashed_one = state.register(dir.path()).unwrap();
    state.run(crashed_one, &view("a-1", RunStatus::Queued));
    state.run(crashed_one, &view("a-1", RunStatus::Running));
    state.run(crashed_one, &view("a-2", RunStatus::Queued));
    state.run(crashed_one, &view("a-3", RunStatus::Passed));
    state.test_dir("a-1", &dir.path().join("plandex-api-1-x"));
    state.flush(Duration::from_secs(10));
    let clean = state.register(dir.path()).unwrap();
    state.stopped(clean);
    let own = state.register(dir.path()).unwrap();

    let crashed = state.crashed(own).unwrap();
    assert_eq!(crashed.len(), 1, "{crashed:?}");
    let ids: Vec<&str> = crashed[0].runs.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["a-1", "a-2"]);
    assert_eq!(crashed[0].test_dirs, [dir.path().join("plandex-api-1-x")]);
    state.mark_interrupted(&crashed[0], "gone").unwrap();
    let run = state.find_run("a-1").unwrap().unwrap();
    assert_eq!(
        (run["status"].as_str(), run["note"].as_str()),
        (Some("interrupted"), Some("gone"))
    );
    assert_eq!(state.find_run("a-3").unwrap().unwrap()["status"], "passed");
    assert!(state.crashed(own).unwrap().is_empty(), "recovered once");
    let listed = state.list_runs(Some("api"), 2).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["id"], "a-3");
    assert!(state.list_runs(Some("other"), 10).unwrap().is_empty());
    let triggers = triggers(&path, &["a-1", "elsewhere"]).unwrap().unwrap();
    assert_eq!(triggers.get("a-1").map(String::as_str), Some("api"));
    assert!(!triggers.contains_key("elsewhere"));
    state.close();
}

#[test]
fn a_history_without_monitor_tables_has_no_triggers_and_newer_tables_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    HistoryStore::open(&path).unwrap();
    assert_eq!(triggers(&path, &["x"]).unwrap(), None);
    let state = StateStore::open(&path).unwrap();
    state.close();
    drop(state);
    let conn = connect(&path).unwrap();
    conn.execute("INSERT INTO serve_schema (version) VALUES (99)", [])
        .unwrap();
    drop(conn);
    let Err(OpenError::Failed(message)) = StateStore::open(&path) else {
        panic!("a newer schema must be refused");
    };
    assert!(
        message.contains("newer than this smoke-runner knows"),
        "{message}"
    );
}
