//! The child's side of starting a command, without glibc's `posix_spawn`: one `clone3` with
//! `CLONE_VM | CLONE_VFORK` (the child borrows the runner's memory until it execs, as in
//! `posix_spawn`), `CLONE_CLEAR_SIGHAND` (the kernel resets every signal handler in the child,
//! where `posix_spawn` asks about all 64 signals one `sigaction` at a time) and `CLONE_PIDFD`
//! (the pidfd the supervisor waits on comes with it, where it took a `pidfd_open`).
//!
//! The child runs on a stack kept per thread (no `mmap`/`munmap` a command) and makes plain
//! system calls only: no allocation, no lock. What the command gets is what `spawn.rs` asked
//! `posix_spawn` for: a new session, its stdio, its folder, SIGPIPE at its default, an empty
//! signal mask. A failure in the child is its `errno`, handed back through the memory it
//! shares with the runner; the child is reaped before the failure is returned.
//!
//! x86-64 Linux only (the entry is a few lines of assembly); elsewhere, or where the kernel
//! refuses `clone3` or these flags (before 5.5, a seccomp filter), `spawn.rs` uses
//! `posix_spawn` from then on.

use std::cell::RefCell;
use std::ffi::{CStr, c_int, c_void};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use super::spawn::ChildStdio;
use super::supervise::wait_for;

/// What the child does before it execs: every pointer refers to memory the runner keeps
/// alive until `start` returns.
pub(super) struct ChildPlan<'a> {
    pub program: &'a CStr,
    /// Null-terminated.
    pub argv: &'a [*mut libc::c_char],
    /// Null-terminated.
    pub envp: &'a [*mut libc::c_char],
    pub stdio: &'a ChildStdio,
    pub cwd: Option<&'a CStr>,
}

/// A started command.
pub(super) struct Started {
    pub pid: libc::pid_t,
    pub pidfd: OwnedFd,
}

/// Why [`start`] did not start the command.
pub(super) enum NotStarted {
    /// This kernel (or its seccomp filter) refuses `clone3` with these flags: use
    /// `posix_spawn`, now and for every later command.
    Unsupported,
    /// The child failed before its program ran, or the runner could not clone: this `errno`.
    Failed(c_int),
}

/// Set once `clone3` was refused: every later command goes through `posix_spawn`.
static REFUSED: AtomicBool = AtomicBool::new(false);

/// The child's stack: 64 KiB, 16-byte aligned, one per thread that starts commands. The runner
/// thread is suspended while the child runs on it (`CLONE_VFORK`), so one is enough.
const STACK_WORDS: usize = 64 * 1024 / 16;

thread_local! {
    static STACK: RefCell<Vec<u128>> = const { RefCell::new(Vec::new()) };
}

/// The data the child reads, and the `errno` it writes back.
#[repr(C)]
struct Shared {
    program: *const libc::c_char,
    argv: *const *mut libc::c_char,
    envp: *const *mut libc::c_char,
    stdio: [c_int; 3],
    terminal: *const libc::c_char,
    cwd: *const libc::c_char,
    error: c_int,
}

/// `struct clone_args` of `clone3(2)`.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

/// Starts `plan` in a new process; see the module's documentation.
pub(super) fn start(plan: &ChildPlan<'_>) -> Result<Started, NotStarted> {
    if !cfg!(target_arch = "x86_64") || REFUSED.load(Ordering::Relaxed) {
        return Err(NotStarted::Unsupported);
    }
    #[cfg(test)]
    if tests::POSIX_SPAWN_ONLY.get() {
        return Err(NotStarted::Unsupported);
    }
    let (stdio, terminal) = match plan.stdio {
        ChildStdio::Fds(fds) => (*fds, std::ptr::null()),
        ChildStdio::Terminal(path) => ([-1; 3], path.as_ptr()),
    };
    let mut shared = Shared {
        program: plan.program.as_ptr(),
        argv: plan.argv.as_ptr(),
        envp: plan.envp.as_ptr(),
        stdio,
        terminal,
        cwd: plan.cwd.map_or(std::ptr::null(), CStr::as_ptr),
        error: 0,
    };
    let mut pidfd: c_int = -1;
    let result = STACK.with_borrow_mut(|stack| {
        if stack.len() < STACK_WORDS {
            *stack = vec![0; STACK_WORDS];
        }
        let args = CloneArgs {
            flags: (libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD) as u64
                | CLONE_CLEAR_SIGHAND,
            pidfd: (&raw mut pidfd) as u64,
            exit_signal: libc::SIGCHLD as u64,
            stack: stack.as_mut_ptr() as u64,
            stack_size: (stack.len() * 16) as u64,
            ..CloneArgs::default()
        };
        // All signals blocked from before the clone until the child has set its own mask (and
        // in the runner until the child has gone): no handler of the runner's can run on the
        // child's stack, and none is left for the child once it unblocks (CLEAR_SIGHAND).
        // SAFETY: sigset_t values initialised by sigfillset/sigprocmask before use.
        let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
        let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above; pthread_sigmask only reads `all` and writes `old`.
        unsafe {
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        }
        // SAFETY: `args` describes a stack that nothing else uses while the child runs (this
        // thread is suspended until it execs or exits) and a pidfd slot that outlives the
        // call; `shared` stays alive and unmoved until then too.
        let returned = unsafe { clone3(&args, (&raw mut shared).cast()) };
        // SAFETY: restores the mask read above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
        returned
    });
    match result {
        pid if pid > 0 => {
            let pid = pid as libc::pid_t;
            // SAFETY: the kernel wrote a new descriptor that nothing else owns.
            let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
            if shared.error != 0 {
                // The child wrote its errno and exited (127): reap it before answering.
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = wait_for(pid, rustix::process::WaitOptions::empty());
                }
                return Err(NotStarted::Failed(shared.error));
            }
            Ok(Started { pid, pidfd })
        }
        error => {
            let error = -error as c_int;
            if matches!(
                error,
                libc::ENOSYS | libc::EINVAL | libc::EPERM | libc::E2BIG
            ) {
                REFUSED.store(true, Ordering::Relaxed);
                return Err(NotStarted::Unsupported);
            }
            Err(NotStarted::Failed(error))
        }
    }
}

/// `clone3(args)`: in the runner, the child's pid or `-errno`; in the child, `child(shared)`
/// on the new stack, which never returns.
///
/// # Safety
/// `args` must name a stack of `stack_size` bytes, 16-byte aligned at its top, that nothing
/// else touches until the child has exec'd or exited, and `CLONE_VM | CLONE_VFORK`; `shared`
/// must point to a live [`Shared`].
#[cfg(target_arch = "x86_64")]
unsafe fn clone3(args: &CloneArgs, shared: *mut c_void) -> isize {
    let returned: isize;
    // SAFETY: the caller's contract. The child starts at the instruction after `syscall` with
    // the new stack and the same registers; it calls `child`, which never returns, so it never
    // reaches the runner's code. The runner gets the syscall's result in rax; the kernel
    // clobbers rcx and r11.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r12",
            "call r13",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 => returned,
            in("rdi") std::ptr::from_ref(args),
            in("rsi") std::mem::size_of::<CloneArgs>(),
            in("r12") shared,
            in("r13") child as extern "C" fn(*mut c_void) -> !,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    returned
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn clone3(_args: &CloneArgs, _shared: *mut c_void) -> isize {
    -(libc::ENOSYS as isize)
}

/// The child, between `clone3` and `execve`: system calls only, on its own stack, sharing the
/// runner's memory. Any failure leaves its `errno` in `shared` and exits with 127.
#[cfg_attr(
    not(target_arch = "x86_64"),
    expect(dead_code, reason = "only the x86-64 entry calls it")
)]
extern "C" fn child(shared: *mut c_void) -> ! {
    // SAFETY: `clone3`'s caller passes a live `Shared`; the runner reads it only once this
    // process has exec'd or exited.
    let shared = unsafe { &mut *shared.cast::<Shared>() };
    // SAFETY: each call is a plain system call wrapper on values the runner prepared.
    unsafe {
        let errno = || *libc::__errno_location();
        let fail = |shared: &mut Shared, error: c_int| -> ! {
            shared.error = if error == 0 { libc::EIO } else { error };
            libc::_exit(127)
        };
        if libc::setsid() < 0 {
            fail(shared, errno());
        }
        if shared.terminal.is_null() {
            for (target, fd) in (0..).zip(shared.stdio) {
                let done = if fd == target {
                    libc::fcntl(fd, libc::F_SETFD, 0)
                } else {
                    libc::dup2(fd, target)
                };
                if done < 0 {
                    fail(shared, errno());
                }
            }
        } else {
            // Opened after `setsid`, without O_NOCTTY: the session's controlling terminal.
            let fd = libc::open(shared.terminal, libc::O_RDWR);
            if fd < 0 {
                fail(shared, errno());
            }
            for target in 0..3 {
                if fd != target && libc::dup2(fd, target) < 0 {
                    fail(shared, errno());
                }
            }
            if fd > 2 {
                libc::close(fd);
            }
        }
        if !shared.cwd.is_null() && libc::chdir(shared.cwd) < 0 {
            fail(shared, errno());
        }
        // Rust ignores SIGPIPE, and ignored signals stay ignored across exec: the command gets
        // the default back, as std::process gives it.
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        if libc::sigaction(libc::SIGPIPE, &default, std::ptr::null_mut()) < 0 {
            fail(shared, errno());
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        libc::execve(shared.program, shared.argv.cast(), shared.envp.cast());
        fail(shared, errno())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::Duration;

    use crate::exec::{ExecRequest, Executor, Outcome, StartFailure, StreamSelector, Termination};

    thread_local! {
        /// Makes this thread's commands start through `posix_spawn`, so that both ways are
        /// tested alike.
        pub(super) static POSIX_SPAWN_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    fn run_both(request: &ExecRequest) -> [Outcome; 2] {
        [false, true].map(|posix| {
            POSIX_SPAWN_ONLY.set(posix);
            let outcome = Executor::new().run(request);
            POSIX_SPAWN_ONLY.set(false);
            outcome.unwrap()
        })
    }

    /// The value of `name:` in `/proc/<pid>/status` text.
    fn field<'a>(status: &'a str, name: &str) -> &'a str {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {name} in {status}"))
    }

    #[test]
    fn both_ways_start_a_session_leader_with_no_signal_blocked_and_sigpipe_at_its_default() {
        // The runner (this test binary too) ignores SIGPIPE and has handlers installed; the
        // command must see neither.
        let request = ExecRequest::new("cat")
            .args(["/proc/self/status"])
            .timeout(Duration::from_secs(30));
        for (way, outcome) in ["clone3", "posix_spawn"].iter().zip(run_both(&request)) {
            assert_eq!(outcome.termination, Termination::Exited(0), "{way}");
            let status = outcome.output.text_lossy(StreamSelector::Stdout).unwrap();
            let pid = field(&status, "Pid");
            assert_eq!(field(&status, "NSsid"), pid, "{way}: leads its session");
            assert_eq!(field(&status, "NSpgid"), pid, "{way}: leads its group");
            assert_eq!(field(&status, "SigBlk"), "0000000000000000", "{way}");
            let ignored = u64::from_str_radix(field(&status, "SigIgn"), 16).unwrap();
            assert_eq!(
                ignored & (1 << (libc::SIGPIPE - 1)),
                0,
                "{way}: SIGPIPE ignored"
            );
        }
    }

    #[test]
    fn both_ways_report_why_a_command_did_not_start() {
        let folder = tempfile::tempdir().unwrap();
        let plain = folder.path().join("plain-file");
        std::fs::write(&plain, "not a program").unwrap();
        let cases = [
            (
                ExecRequest::new(folder.path().join("missing")),
                StartFailure::NotFound,
            ),
            (ExecRequest::new(&plain), StartFailure::NotExecutable),
            (
                ExecRequest::new("/bin/sh").cwd(folder.path().join("no-such-folder")),
                StartFailure::NoWorkingDirectory,
            ),
        ];
        for (request, expected) in cases {
            for (way, outcome) in ["clone3", "posix_spawn"].iter().zip(run_both(&request)) {
                assert_eq!(
                    outcome.termination,
                    Termination::FailedToStart(expected),
                    "{way}: {}",
                    request.display_command()
                );
            }
        }
    }

    #[test]
    fn a_command_given_a_folder_runs_in_it_both_ways() {
        let folder = tempfile::tempdir().unwrap();
        let request = ExecRequest::new("pwd")
            .cwd(folder.path())
            .timeout(Duration::from_secs(30));
        let expected = format!("{}\n", folder.path().canonicalize().unwrap().display());
        for (way, outcome) in ["clone3", "posix_spawn"].iter().zip(run_both(&request)) {
            let out = outcome.output.text_lossy(StreamSelector::Stdout).unwrap();
            assert_eq!(out, expected, "{way}");
        }
    }
}
