//! The exit-code policy, in one place, for every entry point: `smoke-runner`, `smoke-runner
//! exec`, and `cargo test --test smoke`.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | every selected step passed |
//! | 1 | a step failed or timed out (or a rule such as `--fail-on-skip`, `--flaky-fails` or `--degraded-fails` failed the run) |
//! | 2 | bad usage, bad settings, or a bad suite file; nothing ran |
//! | 74 | a report could not be written (a full disk, a closed file); the run was stopped |
//! | 128+N | interrupted by signal N; 141 (SIGPIPE) when the reader of standard output left |
//!
//! `smoke-runner exec` exits like GNU `timeout`: the command's status, 124 on timeout, 125 when
//! smoke-runner itself failed (its own usage errors included), 126 not executable, 127 not found,
//! 128+N killed by signal N.

use std::io;

/// Every selected step passed.
pub const EXIT_OK: i32 = 0;
/// A step failed or timed out.
pub const EXIT_FAILED: i32 = 1;
/// Bad usage, bad settings, or a bad suite file.
pub const EXIT_USAGE: i32 = 2;
/// A report could not be written (`EX_IOERR` in `sysexits.h`).
pub const EXIT_REPORT_FAILED: i32 = 74;
/// `smoke-runner exec`: smoke-runner itself failed, or its own arguments are wrong.
pub const EXEC_RUNNER_FAILED: i32 = 125;

/// How a suite run ended, for its exit code.
#[derive(Debug)]
pub enum RunEnd {
    /// The run finished (or was interrupted) and reported.
    Finished {
        /// Whether the run failed (a failed step, or a rule such as `--fail-on-skip`).
        failed: bool,
        /// The signal that interrupted it, if any.
        interrupted: Option<i32>,
    },
    /// Settings, flags or suites were wrong; nothing ran.
    Usage,
    /// A report could not be written.
    ReportFailed(io::ErrorKind),
}

impl RunEnd {
    /// The process exit code.
    pub fn code(&self) -> i32 {
        match *self {
            Self::Finished {
                interrupted: Some(signal),
                ..
            } => 128 + signal,
            Self::Finished { failed: true, .. } => EXIT_FAILED,
            Self::Finished { failed: false, .. } => EXIT_OK,
            Self::Usage => EXIT_USAGE,
            // The reader left: exit as a filter killed by SIGPIPE would.
            Self::ReportFailed(io::ErrorKind::BrokenPipe) => 128 + libc::SIGPIPE,
            Self::ReportFailed(_) => EXIT_REPORT_FAILED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ending_has_its_code() {
        let finished = |failed, interrupted| RunEnd::Finished {
            failed,
            interrupted,
        };
        assert_eq!(finished(false, None).code(), 0);
        assert_eq!(finished(true, None).code(), 1);
        assert_eq!(finished(true, Some(libc::SIGINT)).code(), 130);
        assert_eq!(RunEnd::Usage.code(), 2);
        assert_eq!(RunEnd::ReportFailed(io::ErrorKind::BrokenPipe).code(), 141);
        assert_eq!(RunEnd::ReportFailed(io::ErrorKind::StorageFull).code(), 74);
    }
}
