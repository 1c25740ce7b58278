//! The monitor's tables: their migrations, and the thread that writes to them.

use std::path::Path;

use rusqlite::{Connection, params};
use std::sync::mpsc::{Receiver, SyncSender};

use super::{AuditEntry, KEPT_AUDIT_ENTRIES, KEPT_RUNS};
use crate::serve::monitor::stderr_warning;
use crate::serve::runs::RunView;

/// The monitor's migrations: entry `i` takes its tables from version `i` to `i + 1`. Never edit
/// a released entry; append one.
const MIGRATIONS: &[&str] = &[
    // 1: instances, runs, their test dirs, the audit log.
    "CREATE TABLE serve_instances (
        id INTEGER PRIMARY KEY,
        pid INTEGER NOT NULL,
        boot_id TEXT,
        temp_root TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        stopped_at_ms INTEGER,
        crashed INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE serve_runs (
        seq INTEGER PRIMARY KEY,
        run_uid TEXT NOT NULL UNIQUE,
        instance_id INTEGER NOT NULL,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL,
        view TEXT NOT NULL
    );
    CREATE INDEX serve_runs_open ON serve_runs (status, instance_id);
    CREATE TABLE serve_test_dirs (
        run_uid TEXT NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (run_uid, path)
    );
    CREATE TABLE serve_audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        remote TEXT,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        suites TEXT,
        run_id TEXT,
        status INTEGER NOT NULL
    );",
];

/// A change for the writing thread.
pub(super) enum Write {
    /// A run's current state.
    Run { instance: i64, view: Box<RunView> },
    /// A test dir a run made.
    TestDir { run_id: String, path: String },
    /// An API call.
    Audit(Box<AuditEntry>),
    /// Answered when everything before it is written.
    Flush(SyncSender<()>),
}

/// The monitor tables' version: 0 when they were never created.
pub(super) fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'serve_schema'",
        [],
        |row| row.get(0),
    )?;
    if !exists {
        return Ok(0);
    }
    conn.query_row("SELECT max(version) FROM serve_schema", [], |row| {
        row.get::<_, Option<i64>>(0)
    })
    .map(Option::unwrap_or_default)
}

/// Brings the monitor's tables up to date, in one transaction (two monitors starting on one
/// file at once: the second waits, then finds them done).
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let migrated = (|| {
        conn.execute_batch("CREATE TABLE IF NOT EXISTS serve_schema (version INTEGER NOT NULL)")?;
        let version = schema_version(conn)?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
                Some(format!(
                    "its monitor tables are version {version}, newer than this smoke-runner knows ({known}); use the newer smoke-runner"
                )),
            ));
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            conn.execute_batch(sql)?;
            conn.execute(
                "INSERT INTO serve_schema (version) VALUES (?1)",
                [index as i64 + 1],
            )?;
        }
        conn.execute_batch("COMMIT")
    })();
    if migrated.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    migrated
}

/// The writing thread: every write in order, a batch per transaction.
pub(super) fn write_all(path: &Path, conn: &Connection, pending: &Receiver<Write>) {
    let mut since_prune = 0u32;
    while let Ok(first) = pending.recv() {
        let mut batch = vec![first];
        batch.extend(pending.try_iter().take(500));
        let mut flushed = Vec::new();
        let written = (|| {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            for write in batch {
                match write {
                    Write::Flush(done) => flushed.push(done),
                    other => apply(conn, other)?,
                }
            }
            since_prune += 1;
            if since_prune >= 1000 {
                since_prune = 0;
                prune(conn)?;
            }
            conn.execute_batch("COMMIT")
        })();
        if let Err(error) = written {
            let _ = conn.execute_batch("ROLLBACK");
            stderr_warning(&format!(
                "cannot record the monitor's state in {}: {error}",
                path.display()
            ));
        }
        for done in flushed {
            let _ = done.send(());
        }
    }
}

fn apply(conn: &Connection, write: Write) -> rusqlite::Result<()> {
    match write {
        Write::Run { instance, view } => {
            let text = serde_json::to_string(&view).unwrap_or_default();
            conn.prepare_cached(
                "INSERT INTO serve_runs (run_uid, instance_id, trigger, status, view)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (run_uid) DO UPDATE SET status = excluded.status, view = excluded.view",
            )?
            .execute(params![
                view.id,
                instance,
                view.trigger.as_str(),
                view.status.as_str(),
                text
            ])?;
        }
        Write::TestDir { run_id, path } => {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO serve_test_dirs (run_uid, path) VALUES (?1, ?2)",
            )?
            .execute(params![run_id, path])?;
        }
        Write::Audit(entry) => {
            let suites =
                (entry.suites.as_ref()).map(|s| serde_json::to_string(s).unwrap_or_default());
            conn.prepare_cached(
                "INSERT INTO serve_audit (at, who, remote, method, path, suites, run_id, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                entry.at,
                entry.who,
                entry.remote,
                entry.method,
                entry.path,
                suites,
                entry.run_id,
                entry.status
            ])?;
        }
        Write::Flush(_) => {}
    }
    Ok(())
}

/// Keeps the newest [`KEPT_AUDIT_ENTRIES`] audit entries and [`KEPT_RUNS`] runs; a finished
/// run's test dirs are forgotten (they are gone).
fn prune(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM serve_audit WHERE id <= (SELECT max(id) FROM serve_audit) - ?1",
        [KEPT_AUDIT_ENTRIES],
    )?;
    conn.execute(
        "DELETE FROM serve_runs WHERE seq <= (SELECT max(seq) FROM serve_runs) - ?1
           AND status NOT IN ('queued', 'running')",
        [KEPT_RUNS],
    )?;
    conn.execute(
        "DELETE FROM serve_test_dirs WHERE run_uid IN
           (SELECT d.run_uid FROM serve_test_dirs d LEFT JOIN serve_runs r USING (run_uid)
            WHERE r.status IS NULL OR r.status NOT IN ('queued', 'running'))",
        [],
    )?;
    Ok(())
}
