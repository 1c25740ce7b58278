//! Reading the history: the last runs, flaky and slow steps, one step over time, the last run
//! in full, and the baselines behind the live report's hints.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::report::{BASELINE_RUNS, Baselines, BaselinesFeed, PastRun};

use super::backend::{DbError, DbRow, Param, Sql};
use super::error::HistoryError;
use super::record::{CheckRecord, Outcome, RunRecord, SetupRecord, StepRecord, SuiteRecord};
pub use super::stats::Trend;
use super::stats::{flips, median, p95, trend};
use super::store::{HistoryStore, from_micros, from_unix_ms};

/// How far back the hints look: a step's baselines come from the newest runs of the history,
/// this many, whichever steps they ran. A step that ran in none of them gets no hint.
pub const BASELINE_WINDOW: i64 = 50;

/// The results of the steps of the newest `?1` runs, newest run first: read from the index on
/// (run, test name, outcome, duration) alone.
pub(super) const RECENT_STEPS: Sql = Sql::both(
    "SELECT test_name, outcome, duration_us FROM steps
     WHERE run_id IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?1)
       AND outcome != 'skipped'
     ORDER BY run_id DESC",
);

/// One line of `history runs`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The run's id.
    pub run_id: String,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time in seconds.
    pub duration_s: f64,
    /// Steps that passed (on the first attempt), not degraded.
    pub passed: u32,
    /// Steps that passed (on the first attempt) but slower than their `warn_duration`.
    pub degraded: u32,
    /// Steps that passed on a retry.
    pub flaky: u32,
    /// Steps that failed.
    pub failed: u32,
    /// Steps that timed out.
    pub timed_out: u32,
    /// Steps that did not run.
    pub skipped: u32,
    /// smoke-runner's exit status.
    pub exit_status: i32,
    /// The shard(s), when sharded.
    pub shard: Option<String>,
    /// The commit, when run in a git repository.
    pub git_commit: Option<String>,
    /// The git branch, when known.
    pub git_branch: Option<String>,
    /// The run's `--label`.
    pub label: Option<String>,
    /// The host.
    pub host: Option<String>,
}

/// One line of `history flaky`.
#[derive(Debug, Clone, Serialize)]
pub struct FlakyStep {
    /// The step's test name.
    pub test_name: String,
    /// Its suite file and line (from the newest run).
    pub location: Option<String>,
    /// Runs in which it ran.
    pub runs: usize,
    /// Times the outcome changed from one run to the next.
    pub flips: usize,
    /// flips / (runs − 1).
    pub flip_rate: f64,
    /// Runs in which it failed or timed out.
    pub failures: usize,
    /// Its outcome in the newest run.
    pub last_outcome: Outcome,
}

/// One line of `history slow`.
#[derive(Debug, Clone, Serialize)]
pub struct SlowStep {
    /// The step's test name.
    pub test_name: String,
    /// Its suite file and line (from the newest run).
    pub location: Option<String>,
    /// Runs in which it ran.
    pub runs: usize,
    /// Median duration in seconds.
    pub median_s: f64,
    /// 95th percentile duration in seconds.
    pub p95_s: f64,
    /// Which way its duration is going.
    pub trend: Trend,
    /// The fitted change over the runs, as a fraction of the median (0.5 = +50 %).
    pub trend_change: f64,
}

/// One line of `history step NAME`.
#[derive(Debug, Clone, Serialize)]
pub struct StepHistoryEntry {
    /// The run's id.
    pub run_id: String,
    /// The run's start, RFC 3339 UTC.
    pub started_at: String,
    /// How the step ended.
    pub outcome: Outcome,
    /// Its duration in seconds.
    pub duration_s: f64,
    /// Attempts made.
    pub attempts: u32,
    /// How its process ended, in words.
    pub status: String,
    /// The run's git branch, when known.
    pub git_branch: Option<String>,
    /// The run's `--label`.
    pub label: Option<String>,
}

/// A step's outcomes and durations over the runs looked at, oldest first.
#[derive(Debug, Clone)]
pub struct StepSeries {
    /// The step's test name.
    pub test_name: String,
    /// `file:line` from the newest run that has one.
    pub location: Option<String>,
    /// One point per run in which the step appears, oldest first.
    pub points: Vec<SeriesPoint>,
}

/// A step in one run.
#[derive(Debug, Clone, Copy)]
pub struct SeriesPoint {
    /// Index of the run among the runs looked at, oldest first.
    pub run_index: usize,
    /// How the step ended.
    pub outcome: Outcome,
    /// How long it took.
    pub duration: Duration,
}

impl StepSeries {
    fn ran(&self) -> impl Iterator<Item = &SeriesPoint> {
        self.points.iter().filter(|p| p.outcome.ran())
    }
}

/// A step name given to `history step` that matches no step, or several.
#[derive(Debug, thiserror::Error)]
pub enum StepLookupError {
    /// The database failed.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// No recorded step has that name or contains it.
    #[error("no step named `{0}` in the history (`smoke-runner history slow` lists every step)")]
    NotFound(String),
    /// Several steps contain the text and none has exactly that name.
    #[error("`{name}` matches several steps; give one of them in full:\n  {}", .candidates.join("\n  "))]
    Ambiguous {
        /// What was asked for.
        name: String,
        /// The matching test names.
        candidates: Vec<String>,
    },
}

/// RFC 3339 in UTC, to the second.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

impl HistoryStore {
    /// The row ids and run ids of the newest `limit` runs, oldest first.
    fn recent_runs(&self, limit: usize) -> Result<Vec<(i64, String)>, HistoryError> {
        let mut runs = self
            .db
            .query(
                &Sql::both(
                    "SELECT id, run_uid FROM runs ORDER BY started_at_ms DESC, id DESC LIMIT ?1",
                ),
                &[count(limit)],
                |row| Ok((row.int(0)?, row.text(1)?)),
            )
            .map_err(|e| self.error(e))?;
        runs.reverse();
        Ok(runs)
    }

    /// The newest `limit` runs with their counts, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, HistoryError> {
        const RUNS: Sql = Sql::both(
            "SELECT r.run_uid, r.started_at_ms, r.finished_at_ms, r.exit_status, r.shard,
                    r.git_commit, r.host, r.git_branch, r.label,
                    COUNT(s.id) FILTER (WHERE s.outcome = 'passed'),
                    COUNT(s.id) FILTER (WHERE s.outcome = 'flaky'),
                    COUNT(s.id) FILTER (WHERE s.outcome = 'failed'),
                    COUNT(s.id) FILTER (WHERE s.outcome = 'timed_out'),
                    COUNT(s.id) FILTER (WHERE s.outcome = 'skipped'),
                    COUNT(s.id) FILTER (WHERE s.outcome = 'degraded')
             FROM runs r LEFT JOIN steps s ON s.run_id = r.id
             GROUP BY r.id
             ORDER BY r.started_at_ms DESC, r.id DESC
             LIMIT ?1",
        );
        self.db
            .query(&RUNS, &[count(limit)], |row| {
                let started = row.int(1)?;
                let finished = row.int(2)?;
                Ok(RunSummary {
                    run_id: row.text(0)?,
                    started_at: rfc3339(from_unix_ms(started)),
                    duration_s: (finished - started).max(0) as f64 / 1000.0,
                    exit_status: row.i32(3)?,
                    shard: row.opt_text(4)?,
                    git_commit: row.opt_text(5)?,
                    host: row.opt_text(6)?,
                    git_branch: row.opt_text(7)?,
                    label: row.opt_text(8)?,
                    passed: row.u32(9)?,
                    flaky: row.u32(10)?,
                    failed: row.u32(11)?,
                    timed_out: row.u32(12)?,
                    skipped: row.u32(13)?,
                    degraded: row.u32(14)?,
                })
            })
            .map_err(|e| self.error(e))
    }

    /// Every step's outcomes and durations over the newest `limit` runs, and those runs' ids
    /// (oldest first). Steps are in the order of the newest run that has them.
    pub fn series(&self, limit: usize) -> Result<(Vec<String>, Vec<StepSeries>), HistoryError> {
        const STEPS: Sql = Sql::both(
            "SELECT run_id, test_name, file, line, outcome, duration_us FROM steps
             WHERE run_id IN (SELECT id FROM runs
                              ORDER BY started_at_ms DESC, id DESC LIMIT ?1)
             ORDER BY run_id, suite_id, position",
        );
        let runs = self.recent_runs(limit)?;
        if runs.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let index: HashMap<i64, usize> = (runs.iter().enumerate())
            .map(|(i, (row, _))| (*row, i))
            .collect();
        let mut by_name: HashMap<String, StepSeries> = HashMap::new();
        let mut order: Vec<(usize, usize, String)> = Vec::new();
        let mut position = 0;
        self.db
            .for_each(&STEPS, &[count(limit)], |row| {
                position += 1;
                let Some(&run_index) = index.get(&row.int(0)?) else {
                    return Ok(ControlFlow::Continue(()));
                };
                let name = row.text(1)?;
                let series = by_name.entry(name.clone()).or_insert_with(|| StepSeries {
                    test_name: name.clone(),
                    location: None,
                    points: Vec::new(),
                });
                if let Some(file) = row.opt_text(2)? {
                    series.location = Some(match row.opt_int(3)? {
                        Some(line) => format!("{file}:{line}"),
                        None => file,
                    });
                }
                series.points.push(SeriesPoint {
                    run_index,
                    outcome: outcome(&row.text(4)?),
                    duration: from_micros(row.int(5)?),
                });
                order.push((run_index, position, name));
                Ok(ControlFlow::Continue(()))
            })
            .map_err(|e| self.error(e))?;
        for series in by_name.values_mut() {
            series.points.sort_by_key(|p| p.run_index);
        }
        // Newest run first decides the order; steps gone from it follow in their own order.
        order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut steps = Vec::with_capacity(by_name.len());
        for (_, _, name) in order {
            if let Some(series) = by_name.remove(&name) {
                steps.push(series);
            }
        }
        Ok((runs.into_iter().map(|(_, id)| id).collect(), steps))
    }

    /// Steps whose outcome changed over the newest `limit` runs, most flips first.
    pub fn flaky(&self, limit: usize) -> Result<Vec<FlakyStep>, HistoryError> {
        let (_, series) = self.series(limit)?;
        let mut flaky: Vec<FlakyStep> = series
            .into_iter()
            .filter_map(|s| {
                let outcomes: Vec<Outcome> = s.ran().map(|p| p.outcome).collect();
                let (flips, flip_rate) = flips(&outcomes)?;
                let last_outcome = *outcomes.last()?;
                (flips > 0).then(|| FlakyStep {
                    runs: outcomes.len(),
                    flips,
                    flip_rate,
                    failures: outcomes.iter().filter(|o| o.is_fail()).count(),
                    last_outcome,
                    location: s.location,
                    test_name: s.test_name,
                })
            })
            .collect();
        flaky.sort_by(|a, b| {
            b.flip_rate
                .total_cmp(&a.flip_rate)
                .then(b.failures.cmp(&a.failures))
                .then(a.test_name.cmp(&b.test_name))
        });
        Ok(flaky)
    }

    /// Steps by median duration over the newest `limit` runs, slowest first.
    pub fn slow(&self, limit: usize) -> Result<Vec<SlowStep>, HistoryError> {
        let (_, series) = self.series(limit)?;
        let mut slow: Vec<SlowStep> = series
            .into_iter()
            .filter_map(|s| {
                let durations: Vec<Duration> = s.ran().map(|p| p.duration).collect();
                let median = median(&durations)?;
                let (trend, trend_change) = trend(&durations);
                Some(SlowStep {
                    runs: durations.len(),
                    median_s: median.as_secs_f64(),
                    p95_s: p95(&durations)?.as_secs_f64(),
                    trend,
                    trend_change,
                    location: s.location,
                    test_name: s.test_name,
                })
            })
            .collect();
        slow.sort_by(|a, b| {
            b.median_s
                .total_cmp(&a.median_s)
                .then(a.test_name.cmp(&b.test_name))
        });
        Ok(slow)
    }

    /// One step over the newest `limit` runs it appears in, oldest first. `name` is a test
    /// name, or text that only one recorded test name contains.
    pub fn step(
        &self,
        name: &str,
        limit: usize,
    ) -> Result<(String, Vec<StepHistoryEntry>), StepLookupError> {
        const STEP: Sql = Sql::both(
            "SELECT r.run_uid, r.started_at_ms, s.outcome, s.duration_us, s.attempts, s.status,
                    r.git_branch, r.label
             FROM steps s JOIN runs r ON r.id = s.run_id
             WHERE s.test_name = ?1
             ORDER BY r.started_at_ms DESC, r.id DESC LIMIT ?2",
        );
        let test_name = self.resolve_step_name(name)?;
        let mut entries = self
            .db
            .query(&STEP, &[(&test_name).into(), count(limit)], |row| {
                Ok(StepHistoryEntry {
                    run_id: row.text(0)?,
                    started_at: rfc3339(from_unix_ms(row.int(1)?)),
                    outcome: outcome(&row.text(2)?),
                    duration_s: from_micros(row.int(3)?).as_secs_f64(),
                    attempts: row.u32(4)?,
                    status: row.text(5)?,
                    git_branch: row.opt_text(6)?,
                    label: row.opt_text(7)?,
                })
            })
            .map_err(|e| self.error(e))?;
        entries.reverse();
        Ok((test_name, entries))
    }

    fn resolve_step_name(&self, name: &str) -> Result<String, StepLookupError> {
        // Sorted bytewise in both, whatever the PostgreSQL database's collation.
        const CANDIDATES: Sql = Sql::each(
            "SELECT DISTINCT test_name FROM steps
             WHERE instr(test_name, ?1) > 0 ORDER BY test_name LIMIT 50",
            "SELECT DISTINCT test_name COLLATE \"C\" FROM steps
             WHERE strpos(test_name, ?1) > 0 ORDER BY 1 LIMIT 50",
        );
        let candidates: Vec<String> = self
            .db
            .query(&CANDIDATES, &[name.into()], |row| row.text(0))
            .map_err(|e| self.error(e))?;
        if candidates.iter().any(|c| c == name) {
            return Ok(name.to_owned());
        }
        match candidates.len() {
            0 => Err(StepLookupError::NotFound(name.to_owned())),
            1 => Ok(candidates.into_iter().next().unwrap_or_default()),
            _ => Err(StepLookupError::Ambiguous {
                name: name.to_owned(),
                candidates,
            }),
        }
    }

    /// The newest run, in full.
    pub fn last_run(&self) -> Result<Option<RunRecord>, HistoryError> {
        match self.recent_runs(1)?.first() {
            Some(&(row, _)) => self.load_run(row).map(Some),
            None => Ok(None),
        }
    }

    /// The run stored under row `row`, in full.
    pub fn load_run(&self, row: i64) -> Result<RunRecord, HistoryError> {
        const RUN: Sql = Sql::both(
            "SELECT run_uid, started_at_ms, finished_at_ms, git_commit, host, shard,
                    exit_status, interrupted, git_branch, label FROM runs WHERE id = ?1",
        );
        const SUITES: Sql = Sql::both(
            "SELECT id, name, file, duration_us, kept_test_dir, setup FROM suites
             WHERE run_id = ?1 ORDER BY id",
        );
        let read_run = |r: &DbRow<'_>| {
            Ok(RunRecord {
                run_id: r.text(0)?,
                started_at: from_unix_ms(r.int(1)?),
                finished_at: from_unix_ms(r.int(2)?),
                git_commit: r.opt_text(3)?,
                host: r.opt_text(4)?,
                shard: r.opt_text(5)?,
                exit_status: r.i32(6)?,
                interrupted: r.bool(7)?,
                git_branch: r.opt_text(8)?,
                label: r.opt_text(9)?,
                suites: Vec::new(),
            })
        };
        let mut run = self
            .db
            .query_opt(&RUN, &[row.into()], read_run)
            .map_err(|e| self.error(e))?
            .ok_or_else(|| self.error(DbError::Value(format!("no run with row id {row}"))))?;
        let suites = self
            .db
            .query(&SUITES, &[row.into()], |r| {
                Ok((
                    r.int(0)?,
                    SuiteRecord {
                        name: r.text(1)?,
                        file: r.opt_text(2)?,
                        duration: from_micros(r.int(3)?),
                        kept_test_dir: r.opt_text(4)?,
                        steps: Vec::new(),
                        setup: setup_records(r.opt_text(5)?.as_deref()),
                    },
                ))
            })
            .map_err(|e| self.error(e))?;
        for (suite_row, mut suite) in suites {
            suite.steps = self.load_steps(suite_row)?;
            run.suites.push(suite);
        }
        Ok(run)
    }

    /// The steps of the suite stored under row `suite_row`, with their failed checks.
    fn load_steps(&self, suite_row: i64) -> Result<Vec<StepRecord>, HistoryError> {
        const STEPS: Sql = Sql::both(
            "SELECT id, test_name, file, line, outcome, status, duration_us, attempts,
                    leftovers, log_path, skip_reason, output_tail
             FROM steps WHERE suite_id = ?1 ORDER BY position",
        );
        const CHECKS: Sql = Sql::both(
            "SELECT kind, expected, actual, message FROM checks
             WHERE step_id = ?1 ORDER BY position",
        );
        let steps = self
            .db
            .query(&STEPS, &[suite_row.into()], |r| {
                Ok((
                    r.int(0)?,
                    StepRecord {
                        test_name: r.text(1)?,
                        file: r.opt_text(2)?,
                        line: r.opt_u32(3)?,
                        outcome: outcome(&r.text(4)?),
                        status: r.text(5)?,
                        duration: from_micros(r.int(6)?),
                        attempts: r.u32(7)?,
                        leftovers: r.u32(8)?,
                        log_path: r.opt_text(9)?,
                        skip_reason: r.opt_text(10)?,
                        output_tail: r.text(11)?,
                        checks: Vec::new(),
                    },
                ))
            })
            .map_err(|e| self.error(e))?;
        let mut loaded = Vec::with_capacity(steps.len());
        for (step_row, mut step) in steps {
            step.checks = self
                .db
                .query(&CHECKS, &[step_row.into()], |r| {
                    Ok(CheckRecord {
                        kind: r.opt_text(0)?,
                        expected: r.opt_text(1)?,
                        actual: r.opt_text(2)?,
                        message: r.text(3)?,
                    })
                })
                .map_err(|e| self.error(e))?;
            loaded.push(step);
        }
        Ok(loaded)
    }

    /// The last [`BASELINE_RUNS`] recorded runs in which each of `test_names` ran, among the
    /// newest [`BASELINE_WINDOW`] runs, for the live report's hints. Reads those runs' steps
    /// in order, so the cost is bounded by the window, not by the history's length.
    pub fn baselines<'n>(
        &self,
        test_names: impl IntoIterator<Item = &'n str>,
    ) -> Result<Baselines, HistoryError> {
        let (baselines, feed) = Baselines::loading();
        self.feed_baselines(test_names, &feed)?;
        Ok(baselines)
    }

    /// [`HistoryStore::baselines`], handed to `feed` step by step: a step's as soon as its last
    /// [`BASELINE_RUNS`] runs are read (after the newest ten runs, when every run ran it), the
    /// rest once the window is read. Runs are read newest first, each along the index on
    /// (run, test name), where the rows of a run lie together.
    pub fn feed_baselines<'n>(
        &self,
        test_names: impl IntoIterator<Item = &'n str>,
        feed: &BaselinesFeed,
    ) -> Result<(), HistoryError> {
        // Each wanted name with its runs so far, newest first; `None` once fed.
        let mut wanted: HashMap<&str, Option<Vec<PastRun>>> = HashMap::new();
        let mut order = Vec::new();
        for name in test_names {
            if wanted.insert(name, Some(Vec::new())).is_none() {
                order.push(name);
            }
        }
        let mut left = order.len();
        if left > 0 {
            self.db
                .for_each(&RECENT_STEPS, &[BASELINE_WINDOW.into()], |row| {
                    let found = row.with_str(0, |name| {
                        name.and_then(|name| wanted.get_key_value(name))
                            .map(|(name, _)| *name)
                    })?;
                    let Some(name) = found else {
                        return Ok(ControlFlow::Continue(()));
                    };
                    let Some(Some(runs)) = wanted.get_mut(name) else {
                        return Ok(ControlFlow::Continue(()));
                    };
                    let passed = row.with_str(1, |outcome| {
                        outcome
                            .and_then(Outcome::from_name)
                            .is_some_and(Outcome::is_pass)
                    })?;
                    runs.push(PastRun {
                        passed,
                        duration: from_micros(row.int(2)?),
                    });
                    if runs.len() == BASELINE_RUNS {
                        let mut runs = std::mem::take(runs);
                        wanted.insert(name, None);
                        runs.reverse();
                        feed.add(name.to_owned(), runs);
                        left -= 1;
                    }
                    Ok(match left {
                        0 => ControlFlow::Break(()),
                        _ => ControlFlow::Continue(()),
                    })
                })
                .map_err(|e| self.error(e))?;
        }
        for name in order {
            if let Some(Some(mut runs)) = wanted.remove(name) {
                runs.reverse();
                feed.add(name.to_owned(), runs);
            }
        }
        Ok(())
    }

    /// The suites (their file, else their name) with a step that failed or timed out in the
    /// newest run; `None` when no run is recorded.
    pub fn last_failed_suites(&self) -> Result<Option<Vec<String>>, HistoryError> {
        const FAILED_SUITES: Sql = Sql::both(
            "SELECT COALESCE(su.file, su.name) FROM suites su
             JOIN steps s ON s.suite_id = su.id
             WHERE su.run_id = ?1 AND s.outcome IN ('failed', 'timed_out')
             GROUP BY COALESCE(su.file, su.name)
             ORDER BY MIN(su.id)",
        );
        let Some(&(row, _)) = self.recent_runs(1)?.first() else {
            return Ok(None);
        };
        self.db
            .query(&FAILED_SUITES, &[row.into()], |r| r.text(0))
            .map(Some)
            .map_err(|e| self.error(e))
    }

    /// The test names that failed or timed out in the newest run, and that run's id.
    pub fn last_failed(&self) -> Result<Option<(String, Vec<String>)>, HistoryError> {
        const FAILED: Sql = Sql::both(
            "SELECT test_name FROM steps WHERE run_id = ?1
               AND outcome IN ('failed', 'timed_out') ORDER BY suite_id, position",
        );
        let Some((row, run_id)) = self.recent_runs(1)?.pop() else {
            return Ok(None);
        };
        let names = self
            .db
            .query(&FAILED, &[row.into()], |r| r.text(0))
            .map_err(|e| self.error(e))?;
        Ok(Some((run_id, names)))
    }
}

/// A count or limit as a statement's parameter.
/// One line of `history setup`: a requirement looked at or a moment of a service's life.
#[derive(Debug, Clone, Serialize)]
pub struct SetupEntry {
    /// The run's id.
    pub run_id: String,
    /// The run's start, RFC 3339 UTC.
    pub started_at: String,
    /// The suite's name.
    pub suite: String,
    /// `requirement_checked`, `service_started`, `service_healthy`, `service_failed`,
    /// `service_stopped`.
    pub event: String,
    /// The requirement or the service.
    pub name: String,
    /// Whether it went well (met, started, healthy, stopped).
    pub ok: bool,
    /// Seconds: looking at a requirement; for a service, from its start.
    pub duration_s: f64,
    /// The reason, command, failure or end, when there is one.
    pub detail: Option<String>,
}

impl HistoryStore {
    /// The setup of the newest `runs` runs (requirements and services), newest run first,
    /// each suite's in the order it happened.
    pub fn setup(&self, runs: usize) -> Result<Vec<SetupEntry>, HistoryError> {
        const SETUP: Sql = Sql::both(
            "SELECT r.run_uid, r.started_at_ms, s.name, s.setup
             FROM suites s JOIN runs r ON r.id = s.run_id
             WHERE s.setup IS NOT NULL
               AND r.id IN (SELECT id FROM runs ORDER BY started_at_ms DESC, id DESC LIMIT ?1)
             ORDER BY r.started_at_ms DESC, r.id DESC, s.id",
        );
        let suites = self
            .db
            .query(&SETUP, &[count(runs)], |r| {
                Ok((
                    r.text(0)?,
                    rfc3339(from_unix_ms(r.int(1)?)),
                    r.text(2)?,
                    setup_records(r.opt_text(3)?.as_deref()),
                ))
            })
            .map_err(|e| self.error(e))?;
        Ok(suites
            .into_iter()
            .flat_map(|(run_id, started_at, suite, records)| {
                records.into_iter().map(move |record| SetupEntry {
                    run_id: run_id.clone(),
                    started_at: started_at.clone(),
                    suite: suite.clone(),
                    event: record.event,
                    name: record.name,
                    ok: record.ok,
                    duration_s: record.duration_us as f64 / 1e6,
                    detail: record.detail,
                })
            })
            .collect())
    }
}

/// A suite's stored setup records; none when there are none or they cannot be read (a history
/// written by a later version may hold more than this one knows).
fn setup_records(json: Option<&str>) -> Vec<SetupRecord> {
    json.and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

fn count(n: usize) -> Param<'static> {
    Param::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// An outcome as stored; an unknown word (a newer build's) reads as skipped.
fn outcome(name: &str) -> Outcome {
    Outcome::from_name(name).unwrap_or(Outcome::Skipped)
}
