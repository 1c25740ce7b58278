//! The executor: run one command under a deadline and come back with what happened.
//!
//! Owns spawning (a new session and process group per command), deadlines (SIGTERM, then
//! SIGKILL to the whole group), output capture with bounded memory, and cleaning up processes a
//! command leaves behind. It never prints (except forwarding a command's own output when asked)
//! and knows nothing about suites.

mod capture;
mod interact;
mod interrupt;
mod leftovers;
mod outcome;
mod program;
mod request;
#[cfg(target_os = "linux")]
mod unix;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use capture::{CapturedOutput, Stream, StreamSelector};
pub use interact::{Interaction, ScriptProgress, Terminal};
pub use interrupt::{Interrupts, SignalGuard};
pub use leftovers::{TAG_VARIABLE, find_tag_prefix};
pub use outcome::{Outcome, StartFailure, Termination, signal_name};
pub use program::find_program;
pub use request::{DEFAULT_KILL_GRACE, DEFAULT_MEMORY_CAP, Environment, ExecRequest, Stdin};

/// Numbers commands across every [`Executor`] in this process. The tag built from it is how
/// cleanup finds a command's processes, so two executors must never hand out the same one.
static NEXT_TAG: AtomicU64 = AtomicU64::new(0);

/// Runs commands. Cheap to share between threads; one per run is enough, and several in one
/// process never touch each other's commands.
#[derive(Debug, Default, Clone)]
pub struct Executor {
    interrupts: Option<Arc<Interrupts>>,
}

impl Executor {
    /// An executor that is not stopped by signals (the caller handles them).
    pub fn new() -> Self {
        Self::default()
    }

    /// An executor whose commands are stopped once `interrupts` (its run's) is cancelled.
    pub fn with_interrupts(interrupts: Arc<Interrupts>) -> Self {
        Self {
            interrupts: Some(interrupts),
        }
    }

    /// Whether an interrupt was received.
    pub fn interrupted(&self) -> Option<i32> {
        self.interrupts.as_deref().and_then(Interrupts::received)
    }

    /// Stops the run as if `signal` had arrived: running commands are stopped and
    /// [`Executor::interrupted`] reports it. Does nothing without installed interrupts.
    pub fn stop(&self, signal: i32) {
        if let Some(interrupts) = &self.interrupts {
            interrupts.stop(signal);
        }
    }

    /// Runs `request` to completion: it has exited or been killed, its leftover processes are
    /// killed, its output is collected. `Err` means the runner itself failed (pipes, temp file).
    pub fn run(&self, request: &ExecRequest) -> io::Result<Outcome> {
        unix::run(request, next_tag(), self.interrupts.as_deref())
    }

    /// Starts `request` and returns at once with a handle to probe, wait on or stop it. A
    /// command that cannot start gives a handle whose outcome says why. The command's deadline
    /// (`timeout`) still applies while it is waited on; `Duration::MAX` means none.
    pub fn start<'a>(&'a self, request: &'a ExecRequest) -> io::Result<RunningCommand<'a>> {
        Ok(RunningCommand {
            inner: unix::start(request, next_tag(), self.interrupts.as_deref())?,
        })
    }
}

fn next_tag() -> unix::Tag {
    let n = NEXT_TAG.fetch_add(1, Ordering::Relaxed);
    unix::Tag {
        entry: format!("{TAG_VARIABLE}={}-{n}", std::process::id()).into_bytes(),
    }
}

/// A started command: its own session and process group, its own tag. Dropping it while the
/// command runs kills the command and everything it started.
pub struct RunningCommand<'a> {
    inner: unix::Running<'a>,
}

impl RunningCommand<'_> {
    /// The command's process id (and process group id); `None` when it never started.
    pub fn pid(&self) -> Option<i32> {
        self.inner.pid()
    }

    /// Whether the command is still running (reads any output that is ready, never blocks).
    pub fn is_running(&mut self) -> io::Result<bool> {
        Ok(!self.inner.wait_until(std::time::Instant::now())?)
    }

    /// Waits until the command exits, `until` passes, or the runner is interrupted (see
    /// [`Executor::interrupted`]), whichever comes first. Returns whether it has exited.
    pub fn wait_until(&mut self, until: std::time::Instant) -> io::Result<bool> {
        self.inner.wait_until(until)
    }

    /// How the command ended, once it has: as of the last probe ([`RunningCommand::is_running`],
    /// [`RunningCommand::wait_until`]); `None` while it runs.
    pub fn termination(&self) -> Option<Termination> {
        self.inner.termination()
    }

    /// The output captured so far; `None` when it never started.
    pub fn output(&self) -> Option<&CapturedOutput> {
        self.inner.output()
    }

    /// Waits for the command to end (stopping it at its deadline), stops its leftovers,
    /// collects its output: what [`Executor::run`] does after starting.
    pub fn wait(self) -> io::Result<Outcome> {
        self.inner.wait()
    }

    /// Stops the command: SIGTERM to its group, SIGKILL after `kill_grace`, then its leftovers
    /// by group and tag. A command that already exited keeps its own status.
    pub fn stop(self) -> io::Result<Outcome> {
        self.inner.stop()
    }
}

impl std::fmt::Debug for RunningCommand<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningCommand")
            .field("pid", &self.pid())
            .finish()
    }
}
