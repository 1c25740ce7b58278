//! The command-line front ends: suites with the human or libtest report, `exec`, `history`
//! and `report`.
//!
//! Glue only: settings in, library calls, an exit status out.

mod exec;
mod history;
mod libtest;
mod run;

pub use exec::exec_main;
pub use history::{history_main, report_main};
pub use libtest::{LibtestRun, run_libtest};
pub use run::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, run_main};
