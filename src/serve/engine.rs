//! What `serve` needs from the engine, as a small interface: start a run from a resolved plan
//! with an observer of its (masked) events, cancel it, wait for it.
//!
//! [`EngineRuns`] implements it on [`crate::engine::start`]: each run on the engine's threads
//! with its own cancellation, so cancelling one run leaves the others running. The interface
//! stays so that the monitor can be tested and reasoned about apart from the engine.

use std::sync::{Arc, Mutex};

use crate::engine::{self, RunOutcome, RunPlan};
use crate::exec::Interrupts;
use crate::report::Reporter;
use crate::scheduler::Fanout;

/// A run's events, after masking, for whoever watches the run.
pub type RunObserver = Box<dyn Reporter + Send>;

/// Starts runs.
pub trait RunEngine: Send + Sync {
    /// Starts `plan` on the engine's threads; every event goes to `observer`, masked.
    fn start(&self, plan: RunPlan, observer: RunObserver) -> std::io::Result<Box<dyn RunHandle>>;
}

/// A started run.
pub trait RunHandle: Send + Sync {
    /// Asks the run to stop: its commands stopped (TERM, then KILL), the steps left skipped,
    /// its test dirs removed.
    fn cancel(&self);
    /// Waits for the run to end; `None` when it was already waited for.
    fn wait(&self) -> Option<RunOutcome>;
}

/// Runs through [`crate::engine`].
#[derive(Debug, Default)]
pub struct EngineRuns;

struct EngineRun {
    interrupts: Arc<Interrupts>,
    handle: Mutex<Option<engine::RunHandle>>,
}

impl RunEngine for EngineRuns {
    fn start(&self, plan: RunPlan, observer: RunObserver) -> std::io::Result<Box<dyn RunHandle>> {
        let mut reports = Fanout::new();
        reports.add("the monitor", observer);
        // The run's own cancellation, not registered for signals: the monitor decides on
        // SIGTERM (drain, then cancel) and SIGHUP (reload) itself.
        let interrupts = Interrupts::new()?;
        let handle = engine::start(plan, reports, Arc::clone(&interrupts))?;
        Ok(Box::new(EngineRun {
            interrupts,
            handle: Mutex::new(Some(handle)),
        }))
    }
}

impl RunHandle for EngineRun {
    fn cancel(&self) {
        self.interrupts.stop(libc::SIGTERM);
    }

    fn wait(&self) -> Option<RunOutcome> {
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()?;
        Some(handle.wait())
    }
}
