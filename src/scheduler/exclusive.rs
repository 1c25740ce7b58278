//! `exclusive` across processes: a lock file per resource in the temp root.
//!
//! Within one run the suite queue keeps suites that share a resource apart; this lock does the
//! same between runs on one machine, such as the one process per test of `cargo nextest` or
//! two `smoke-runner` started together. The lock is `flock(2)` on
//! `$TMPDIR/smoke-runner-exclusive-<resource slug>.lock`, released when the suite is done (or
//! the process dies). Lock files are left in place: removing one would race with a waiter.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::time::Duration;

use rustix::fs::{FlockOperation, flock};

use crate::exec::Executor;
use crate::suite::slug;

/// How often a waiting suite tries the lock again (and looks for an interrupt).
const RETRY: Duration = Duration::from_millis(50);

/// A held resource lock; dropping it releases the resource.
#[derive(Debug)]
pub(super) struct ResourceLock {
    _file: File,
}

/// Waits until no other process holds `resource`, then holds it. `None` when the lock file
/// cannot be used (the in-process rule still holds) or the run was interrupted while waiting.
pub(super) fn lock_resource(
    temp_root: &Path,
    resource: &str,
    executor: &Executor,
) -> Option<ResourceLock> {
    let path = temp_root.join(format!("smoke-runner-exclusive-{}.lock", slug(resource)));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .ok()?;
    // Polled rather than blocking, so that Ctrl-C is seen while waiting.
    loop {
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Some(ResourceLock { _file: file }),
            Err(rustix::io::Errno::WOULDBLOCK | rustix::io::Errno::INTR) => {}
            Err(_) => return None,
        }
        if executor.interrupted().is_some() {
            return None;
        }
        std::thread::sleep(RETRY);
    }
}
