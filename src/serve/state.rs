//! The monitor's state in the history database, beside the runs the history records: every
//! run the monitor queued with what triggered it and where it got to (the queue included), the
//! monitor processes that ran them (what finding their leftovers after a crash needs), and the
//! audit log of API calls.
//!
//! The tables are the monitor's own, with their own schema version (`serve_schema`), so that
//! the history's schema (`user_version`, `history/store.rs`) moves on without them. Writes go
//! through one thread behind a channel: a handler or a run never waits for the disk, and a
//! history that cannot be written is a warning, never a failed run. Reads (a run the monitor
//! no longer holds in memory, the run list, the audit log) open their own connection.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use crate::history::{BUSY_TIMEOUT, HistoryStore};

use super::monitor::stderr_warning;

mod write;
use super::runs::{RunView, rfc3339};
use write::{Write, migrate, schema_version, write_all};

/// Audit entries kept; older ones are deleted as new ones come.
pub const KEPT_AUDIT_ENTRIES: i64 = 100_000;

/// Finished runs' monitor rows kept (the history keeps their steps as long as it keeps runs).
pub const KEPT_RUNS: i64 = 100_000;

/// Writes waiting for the disk; beyond this, writes are dropped with a warning.
const PENDING_WRITES: usize = 10_000;

/// Why the monitor's state cannot be kept in a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// Another monitor uses this history.
    InUse(String),
    /// The history cannot be opened or written.
    Failed(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InUse(message) | Self::Failed(message) => f.write_str(message),
        }
    }
}

/// One API call, as the audit log keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// `token` (the configured token was shown), `wrong token`, or `anonymous`.
    pub who: String,
    /// The client's address.
    pub remote: Option<String>,
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The suites a trigger named.
    pub suites: Option<Vec<String>>,
    /// The run it queued or cancelled.
    pub run_id: Option<String>,
    /// The answer's status code.
    pub status: u16,
}

/// What the monitor process that ran a run needs remembered to clean up after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Its row.
    pub id: i64,
    /// Its process id: its commands carry `SMOKE_RUNNER_TAG=<pid>-<n>` and its test dirs are
    /// named `plandex-<suite>-<pid>-<random>`.
    pub pid: i32,
    /// The machine's boot: after a reboot, pids name other processes.
    pub boot_id: Option<String>,
    /// Where its runs made their test dirs.
    pub temp_root: PathBuf,
}

/// The monitor's tables in one history file.
pub struct StateStore {
    path: PathBuf,
    /// Held while this monitor runs: a second monitor on the same history would take the
    /// first one's runs for a crashed monitor's.
    _lock: std::fs::File,
    writes: Mutex<Option<SyncSender<Write>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl StateStore {
    /// Opens `path` (creating the history when missing), brings the history's and the monitor's
    /// tables up to date, and starts the writing thread.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        HistoryStore::open(path).map_err(|error| OpenError::Failed(error.to_string()))?;
        let lock = lock_for_monitor(path)?;
        let failed = |e: rusqlite::Error| OpenError::Failed(sql_error(path, &e));
        let conn = connect(path).map_err(failed)?;
        migrate(&conn).map_err(failed)?;
        let (writes, pending) = sync_channel(PENDING_WRITES);
        let owned = path.to_owned();
        let writer = std::thread::Builder::new()
            .name("serve-state".into())
            .spawn(move || write_all(&owned, &conn, &pending))
            .map_err(|error| {
                OpenError::Failed(format!("cannot start the state writer: {error}"))
            })?;
        Ok(Self {
            path: path.to_owned(),
            _lock: lock,
            writes: Mutex::new(Some(writes)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// The history file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn send(&self, write: Write) {
        let writes = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let Some(writes) = writes.as_ref() else {
            return;
        };
        match writes.try_send(write) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => stderr_warning(&format!(
                "the history is {PENDING_WRITES} writes behind; a run or audit entry was not recorded"
            )),
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Records run `view` (queued, started or finished) of `instance`.
    pub fn run(&self, instance: i64, view: &RunView) {
        self.send(Write::Run {
            instance,
            view: Box::new(view.clone()),
        });
    }

    /// Records that run `run_id` made the test dir `path`.
    pub fn test_dir(&self, run_id: &str, path: &Path) {
        self.send(Write::TestDir {
            run_id: run_id.to_owned(),
            path: path.display().to_string(),
        });
    }

    /// Appends an API call to the audit log.
    pub fn audit(&self, entry: AuditEntry) {
        self.send(Write::Audit(Box::new(entry)));
    }

    /// Waits until every write sent so far is on disk (at most `timeout`).
    pub fn flush(&self, timeout: Duration) {
        let (done, finished) = sync_channel(1);
        self.send(Write::Flush(done));
        let _ = finished.recv_timeout(timeout);
    }

    /// Writes what is pending and stops the writing thread.
    pub fn close(&self) {
        self.writes.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(writer) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = writer.join();
        }
    }

    /// Registers this monitor process; its row.
    pub fn register(&self, temp_root: &Path) -> Result<i64, String> {
        let conn = self.read()?;
        conn.execute(
            "INSERT INTO serve_instances (pid, boot_id, temp_root, started_at_ms)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                std::process::id(),
                boot_id(),
                temp_root.display().to_string(),
                unix_ms(SystemTime::now()),
            ],
        )
        .map_err(|e| sql_error(&self.path, &e))?;
        Ok(conn.last_insert_rowid())
    }

    /// Marks this monitor process as stopped cleanly.
    pub fn stopped(&self, instance: i64) {
        let marked = self.read().and_then(|conn| {
            conn.execute(
                "UPDATE serve_instances SET stopped_at_ms = ?1 WHERE id = ?2",
                params![unix_ms(SystemTime::now()), instance],
            )
            .map_err(|e| sql_error(&self.path, &e))
        });
        if let Err(error) = marked {
            stderr_warning(&error);
        }
    }

    /// The monitor processes that never stopped cleanly (other than `own`), with their runs
    /// left queued or running and those runs' recorded test dirs.
    pub fn crashed(&self, own: i64) -> Result<Vec<Crashed>, String> {
        let conn = self.read()?;
        let sql = |e: rusqlite::Error| sql_error(&self.path, &e);
        let mut instances = conn
            .prepare(
                "SELECT id, pid, boot_id, temp_root FROM serve_instances
                 WHERE stopped_at_ms IS NULL AND id <> ?1 ORDER BY id",
            )
            .map_err(sql)?;
        let instances: Vec<Instance> = instances
            .query_map([own], |row| {
                Ok(Instance {
                    id: row.get(0)?,
                    pid: row.get(1)?,
                    boot_id: row.get(2)?,
                    temp_root: PathBuf::from(row.get::<_, String>(3)?),
                })
            })
            .and_then(Iterator::collect)
            .map_err(sql)?;
        let mut crashed = Vec::new();
        for instance in instances {
            let runs = open_runs(&conn, instance.id).map_err(sql)?;
            let mut test_dirs = Vec::new();
            for (run_id, _) in &runs {
                let mut dirs = conn
                    .prepare_cached("SELECT path FROM serve_test_dirs WHERE run_uid = ?1")
                    .map_err(sql)?;
                let paths: Vec<String> = dirs
                    .query_map([run_id], |row| row.get(0))
                    .and_then(Iterator::collect)
                    .map_err(sql)?;
                test_dirs.extend(paths.into_iter().map(PathBuf::from));
            }
            crashed.push(Crashed {
                instance,
                runs,
                test_dirs,
            });
        }
        Ok(crashed)
    }

    /// Marks `crashed`'s open runs `interrupted` (with `note`), and the process as over.
    pub fn mark_interrupted(&self, crashed: &Crashed, note: &str) -> Result<(), String> {
        let mut conn = self.read()?;
        let sql = |e: rusqlite::Error| sql_error(&self.path, &e);
        let tx = conn.transaction().map_err(sql)?;
        let now = rfc3339(SystemTime::now());
        for (run_id, view) in &crashed.runs {
            let mut view = view.clone();
            if let Some(object) = view.as_object_mut() {
                object.insert("status".into(), "interrupted".into());
                object.insert("note".into(), note.into());
                object.insert("finished_at".into(), now.clone().into());
            }
            tx.execute(
                "UPDATE serve_runs SET status = 'interrupted', view = ?1 WHERE run_uid = ?2",
                params![view.to_string(), run_id],
            )
            .map_err(sql)?;
        }
        tx.execute(
            "UPDATE serve_instances SET stopped_at_ms = ?1, crashed = 1 WHERE id = ?2",
            params![unix_ms(SystemTime::now()), crashed.instance.id],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)
    }

    /// Run `id` as last recorded.
    pub fn find_run(&self, id: &str) -> Result<Option<serde_json::Value>, String> {
        let conn = self.read()?;
        let view: Option<String> = conn
            .query_row(
                "SELECT view FROM serve_runs WHERE run_uid = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| sql_error(&self.path, &e))?;
        Ok(view.and_then(|text| serde_json::from_str(&text).ok()))
    }

    /// The newest recorded runs first, of `suite` when given, at most `limit`.
    pub fn list_runs(
        &self,
        suite: Option<&str>,
        limit: usize,
    ) -> Result<Vec<serde_json::Value>, String> {
        let conn = self.read()?;
        let sql = |e: rusqlite::Error| sql_error(&self.path, &e);
        let mut statement = conn
            .prepare(
                "SELECT view FROM serve_runs
                 WHERE ?1 IS NULL
                    OR EXISTS (SELECT 1 FROM json_each(view, '$.suites') WHERE value = ?1)
                 ORDER BY seq DESC LIMIT ?2",
            )
            .map_err(sql)?;
        let views: Vec<String> = statement
            .query_map(params![suite, limit as i64], |row| row.get(0))
            .and_then(Iterator::collect)
            .map_err(sql)?;
        Ok(views
            .iter()
            .filter_map(|text| serde_json::from_str(text).ok())
            .collect())
    }

    /// The newest audit entries first, at most `limit`.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, String> {
        let conn = self.read()?;
        let sql = |e: rusqlite::Error| sql_error(&self.path, &e);
        let mut statement = conn
            .prepare(
                "SELECT at, who, remote, method, path, suites, run_id, status FROM serve_audit
                 ORDER BY id DESC LIMIT ?1",
            )
            .map_err(sql)?;
        statement
            .query_map([limit as i64], |row| {
                let suites: Option<String> = row.get(5)?;
                Ok(AuditEntry {
                    at: row.get(0)?,
                    who: row.get(1)?,
                    remote: row.get(2)?,
                    method: row.get(3)?,
                    path: row.get(4)?,
                    suites: suites.and_then(|text| serde_json::from_str(&text).ok()),
                    run_id: row.get(6)?,
                    status: row.get(7)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(sql)
    }

    fn read(&self) -> Result<Connection, String> {
        connect(&self.path).map_err(|e| sql_error(&self.path, &e))
    }
}

/// A monitor process that crashed: what it left.
#[derive(Debug)]
pub struct Crashed {
    /// The process.
    pub instance: Instance,
    /// Its runs left queued or running: id and last recorded view.
    pub runs: Vec<(String, serde_json::Value)>,
    /// The test dirs its runs recorded.
    pub test_dirs: Vec<PathBuf>,
}

/// The run ids and views `trigger`s of the history's runs `ids`, for `history runs`: a run the
/// monitor did not queue came from the command line. `None` when the history has no monitor
/// tables.
pub fn triggers(
    path: &Path,
    ids: &[&str],
) -> Result<Option<std::collections::HashMap<String, String>>, String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| sql_error(path, &e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error(path, &e))?;
    if schema_version(&conn).map_err(|e| sql_error(path, &e))? == 0 {
        return Ok(None);
    }
    let mut statement = conn
        .prepare_cached("SELECT trigger FROM serve_runs WHERE run_uid = ?1")
        .map_err(|e| sql_error(path, &e))?;
    let mut found = std::collections::HashMap::new();
    for id in ids {
        let trigger: Option<String> = statement
            .query_row([id], |row| row.get(0))
            .optional()
            .map_err(|e| sql_error(path, &e))?;
        if let Some(trigger) = trigger {
            found.insert((*id).to_owned(), trigger);
        }
    }
    Ok(Some(found))
}

fn open_runs(
    conn: &Connection,
    instance: i64,
) -> rusqlite::Result<Vec<(String, serde_json::Value)>> {
    let mut statement = conn.prepare(
        "SELECT run_uid, view FROM serve_runs
         WHERE instance_id = ?1 AND status IN ('queued', 'running') ORDER BY seq",
    )?;
    statement
        .query_map([instance], |row| {
            let view: String = row.get(1)?;
            Ok((
                row.get(0)?,
                serde_json::from_str(&view).unwrap_or(serde_json::Value::Null),
            ))
        })?
        .collect()
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

/// Takes `<history>.serve-lock`, which the kernel releases when this process ends however it
/// ends.
fn lock_for_monitor(history: &Path) -> Result<std::fs::File, OpenError> {
    let mut name = history.as_os_str().to_owned();
    name.push(".serve-lock");
    let path = PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|error| {
            OpenError::Failed(format!(
                "cannot open the lock file {}: {error}",
                path.display()
            ))
        })?;
    use std::os::fd::AsRawFd as _;
    // SAFETY: flock on a descriptor this function owns; no memory is shared.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(file);
    }
    let error = std::io::Error::last_os_error();
    if error.kind() == std::io::ErrorKind::WouldBlock {
        return Err(OpenError::InUse(format!(
            "another `smoke-runner serve` is using the history {} (it holds {}); give each monitor its own --history",
            history.display(),
            path.display()
        )));
    }
    Err(OpenError::Failed(format!(
        "cannot lock {}: {error}",
        path.display()
    )))
}

/// This boot of the machine (`/proc/sys/kernel/random/boot_id`).
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn sql_error(path: &Path, error: &rusqlite::Error) -> String {
    format!("history {}: {error}", path.display())
}

#[cfg(test)]
mod tests;
