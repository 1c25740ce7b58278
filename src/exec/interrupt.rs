//! Ctrl-C and termination signals, as a file descriptor every running command can poll.
//!
//! The handler only records the signal and writes one byte to a pipe that is never drained:
//! once interrupted, the read end stays readable, so every executor waiting in `poll` wakes up,
//! stops its command and returns. Nothing else happens in signal context.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};

/// Signals that interrupt a run.
const SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The process-wide interrupt state, installed once.
#[derive(Debug)]
pub struct Interrupts {
    reader: OwnedFd,
    // The write end must stay open for the life of the process: the handler writes to it.
    _writer: OwnedFd,
    received: AtomicI32,
}

static INTERRUPTS: OnceLock<Interrupts> = OnceLock::new();

impl Interrupts {
    /// Installs the handlers (once per process) and returns the shared state.
    ///
    /// After this, SIGINT, SIGTERM and SIGHUP no longer kill the runner: they stop the running
    /// commands, and the run ends early with [`Interrupts::received`] set.
    pub fn install() -> std::io::Result<&'static Interrupts> {
        if let Some(existing) = INTERRUPTS.get() {
            return Ok(existing);
        }
        let (reader, writer) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let fresh = Interrupts {
            reader,
            _writer: writer,
            received: AtomicI32::new(0),
        };
        // Another thread may have won the race; only the winner registers handlers.
        let mut won = false;
        let state = INTERRUPTS.get_or_init(|| {
            won = true;
            fresh
        });
        if won {
            let write_fd = state._writer.as_raw_fd();
            for signal in SIGNALS {
                let handler = move || {
                    if let Some(state) = INTERRUPTS.get() {
                        let _ = state.received.compare_exchange(
                            0,
                            signal,
                            Ordering::SeqCst,
                            Ordering::SeqCst,
                        );
                    }
                    // SAFETY: write(2) is async-signal-safe; the fd lives as long as the process.
                    unsafe { libc::write(write_fd, [1u8].as_ptr().cast(), 1) };
                };
                // SAFETY: the handler only does an atomic store and a write(2).
                unsafe { signal_hook::low_level::register(signal, handler) }?;
            }
        }
        Ok(state)
    }

    /// The installed state, if [`Interrupts::install`] was called.
    pub fn installed() -> Option<&'static Interrupts> {
        INTERRUPTS.get()
    }

    /// The first interrupting signal received, if any.
    pub fn received(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    /// Stops the run as if `signal` had arrived (used when the run can no longer report:
    /// its output is gone). Running commands are stopped; the first signal received wins.
    pub fn stop(&self, signal: i32) {
        let _ = self
            .received
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        // The pipe is never drained, so one byte keeps every poller awake from now on.
        let _ = rustix::io::write(&self._writer, &[1]);
    }

    /// A descriptor that becomes readable (and stays so) once a signal arrived.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.reader.as_fd()
    }
}
