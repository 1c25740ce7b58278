//! The command-line front ends: suites with the human or libtest report, `exec`, `import`,
//! `history`, `report`, `serve` and `log`.
//!
//! Glue only: settings in, library calls, an exit status out (by the one policy in
//! [`exit`](RunEnd)).

/// `eprintln!` that never panics: a closed or full stderr (`2>&1 | head -1`) loses the line,
/// not the run. Defined before the modules so that each of them can use it.
macro_rules! stderr_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that never panics, for short status lines (`→ Report written to …`); a report's
/// own output is written with its errors handled.
macro_rules! stdout_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod exec;
mod exit;
mod history;
mod import;
mod import_check;
mod log;
mod report_output;
mod retention;
mod run;
mod serve;

pub use exec::exec_main;
pub use exit::{EXEC_RUNNER_FAILED, EXIT_FAILED, EXIT_OK, EXIT_REPORT_FAILED, EXIT_USAGE, RunEnd};
pub use history::{history_main, report_main};
pub use import::import_main;
pub use log::log_main;
pub use run::{run_main, run_suites, run_suites_with};
pub use serve::serve_main;
