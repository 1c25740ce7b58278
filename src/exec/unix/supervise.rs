//! Watching a started command: one `poll` loop over its stdout and stderr pipes, its stdin
//! pipe, a pidfd that becomes readable when it exits, and the interrupt pipe. No threads.
//!
//! Phase 1 ([`Supervisor::supervise`]) lasts until the command exits, or is stopped at its
//! deadline, on an interrupt or on request (SIGTERM to the group, SIGKILL after the grace).
//! Phase 2 ([`Supervisor::finish`]) stops what it left running and finishes reading.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use rustix::process::{Pid, Signal, WaitOptions, WaitStatus};

use super::Tag;
use super::spawn::Child;
use crate::exec::capture::{CapturedOutput, Stream};
use crate::exec::interact::Dialogue;
use crate::exec::interrupt::Interrupts;
use crate::exec::leftovers;
use crate::exec::outcome::{Outcome, Termination};
use crate::exec::request::{ExecRequest, Stdin};

/// After the command is gone, how long output from processes the runner could not find may
/// keep the pipes open before reading stops.
const ORPHAN_PIPE_BOUND: Duration = Duration::from_millis(200);

/// After the command exited on its own, how long leftover processes get between SIGTERM and
/// SIGKILL.
const LEFTOVER_GRACE: Duration = Duration::from_millis(200);

/// How long processes found after the command may take to exit on their own before they count
/// as leftovers. Long enough for a process being scheduled on a machine whose CPUs are all
/// busy; paid only by commands that leave something behind.
const EXITING_GRACE: Duration = Duration::from_millis(500);

/// How often to look again when there is no pidfd to wait on.
const FALLBACK_TICK: Duration = Duration::from_millis(5);

/// How long after its start a command's output pipes are left unwatched, its exit alone
/// waited for. A command that is over by then (a `--version`, an `echo`) is seen in one
/// wake-up, its exit, instead of one for its output, one for the pipes' end and one for the
/// exit; its output waits in the pipes (64 KiB each) and is read when it has exited. A command
/// that fills a pipe meanwhile waits at most this long once.
const QUIET_START: Duration = Duration::from_millis(5);

/// The largest read from a pipe at once.
const READ_BLOCK: usize = 64 * 1024;

/// Where the supervisor is in stopping a command that overran its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stopping {
    Not,
    /// SIGTERM sent; SIGKILL at the instant given (never, if it lies beyond the clock's range).
    TermSent {
        kill_at: Option<Instant>,
    },
    KillSent,
}

/// The command's process: its id (its group's too), its pidfd, and how it ended once reaped.
struct Process {
    pid: Pid,
    /// `None` without pidfd support (kernels before 5.3, some sandboxes), or once reaped.
    pidfd: Option<OwnedFd>,
    status: Option<WaitStatus>,
}

/// The runner's ends of the command's pipes; each is `None` once it has ended.
struct Pipes {
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    stdin: Option<OwnedFd>,
    /// How many of the stdin bytes are written.
    stdin_written: usize,
}

/// Why and how far the command is being stopped.
struct StopState {
    /// `None`: no deadline (the timeout does not fit in an `Instant`).
    deadline: Option<Instant>,
    stopping: Stopping,
    timed_out: bool,
    /// [`Supervisor::request_stop`] was called.
    requested: bool,
    interrupted: Option<i32>,
}

impl StopState {
    /// Whether the command is to be stopped now, whatever its deadline.
    fn now(&self) -> bool {
        self.interrupted.is_some() || self.requested
    }
}

/// One started command, watched until it is gone and its leftovers stopped.
pub(in crate::exec) struct Supervisor<'a> {
    request: &'a ExecRequest,
    tag: Tag,
    interrupts: Option<&'a Interrupts>,
    started: Instant,
    process: Process,
    pipes: Pipes,
    stop: StopState,
    output: CapturedOutput,
    leaked: usize,
    /// On a pseudo-terminal: the script being played (its input goes to `pipes.stdin`).
    dialogue: Option<Dialogue<'a>>,
    /// Until when the output pipes are not polled (see [`QUIET_START`]); `None` when they
    /// always are (no pidfd, input to feed, a terminal, output shown live) or once the
    /// command is probed (`RunningCommand::is_running`).
    quiet_until: Option<Instant>,
}

impl<'a> Supervisor<'a> {
    pub(super) fn new(
        request: &'a ExecRequest,
        child: Child,
        tag: Tag,
        interrupts: Option<&'a Interrupts>,
        started: Instant,
    ) -> Self {
        let pidfd = child.pidfd.or_else(|| {
            rustix::process::pidfd_open(child.pid, rustix::process::PidfdFlags::empty()).ok()
        });
        let quiet_until = (pidfd.is_some()
            && request.terminal.is_none()
            && !request.forward
            && child.stdin.is_none())
        .then(|| started.checked_add(QUIET_START))
        .flatten();
        let memory_cap = if request.capture {
            request.memory_cap
        } else {
            0
        };
        Self {
            request,
            tag,
            interrupts,
            started,
            process: Process {
                pid: child.pid,
                pidfd,
                status: None,
            },
            pipes: Pipes {
                stdout: child.stdout,
                stderr: child.stderr,
                stdin: child.stdin,
                stdin_written: 0,
            },
            stop: StopState {
                deadline: started.checked_add(request.timeout),
                stopping: Stopping::Not,
                timed_out: false,
                requested: false,
                interrupted: None,
            },
            output: CapturedOutput::new(memory_cap),
            leaked: 0,
            dialogue: (request.terminal.as_ref()).map(|terminal| Dialogue::new(&terminal.script)),
            quiet_until,
        }
    }

    /// The command's process id (and process group id).
    pub(super) fn pid(&self) -> i32 {
        self.process.pid.as_raw_pid()
    }

    /// Whether the command has exited and been reaped.
    pub(super) fn has_exited(&self) -> bool {
        self.process.status.is_some()
    }

    /// The output captured so far.
    pub(super) fn output(&self) -> &CapturedOutput {
        &self.output
    }

    /// Stop the command at the next look (unless it has already exited).
    pub(super) fn request_stop(&mut self) {
        if !self.has_exited() {
            self.stop.requested = true;
        }
    }

    /// Phase 1 and 2 to the end: the command is gone, its leftovers are stopped, its output
    /// read.
    pub(super) fn wait_to_end(mut self) -> io::Result<Outcome> {
        self.supervise(None)?;
        self.finish()?;
        Ok(self.into_outcome())
    }

    /// Phase 1: until the command exits (or is killed at the deadline, on interrupt, or when
    /// asked to stop). With `until`, returns at that instant, or on an interrupt, without
    /// signalling the command: the caller decides what happens next.
    pub(super) fn supervise(&mut self, until: Option<Instant>) -> io::Result<()> {
        if until.is_some() {
            // A probe reads whatever output is ready (`RunningCommand::is_running`): the pipes
            // are watched from then on.
            self.quiet_until = None;
        }
        while !self.has_exited() {
            let now = Instant::now();
            if let Some(until) = until {
                if self.stop.interrupted.is_some() && !self.stop.requested {
                    return Ok(());
                }
                if now >= until {
                    // One look that does not wait, so that a probe whose `until` has already
                    // passed (`is_running`) still sees an exit or output that is ready.
                    return self.look(Some(now));
                }
            }
            let wake_at = match self.stop.stopping {
                Stopping::Not if !self.stop.now() => self.stop.deadline,
                Stopping::Not => Some(now),
                Stopping::TermSent { kill_at } => kill_at,
                Stopping::KillSent => None,
            };
            if wake_at.is_some_and(|at| at <= now) {
                self.escalate(now);
                continue;
            }
            let tick = match self.process.pidfd {
                None => Some(now + FALLBACK_TICK),
                Some(_) => None,
            };
            if self.quiet_until.is_some_and(|quiet| quiet <= now) {
                self.quiet_until = None;
            }
            let wake_at = [wake_at, tick, until, self.quiet_until]
                .into_iter()
                .flatten()
                .min();
            self.look(wake_at)?;
        }
        Ok(())
    }

    /// One `poll` round watching for exit; without a pidfd, a `waitpid` that does not wait.
    fn look(&mut self, wake_at: Option<Instant>) -> io::Result<()> {
        let had_pidfd = self.process.pidfd.is_some();
        self.wait_once(wake_at, true)?;
        if !had_pidfd {
            self.try_reap(false)?;
        }
        Ok(())
    }

    /// Phase 2: the command is gone. Stop whatever it left running, then finish reading.
    fn finish(&mut self) -> io::Result<()> {
        let pid = self.pid();
        let mut found = leftovers::find(pid, &self.tag.entry, pid);
        if !found.is_empty() {
            found = self.let_exiting_processes_go(found)?;
        }
        if !found.is_empty() {
            self.leaked = found.len();
            self.stop_leftovers(&found)?;
        }
        let bound = Instant::now() + ORPHAN_PIPE_BOUND;
        while (self.pipes.stdout.is_some() || self.pipes.stderr.is_some()) && Instant::now() < bound
        {
            self.wait_once(Some(bound), false)?;
        }
        self.pipes.stdout = None;
        self.pipes.stderr = None;
        self.pipes.stdin = None;
        Ok(())
    }

    /// Deadline or interrupt: SIGTERM the group first, SIGKILL after the grace period.
    fn escalate(&mut self, now: Instant) {
        if !self.stop.now() {
            self.stop.timed_out = true;
        }
        let (signal, next) = match self.stop.stopping {
            Stopping::Not => (
                Signal::TERM,
                Stopping::TermSent {
                    kill_at: now.checked_add(self.request.kill_grace),
                },
            ),
            Stopping::TermSent { .. } | Stopping::KillSent => (Signal::KILL, Stopping::KillSent),
        };
        self.signal_everything(signal);
        self.stop.stopping = next;
    }

    /// Sends `signal` to the command's group and to tagged processes that left the group.
    fn signal_everything(&self, signal: Signal) {
        let pid = self.pid();
        signal_group_and(
            self.process.pid,
            &leftovers::find(pid, &self.tag.entry, pid),
            signal,
        );
    }

    /// Waits up to [`EXITING_GRACE`] for `pids` to exit on their own (reading output all the
    /// while) and returns those still running: the leftovers. A process finishing its exit
    /// when the command ends (a process substitution's child, on a busy machine) is not one.
    fn let_exiting_processes_go(&mut self, mut pids: Vec<i32>) -> io::Result<Vec<i32>> {
        // Bounded by EXITING_GRACE, so the sum cannot overflow.
        let until = Instant::now() + EXITING_GRACE;
        loop {
            pids.retain(|&pid| leftovers::is_running(pid));
            let now = Instant::now();
            if pids.is_empty() || now >= until {
                return Ok(pids);
            }
            self.wait_once(Some(until.min(now + Duration::from_millis(5))), false)?;
        }
    }

    /// SIGTERM what the command left running, SIGKILL it after a short grace, keep reading.
    fn stop_leftovers(&mut self, pids: &[i32]) -> io::Result<()> {
        let group = self.process.pid;
        signal_group_and(group, pids, Signal::TERM);
        // A command stopped on request (a service at the end of its suite) gives its group the
        // whole grace period to shut down: its children are still on their way out. Otherwise
        // bounded by LEFTOVER_GRACE; the checked sum covers a grace too large for the clock.
        let grace = if self.stop.requested {
            self.request.kill_grace
        } else {
            LEFTOVER_GRACE.min(self.request.kill_grace)
        };
        let kill_at = Instant::now()
            .checked_add(grace)
            .unwrap_or_else(|| Instant::now() + LEFTOVER_GRACE);
        // Once SIGKILL is sent: how long to wait for the killed to be gone. One may still be
        // inside a call that writes (into the test dir, removed next).
        let mut gone_by = None;
        loop {
            let alive: Vec<i32> = pids
                .iter()
                .copied()
                .filter(|&pid| leftovers::is_running(pid))
                .collect();
            if alive.is_empty() {
                return Ok(());
            }
            let now = Instant::now();
            match gone_by {
                Some(at) if now >= at => return Ok(()),
                None if now >= kill_at => {
                    signal_group_and(group, &alive, Signal::KILL);
                    gone_by = Some(now + LEFTOVER_GRACE);
                }
                _ => {}
            }
            let next = gone_by.unwrap_or(kill_at);
            self.wait_once(Some(next.min(now + Duration::from_millis(10))), false)?;
        }
    }

    /// One `poll` round: read what is ready, feed stdin, notice exit and interrupts.
    fn wait_once(&mut self, wake_at: Option<Instant>, watch_exit: bool) -> io::Result<()> {
        let Some(ready) = self.poll_ready(wake_at, watch_exit)? else {
            return Ok(());
        };
        let [stdout, stderr, stdin, exited, interrupted] = ready;
        if stdout {
            self.read_stream(Stream::Stdout)?;
        }
        if stderr {
            self.read_stream(Stream::Stderr)?;
        }
        // Both pipes just reached their end: usually because the command exited, and then it
        // can be reaped now, without another poll for its pidfd.
        if (stdout || stderr)
            && watch_exit
            && self.pipes.stdout.is_none()
            && self.pipes.stderr.is_none()
            && !self.has_exited()
            && self.process.pidfd.is_some()
        {
            self.try_reap(false)?;
        }
        if stdin {
            self.feed_stdin();
        }
        if exited && !self.has_exited() {
            self.try_reap(true)?;
        }
        if interrupted {
            self.stop.interrupted = self
                .interrupts
                .and_then(Interrupts::received)
                .or(Some(libc::SIGINT));
        }
        Ok(())
    }

    /// Polls until `wake_at`: which of stdout, stderr, stdin, the pidfd (with `watch_exit`)
    /// and the interrupt pipe are ready. `None` when a signal cut the poll short.
    fn poll_ready<'s>(
        &'s self,
        wake_at: Option<Instant>,
        watch_exit: bool,
    ) -> io::Result<Option<[bool; 5]>> {
        let interrupt_fd = self
            .interrupts
            .filter(|_| self.stop.interrupted.is_none())
            .map(Interrupts::fd);
        let pidfd = self.process.pidfd.as_ref().filter(|_| watch_exit);
        // While the command is young, only its exit (or an interrupt) wakes the runner.
        let quiet = watch_exit && pidfd.is_some() && self.quiet_until.is_some();
        let pipe = |end: &'s Option<OwnedFd>| end.as_ref().filter(|_| !quiet).map(AsFd::as_fd);
        let slots: [(Option<BorrowedFd<'_>>, PollFlags); 5] = [
            (pipe(&self.pipes.stdout), PollFlags::IN),
            (pipe(&self.pipes.stderr), PollFlags::IN),
            (self.stdin_to_write().map(AsFd::as_fd), PollFlags::OUT),
            (pidfd.map(AsFd::as_fd), PollFlags::IN),
            (interrupt_fd, PollFlags::IN),
        ];
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(5);
        let mut index = [usize::MAX; 5];
        for (slot, (fd, flags)) in slots.iter().enumerate() {
            if let Some(fd) = fd {
                index[slot] = fds.len();
                fds.push(PollFd::from_borrowed_fd(*fd, *flags));
            }
        }
        let timeout = wake_at.map(|at| {
            let left = at.saturating_duration_since(Instant::now());
            Timespec {
                tv_sec: left.as_secs() as _,
                tv_nsec: left.subsec_nanos() as _,
            }
        });
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {}
            Err(Errno::INTR) => return Ok(None),
            Err(error) => return Err(error.into()),
        }
        Ok(Some(std::array::from_fn(|slot| {
            index[slot] != usize::MAX && !fds[index[slot]].revents().is_empty()
        })))
    }

    fn read_stream(&mut self, stream: Stream) -> io::Result<()> {
        let slot = match stream {
            Stream::Stdout => &mut self.pipes.stdout,
            Stream::Stderr => &mut self.pipes.stderr,
        };
        let Some(fd) = slot.as_ref() else {
            return Ok(());
        };
        // Read into uninitialised stack memory: no allocation and no zeroing per command.
        let mut buffer = [MaybeUninit::<u8>::uninit(); READ_BLOCK];
        let bytes: &[u8] = match rustix::io::read(fd, &mut buffer[..]) {
            // EIO: the controlling side of a terminal nobody holds any more, its end.
            Ok(([], _)) | Err(Errno::IO) => {
                *slot = None;
                return Ok(());
            }
            Ok((read, _)) => read,
            Err(Errno::INTR | Errno::AGAIN) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        if self.request.forward {
            let target = match stream {
                Stream::Stdout => rustix::stdio::stdout(),
                Stream::Stderr => rustix::stdio::stderr(),
            };
            // Output the runner cannot forward (closed stdout) must not stop the command.
            let _ = write_all(target, bytes);
        }
        if self.request.capture {
            self.output.push(stream, bytes)?;
        }
        if let Some(dialogue) = &mut self.dialogue {
            dialogue.observe(bytes);
            if dialogue.is_over() {
                self.pipes.stdin = None;
            }
        }
        Ok(())
    }

    /// The stdin pipe or terminal when there is something to write to it.
    fn stdin_to_write(&self) -> Option<&OwnedFd> {
        let waiting = (self.dialogue.as_ref()).is_some_and(|d| d.pending_input().is_empty());
        self.pipes.stdin.as_ref().filter(|_| !waiting)
    }

    fn feed_stdin(&mut self) {
        if let Some(dialogue) = &mut self.dialogue {
            type_into_terminal(dialogue, &mut self.pipes.stdin);
            return;
        }
        let pipes = &mut self.pipes;
        let (Some(fd), Stdin::Bytes(bytes)) = (pipes.stdin.as_ref(), &self.request.stdin) else {
            return;
        };
        match rustix::io::write(fd, &bytes[pipes.stdin_written..]) {
            Ok(count) => {
                pipes.stdin_written += count;
                if pipes.stdin_written >= bytes.len() {
                    pipes.stdin = None;
                }
            }
            Err(Errno::INTR | Errno::AGAIN) => {}
            // EPIPE: the command closed its stdin; the rest is not wanted.
            Err(_) => pipes.stdin = None,
        }
    }

    /// Reaps the command if it has exited (`block`: it is known to have).
    fn try_reap(&mut self, block: bool) -> io::Result<()> {
        let options = if block {
            WaitOptions::empty()
        } else {
            WaitOptions::NOHANG
        };
        if let Some(status) = wait_for(self.process.pid, options)? {
            self.process.status = Some(status);
            self.process.pidfd = None;
        }
        Ok(())
    }

    fn into_outcome(mut self) -> Outcome {
        let termination = self.termination().expect("the command was reaped");
        Outcome {
            termination,
            duration: self.started.elapsed(),
            output: std::mem::take(&mut self.output),
            leaked_processes: self.leaked,
            script: self.dialogue.as_ref().map(Dialogue::progress),
        }
    }

    /// How the command ended; `None` until it was reaped.
    pub(super) fn termination(&self) -> Option<Termination> {
        let status = self.process.status?;
        Some(if let Some(signal) = self.stop.interrupted {
            Termination::Interrupted { signal }
        } else if self.stop.timed_out {
            let signal = if self.stop.stopping == Stopping::KillSent {
                libc::SIGKILL
            } else {
                libc::SIGTERM
            };
            Termination::TimedOut { signal }
        } else if let Some(code) = status.exit_status() {
            Termination::Exited(code)
        } else {
            // Without WUNTRACED, a reaped child either exited or was killed by a signal.
            Termination::Signaled(status.terminating_signal().unwrap_or(0))
        })
    }
}

impl Drop for Supervisor<'_> {
    /// A command dropped while running (a panic, an early return) is killed with everything
    /// it started, and reaped: nothing outlives its handle.
    fn drop(&mut self) {
        if self.has_exited() {
            return;
        }
        self.signal_everything(Signal::KILL);
        // It was just killed: this wait ends (an error leaves nothing more to do).
        if let Ok(Some(status)) = wait_for(self.process.pid, WaitOptions::empty()) {
            self.process.status = Some(status);
        }
    }
}

/// `waitpid` on the command, again when a signal interrupts it. `None`: still running (only
/// with `NOHANG`).
pub(super) fn wait_for(pid: Pid, options: WaitOptions) -> io::Result<Option<WaitStatus>> {
    loop {
        match rustix::process::waitpid(Some(pid), options) {
            Ok(reaped) => return Ok(reaped.map(|(_, status)| status)),
            Err(Errno::INTR) => {}
            Err(error) => return Err(error.into()),
        }
    }
}

/// Sends `signal` to the process group `group` and to each of `pids` (processes that left it).
/// A process already gone is no error.
fn signal_group_and(group: Pid, pids: &[i32], signal: Signal) {
    let _ = rustix::process::kill_process_group(group, signal);
    for pid in pids.iter().copied().filter_map(Pid::from_raw) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// Writes the script's pending input into the terminal, as much as it takes now; closes the
/// runner's writing end once the script is over.
fn type_into_terminal(dialogue: &mut Dialogue<'_>, writer: &mut Option<OwnedFd>) {
    let Some(fd) = writer.as_ref() else {
        return;
    };
    match rustix::io::write(fd, dialogue.pending_input()) {
        Ok(count) => dialogue.wrote(count),
        Err(Errno::INTR | Errno::AGAIN) => {}
        // EIO: nobody holds the terminal side any more; the input cannot be typed.
        Err(_) => dialogue.input_refused(),
    }
    if dialogue.is_over() {
        *writer = None;
    }
}

fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(count) => bytes = &bytes[count..],
            Err(Errno::INTR) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}
