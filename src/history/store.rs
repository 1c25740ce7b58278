//! The history store (either database), and the SQLite file: opening (WAL, busy timeout),
//! forward migrations, and writing runs. PostgreSQL's own parts are in `postgres.rs`.
//!
//! Several runs may write to one file at once (parallel shards on one machine): SQLite's WAL
//! mode lets readers go on while one writer commits, and the busy timeout makes a writer wait
//! its turn for at most [`BUSY_TIMEOUT`]. A run is written in one transaction at its end, so a
//! run is either wholly in the history or not at all.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

use super::backend::{Backend, DbError, Sql};
use super::error::HistoryError;
use super::location::{HistoryTarget, ToHistoryTarget};
use super::record::RunRecord;

/// How long a writer waits for another to finish before giving up with a warning. Locks are
/// held for milliseconds, but a disk busy with other writes can make one fsync (a checkpoint
/// when the last connection closes) take seconds: a run waits rather than losing its record.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Forward migrations: entry `i` takes the schema from version `i` to `i + 1`. Never edit a
/// released entry; append a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: runs, suites, steps, failed checks.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        run_uid TEXT NOT NULL UNIQUE,
        started_at_ms INTEGER NOT NULL,
        finished_at_ms INTEGER NOT NULL,
        git_commit TEXT,
        host TEXT,
        shard TEXT,
        exit_status INTEGER NOT NULL,
        interrupted INTEGER NOT NULL
    );
    CREATE INDEX runs_by_start ON runs (started_at_ms);
    CREATE TABLE suites (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        file TEXT,
        duration_us INTEGER NOT NULL,
        kept_test_dir TEXT
    );
    CREATE TABLE steps (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        suite_id INTEGER NOT NULL REFERENCES suites (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        test_name TEXT NOT NULL,
        file TEXT,
        line INTEGER,
        outcome TEXT NOT NULL
            CHECK (outcome IN ('passed', 'flaky', 'failed', 'timed_out', 'skipped')),
        status TEXT NOT NULL,
        duration_us INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        leftovers INTEGER NOT NULL,
        log_path TEXT,
        skip_reason TEXT,
        output_tail TEXT NOT NULL
    );
    CREATE INDEX steps_by_run ON steps (run_id);
    CREATE INDEX steps_by_name ON steps (test_name, run_id);
    CREATE TABLE checks (
        step_id INTEGER NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        kind TEXT,
        expected TEXT,
        actual TEXT,
        message TEXT NOT NULL,
        PRIMARY KEY (step_id, position)
    );",
    // 2: what recording a run costs. One index on (run, test name) instead of one by name and
    // one by run: a run's rows now land at the end of the index, on a few pages, where the
    // index by name put each step on a leaf of its own (a 200-step run wrote ~250 pages, ~1 MiB
    // of WAL, copied and synced again by the checkpoint; now about ten). Lookups by name go
    // through the recent runs (see `feed_baselines`). And the outcome's check spelled as
    // comparisons: as `IN (…)` of five values SQLite built a temporary table for every row
    // written (6.9 against 1.8 µs an insert). The table is rebuilt for that, with foreign
    // keys off (see `migrate`); `checks` refers to it by name.
    "CREATE TABLE steps_new (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        suite_id INTEGER NOT NULL REFERENCES suites (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        test_name TEXT NOT NULL,
        file TEXT,
        line INTEGER,
        outcome TEXT NOT NULL
            CHECK (outcome = 'passed' OR outcome = 'flaky' OR outcome = 'failed'
                   OR outcome = 'timed_out' OR outcome = 'skipped'),
        status TEXT NOT NULL,
        duration_us INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        leftovers INTEGER NOT NULL,
        log_path TEXT,
        skip_reason TEXT,
        output_tail TEXT NOT NULL
    );
    INSERT INTO steps_new SELECT * FROM steps;
    DROP TABLE steps;
    ALTER TABLE steps_new RENAME TO steps;
    CREATE INDEX steps_by_run_name ON steps (run_id, test_name);",
    // 3: the `degraded` outcome (passed, but slower than the step's `warn_duration`). SQLite
    // cannot change a CHECK in place: the table is rebuilt as in 2, its rows and index kept.
    "CREATE TABLE steps_new (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        suite_id INTEGER NOT NULL REFERENCES suites (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        test_name TEXT NOT NULL,
        file TEXT,
        line INTEGER,
        outcome TEXT NOT NULL
            CHECK (outcome = 'passed' OR outcome = 'flaky' OR outcome = 'failed'
                   OR outcome = 'timed_out' OR outcome = 'skipped' OR outcome = 'degraded'),
        status TEXT NOT NULL,
        duration_us INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        leftovers INTEGER NOT NULL,
        log_path TEXT,
        skip_reason TEXT,
        output_tail TEXT NOT NULL
    );
    INSERT INTO steps_new SELECT * FROM steps;
    DROP TABLE steps;
    ALTER TABLE steps_new RENAME TO steps;
    CREATE INDEX steps_by_run_name ON steps (run_id, test_name);",
    // 4: each suite's requirements looked at and its services' lives (`SetupRecord`s as a
    // JSON array; NULL without any), written with the suite.
    "ALTER TABLE suites ADD COLUMN setup TEXT;",
    // 5: each run's git branch and `--label`, and an index on each, newest run last, so that a
    // gate's baseline of one branch or label (`--baseline branch:main`) reads only its runs.
    "ALTER TABLE runs ADD COLUMN git_branch TEXT;
    ALTER TABLE runs ADD COLUMN label TEXT;
    CREATE INDEX runs_by_branch ON runs (git_branch, id);
    CREATE INDEX runs_by_label ON runs (label, id);",
    // 6: the index on (run, test name) carries each step's outcome and duration, so that
    // reading the recent runs' results (`feed_baselines`, at the start of every run: ten runs
    // of every step) reads the index alone, without a lookup in the table per row (a run of
    // W1 read 2,000 rows at 3,300 instructions each; half of that went to those lookups).
    "CREATE INDEX steps_by_run_name_result ON steps (run_id, test_name, outcome, duration_us);
    DROP INDEX steps_by_run_name;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// An open history database: a SQLite file or a PostgreSQL database.
#[derive(Debug)]
pub struct HistoryStore {
    pub(super) db: Backend,
    pub(super) target: HistoryTarget,
}

/// A SQLite history file being opened: its connection and its path, before it becomes a
/// [`HistoryStore`].
struct SqliteFile {
    conn: Connection,
    path: PathBuf,
}

impl HistoryStore {
    /// Opens the history at `target` for recording: a file is created (with its folder) when
    /// missing, a PostgreSQL database gets its tables; the schema is migrated forward.
    pub fn open(target: &(impl ToHistoryTarget + ?Sized)) -> Result<Self, HistoryError> {
        match target.to_history_target() {
            HistoryTarget::File(path) => SqliteFile::open(&path).map(Self::from),
            HistoryTarget::Postgres(url) => super::postgres::open(url),
        }
    }

    /// Opens the history at `target` for reading (`smoke-runner history`, `report --html`).
    /// A file must exist ([`HistoryError::Missing`]); a database with an older schema is
    /// migrated when it can be written.
    pub fn open_existing(target: &(impl ToHistoryTarget + ?Sized)) -> Result<Self, HistoryError> {
        match target.to_history_target() {
            HistoryTarget::File(path) => SqliteFile::open_existing(&path).map(Self::from),
            HistoryTarget::Postgres(url) => super::postgres::open(url),
        }
    }

    /// Where the history is.
    pub fn target(&self) -> &HistoryTarget {
        &self.target
    }

    /// The SQLite file, when the history is one.
    pub fn path(&self) -> Option<&Path> {
        match &self.target {
            HistoryTarget::File(path) => Some(path),
            HistoryTarget::Postgres(_) => None,
        }
    }

    /// The SQLite connection, when the history is a file.
    pub(super) fn sqlite(&self) -> Option<&Connection> {
        match &self.db {
            Backend::Sqlite(conn) => Some(conn),
            Backend::Postgres(_) => None,
        }
    }

    /// A database error as the history reports it.
    pub(super) fn error(&self, error: impl Into<DbError>) -> HistoryError {
        error.into().at(&self.target)
    }

    /// Writes one run in one transaction and returns its row id. A run id already recorded is
    /// an error (the caller picks fresh ids).
    pub fn record(&mut self, run: &RunRecord) -> Result<i64, HistoryError> {
        let recorded = match &mut self.db {
            Backend::Sqlite(conn) => record_sqlite(conn, run).map_err(DbError::Sqlite),
            Backend::Postgres(client) => {
                super::postgres::record(client.get_mut(), run).map_err(DbError::Postgres)
            }
        };
        recorded.map_err(|e| e.at(&self.target))
    }

    /// The row id of the run recorded as `run_id`, if any.
    pub fn run_row(&self, run_id: &str) -> Result<Option<i64>, HistoryError> {
        self.db
            .query_opt(
                &Sql::both("SELECT id FROM runs WHERE run_uid = ?1"),
                &[run_id.into()],
                |row| row.int(0),
            )
            .map_err(|e| self.error(e))
    }
}

impl From<SqliteFile> for HistoryStore {
    fn from(file: SqliteFile) -> Self {
        Self {
            db: Backend::Sqlite(file.conn),
            target: HistoryTarget::File(file.path),
        }
    }
}

impl SqliteFile {
    /// Opens `path` for recording, creating the file (and its folder) when missing, and
    /// migrates its schema forward.
    fn open(path: &Path) -> Result<Self, HistoryError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| HistoryError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| HistoryError::from_sqlite(path, e))?;
        let store = Self {
            conn,
            path: path.to_owned(),
        };
        store.prepare(true)?;
        Ok(store)
    }

    /// Opens an existing `path` for reading. A database with an older schema is migrated when
    /// it can be written.
    fn open_existing(path: &Path) -> Result<Self, HistoryError> {
        if !path.exists() {
            return Err(HistoryError::Missing(path.to_owned()));
        }
        let writable = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if let Ok(conn) = Connection::open_with_flags(path, writable) {
            let store = Self {
                conn,
                path: path.to_owned(),
            };
            match store.prepare(true) {
                Err(HistoryError::ReadOnly { .. }) => {}
                other => return other.map(|()| store),
            }
        }
        let read_only = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, read_only)
            .map_err(|e| HistoryError::from_sqlite(path, e))?;
        let store = Self {
            conn,
            path: path.to_owned(),
        };
        store.prepare(false)?;
        Ok(store)
    }

    fn sqlite(&self, error: rusqlite::Error) -> HistoryError {
        HistoryError::from_sqlite(&self.path, error)
    }

    /// Busy timeout, WAL, foreign keys, and the schema brought up to date.
    fn prepare(&self, writable: bool) -> Result<(), HistoryError> {
        let conn = &self.conn;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.sqlite(e))?;
        // Reading the schema first tells a garbage file from a database before anything is
        // written to it.
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| self.sqlite(e))?;
        if version > SCHEMA_VERSION {
            return Err(HistoryError::NewerSchema {
                location: self.path.display().to_string(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| self.sqlite(e))?;
        if !writable {
            return match version {
                SCHEMA_VERSION => Ok(()),
                _ => Err(HistoryError::ReadOnly {
                    path: self.path.clone(),
                    source: rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
                        Some("the schema needs migrating".into()),
                    ),
                }),
            };
        }
        // Creating the file (the switch to WAL, the schema) holds the write lock that another
        // run starting at the same moment waits for. With syncing on, that took four fsyncs,
        // which on a machine busy writing to disk took longer than the busy timeout, and the
        // other run lost its history. An empty history needs no durability: sync only later.
        conn.pragma_update(None, "synchronous", "OFF")
            .map_err(|e| self.sqlite(e))?;
        // When WAL cannot be turned on (a folder that cannot hold the `-wal` file), SQLite keeps
        // its rollback journal, which still works: one writer at a time, within the timeout.
        if version == 0 {
            // Set before the first table, so that space freed by pruning can be given back
            // without rewriting the file (`prune.rs`); a no-op on a file that has tables.
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
                .map_err(|e| self.sqlite(e))?;
        }
        let mode = self.switch_to_wal()?;
        if mode.eq_ignore_ascii_case("wal") {
            self.keep_wal_files()?;
        }
        self.migrate(version)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| self.sqlite(e))
    }

    /// `PRAGMA journal_mode = WAL`, tried again while SQLite answers busy at once.
    ///
    /// Two runs opening a new file together both read its first page (rollback mode) and then
    /// both need the exclusive lock to mark it WAL. SQLite does not wait on that upgrade, since
    /// each holds the read lock the other waits for: one of them gets `SQLITE_BUSY` straight
    /// away, its read lock released. Trying again lets the other finish and then finds the file
    /// in WAL mode already.
    fn switch_to_wal(&self) -> Result<String, HistoryError> {
        let deadline = Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_millis(1);
        loop {
            match self
                .conn
                .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && Instant::now() + pause < deadline =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                other => return other.map_err(|e| self.sqlite(e)),
            }
        }
    }

    /// Makes the last connection to close leave the `-wal` and `-shm` files in place, the WAL
    /// emptied by the closing checkpoint and cut to nothing, instead of deleting them. The
    /// database file alone still holds every run, so copying it (a CI cache) loses nothing.
    ///
    /// Deleting them cost every run two inodes. On a journal-less ext4, an inode deleted less
    /// than 60 s ago (up to 360 s while its table block is unwritten) is skipped when a file is
    /// created, one lookup each: runs in quick succession made the next runs' step logs slower
    /// to create the more of them there had been (benches/README.md).
    fn keep_wal_files(&self) -> Result<(), HistoryError> {
        let mut keep: std::ffi::c_int = 1;
        // SAFETY: the handle is this open connection's, used on this thread only, and the
        // opcode reads and writes the one int it is given.
        let code = unsafe {
            rusqlite::ffi::sqlite3_file_control(
                self.conn.handle(),
                c"main".as_ptr(),
                rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
                (&raw mut keep).cast(),
            )
        };
        if code != rusqlite::ffi::SQLITE_OK {
            // Not fatal: the files are then deleted at close, as SQLite does by default.
            return Ok(());
        }
        self.conn
            .pragma_update(None, "journal_size_limit", 0)
            .map_err(|e| self.sqlite(e))
    }

    fn migrate(&self, seen: i64) -> Result<(), HistoryError> {
        if seen == SCHEMA_VERSION {
            return Ok(());
        }
        // Two processes may open a new file at once: take the write lock, then read the version
        // again, so only one of them migrates. Foreign keys are off meanwhile (they cannot be
        // switched inside a transaction): a migration that rebuilds a table drops the old one,
        // which must not delete the rows that refer to it. They are checked before committing.
        let conn = &self.conn;
        conn.pragma_update(None, "foreign_keys", false)
            .map_err(|e| self.sqlite(e))?;
        let result = conn.execute_batch("BEGIN IMMEDIATE").and_then(|()| {
            let migrated = (|| {
                let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
                for (index, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
                    conn.execute_batch(sql)?;
                    conn.pragma_update(None, "user_version", index as i64 + 1)?;
                }
                let dangling: i64 =
                    conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
                        row.get(0)
                    })?;
                if dangling != 0 {
                    return Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                        Some(format!("{dangling} rows refer to rows that are gone")),
                    ));
                }
                conn.execute_batch("COMMIT")
            })();
            if migrated.is_err() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            migrated
        });
        let restored = conn.pragma_update(None, "foreign_keys", true);
        result.and(restored).map_err(|e| self.sqlite(e))
    }
}

/// Writes `run` in one transaction, with foreign keys off for it: every row's parents are the
/// run's own, inserted just before it in the same transaction, so looking each one up again
/// (two B-tree searches a step) is work that cannot fail. They are on again after, whatever
/// the outcome.
fn record_sqlite(conn: &mut Connection, run: &RunRecord) -> rusqlite::Result<i64> {
    conn.pragma_update(None, "foreign_keys", false)?;
    let recorded = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .and_then(|tx| {
            let run_row = insert_run(&tx, run)?;
            tx.commit()?;
            Ok(run_row)
        });
    let restored = conn.pragma_update(None, "foreign_keys", true);
    let run_row = recorded?;
    restored?;
    Ok(run_row)
}

pub(super) fn insert_run(tx: &rusqlite::Transaction<'_>, run: &RunRecord) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO runs (run_uid, started_at_ms, finished_at_ms, git_commit, host, shard,
                           exit_status, interrupted, git_branch, label)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            run.run_id,
            unix_ms(run.started_at),
            unix_ms(run.finished_at),
            run.git_commit,
            run.host,
            run.shard,
            run.exit_status,
            run.interrupted,
            run.git_branch,
            run.label,
        ],
    )?;
    let run_row = tx.last_insert_rowid();
    let mut insert_suite = tx.prepare(
        "INSERT INTO suites (run_id, name, file, duration_us, kept_test_dir, setup)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut insert_step = tx.prepare(
        "INSERT INTO steps (run_id, suite_id, position, test_name, file, line, outcome, status,
                            duration_us, attempts, leftovers, log_path, skip_reason, output_tail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    let mut insert_check = tx.prepare(
        "INSERT INTO checks (step_id, position, kind, expected, actual, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for suite in &run.suites {
        insert_suite.execute(params![
            run_row,
            suite.name,
            suite.file,
            micros(suite.duration),
            suite.kept_test_dir,
            setup_json(&suite.setup),
        ])?;
        let suite_row = tx.last_insert_rowid();
        for (position, step) in suite.steps.iter().enumerate() {
            insert_step.execute(params![
                run_row,
                suite_row,
                position as i64,
                step.test_name,
                step.file,
                step.line,
                step.outcome.as_str(),
                step.status,
                micros(step.duration),
                step.attempts,
                step.leftovers,
                step.log_path,
                step.skip_reason,
                step.output_tail,
            ])?;
            let step_row = tx.last_insert_rowid();
            for (position, check) in step.checks.iter().enumerate() {
                insert_check.execute(params![
                    step_row,
                    position as i64,
                    check.kind,
                    check.expected,
                    check.actual,
                    check.message,
                ])?;
            }
        }
    }
    Ok(run_row)
}

/// A suite's setup records as stored: a JSON array, or NULL when there are none.
pub(super) fn setup_json(setup: &[super::record::SetupRecord]) -> Option<String> {
    (!setup.is_empty()).then(|| serde_json::to_string(setup).expect("records serialize"))
}

/// Milliseconds since the Unix epoch (0 before it).
pub(super) fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The time `ms` milliseconds after the Unix epoch.
pub(super) fn from_unix_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

/// Whole microseconds, saturating.
pub(super) fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// The duration of `us` microseconds.
pub(super) fn from_micros(us: i64) -> Duration {
    Duration::from_micros(us.max(0) as u64)
}
