//! The command-line front ends: suites with the human or libtest report, and `exec`.
//!
//! Glue only: settings in, library calls, an exit status out.

mod exec;

pub use exec::exec_main;
