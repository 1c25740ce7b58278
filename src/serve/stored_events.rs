//! A run's events after the monitor has let go of them: each run's event lines are saved in
//! its log folder (`<log dir>/<run>/events.jsonl`) when it ends, and
//! `GET /api/runs/{id}/events` serves them from there for a run this process no longer holds
//! (a run of an earlier monitor process, or one past the runs kept in memory). When they
//! cannot be, the answer is `410 Gone` with a body that says why and where to look, so a
//! monitor tells "no such run" (404) from "that run's events are gone".

use std::convert::Infallible;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::api::{Api, error};
use crate::regular_file;

/// The file, in a run's log folder, that holds its events.
pub const EVENTS_FILE: &str = "events.jsonl";

/// How much of the file is read and sent at a time.
const CHUNK: usize = 64 * 1024;

/// Saves a finished run's event lines (already masked) as `path`, through a temp file beside
/// it so a reader never sees half of them.
pub fn save(path: &Path, lines: &[Arc<str>]) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let mut file = tempfile::NamedTempFile::new_in(folder)?;
    {
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        for line in lines {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// Whether `id` can name a folder: a run id as the monitor makes them, nothing that could
/// leave the log folder.
fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The answer for run `id`'s events when this process holds none: the saved file, else 404
/// (no run has this id) or 410 (the run is known, its events are not).
pub async fn answer(api: &Api, id: String) -> Response {
    let monitor = api.monitor.clone();
    let catalog = monitor.catalog();
    let lookup = id.clone();
    let found = tokio::task::spawn_blocking(move || match monitor.runs.state() {
        Some(state) => state.find_run(&lookup),
        None => Ok(None),
    })
    .await
    .unwrap_or_else(|_| Err("the history read failed".into()));
    let view = match found {
        Ok(Some(view)) => view,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no run has this id"),
        Err(message) => return error(StatusCode::INTERNAL_SERVER_ERROR, &message),
    };
    let folder = (catalog.log_root.as_ref())
        .filter(|_| is_plain_id(&id))
        .map(|root| root.join(&id));
    let file = folder.as_ref().map(|folder| folder.join(EVENTS_FILE));
    match file.as_deref().map(regular_file::open) {
        Some(Ok(file)) => stream(file),
        _ => {
            let masker = &catalog.settings.masker;
            let body = gone(&id, &view, folder.as_deref());
            let text = masker.mask(&body.to_string()).into_owned();
            (
                StatusCode::GONE,
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                text,
            )
                .into_response()
        }
    }
}

/// The saved events, read a chunk at a time off the async runtime.
fn stream(file: std::fs::File) -> Response {
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buffer = vec![0u8; CHUNK];
            let n = file.read(&mut buffer)?;
            buffer.truncate(n);
            Ok::<_, std::io::Error>((buffer, file))
        })
        .await;
        match read {
            Ok(Ok((buffer, file))) if !buffer.is_empty() => {
                Some((Ok::<_, Infallible>(Bytes::from(buffer)), Some(file)))
            }
            _ => None,
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(chunks),
    )
        .into_response()
}

/// The 410 body: the run as stored, why its events are not there, and where to look.
fn gone(id: &str, view: &Value, folder: Option<&Path>) -> Value {
    let why = match folder {
        None if !is_plain_id(id) => "its id cannot name a log folder".to_owned(),
        None => "this monitor keeps no log folders (--no-log-dir), where a run's events are \
                 saved when it ends"
            .to_owned(),
        Some(folder) if !folder.exists() && view["started_at"].is_null() => format!(
            "it never started (status {}), so it has no events",
            view["status"]
        ),
        Some(_) if view["status"] == "interrupted" => "the run was interrupted (its monitor \
                                                      stopped or crashed while it ran) before \
                                                      its events were saved"
            .to_owned(),
        Some(folder) if !folder.exists() => format!(
            "its log folder {} is gone (deleted, or the run never wrote one)",
            folder.display()
        ),
        Some(folder) => format!(
            "its log folder {} holds no {EVENTS_FILE} (a monitor before this version did not \
             save events)",
            folder.display()
        ),
    };
    let mut look_at = vec![
        json!(format!(
            "GET /api/runs/{id}: its status, counts and steps as stored"
        )),
        json!(format!(
            "smoke-runner history runs / history step NAME / report --html: its steps in the history (run {id})"
        )),
    ];
    if let Some(folder) = folder.filter(|folder| folder.exists()) {
        look_at.push(json!(format!(
            "{}: its steps' logs (smoke-runner log {id} STEP)",
            folder.display()
        )));
    }
    json!({
        "error": format!("the events of run {id} are not available: {why}"),
        "run": id,
        "status": view["status"],
        "finished_at": view["finished_at"],
        "look_at": look_at,
    })
}

/// Where run `id`'s events are saved under `log_root`.
pub fn events_path(log_root: &Path, id: &str) -> Option<PathBuf> {
    is_plain_id(id).then(|| log_root.join(id).join(EVENTS_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_events_are_whole_lines_and_no_temp_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = events_path(dir.path(), "run-1").unwrap();
        let lines: Vec<Arc<str>> = vec!["{\"a\":1}".into(), "{\"b\":2}".into()];
        save(&path, &lines).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"b\":2}\n");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temp file left: {names:?}");
    }

    #[test]
    fn ids_that_could_leave_the_log_folder_name_none() {
        assert!(is_plain_id("20261202T105500Z-4242-7"));
        for bad in ["", "..", ".hidden", "a/b", "a\\b", "a b", "%2e%2e"] {
            assert!(!is_plain_id(bad), "{bad}");
        }
        assert_eq!(events_path(Path::new("/logs"), "../x"), None);
        assert_eq!(
            events_path(Path::new("/logs"), "r-1"),
            Some(PathBuf::from("/logs/r-1/events.jsonl"))
        );
    }
}
