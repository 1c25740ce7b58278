//! The command-line front ends: suites with the human or libtest report, `exec`, `import`.
//!
//! Glue only: settings in, library calls, an exit status out.

mod exec;
mod import;
mod libtest;
mod run;

pub use exec::exec_main;
pub use import::import_main;
pub use libtest::{LibtestRun, run_libtest};
pub use run::{EXIT_FAILED, EXIT_OK, EXIT_USAGE, run_main};
