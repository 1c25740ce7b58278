//! What happened to a command.

use std::fmt;
use std::time::Duration;

use super::capture::CapturedOutput;
use super::interact::ScriptProgress;

/// Why a command could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFailure {
    /// No such program (or, for a relative path, no such file from the working directory).
    NotFound,
    /// The file exists but cannot be executed (permissions, not a binary or script, a folder).
    NotExecutable,
    /// The working directory does not exist.
    NoWorkingDirectory,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// It exited on its own with this code.
    Exited(i32),
    /// It was killed by this signal, not sent by the runner.
    Signaled(i32),
    /// It hit its deadline; the runner stopped it with this signal (SIGTERM, or SIGKILL after
    /// the grace period).
    TimedOut {
        /// The last signal the runner had to send.
        signal: i32,
    },
    /// The runner was interrupted (Ctrl-C, SIGTERM) and stopped the command.
    Interrupted {
        /// The signal the runner received.
        signal: i32,
    },
    /// It never started.
    FailedToStart(StartFailure),
}

impl Termination {
    /// The status GNU `timeout` would exit with: the code, 124 on timeout, 126 not executable,
    /// 127 not found, 128+N for signal N.
    pub fn timeout_compatible_code(&self) -> i32 {
        match *self {
            Self::Exited(code) => code,
            Self::Signaled(signal) | Self::Interrupted { signal } => 128 + signal,
            Self::TimedOut { .. } => 124,
            Self::FailedToStart(StartFailure::NotExecutable) => 126,
            Self::FailedToStart(StartFailure::NotFound | StartFailure::NoWorkingDirectory) => 127,
        }
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Exited(code) => write!(f, "exit status {code}"),
            Self::Signaled(signal) => write!(f, "killed by {}", signal_name(signal)),
            Self::TimedOut { signal } => {
                write!(f, "timed out (stopped with {})", signal_name(signal))
            }
            Self::Interrupted { signal } => write!(f, "interrupted by {}", signal_name(signal)),
            Self::FailedToStart(StartFailure::NotFound) => f.write_str("command not found"),
            Self::FailedToStart(StartFailure::NotExecutable) => {
                f.write_str("command not executable")
            }
            Self::FailedToStart(StartFailure::NoWorkingDirectory) => {
                f.write_str("working directory does not exist")
            }
        }
    }
}

/// The conventional name of a signal number (`SIGTERM`), or `signal N`.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

/// Everything known about a finished command.
#[derive(Debug)]
pub struct Outcome {
    /// How it ended.
    pub termination: Termination,
    /// From spawn to the end of output collection.
    pub duration: Duration,
    /// What it wrote (empty when capture was off).
    pub output: CapturedOutput,
    /// Processes of the command still alive after it ended, which the runner killed.
    pub leaked_processes: usize,
    /// On a pseudo-terminal: how far its script got; `None` without one.
    pub script: Option<ScriptProgress>,
}
