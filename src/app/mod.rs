//! The command-line front ends: suites with the human or libtest report, `exec`, `import`,
//! `history` and `report`.
//!
//! Glue only: settings in, library calls, an exit status out (by the one policy in
//! [`exit`](RunEnd)).

mod exec;
mod exit;
mod history;
mod import;
mod report_output;
mod run;

pub use exec::exec_main;
pub use exit::{EXEC_RUNNER_FAILED, EXIT_FAILED, EXIT_OK, EXIT_REPORT_FAILED, EXIT_USAGE, RunEnd};
pub use history::{history_main, report_main};
pub use import::import_main;
pub use run::{run_main, run_suites, run_suites_with};
