//! Spawning and supervising a command on Linux.
//!
//! Spawn: `posix_spawn` with `POSIX_SPAWN_SETSID`, so the command leads a new session and
//! process group, has no controlling terminal, and the spawn stays on glibc's fast
//! `clone(CLONE_VFORK)` path (a `pre_exec` hook would force fork+exec).
//!
//! Supervise: one `poll` loop per command over its stdout and stderr pipes, its stdin pipe,
//! a pidfd that becomes readable when it exits, and the interrupt pipe. No threads.
//!
//! The two are separate: [`start`] spawns and hands back a [`Running`] command, which can be
//! probed, waited on up to an instant, waited on to the end, or stopped. [`run`] is start +
//! wait, with nothing added on the way.

use std::ffi::CString;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::ptr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::pipe::{PipeFlags, pipe_with};

use super::capture::{CapturedOutput, Stream};
use super::interrupt::Interrupts;
use super::leftovers;
use super::outcome::{Outcome, StartFailure, Termination};
use super::program::find_program;
use super::request::{ExecRequest, Stdin};

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

/// The largest read from a pipe at once.
const READ_BLOCK: usize = 64 * 1024;

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
            Self::Started(supervisor) => Some(supervisor.pid),
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
                Ok(supervisor.exit_status.is_some())
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
            Self::Started(supervisor) => Some(&supervisor.output),
        }
    }

    /// Waits until the command is gone (its deadline applies), stops its leftovers and
    /// collects its output.
    pub(super) fn wait(self) -> io::Result<Outcome> {
        match self {
            Self::NotStarted(failure, started) => Ok(not_started(failure, started)),
            Self::Started(mut supervisor) => {
                supervisor.supervise(None)?;
                supervisor.finish()?;
                Ok(supervisor.into_outcome())
            }
        }
    }

    /// Stops the command now: SIGTERM to its group, SIGKILL after its grace period, then its
    /// leftovers as in [`Running::wait`]. A command that had already exited keeps its status.
    pub(super) fn stop(self) -> io::Result<Outcome> {
        match self {
            Self::NotStarted(failure, started) => Ok(not_started(failure, started)),
            Self::Started(mut supervisor) => {
                if supervisor.exit_status.is_none() {
                    supervisor.stop_requested = true;
                }
                supervisor.supervise(None)?;
                supervisor.finish()?;
                Ok(supervisor.into_outcome())
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
    }
}

/// The program as a C string: paths with a `/` as given, names looked up in the command's PATH.
fn resolve_program(request: &ExecRequest) -> Result<CString, StartFailure> {
    let program = request.program.as_bytes();
    if program.contains(&b'/') {
        return CString::new(program).map_err(|_| StartFailure::NotFound);
    }
    let path = find_program(&request.program, &request.env, request.cwd.as_deref())?;
    CString::new(path.into_os_string().into_vec()).map_err(|_| StartFailure::NotFound)
}

/// The parent's ends of a started command.
struct Child {
    pid: i32,
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    stdin: Option<OwnedFd>,
}

/// Owns posix_spawn's attribute and file-action objects so they are destroyed on every path.
struct SpawnConfig {
    attr: libc::posix_spawnattr_t,
    actions: libc::posix_spawn_file_actions_t,
}

impl SpawnConfig {
    fn new() -> io::Result<Box<Self>> {
        // The objects are initialised in place and never moved afterwards (hence the Box).
        // SAFETY: both types are plain C structs; zeroed memory is a valid argument to init.
        let mut config: Box<Self> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: pointers to owned, writable structs.
        check(unsafe { libc::posix_spawnattr_init(&mut config.attr) })?;
        if let Err(error) =
            check(unsafe { libc::posix_spawn_file_actions_init(&mut config.actions) })
        {
            // SAFETY: attr was initialised above.
            unsafe { libc::posix_spawnattr_destroy(&mut config.attr) };
            return Err(error);
        }
        Ok(config)
    }
}

impl Drop for SpawnConfig {
    fn drop(&mut self) {
        // SAFETY: both were initialised in `new`.
        unsafe {
            libc::posix_spawn_file_actions_destroy(&mut self.actions);
            libc::posix_spawnattr_destroy(&mut self.attr);
        }
    }
}

fn check(code: libc::c_int) -> io::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(code))
    }
}

/// Starts the command in a new session with its stdio on fresh pipes (stdin: `/dev/null`
/// unless bytes are given). The outer `Err` is the runner's own failure.
fn spawn(
    request: &ExecRequest,
    program: &CString,
    tag: &Tag,
) -> io::Result<Result<Child, StartFailure>> {
    // Output goes to two pipes the supervisor reads, or straight into the log file.
    let (stdout_read, stdout_write, stderr_read, stderr_write) = match &request.log {
        None => {
            let (stdout_read, stdout_write) = pipe_with(PipeFlags::CLOEXEC)?;
            let (stderr_read, stderr_write) = pipe_with(PipeFlags::CLOEXEC)?;
            (
                Some(stdout_read),
                stdout_write,
                Some(stderr_read),
                stderr_write,
            )
        }
        Some(path) => {
            let file: OwnedFd = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?
                .into();
            let copy = rustix::io::fcntl_dupfd_cloexec(&file, 3)?;
            (None, file, None, copy)
        }
    };
    // The child's stdin: a pipe, a copy of the runner's stdin, or the shared `/dev/null`.
    let (stdin_child, stdin_parent): (Option<OwnedFd>, Option<OwnedFd>) = match &request.stdin {
        Stdin::Bytes(bytes) if !bytes.is_empty() => {
            let (read, write) = pipe_with(PipeFlags::CLOEXEC)?;
            rustix::fs::fcntl_setfl(&write, rustix::fs::OFlags::NONBLOCK)?;
            (Some(read), Some(write))
        }
        Stdin::InheritUnlessTerminal if !rustix::termios::isatty(rustix::stdio::stdin()) => (
            Some(rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stdin(), 3)?),
            None,
        ),
        _ => (None, None),
    };
    let stdin_fd = match &stdin_child {
        Some(fd) => fd.as_raw_fd(),
        None => dev_null()?.as_raw_fd(),
    };

    let argv_owned: Vec<CString> = std::iter::once(request.program.as_os_str())
        .chain(request.args.iter().map(|a| a.as_os_str()))
        .map(|arg| c_string(arg.as_bytes()))
        .collect::<io::Result<_>>()?;
    // The environment's block is shared by every command run with that environment.
    let block = request.env.block().map_err(|_| nul_byte())?;
    let tag_entry = c_string(&tag.entry)?;
    let argv: Vec<*mut libc::c_char> = argv_owned
        .iter()
        .map(|s| s.as_ptr().cast_mut())
        .chain([ptr::null_mut()])
        .collect();
    let envp: Vec<*mut libc::c_char> = block
        .entries()
        .map(|entry| entry.as_ptr().cast::<libc::c_char>().cast_mut())
        .chain([tag_entry.as_ptr().cast_mut(), ptr::null_mut()])
        .collect();
    let cwd = request
        .cwd
        .as_ref()
        .map(|dir| c_string(dir.as_os_str().as_bytes()))
        .transpose()?;

    let mut config = SpawnConfig::new()?;
    let flags = libc::POSIX_SPAWN_SETSID as libc::c_int
        | libc::POSIX_SPAWN_SETSIGMASK
        | libc::POSIX_SPAWN_SETSIGDEF;
    // SAFETY: every pointer below refers to live, initialised data owned by this function;
    // the sigset_t values are initialised with sigemptyset before use.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        let mut defaults: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut defaults);
        // Rust ignores SIGPIPE; children must get the default back, as std::process does.
        libc::sigaddset(&mut defaults, libc::SIGPIPE);
        check(libc::posix_spawnattr_setflags(
            &mut config.attr,
            flags as libc::c_short,
        ))?;
        check(libc::posix_spawnattr_setsigmask(&mut config.attr, &empty))?;
        check(libc::posix_spawnattr_setsigdefault(
            &mut config.attr,
            &defaults,
        ))?;
        let actions = &mut config.actions;
        check(libc::posix_spawn_file_actions_adddup2(actions, stdin_fd, 0))?;
        check(libc::posix_spawn_file_actions_adddup2(
            actions,
            stdout_write.as_raw_fd(),
            1,
        ))?;
        check(libc::posix_spawn_file_actions_adddup2(
            actions,
            stderr_write.as_raw_fd(),
            2,
        ))?;
        if let Some(cwd) = &cwd {
            check(libc::posix_spawn_file_actions_addchdir_np(
                actions,
                cwd.as_ptr(),
            ))?;
        }
    }
    let mut pid: libc::pid_t = 0;
    // SAFETY: argv and envp are null-terminated arrays of pointers into live CStrings.
    let code = unsafe {
        libc::posix_spawn(
            &mut pid,
            program.as_ptr(),
            &config.actions,
            &config.attr,
            argv.as_ptr(),
            envp.as_ptr(),
        )
    };
    drop(config);
    match code {
        0 => {}
        libc::ENOENT if request.cwd.as_ref().is_some_and(|dir| !dir.is_dir()) => {
            return Ok(Err(StartFailure::NoWorkingDirectory));
        }
        libc::ENOENT | libc::ENOTDIR => return Ok(Err(StartFailure::NotFound)),
        libc::EACCES | libc::ENOEXEC | libc::EISDIR | libc::EPERM | libc::ETXTBSY => {
            return Ok(Err(StartFailure::NotExecutable));
        }
        other => return Err(io::Error::from_raw_os_error(other)),
    }
    Ok(Ok(Child {
        pid,
        stdout: stdout_read,
        stderr: stderr_read,
        stdin: stdin_parent,
    }))
}

/// `/dev/null`, opened once (close-on-exec) and shared by every command that reads nothing.
fn dev_null() -> io::Result<BorrowedFd<'static>> {
    static DEV_NULL: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(fd) = DEV_NULL.get() {
        return Ok(fd.as_fd());
    }
    let opened: OwnedFd = std::fs::File::open("/dev/null")?.into();
    // A thread that lost the race drops its copy.
    Ok(DEV_NULL.get_or_init(|| opened).as_fd())
}

fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| nul_byte())
}

fn nul_byte() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "argument or variable contains a NUL byte",
    )
}

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

pub(super) struct Supervisor<'a> {
    request: &'a ExecRequest,
    tag: Tag,
    interrupts: Option<&'a Interrupts>,
    pid: i32,
    pidfd: Option<OwnedFd>,
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    stdin: Option<OwnedFd>,
    stdin_written: usize,
    started: Instant,
    /// `None`: no deadline (the timeout does not fit in an `Instant`).
    deadline: Option<Instant>,
    stopping: Stopping,
    timed_out: bool,
    /// [`Running::stop`] was called.
    stop_requested: bool,
    interrupted: Option<i32>,
    exit_status: Option<libc::c_int>,
    output: CapturedOutput,
    leaked: usize,
}

impl<'a> Supervisor<'a> {
    fn new(
        request: &'a ExecRequest,
        child: Child,
        tag: Tag,
        interrupts: Option<&'a Interrupts>,
        started: Instant,
    ) -> Self {
        let pid =
            rustix::process::Pid::from_raw(child.pid).expect("posix_spawn returns a positive pid");
        // Without pidfd (kernels before 5.3, some sandboxes) the loop falls back to polling waitpid.
        let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok();
        Self {
            request,
            tag,
            interrupts,
            pid: child.pid,
            pidfd,
            stdout: child.stdout,
            stderr: child.stderr,
            stdin: child.stdin,
            stdin_written: 0,
            started,
            deadline: started.checked_add(request.timeout),
            stopping: Stopping::Not,
            timed_out: false,
            stop_requested: false,
            interrupted: None,
            exit_status: None,
            output: CapturedOutput::new(if request.capture {
                request.memory_cap
            } else {
                0
            }),
            leaked: 0,
        }
    }

    /// Phase 1: until the command exits (or is killed at the deadline, on interrupt, or when
    /// asked to stop). With `until`, returns at that instant, or on an interrupt, without
    /// signalling the command: the caller decides what happens next.
    fn supervise(&mut self, until: Option<Instant>) -> io::Result<()> {
        while self.exit_status.is_none() {
            let now = Instant::now();
            if let Some(until) = until {
                if self.interrupted.is_some() && !self.stop_requested {
                    return Ok(());
                }
                if now >= until {
                    // One look that does not wait, so that a probe whose `until` has already
                    // passed (`is_running`) still sees an exit or output that is ready.
                    return self.look(Some(now));
                }
            }
            let stop_now = self.interrupted.is_some() || self.stop_requested;
            let wake_at = match self.stopping {
                Stopping::Not if !stop_now => self.deadline,
                Stopping::Not => Some(now),
                Stopping::TermSent { kill_at } => kill_at,
                Stopping::KillSent => None,
            };
            if wake_at.is_some_and(|at| at <= now) {
                self.escalate(now);
                continue;
            }
            let tick = if self.pidfd.is_none() {
                Some(now + FALLBACK_TICK)
            } else {
                None
            };
            let wake_at = [wake_at, tick, until].into_iter().flatten().min();
            self.look(wake_at)?;
        }
        Ok(())
    }

    /// One `poll` round watching for exit; without a pidfd, a `waitpid` that does not wait.
    fn look(&mut self, wake_at: Option<Instant>) -> io::Result<()> {
        let had_pidfd = self.pidfd.is_some();
        self.wait_once(wake_at, true)?;
        if !had_pidfd {
            self.try_reap(false)?;
        }
        Ok(())
    }

    /// Phase 2: the command is gone. Stop whatever it left running, then finish reading.
    fn finish(&mut self) -> io::Result<()> {
        let mut found = leftovers::find(self.pid, &self.tag.entry, self.pid);
        if !found.is_empty() {
            found = self.let_exiting_processes_go(found)?;
        }
        if !found.is_empty() {
            self.leaked = found.len();
            self.stop_leftovers(&found)?;
        }
        let bound = Instant::now() + ORPHAN_PIPE_BOUND;
        while (self.stdout.is_some() || self.stderr.is_some()) && Instant::now() < bound {
            self.wait_once(Some(bound), false)?;
        }
        self.stdout = None;
        self.stderr = None;
        self.stdin = None;
        Ok(())
    }

    /// Deadline or interrupt: SIGTERM the group first, SIGKILL after the grace period.
    fn escalate(&mut self, now: Instant) {
        if self.interrupted.is_none() && !self.stop_requested {
            self.timed_out = true;
        }
        let (signal, next) = match self.stopping {
            Stopping::Not => (
                libc::SIGTERM,
                Stopping::TermSent {
                    kill_at: now.checked_add(self.request.kill_grace),
                },
            ),
            Stopping::TermSent { .. } | Stopping::KillSent => (libc::SIGKILL, Stopping::KillSent),
        };
        self.signal_everything(signal);
        self.stopping = next;
    }

    /// Sends `signal` to the command's group and to tagged processes that left the group.
    fn signal_everything(&self, signal: i32) {
        // SAFETY: kill(2) with a negative pid signals the process group; no memory involved.
        unsafe { libc::kill(-self.pid, signal) };
        for pid in leftovers::find(self.pid, &self.tag.entry, self.pid) {
            // SAFETY: as above, for one process.
            unsafe { libc::kill(pid, signal) };
        }
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
        let group = self.pid;
        let send = |signal: i32, pids: &[i32]| {
            // SAFETY: kill(2) on the group and on individual pids; no memory involved.
            unsafe { libc::kill(-group, signal) };
            for &pid in pids {
                // SAFETY: as above.
                unsafe { libc::kill(pid, signal) };
            }
        };
        send(libc::SIGTERM, pids);
        // A command stopped on request (a service at the end of its suite) gives its group the
        // whole grace period to shut down: its children are still on their way out. Otherwise
        // bounded by LEFTOVER_GRACE; the checked sum covers a grace too large for the clock.
        let grace = if self.stop_requested {
            self.request.kill_grace
        } else {
            LEFTOVER_GRACE.min(self.request.kill_grace)
        };
        let kill_at = Instant::now()
            .checked_add(grace)
            .unwrap_or_else(|| Instant::now() + LEFTOVER_GRACE);
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
            if now >= kill_at {
                send(libc::SIGKILL, &alive);
                return Ok(());
            }
            self.wait_once(Some(kill_at.min(now + Duration::from_millis(10))), false)?;
        }
    }

    /// One `poll` round: read what is ready, feed stdin, notice exit and interrupts.
    fn wait_once(&mut self, wake_at: Option<Instant>, watch_exit: bool) -> io::Result<()> {
        let interrupt_fd = self
            .interrupts
            .filter(|_| self.interrupted.is_none())
            .map(Interrupts::fd);
        let pidfd = self.pidfd.as_ref().filter(|_| watch_exit).map(AsFd::as_fd);
        let slots: [(Option<BorrowedFd<'_>>, PollFlags); 5] = [
            (self.stdout.as_ref().map(AsFd::as_fd), PollFlags::IN),
            (self.stderr.as_ref().map(AsFd::as_fd), PollFlags::IN),
            (self.stdin.as_ref().map(AsFd::as_fd), PollFlags::OUT),
            (pidfd, PollFlags::IN),
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
            Err(rustix::io::Errno::INTR) => return Ok(()),
            Err(error) => return Err(error.into()),
        }
        let ready: [bool; 5] = std::array::from_fn(|slot| {
            index[slot] != usize::MAX && !fds[index[slot]].revents().is_empty()
        });
        drop(fds);
        if ready[0] {
            self.read_stream(Stream::Stdout)?;
        }
        if ready[1] {
            self.read_stream(Stream::Stderr)?;
        }
        // Both pipes just reached their end: usually because the command exited, and then it
        // can be reaped now, without another poll for its pidfd.
        if (ready[0] || ready[1])
            && watch_exit
            && self.stdout.is_none()
            && self.stderr.is_none()
            && self.exit_status.is_none()
            && self.pidfd.is_some()
        {
            self.try_reap(false)?;
        }
        if ready[2] {
            self.feed_stdin();
        }
        if ready[3] && self.exit_status.is_none() {
            self.try_reap(true)?;
        }
        if ready[4] {
            self.interrupted = self
                .interrupts
                .and_then(Interrupts::received)
                .or(Some(libc::SIGINT));
        }
        Ok(())
    }

    fn read_stream(&mut self, stream: Stream) -> io::Result<()> {
        let slot = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        let Some(fd) = slot.as_ref() else {
            return Ok(());
        };
        // Read into uninitialised stack memory: no allocation and no zeroing per command.
        let mut buffer = [MaybeUninit::<u8>::uninit(); READ_BLOCK];
        let bytes: &[u8] = match rustix::io::read(fd, &mut buffer[..]) {
            Ok(([], _)) => {
                *slot = None;
                return Ok(());
            }
            Ok((read, _)) => read,
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => return Ok(()),
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
        Ok(())
    }

    fn feed_stdin(&mut self) {
        let (Some(fd), Stdin::Bytes(bytes)) = (self.stdin.as_ref(), &self.request.stdin) else {
            return;
        };
        match rustix::io::write(fd, &bytes[self.stdin_written..]) {
            Ok(count) => {
                self.stdin_written += count;
                if self.stdin_written >= bytes.len() {
                    self.stdin = None;
                }
            }
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
            // EPIPE: the command closed its stdin; the rest is not wanted.
            Err(_) => self.stdin = None,
        }
    }

    /// Reaps the command if it has exited (`block`: it is known to have).
    fn try_reap(&mut self, block: bool) -> io::Result<()> {
        let mut status: libc::c_int = 0;
        let flags = if block { 0 } else { libc::WNOHANG };
        loop {
            // SAFETY: waitpid on our own child with a valid out pointer.
            let reaped = unsafe { libc::waitpid(self.pid, &mut status, flags) };
            match reaped {
                0 => return Ok(()),
                pid if pid == self.pid => {
                    self.exit_status = Some(status);
                    self.pidfd = None;
                    return Ok(());
                }
                _ => {
                    let error = io::Error::last_os_error();
                    if error.kind() != io::ErrorKind::Interrupted {
                        return Err(error);
                    }
                }
            }
        }
    }

    fn into_outcome(mut self) -> Outcome {
        let termination = self.termination().expect("the command was reaped");
        Outcome {
            termination,
            duration: self.started.elapsed(),
            output: std::mem::take(&mut self.output),
            leaked_processes: self.leaked,
        }
    }

    /// How the command ended; `None` until it was reaped.
    fn termination(&self) -> Option<Termination> {
        let status = self.exit_status?;
        Some(if let Some(signal) = self.interrupted {
            Termination::Interrupted { signal }
        } else if self.timed_out {
            let signal = if self.stopping == Stopping::KillSent {
                libc::SIGKILL
            } else {
                libc::SIGTERM
            };
            Termination::TimedOut { signal }
        } else if libc::WIFEXITED(status) {
            Termination::Exited(libc::WEXITSTATUS(status))
        } else {
            Termination::Signaled(libc::WTERMSIG(status))
        })
    }
}

impl Drop for Supervisor<'_> {
    /// A command dropped while running (a panic, an early return) is killed with everything
    /// it started, and reaped: nothing outlives its handle.
    fn drop(&mut self) {
        if self.exit_status.is_some() {
            return;
        }
        self.signal_everything(libc::SIGKILL);
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid on our own child with a valid out pointer; it was just killed.
        while unsafe { libc::waitpid(self.pid, &mut status, 0) } == -1
            && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
        {}
        self.exit_status = Some(status);
    }
}

fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(count) => bytes = &bytes[count..],
            Err(rustix::io::Errno::INTR) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}
