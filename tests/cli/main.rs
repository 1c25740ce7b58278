//! The integration tests: the `smoke-runner` binary driven as users drive it.
//!
//! One test binary, themed modules. `support` holds the builders; `fake-program` (an example
//! target, `tests/fake_program.rs`) is the process the executor tests run.

mod baselines;
mod budgets;
mod engine;
mod exec;
mod executor_api;
mod filterset;
mod fixtures;
mod gates;
mod golden;
mod harness;
mod history;
mod import;
mod interactive;
mod interrupt;
mod libtest;
mod live_progress;
#[path = "../pg_server/mod.rs"]
mod pg_server;
mod plandex;
mod postgres_history;
mod process_checks;
mod properties;
mod regression;
mod reports;
mod retention;
mod retry_backoff;
mod run;
mod serve;
mod services;
mod setup_events;
mod setup_runs;
mod snapshots;
mod suite_errors;
mod suite_keys;
mod summary_counts;
mod support;
mod tap;
