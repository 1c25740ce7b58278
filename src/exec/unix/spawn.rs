//! Starting a command in a new session and process group, without a controlling terminal:
//! `clone.rs`'s `clone3` where the kernel allows it, else `posix_spawn` with
//! `POSIX_SPAWN_SETSID`, which stays on glibc's fast `clone(CLONE_VFORK)` path (a `pre_exec`
//! hook would force fork+exec; see ARCHITECTURE.md, "Decisions"). Both give the command the
//! same stdio, folder, signal mask and dispositions.
//!
//! A command that asks for a terminal gets one instead of pipes (`pty.rs`).
//!
//! This file only starts; watching the command is `supervise.rs`'s job.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::ptr;
use std::sync::OnceLock;

use rustix::pipe::{PipeFlags, pipe_with};
use rustix::process::Pid;

use super::Tag;
use super::clone::{self, ChildPlan, NotStarted};
use super::pty::Pty;
use crate::exec::outcome::StartFailure;
use crate::exec::program::search_path;
use crate::exec::request::{ExecRequest, Stdin};

/// The parent's ends of a started command.
pub(super) struct Child {
    pub pid: Pid,
    /// A pidfd for it, when the way it was started gave one.
    pub pidfd: Option<OwnedFd>,
    /// The read ends of its stdout and stderr pipes (`None` when output goes to a log file).
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
    /// The write end of its stdin pipe, when it is given bytes.
    pub stdin: Option<OwnedFd>,
}

/// The program as a C string: paths with a `/` as given, names looked up in the command's PATH.
pub(super) fn resolve_program(request: &ExecRequest) -> Result<CString, StartFailure> {
    let program = request.program.as_bytes();
    if program.contains(&b'/') {
        return CString::new(program).map_err(|_| StartFailure::NotFound);
    }
    search_path(program, &request.env, request.cwd.as_deref())
}

/// Starts the command in a new session with its stdio on fresh pipes (stdin: `/dev/null`
/// unless bytes are given), or on a pseudo-terminal when the request asks for one. The outer
/// `Err` is the runner's own failure.
pub(super) fn spawn(
    request: &ExecRequest,
    program: &CString,
    tag: &Tag,
) -> io::Result<Result<Child, StartFailure>> {
    let plumbing = Plumbing::open(request)?;
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
    let plan = ChildPlan {
        program,
        argv: &argv,
        envp: &envp,
        stdio: &plumbing.child,
        cwd: cwd.as_deref(),
    };
    let started = match clone::start(&plan) {
        Ok(started) => Ok((started.pid, Some(started.pidfd))),
        Err(NotStarted::Failed(code)) => Err(code),
        Err(NotStarted::Unsupported) => {
            posix_spawn(&plumbing.child, cwd.as_ref(), program, &argv, &envp)?
                .map(|pid| (pid, None))
        }
    };
    let (pid, pidfd) = match started {
        Ok(started) => started,
        Err(code) => return Ok(Err(start_failure(code, request)?)),
    };
    let ends = plumbing.parent;
    Ok(Ok(Child {
        pid: Pid::from_raw(pid).expect("a started command has a positive pid"),
        pidfd,
        stdout: ends.stdout,
        stderr: ends.stderr,
        stdin: ends.stdin,
    }))
}

/// The fallback where `clone.rs` cannot start commands: `posix_spawn`, giving the command the
/// same session, stdio and folder. `Ok(Err(code))`: the command did not start, with this
/// error number.
fn posix_spawn(
    stdio: &ChildStdio,
    cwd: Option<&CString>,
    program: &CString,
    argv: &[*mut libc::c_char],
    envp: &[*mut libc::c_char],
) -> io::Result<Result<libc::pid_t, libc::c_int>> {
    let config = SpawnConfig::new(stdio, cwd)?;
    let mut pid: libc::pid_t = 0;
    // SAFETY: argv and envp are null-terminated arrays of pointers into live CStrings; the
    // configuration's objects are initialised.
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
    Ok(if code == 0 { Ok(pid) } else { Err(code) })
}

/// The command's stdio: what it gets as fds 0, 1 and 2, and the runner's ends.
struct Plumbing {
    child: ChildStdio,
    parent: ParentEnds,
    /// The command's ends of its pipes, open until it has started.
    _child_ends: (Option<OutputFds>, Option<StdinFds>),
}

/// The runner's ends of a command's stdio (see [`Child`]).
struct ParentEnds {
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    stdin: Option<OwnedFd>,
}

/// What the command's fds 0, 1 and 2 become.
pub(super) enum ChildStdio {
    /// These descriptors of the runner, in order.
    Fds([RawFd; 3]),
    /// The terminal side of a pseudo-terminal, opened by this path in the new session.
    Terminal(CString),
}

impl Plumbing {
    fn open(request: &ExecRequest) -> io::Result<Self> {
        if let Some(terminal) = &request.terminal {
            let pty = Pty::open(terminal)?;
            let writer = pty.writer()?;
            return Ok(Self {
                child: ChildStdio::Terminal(pty.path),
                parent: ParentEnds {
                    stdout: Some(pty.controller),
                    stderr: None,
                    stdin: Some(writer),
                },
                _child_ends: (None, None),
            });
        }
        let output = OutputFds::open(request)?;
        let stdin = StdinFds::open(&request.stdin)?;
        let stdin_fd = match &stdin.child {
            Some(fd) => fd.as_raw_fd(),
            None => dev_null()?.as_raw_fd(),
        };
        let child = ChildStdio::Fds([
            stdin_fd,
            output.stdout_write.as_raw_fd(),
            output.stderr_write.as_raw_fd(),
        ]);
        let mut output = output;
        let mut stdin = stdin;
        let parent = ParentEnds {
            stdout: output.stdout_read.take(),
            stderr: output.stderr_read.take(),
            stdin: stdin.parent.take(),
        };
        Ok(Self {
            child,
            parent,
            _child_ends: (Some(output), Some(stdin)),
        })
    }
}

/// What the error number of a command that did not start means: a failure of the command,
/// or (`Err`) the runner's own.
fn start_failure(code: libc::c_int, request: &ExecRequest) -> io::Result<StartFailure> {
    Ok(match code {
        libc::ENOENT if request.cwd.as_ref().is_some_and(|dir| !dir.is_dir()) => {
            StartFailure::NoWorkingDirectory
        }
        libc::ENOENT | libc::ENOTDIR => StartFailure::NotFound,
        libc::EACCES | libc::ENOEXEC | libc::EISDIR | libc::EPERM | libc::ETXTBSY => {
            StartFailure::NotExecutable
        }
        other => return Err(io::Error::from_raw_os_error(other)),
    })
}

/// Where the command's output goes: two pipes the supervisor reads, or straight into the log
/// file (stdout and stderr both).
struct OutputFds {
    stdout_read: Option<OwnedFd>,
    stdout_write: OwnedFd,
    stderr_read: Option<OwnedFd>,
    stderr_write: OwnedFd,
}

impl OutputFds {
    fn open(request: &ExecRequest) -> io::Result<Self> {
        Ok(match &request.log {
            None => {
                let (stdout_read, stdout_write) = pipe_with(PipeFlags::CLOEXEC)?;
                let (stderr_read, stderr_write) = pipe_with(PipeFlags::CLOEXEC)?;
                Self {
                    stdout_read: Some(stdout_read),
                    stdout_write,
                    stderr_read: Some(stderr_read),
                    stderr_write,
                }
            }
            Some(path) => {
                let file: OwnedFd = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?
                    .into();
                let copy = rustix::io::fcntl_dupfd_cloexec(&file, 3)?;
                Self {
                    stdout_read: None,
                    stdout_write: file,
                    stderr_read: None,
                    stderr_write: copy,
                }
            }
        })
    }
}

/// The command's stdin: a pipe the supervisor feeds, a copy of the runner's stdin, or (both
/// `None`) the shared `/dev/null`.
struct StdinFds {
    child: Option<OwnedFd>,
    parent: Option<OwnedFd>,
}

impl StdinFds {
    fn open(stdin: &Stdin) -> io::Result<Self> {
        Ok(match stdin {
            Stdin::Bytes(bytes) if !bytes.is_empty() => {
                let (read, write) = pipe_with(PipeFlags::CLOEXEC)?;
                rustix::fs::fcntl_setfl(&write, rustix::fs::OFlags::NONBLOCK)?;
                Self {
                    child: Some(read),
                    parent: Some(write),
                }
            }
            Stdin::InheritUnlessTerminal if !rustix::termios::isatty(rustix::stdio::stdin()) => {
                Self {
                    child: Some(rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stdin(), 3)?),
                    parent: None,
                }
            }
            _ => Self {
                child: None,
                parent: None,
            },
        })
    }
}

/// Owns posix_spawn's attribute and file-action objects so they are destroyed on every path.
struct SpawnConfig {
    attr: libc::posix_spawnattr_t,
    actions: libc::posix_spawn_file_actions_t,
}

impl SpawnConfig {
    /// A new session, an empty signal mask, SIGPIPE back to its default, `stdio` as the
    /// command's fds 0, 1 and 2, and `cwd` as its working folder.
    fn new(stdio: &ChildStdio, cwd: Option<&CString>) -> io::Result<Box<Self>> {
        let mut config = Self::init()?;
        let flags = libc::POSIX_SPAWN_SETSID as libc::c_int
            | libc::POSIX_SPAWN_SETSIGMASK
            | libc::POSIX_SPAWN_SETSIGDEF;
        // SAFETY: every pointer below refers to live, initialised data; the sigset_t values are
        // initialised with sigemptyset before use.
        unsafe {
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            let mut defaults: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut defaults);
            // Rust ignores SIGPIPE; children must get the default back, as std::process does.
            libc::sigaddset(&mut defaults, libc::SIGPIPE);
            let attr = &mut config.attr;
            check(libc::posix_spawnattr_setflags(attr, flags as libc::c_short))?;
            check(libc::posix_spawnattr_setsigmask(attr, &empty))?;
            check(libc::posix_spawnattr_setsigdefault(attr, &defaults))?;
            let actions = &mut config.actions;
            match stdio {
                ChildStdio::Fds(fds) => {
                    for (target, fd) in (0..).zip(*fds) {
                        check(libc::posix_spawn_file_actions_adddup2(actions, fd, target))?;
                    }
                }
                // Opened after `setsid`, without O_NOCTTY: the session's controlling terminal.
                ChildStdio::Terminal(path) => {
                    check(libc::posix_spawn_file_actions_addopen(
                        actions,
                        0,
                        path.as_ptr(),
                        libc::O_RDWR,
                        0,
                    ))?;
                    check(libc::posix_spawn_file_actions_adddup2(actions, 0, 1))?;
                    check(libc::posix_spawn_file_actions_adddup2(actions, 0, 2))?;
                }
            }
            if let Some(cwd) = cwd {
                check(libc::posix_spawn_file_actions_addchdir_np(
                    actions,
                    cwd.as_ptr(),
                ))?;
            }
        }
        Ok(config)
    }

    fn init() -> io::Result<Box<Self>> {
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
        // SAFETY: both were initialised in `init`.
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
