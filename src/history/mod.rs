//! Run history: every run recorded in an embedded SQLite database (or a PostgreSQL database
//! shared by many machines, `backend.rs`), and what can be learned
//! from it — flaky steps, slowing steps, one step over time, the baselines behind the live
//! report's hints, and a self-contained HTML report.
//!
//! This module owns the database (schema, forward migrations, concurrent writers) and the
//! queries on it. It never prints and never runs commands; the glue in `app/history.rs` does.
//! A history that cannot be opened or written must never fail or slow a run: every error here
//! is a [`HistoryError`] the caller turns into a one-line warning.

mod backend;
mod error;
mod gate_baseline;
mod git_head;
mod html;
mod html_trend;
mod import;
mod location;
mod postgres;
mod prune;
mod queries;
mod record;
mod recorder;
mod stats;
mod store;

pub use error::HistoryError;
pub use gate_baseline::{GATE_SCAN_MAX, GATE_SCAN_MIN, RunFilter, gate_scan_runs};
pub use git_head::{find_git_dir, head_branch, head_commit, is_branch_name};
pub(crate) use html::escape as escape_html;
pub use html::{HtmlOptions, render_html};
pub use import::{ImportError, import_events};
pub use location::{
    DEFAULT_HISTORY_FILE, HISTORY_ENV, HISTORY_PASSWORD, HistoryLocation, HistoryTarget,
    PostgresUrl, ToHistoryTarget, history_password_masks, short_password_note,
};
pub use postgres::{CONNECT_TIMEOUT, POSTGRES_SCHEMA_VERSION};
pub use prune::{HistoryLimits, Pruned};
pub use queries::{FlakyStep, RunSummary, SetupEntry, SlowStep, StepHistoryEntry, Trend};
pub use record::{CheckRecord, Outcome, RunRecord, SetupRecord, StepRecord, SuiteRecord};
pub use recorder::{HistoryConsumer, RunMeta, RunRecorder};
pub use stats::{median, p95};
pub use store::{BUSY_TIMEOUT, HistoryStore, SCHEMA_VERSION};

#[cfg(test)]
mod tests;
