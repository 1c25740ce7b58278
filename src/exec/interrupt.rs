//! One run's interrupts: a cancellation flag with a file descriptor every running command of
//! the run can poll, and the routing of SIGINT, SIGTERM and SIGHUP to every run that asked.
//!
//! Each run owns its [`Interrupts`]: cancelling one run (its owner asked, a report failed)
//! never touches another. Signals are process-wide by nature, so one thread (signal-hook's
//! iterator, whose handler only writes to signal-hook's own pipe) receives them and cancels
//! every run registered with [`Interrupts::cancel_on_signals`]. Nothing runs in signal context
//! here.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use signal_hook::iterator::Signals;

/// Signals that interrupt a run.
const SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// One run's cancellation: set once (the first signal wins), readable as a descriptor from
/// then on.
#[derive(Debug)]
pub struct Interrupts {
    reader: OwnedFd,
    writer: OwnedFd,
    received: AtomicI32,
}

impl Interrupts {
    /// A fresh, uncancelled state, reached by no signal until
    /// [`Interrupts::cancel_on_signals`].
    pub fn new() -> io::Result<Arc<Self>> {
        let (reader, writer) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        Ok(Arc::new(Self {
            reader,
            writer,
            received: AtomicI32::new(0),
        }))
    }

    /// From now until the returned guard is dropped, SIGINT, SIGTERM and SIGHUP cancel this
    /// run (and every other run registered). The first call in a process starts the thread
    /// that receives them; from then on those signals no longer kill the process.
    pub fn cancel_on_signals(self: &Arc<Self>) -> io::Result<SignalGuard> {
        let router = router()?;
        let mut runs = router.lock().unwrap_or_else(|p| p.into_inner());
        runs.retain(|run| run.strong_count() > 0);
        runs.push(Arc::downgrade(self));
        Ok(SignalGuard {
            run: Arc::downgrade(self),
        })
    }

    /// The signal that cancelled the run, if any.
    pub fn received(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    /// Cancels the run as if `signal` had arrived: its running commands are stopped. The first
    /// cancellation wins; later ones change nothing.
    pub fn stop(&self, signal: i32) {
        if self
            .received
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            // One byte, once, never drained: the descriptor stays readable for every poller.
            let _ = rustix::io::write(&self.writer, &[1]);
        }
    }

    /// A descriptor that becomes readable (and stays so) once the run is cancelled.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.reader.as_fd()
    }
}

/// Keeps a run registered for signals; dropping it unregisters the run.
#[derive(Debug)]
pub struct SignalGuard {
    run: Weak<Interrupts>,
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        if let Some(router) = ROUTER.get() {
            let mut runs = router.lock().unwrap_or_else(|p| p.into_inner());
            runs.retain(|run| run.strong_count() > 0 && !run.ptr_eq(&self.run));
        }
    }
}

/// The runs that signals cancel.
type Registered = Mutex<Vec<Weak<Interrupts>>>;

static ROUTER: OnceLock<Registered> = OnceLock::new();

/// The registry of runs, with the thread that receives the signals started on first use.
fn router() -> io::Result<&'static Registered> {
    static STARTED: Mutex<bool> = Mutex::new(false);
    let mut started = STARTED.lock().unwrap_or_else(|p| p.into_inner());
    let router = ROUTER.get_or_init(|| Mutex::new(Vec::new()));
    if !*started {
        let mut signals = Signals::new(SIGNALS)?;
        std::thread::Builder::new()
            .name("smoke-runner signals".to_owned())
            .spawn(move || {
                for signal in signals.forever() {
                    let runs = router.lock().unwrap_or_else(|p| p.into_inner());
                    for run in runs.iter().filter_map(Weak::upgrade) {
                        run.stop(signal);
                    }
                }
            })?;
        *started = true;
    }
    Ok(router)
}
