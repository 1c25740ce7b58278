//! What the history keeps: runs up to a count and an age, older ones deleted, and the space
//! they held given back to the file system.
//!
//! After every run a few of the oldest surplus runs go (at most `budget`), so a history that
//! grew before it had limits shrinks over the next runs rather than in one long transaction;
//! `smoke-runner history prune` deletes every surplus run at once. Files made by this build
//! use `auto_vacuum = INCREMENTAL`, so freed pages can be handed back without rewriting the
//! file; a file made before is converted by the first `history prune` (one `VACUUM`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::params;

use super::backend::{Backend, DbError, Sql};
use super::error::HistoryError;
use super::postgres;
use super::store::HistoryStore;

/// How many runs, and how old, the history keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimits {
    /// The newest runs kept; older ones are deleted.
    pub max_runs: usize,
    /// Runs that started longer ago than this are deleted.
    pub max_age: Duration,
}

impl HistoryLimits {
    /// The newest `runs` runs, none older than `days` days (`--keep-history`,
    /// `--keep-history-days`).
    pub fn keeping(runs: u32, days: u32) -> Self {
        const DAY: Duration = Duration::from_secs(24 * 60 * 60);
        Self {
            max_runs: runs as usize,
            max_age: DAY * days,
        }
    }
}

/// What a prune did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Runs deleted.
    pub runs: usize,
    /// Runs still beyond the limits (left for later runs by the budget).
    pub left_over: usize,
    /// Pages given back to the file system.
    pub pages_freed: i64,
}

/// `auto_vacuum` value of incremental mode.
const INCREMENTAL: i64 = 2;

impl HistoryStore {
    /// Deletes the runs beyond `limits`, oldest first, at most `budget` of them (`None`: all),
    /// and gives back the space of the free pages when they are a quarter of the file or more
    /// (always, with `vacuum`: a file in another `auto_vacuum` mode is rewritten for it).
    pub fn prune(
        &mut self,
        limits: HistoryLimits,
        now: SystemTime,
        budget: Option<usize>,
        vacuum: bool,
    ) -> Result<Pruned, HistoryError> {
        let cutoff_ms = now
            .checked_sub(limits.max_age)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(i64::MIN, |d| {
                i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
            });
        let max_runs = i64::try_from(limits.max_runs).unwrap_or(i64::MAX);
        let Backend::Sqlite(conn) = &self.db else {
            return self.prune_postgres(max_runs, cutoff_ms, budget);
        };
        // The oldest surplus runs: past the newest `max_runs`, or started before the cutoff.
        let doomed: Vec<i64> = conn
            .prepare(
                "SELECT id FROM runs WHERE id IN
                     (SELECT id FROM runs ORDER BY started_at_ms DESC, id DESC LIMIT -1 OFFSET ?1)
                   OR started_at_ms < ?2
                 ORDER BY started_at_ms, id",
            )
            .and_then(|mut statement| {
                statement
                    .query_map(params![max_runs, cutoff_ms], |row| row.get(0))?
                    .collect()
            })
            .map_err(|e| self.sqlite_error(e))?;
        let take = budget.unwrap_or(usize::MAX).min(doomed.len());
        if take > 0 {
            self.delete_runs(&doomed[..take])?;
        }
        let pages_freed = self.give_back_space(vacuum)?;
        Ok(Pruned {
            runs: take,
            left_over: doomed.len() - take,
            pages_freed,
        })
    }

    /// [`HistoryStore::prune`] on PostgreSQL, whose autovacuum gives the space back.
    fn prune_postgres(
        &mut self,
        max_runs: i64,
        cutoff_ms: i64,
        budget: Option<usize>,
    ) -> Result<Pruned, HistoryError> {
        let Backend::Postgres(client) = &mut self.db else {
            return Ok(Pruned::default());
        };
        let client = client.get_mut();
        let pruned = postgres::doomed_runs(client, max_runs, cutoff_ms).and_then(|doomed| {
            let take = budget.unwrap_or(usize::MAX).min(doomed.len());
            if take > 0 {
                postgres::delete_runs(client, &doomed[..take])?;
            }
            Ok(Pruned {
                runs: take,
                left_over: doomed.len() - take,
                pages_freed: 0,
            })
        });
        pruned.map_err(|e| DbError::from(e).at(&self.target))
    }

    /// Deletes runs with their suites, steps and checks, in one transaction. The deletes name
    /// every table by an indexed key instead of leaving them to the foreign keys' cascades:
    /// deleting a suite makes SQLite look for its steps, and `steps` has no index by suite, so
    /// each deleted suite would scan the whole table.
    fn delete_runs(&mut self, runs: &[i64]) -> Result<(), HistoryError> {
        let Backend::Sqlite(conn) = &mut self.db else {
            return Ok(());
        };
        let path = self.target.to_string();
        let error = |e| HistoryError::from_sqlite(path.as_ref(), e);
        conn.pragma_update(None, "foreign_keys", false)
            .map_err(error)?;
        let deleted = (|| {
            let tx = conn.transaction()?;
            for run in runs {
                tx.execute(
                    "DELETE FROM checks WHERE step_id IN (SELECT id FROM steps WHERE run_id = ?1)",
                    [run],
                )?;
                tx.execute("DELETE FROM steps WHERE run_id = ?1", [run])?;
                tx.execute("DELETE FROM suites WHERE run_id = ?1", [run])?;
                tx.execute("DELETE FROM runs WHERE id = ?1", [run])?;
            }
            tx.commit()
        })();
        let restored = conn.pragma_update(None, "foreign_keys", true);
        deleted.and(restored).map_err(error)
    }

    /// Hands free pages back to the file system; how many.
    fn give_back_space(&self, vacuum: bool) -> Result<i64, HistoryError> {
        let Some(conn) = self.sqlite() else {
            return Ok(0);
        };
        let pragma = |name: &str| -> Result<i64, HistoryError> {
            conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
                .map_err(|e| self.sqlite_error(e))
        };
        let free = pragma("freelist_count")?;
        let mode = pragma("auto_vacuum")?;
        if vacuum && mode != INCREMENTAL {
            // Switching a file that has tables takes a VACUUM, which rewrites it whole.
            conn.pragma_update(None, "auto_vacuum", INCREMENTAL)
                .and_then(|()| conn.execute_batch("VACUUM"))
                .map_err(|e| self.sqlite_error(e))?;
            return Ok(free);
        }
        let pages = pragma("page_count")?;
        if mode != INCREMENTAL || free == 0 || !(vacuum || free * 4 >= pages) {
            // Below a quarter the free pages are reused by the next runs' records.
            return Ok(0);
        }
        conn.execute_batch("PRAGMA incremental_vacuum")
            .map_err(|e| self.sqlite_error(e))?;
        Ok(free - pragma("freelist_count")?)
    }

    /// How many runs the history holds.
    pub fn run_count(&self) -> Result<usize, HistoryError> {
        self.db
            .query_opt(&Sql::both("SELECT count(*) FROM runs"), &[], |row| {
                row.int(0)
            })
            .map(|n| n.and_then(|n| usize::try_from(n).ok()).unwrap_or(0))
            .map_err(|e| self.error(e))
    }

    fn sqlite_error(&self, error: rusqlite::Error) -> HistoryError {
        self.error(error)
    }
}
