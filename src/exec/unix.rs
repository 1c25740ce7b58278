//! Starting and watching a command on Linux.
//!
//! `spawn.rs` starts it (`posix_spawn`, a new session and process group); `supervise.rs`
//! watches it (one `poll` loop over its pipes, a pidfd and the interrupt pipe; the deadline;
//! its leftovers). This file ties them together: [`start`] spawns and hands back a [`Running`]
//! command, which can be probed, waited on up to an instant, waited on to the end, or stopped.
//! [`run`] is start + wait, with nothing added on the way.

mod clone;
mod pty;
mod spawn;
mod supervise;

use std::io;
use std::time::Instant;

use super::capture::CapturedOutput;
use super::interrupt::Interrupts;
use super::outcome::{Outcome, StartFailure, Termination};
use super::request::ExecRequest;
use spawn::{resolve_program, spawn};
use supervise::Supervisor;

/// Per-command identity used to find its processes.
#[derive(Debug)]
pub(super) struct Tag {
    /// `SMOKE_RUNNER_TAG=<runner pid>-<n>`, as it appears in `/proc/<pid>/environ`.
    pub entry: Vec<u8>,
}

/// Runs `request` to completion. `Err` only for failures of the runner itself (no pipes, no
/// temp file for spilled output); everything the command does is in the [`Outcome`].
pub(super) fn run(
    request: &ExecRequest,
    tag: Tag,
    interrupts: Option<&Interrupts>,
) -> io::Result<Outcome> {
    start(request, tag, interrupts)?.wait()
}

/// Starts `request`. A command that cannot start (not found, not executable) is a [`Running`]
/// whose outcome is already known; `Err` is the runner's own failure.
pub(super) fn start<'a>(
    request: &'a ExecRequest,
    tag: Tag,
    interrupts: Option<&'a Interrupts>,
) -> io::Result<Running<'a>> {
    let started = Instant::now();
    let program = match resolve_program(request) {
        Ok(program) => program,
        Err(failure) => return Ok(Running::NotStarted(failure, started)),
    };
    let child = match spawn(request, &program, &tag)? {
        Ok(child) => child,
        Err(failure) => return Ok(Running::NotStarted(failure, started)),
    };
    Ok(Running::Started(Box::new(Supervisor::new(
        request, child, tag, interrupts, started,
    ))))
}

/// A command that was started (or failed to start), not yet waited on to the end.
pub(super) enum Running<'a> {
    /// It never started; the outcome says why.
    NotStarted(StartFailure, Instant),
    /// It is (or was) running.
    Started(Box<Supervisor<'a>>),
}

impl Running<'_> {
    /// The process id of the command (its process group's id too).
    pub(super) fn pid(&self) -> Option<i32> {
        match self {
            Self::NotStarted(..) => None,
            Self::Started(supervisor) => Some(supervisor.pid()),
        }
    }

    /// Reads output and watches for exit until the command exits, `until` passes or an
    /// interrupt arrives. Returns whether it has exited. Never signals the command, except at
    /// its own deadline.
    pub(super) fn wait_until(&mut self, until: Instant) -> io::Result<bool> {
        match self {
            Self::NotStarted(..) => Ok(true),
            Self::Started(supervisor) => {
                supervisor.supervise(Some(until))?;
                Ok(supervisor.has_exited())
            }
        }
    }

    /// How the command ended, once it has (as far as the last probe saw); `None` while it runs.
    pub(super) fn termination(&self) -> Option<Termination> {
        match self {
            Self::NotStarted(failure, _) => Some(Termination::FailedToStart(*failure)),
            Self::Started(supervisor) => supervisor.termination(),
        }
    }

    /// Output captured so far (empty when it never started or output goes to a log file).
    pub(super) fn output(&self) -> Option<&CapturedOutput> {
        match self {
            Self::NotStarted(..) => None,
            Self::Started(supervisor) => Some(supervisor.output()),
        }
    }

    /// Waits until the command is gone (its deadline applies), stops its leftovers and
    /// collects its output.
    pub(super) fn wait(self) -> io::Result<Outcome> {
        match self {
            Self::NotStarted(failure, started) => Ok(not_started(failure, started)),
            Self::Started(supervisor) => supervisor.wait_to_end(),
        }
    }

    /// Stops the command now: SIGTERM to its group, SIGKILL after its grace period, then its
    /// leftovers as in [`Running::wait`]. A command that had already exited keeps its status.
    pub(super) fn stop(self) -> io::Result<Outcome> {
        match self {
            Self::NotStarted(failure, started) => Ok(not_started(failure, started)),
            Self::Started(mut supervisor) => {
                supervisor.request_stop();
                supervisor.wait_to_end()
            }
        }
    }
}

fn not_started(failure: StartFailure, started: Instant) -> Outcome {
    Outcome {
        termination: Termination::FailedToStart(failure),
        duration: started.elapsed(),
        output: CapturedOutput::new(0),
        leaked_processes: 0,
        script: None,
    }
}
