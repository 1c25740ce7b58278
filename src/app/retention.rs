//! What runs leave on disk, bounded: while a run goes on, a few of the oldest surplus runs of
//! the step logs (on a thread of their own) and of the history (on the history's thread) are
//! deleted, room left for the run; after it, only the run's own log size is checked against
//! the cap. `smoke-runner history prune` deletes all of them at once and gives the history's
//! space back.

use std::io;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::SystemTime;

use crate::config::RetentionArgs;
use crate::history::{HistoryError, HistoryLimits, HistoryStore, HistoryTarget};
use crate::scheduler::{
    LogLimits, LogsPruned, prune_before_run, prune_step_logs, settle_after_run,
};

use super::exit::{EXIT_FAILED, EXIT_OK};

/// A run deletes at most this many old runs from the step logs, and from the
/// history: a backlog (a log folder from before the limits) shrinks by this many a run, so no
/// run pays for deleting thousands of files, which on a journal-less ext4 also slows creating
/// files for minutes (benches/README.md).
pub(super) const RUN_BUDGET: usize = 2;

/// The history's limits from the settings.
pub(super) fn history_limits(args: &RetentionArgs) -> HistoryLimits {
    HistoryLimits::keeping(args.keep_history, args.keep_history_days)
}

fn log_limits(args: &RetentionArgs) -> LogLimits {
    LogLimits {
        max_runs: args.keep_logs as usize,
        max_bytes: args.max_log_size,
    }
}

/// The step logs' retention around one run: the oldest surplus run folders under `root` are
/// deleted on a thread of its own while the run goes on (a few), and [`LogRetention::finish`]
/// checks after the run that it did not take the folder past its size limit.
pub(super) struct LogRetention {
    root: PathBuf,
    run_id: String,
    limits: LogLimits,
    before: Option<JoinHandle<io::Result<LogsPruned>>>,
}

impl LogRetention {
    /// Starts deleting, beside the run `run_id`, what the step logs under `root` hold beyond
    /// `args`' limits.
    pub(super) fn start(root: &Path, run_id: &str, args: &RetentionArgs) -> Self {
        let (root, run_id, limits) = (root.to_owned(), run_id.to_owned(), log_limits(args));
        let work = {
            let (root, run_id) = (root.clone(), run_id.clone());
            move || prune_before_run(&root, &run_id, limits, Some(RUN_BUDGET))
        };
        let before = std::thread::Builder::new()
            .name("log retention".into())
            .spawn(work)
            .inspect_err(|error| {
                stderr_line!("warning: old step logs are kept: cannot start a thread: {error}");
            })
            .ok();
        Self {
            root,
            run_id,
            limits,
            before,
        }
    }

    /// After the run's report: waits for the deleting, says what failed, and deletes more when
    /// this run took the folder past its size limit.
    pub(super) fn finish(self) {
        let Some(thread) = self.before else {
            return;
        };
        let before = match thread.join() {
            Ok(Ok(pruned)) => pruned,
            Ok(Err(error)) => return warn_cannot_delete(&self.root, &error),
            Err(_) => {
                return warn_cannot_delete(&self.root, &io::Error::other("its thread failed"));
            }
        };
        warn_about(&self.root, &before);
        let limits = self.limits;
        match settle_after_run(&self.root, &self.run_id, limits, &before, Some(RUN_BUDGET)) {
            Ok(after) => warn_about(&self.root, &after),
            Err(error) => warn_cannot_delete(&self.root, &error),
        }
    }
}

fn warn_cannot_delete(root: &Path, error: &io::Error) {
    stderr_line!(
        "warning: cannot delete old step logs in {}: {error}",
        root.display()
    );
}

fn warn_about(root: &Path, pruned: &LogsPruned) {
    for (run, error) in &pruned.errors {
        stderr_line!(
            "warning: cannot delete old step logs {}: {error}",
            root.join(run).display()
        );
    }
}

/// While a run goes on, before it is recorded: the oldest surplus runs of the history, a few,
/// counting the run among those kept (its own record comes after).
pub(super) fn prune_history_before_run(store: &mut HistoryStore, limits: HistoryLimits) {
    let limits = HistoryLimits {
        max_runs: limits.max_runs.saturating_sub(1),
        ..limits
    };
    if let Err(error) = store.prune(limits, SystemTime::now(), Some(RUN_BUDGET), false) {
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
