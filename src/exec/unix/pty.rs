//! A pseudo-terminal for one command: the runner keeps the controlling side, the command gets
//! the terminal side as its stdin, stdout and stderr and as its controlling terminal.
//!
//! The command still starts through `posix_spawn` with `POSIX_SPAWN_SETSID` (see `spawn.rs`):
//! it leads a new session, and glibc runs the file actions after `setsid`, so opening the
//! terminal side by its path there (without `O_NOCTTY`) makes it the session's controlling
//! terminal. The runner never opens the terminal side itself: once the command and everything
//! it started have closed it, reading the controlling side ends (Linux answers `EIO`), as a
//! pipe's end does.

use std::ffi::CString;
use std::io;
use std::os::fd::OwnedFd;

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{OptionalActions, OutputModes, Winsize, tcgetattr, tcsetattr, tcsetwinsize};

use crate::exec::interact::Terminal;

/// A terminal ready for a command.
pub(super) struct Pty {
    /// The runner's side (close-on-exec, non-blocking).
    pub controller: OwnedFd,
    /// The path the command opens its side by (`/dev/pts/N`).
    pub path: CString,
}

impl Pty {
    /// Opens a terminal of `terminal`'s size. Output processing keeps `\n` as it is (`stty
    /// -onlcr`), so the command's output and the echo of what is typed read as they would
    /// through a pipe; every other mode is a new terminal's default (echo, line editing).
    pub(super) fn open(terminal: &Terminal) -> io::Result<Self> {
        let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        grantpt(&controller)?;
        unlockpt(&controller)?;
        let path = ptsname(&controller, Vec::new())?;
        // On Linux, the controlling side's terminal requests act on the terminal side.
        let mut modes = tcgetattr(&controller)?;
        modes.output_modes.remove(OutputModes::ONLCR);
        tcsetattr(&controller, OptionalActions::Now, &modes)?;
        tcsetwinsize(
            &controller,
            Winsize {
                ws_row: terminal.rows,
                ws_col: terminal.cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )?;
        rustix::fs::fcntl_setfl(&controller, rustix::fs::OFlags::NONBLOCK)?;
        Ok(Self { controller, path })
    }

    /// A second descriptor of the runner's side, for writing the script's input (the poll loop
    /// watches reading and writing as two slots).
    pub(super) fn writer(&self) -> io::Result<OwnedFd> {
        Ok(rustix::io::fcntl_dupfd_cloexec(&self.controller, 3)?)
    }
}
