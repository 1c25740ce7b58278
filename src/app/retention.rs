//! What runs leave on disk, bounded: after a run's report, a few of the oldest surplus runs
//! of the step logs and the history are deleted; `smoke-runner history prune` deletes all of
//! them at once and gives the history's space back.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::config::RetentionArgs;
use crate::history::{HistoryError, HistoryLimits, HistoryStore, HistoryTarget};
use crate::scheduler::{LogLimits, LogsPruned, prune_step_logs};

use super::exit::{EXIT_FAILED, EXIT_OK};

/// After a run, at most this many old runs are deleted from the step logs, and from the
/// history: a backlog (a log folder from before the limits) shrinks by this many a run, so no
/// run pays for deleting thousands of files, which on a journal-less ext4 also slows creating
/// files for minutes (benches/README.md).
pub(super) const AFTER_RUN_BUDGET: usize = 2;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The history's limits from the settings.
pub(super) fn history_limits(args: &RetentionArgs) -> HistoryLimits {
    HistoryLimits {
        max_runs: args.keep_history as usize,
        max_age: DAY * args.keep_history_days,
    }
}

fn log_limits(args: &RetentionArgs) -> LogLimits {
    LogLimits {
        max_runs: args.keep_logs as usize,
        max_bytes: args.max_log_size,
    }
}

/// After the run `run_id`'s report: the oldest surplus run folders under `root`, a few.
pub(super) fn prune_logs_after_run(root: &Path, run_id: &str, args: &RetentionArgs) {
    match prune_step_logs(root, Some(run_id), log_limits(args), Some(AFTER_RUN_BUDGET)) {
        Ok(pruned) => warn_about(root, &pruned),
        Err(error) => {
            stderr_line!(
                "warning: cannot delete old step logs in {}: {error}",
                root.display()
            );
        }
    }
}

fn warn_about(root: &Path, pruned: &LogsPruned) {
    for (run, error) in &pruned.errors {
        stderr_line!(
            "warning: cannot delete old step logs {}: {error}",
            root.join(run).display()
        );
    }
}

/// After a run is recorded: the oldest surplus runs of the history, a few.
pub(super) fn prune_history_after_run(store: &mut HistoryStore, args: &RetentionArgs) {
    let limits = history_limits(args);
    if let Err(error) = store.prune(limits, SystemTime::now(), Some(AFTER_RUN_BUDGET), false) {
        stderr_line!("warning: cannot delete old runs from the run history: {error}");
    }
}

/// `smoke-runner history prune`: every surplus run, in the history at `history` and the step
/// logs under `log_dir`; the history's free space given back.
pub(super) fn prune_main(history: &HistoryTarget, log_dir: &Path, args: &RetentionArgs) -> i32 {
    let mut status = EXIT_OK;
    match prune_step_logs(log_dir, None, log_limits(args), None) {
        Ok(pruned) => {
            warn_about(log_dir, &pruned);
            if !pruned.errors.is_empty() {
                status = EXIT_FAILED;
            }
            stdout_line!(
                "→ Step logs ({}): deleted {} run(s), {}; keeping the newest {} up to {}",
                log_dir.display(),
                pruned.runs,
                approx_size(pruned.bytes),
                args.keep_logs,
                approx_size(args.max_log_size)
            );
        }
        Err(error) => {
            stderr_line!(
                "error: cannot prune step logs in {}: {error}",
                log_dir.display()
            );
            status = EXIT_FAILED;
        }
    }
    // A file's size before and after; a server's is its own business.
    let size = || match history {
        HistoryTarget::File(path) => Some(std::fs::metadata(path).map_or(0, |m| m.len())),
        HistoryTarget::Postgres(_) => None,
    };
    let before = size();
    let pruned = HistoryStore::open_existing(history).and_then(|mut store| {
        let pruned = store.prune(history_limits(args), SystemTime::now(), None, true)?;
        Ok((pruned, store.run_count()?))
    });
    match pruned {
        Ok((pruned, kept)) => {
            let sizes = match (before, size()) {
                (Some(before), Some(after)) => {
                    format!("; file {} → {}", approx_size(before), approx_size(after))
                }
                _ => String::new(),
            };
            stdout_line!(
                "→ History ({history}): deleted {} run(s), kept {kept}{sizes}",
                pruned.runs,
            );
        }
        Err(HistoryError::Missing(_)) => {
            stdout_line!("→ History ({history}): no such file, nothing to prune");
        }
        Err(error) => {
            stderr_line!("error: {error}");
            status = EXIT_FAILED;
        }
    }
    status
}

/// `3.4 MiB`, `812.0 KiB`, `96 bytes`.
fn approx_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
