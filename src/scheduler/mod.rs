//! The scheduler: decides what runs when, runs it through the executor, judges the outcomes
//! with the assertions, and emits events. It never prints.

mod exclusive;
mod filterset;
mod fixture_copy;
mod log_retention;
mod run;
mod selection;
mod services;
mod sink;
mod step_command;
mod step_log;
mod suite_run;
mod test_dir;

pub use filterset::{FilterError, Filterset};
pub use fixture_copy::CopyError;
pub use log_retention::{
    LogLimits, LogsPruned, is_run_id, prune_before_run, prune_step_logs, run_folders,
    settle_after_run,
};
pub use run::run;
pub use selection::{Filter, Selection};
pub use sink::{EventSink, Fanout, ReportFailure, ReportThread, Subscriber};
pub use step_command::step_timeout;
pub use step_log::{INDEX_SUFFIX, IndexEntry, read_index, read_part};
pub use test_dir::TestDir;
