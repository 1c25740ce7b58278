//! Standard output for the reports: once the run is interrupted, it never waits for a reader.
//!
//! A report written into a pipe whose reader stopped reading (`smoke-runner | less`, a paused
//! CI log reader) blocks in `write` once the pipe is full, and a blocked `write` does not see
//! Ctrl-C: the run would hang with its test dirs in place. So each write first waits in `poll`
//! for standard output to take bytes *or* for the interrupt descriptor, and writes no more than
//! a pipe takes without blocking once `poll` said it can. After an interrupt, output that can
//! be written still is (the partial summary); output that would wait more than a moment fails
//! with [`ReaderNotReading`], which stops the report and lets the run end with 128+N.

use std::io::{self, LineWriter, Write};
use std::sync::Arc;

use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

use crate::exec::Interrupts;

/// What a pipe takes in one `write` without blocking, once `poll` says it is writable.
const PIPE_BUF: usize = libc::PIPE_BUF;

/// How long a reader that stopped reading gets, after an interrupt, before the report gives
/// up on it (the run must end within a second of the signal).
const READER_GRACE: Duration = Duration::from_millis(250);

/// The error a report gets when the run was interrupted while its reader was not reading.
#[derive(Debug, thiserror::Error)]
#[error("the run was interrupted while the reader of standard output was not reading")]
pub(crate) struct ReaderNotReading;

impl ReaderNotReading {
    /// Whether `error` is this one.
    pub(crate) fn is(error: &io::Error) -> bool {
        error
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<Self>().is_some())
    }
}

/// Standard output, line-buffered, giving up on a reader that does not read once the run
/// (whose `interrupts` these are) is interrupted (see the module docs).
pub(crate) fn report_stdout(interrupts: &Arc<Interrupts>) -> LineWriter<InterruptibleStdout> {
    LineWriter::with_capacity(PIPE_BUF, InterruptibleStdout::new(Some(interrupts)))
}

/// Unbuffered standard output that waits for room or an interrupt, whichever comes first.
#[derive(Debug)]
pub(crate) struct InterruptibleStdout {
    /// `None` without installed interrupts, or when standard output never waits for a reader
    /// (a file, `/dev/null`): then a write is a plain write, with no `poll` before it.
    interrupts: Option<Arc<Interrupts>>,
    /// Once interrupted with no room on standard output: when the reader's grace ends.
    grace_ends: Option<Instant>,
}

impl InterruptibleStdout {
    /// Standard output, unbuffered (wrap it in a `BufWriter` or `LineWriter`), giving up on its
    /// reader once `interrupts` are; without them, plain standard output.
    pub(crate) fn new(interrupts: Option<&Arc<Interrupts>>) -> Self {
        Self {
            interrupts: interrupts.filter(|_| may_wait_for_a_reader()).cloned(),
            grace_ends: None,
        }
    }

    /// Waits until standard output can take bytes (`Ok`) or the run is interrupted while it
    /// cannot and stays so for [`READER_GRACE`] (`Err`).
    fn wait_for_room(&mut self, interrupts: &Interrupts) -> io::Result<()> {
        let stdout = rustix::stdio::stdout();
        if self.grace_ends.is_none() {
            loop {
                let mut fds = [
                    PollFd::from_borrowed_fd(stdout, PollFlags::OUT),
                    PollFd::from_borrowed_fd(interrupts.fd(), PollFlags::IN),
                ];
                match rustix::event::poll(&mut fds, None) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(error) => return Err(error.into()),
                }
                // Writable, or an error or hang-up the write itself will report.
                if !fds[0].revents().is_empty() {
                    return Ok(());
                }
                if !fds[1].revents().is_empty() {
                    break;
                }
            }
        }
        // Interrupted while standard output has no room: a reader that is slow rather than
        // gone gets a moment, once for the rest of the run.
        let grace_ends = *self
            .grace_ends
            .get_or_insert_with(|| Instant::now() + READER_GRACE);
        loop {
            let left = grace_ends.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::other(ReaderNotReading));
            }
            let timeout = Timespec {
                tv_sec: left.as_secs() as _,
                tv_nsec: left.subsec_nanos() as _,
            };
            let mut fds = [PollFd::from_borrowed_fd(stdout, PollFlags::OUT)];
            match rustix::event::poll(&mut fds, Some(&timeout)) {
                Ok(_) if !fds[0].revents().is_empty() => return Ok(()),
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
}

/// Whether a write to standard output can block on whoever reads it: a pipe, a socket or a
/// terminal can; a regular file or a device such as `/dev/null` or `/dev/full` cannot. Asked
/// once, so that a report to a file pays no `poll` per line on the per-step path.
fn may_wait_for_a_reader() -> bool {
    let stdout = rustix::stdio::stdout();
    match rustix::fs::fstat(stdout) {
        Ok(stat) => match rustix::fs::FileType::from_raw_mode(stat.st_mode) {
            rustix::fs::FileType::RegularFile => false,
            rustix::fs::FileType::CharacterDevice => rustix::termios::isatty(stdout),
            _ => true,
        },
        Err(_) => true,
    }
}

impl Write for InterruptibleStdout {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let Some(interrupts) = self.interrupts.clone() else {
            return io::stdout().write(bytes);
        };
        self.wait_for_room(&interrupts)?;
        let stdout = rustix::stdio::stdout();
        loop {
            match rustix::io::write(stdout, &bytes[..bytes.len().min(PIPE_BUF)]) {
                Err(rustix::io::Errno::INTR) => continue,
                written => return written.map_err(io::Error::from),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.interrupts {
            Some(_) => Ok(()),
            None => io::stdout().flush(),
        }
    }
}
