//! The baselines of the deploy gates: each step's durations in the newest passing runs (runs
//! that exited 0: a run that broke a gate, or failed otherwise, never becomes a baseline),
//! of one git branch or label when asked.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::Duration;

use super::backend::Sql;
use super::error::HistoryError;
use super::store::{HistoryStore, from_micros};

/// How far back a gate's baseline of K runs is looked for: the newest 10·K passing runs of the
/// history, at least [`GATE_SCAN_MIN`] and at most [`GATE_SCAN_MAX`] of them. A step that
/// passed fewer times than asked in them has too little baseline. Reading stops early once
/// every step has its K; the window bounds the cost of a step that is not there (a new step):
/// about 1.3 µs a step row on SQLite (benches/gate.rs).
pub fn gate_scan_runs(runs: usize) -> usize {
    runs.saturating_mul(10).clamp(GATE_SCAN_MIN, GATE_SCAN_MAX)
}

/// The smallest window [`gate_scan_runs`] reads.
pub const GATE_SCAN_MIN: usize = 200;
/// The largest window [`gate_scan_runs`] reads.
pub const GATE_SCAN_MAX: usize = 500;

/// The passing results of the newest passing runs that match `$runs` (a condition on `runs`),
/// newest run first, sent as they are found so that the reader's early stop ends the work.
///
/// PostgreSQL reads the runs one at a time (a `LATERAL` join, each run's steps along the index
/// on (run, test name)). Written as SQLite's `IN`, or as a plain join, its planner may join
/// by hashing, read all of `steps` and sort the window before the first row: on a history
/// loaded faster than autovacuum analyzes it, 300 to 500 ms over 2 million steps. `OFFSET 0`
/// keeps it from flattening the subquery into such a join; the outer order is the runs'
/// index order, so nothing is sorted (benches/README.md).
macro_rules! passing_steps {
    ($runs:literal) => {
        Sql::each(
            concat!(
                "SELECT test_name, duration_us FROM steps
     WHERE run_id IN (SELECT id FROM runs WHERE ",
                $runs,
                "
                      ORDER BY id DESC LIMIT ?1)
       AND (outcome = 'passed' OR outcome = 'flaky' OR outcome = 'degraded')
     ORDER BY run_id DESC"
            ),
            concat!(
                "SELECT step.test_name, step.duration_us
     FROM (SELECT id FROM runs WHERE ",
                $runs,
                " ORDER BY id DESC LIMIT ?1) AS run
     CROSS JOIN LATERAL (
         SELECT test_name, duration_us FROM steps
         WHERE steps.run_id = run.id
           AND (outcome = 'passed' OR outcome = 'flaky' OR outcome = 'degraded')
         OFFSET 0) AS step
     ORDER BY run.id DESC"
            ),
        )
    };
}

/// Of every passing run.
const PASSING_STEPS: Sql = passing_steps!("exit_status = 0");
/// Of the passing runs of one branch (`?2`), along the index on (branch, id).
const PASSING_STEPS_OF_BRANCH: Sql = passing_steps!("git_branch = ?2 AND exit_status = 0");
/// Of the passing runs with one label (`?2`), along the index on (label, id).
const PASSING_STEPS_OF_LABEL: Sql = passing_steps!("label = ?2 AND exit_status = 0");
/// Of the passing runs of one branch (`?2`) with one label (`?3`).
const PASSING_STEPS_OF_BOTH: Sql =
    passing_steps!("git_branch = ?2 AND label = ?3 AND exit_status = 0");

/// Which runs may be a baseline besides passing ones: `--baseline branch:NAME`, `label:NAME`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only runs recorded on this git branch.
    pub branch: Option<String>,
    /// Only runs recorded with this `--label`.
    pub label: Option<String>,
}

impl HistoryStore {
    /// For each of `test_names`, the durations of its newest `runs` passing results (passed,
    /// degraded or flaky) in runs that passed, newest first, among the newest [`gate_scan_runs`] of them.
    /// Runs are read newest
    /// first along the index on (run, test name) and reading stops once every step has its
    /// `runs`: with every step in every run, that is `runs` runs' rows, whatever the history's
    /// length.
    pub fn passing_durations<'n>(
        &self,
        test_names: impl IntoIterator<Item = &'n str>,
        runs: usize,
    ) -> Result<HashMap<String, Vec<Duration>>, HistoryError> {
        self.passing_durations_of(test_names, runs, &RunFilter::default())
    }

    /// [`passing_durations`](Self::passing_durations) among the passing runs that `filter`
    /// lets through only (the window counts those runs alone).
    pub fn passing_durations_of<'n>(
        &self,
        test_names: impl IntoIterator<Item = &'n str>,
        runs: usize,
        filter: &RunFilter,
    ) -> Result<HashMap<String, Vec<Duration>>, HistoryError> {
        let mut found: HashMap<String, Vec<Duration>> = test_names
            .into_iter()
            .map(|name| (name.to_owned(), Vec::new()))
            .collect();
        let mut left = found.len();
        if left == 0 {
            return Ok(found);
        }
        let window = i64::try_from(gate_scan_runs(runs)).unwrap_or(i64::MAX);
        let (sql, params) = match (&filter.branch, &filter.label) {
            (None, None) => (&PASSING_STEPS, vec![window.into()]),
            (Some(branch), None) => (&PASSING_STEPS_OF_BRANCH, vec![window.into(), branch.into()]),
            (None, Some(label)) => (&PASSING_STEPS_OF_LABEL, vec![window.into(), label.into()]),
            (Some(branch), Some(label)) => (
                &PASSING_STEPS_OF_BOTH,
                vec![window.into(), branch.into(), label.into()],
            ),
        };
        self.db
            .for_each(sql, &params, |row| {
                let found = &mut found;
                let durations = row.with_str(0, move |name| {
                    name.and_then(|name| found.get_mut(name))
                        .filter(|durations| durations.len() < runs)
                })?;
                let Some(durations) = durations else {
                    return Ok(ControlFlow::Continue(()));
                };
                durations.push(from_micros(row.int(1)?));
                if durations.len() == runs {
                    left -= 1;
                }
                Ok(match left {
                    0 => ControlFlow::Break(()),
                    _ => ControlFlow::Continue(()),
                })
            })
            .map_err(|e| self.error(e))?;
        Ok(found)
    }
}
