//! A run as a value: a [`RunPlan`] (suites, the steps chosen, settings, all resolved) is
//! started with the reports that consume it, and comes back as a [`RunHandle`] to cancel or
//! wait on.
//!
//! Nothing about a run lives in process-wide state: its cancellation ([`Interrupts`]), masker,
//! log folder and test dirs are its own, so one process (the command line, the `cargo test`
//! harness, a long-lived monitor) can hold any number of runs at once. The only things runs
//! share are what the machine shares: free ports (handed out once per process, see
//! `scheduler/services.rs`), `exclusive` resources (`flock`, between processes too), and the
//! signals, which cancel every run that asked for them.
//!
//! The engine never prints: what a run does reaches the outside only as events, on the reports'
//! thread ([`crate::scheduler::ReportThread`]).

use crate::history::HistoryTarget;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::config::Settings;
use crate::exec::{Executor, Interrupts};
use crate::gate::{GatePlan, run_gated};
use crate::report::{PlannedSuite, Summary};
use crate::scheduler::{Fanout, ReportFailure, Selection};
use crate::suite::Suite;

/// Everything a run needs, resolved: nothing is read from flags, files or the environment once
/// it starts.
#[derive(Debug)]
pub struct RunPlan {
    /// The suites, shared with the run's events, each with its id in the run (its place here).
    pub suites: Vec<PlannedSuite>,
    /// Which steps of each suite run.
    pub selection: Selection,
    /// The settings (masker, log folder, temp root, jobs…).
    pub settings: Settings,
    /// Deploy gates and repetitions (none by default).
    pub gates: GatePlan,
    /// The history the gates' baseline is read from.
    pub gate_history: Option<HistoryTarget>,
}

impl RunPlan {
    /// A plan for the selected steps of `suites` with `settings`.
    pub fn new(suites: Vec<Suite>, selection: Selection, settings: Settings) -> Self {
        Self {
            suites: PlannedSuite::plan(suites),
            selection,
            settings,
            gates: GatePlan::default(),
            gate_history: None,
        }
    }

    /// The plan run as `gates` say (repeated, judged), with the baseline read from `history`.
    pub fn with_gates(self, gates: GatePlan, history: Option<HistoryTarget>) -> Self {
        Self {
            gates,
            gate_history: history,
            ..self
        }
    }
}

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// The run's summary (also its last event).
    pub summary: Summary,
    /// The first report that could not be written, if one failed (the run was then stopped).
    pub report_failure: Option<ReportFailure>,
    /// The signal that cancelled the run (a real one, or the one [`RunHandle::cancel`] gave).
    pub cancelled: Option<i32>,
    /// What went wrong beside the run, for standard error (a gate baseline that could not be
    /// read), masked.
    pub warnings: Vec<String>,
}

/// A started run: cancel it, wait for it. `Send`, so a server can keep it anywhere.
#[derive(Debug)]
pub struct RunHandle {
    interrupts: Arc<Interrupts>,
    thread: JoinHandle<RunOutcome>,
}

/// Starts `plan` on a thread of its own. Its events go to `reports` (masked with the plan's
/// masker, on the reports' own thread); a report that cannot be written cancels the run with
/// SIGPIPE. `interrupts` are the run's own: make them with [`Interrupts::new`], and register
/// them with [`Interrupts::cancel_on_signals`] when Ctrl-C should stop this run.
pub fn start(plan: RunPlan, reports: Fanout, interrupts: Arc<Interrupts>) -> io::Result<RunHandle> {
    let stopper = Arc::clone(&interrupts);
    let reports = reports.spawn(plan.settings.masker.clone(), move || {
        stopper.stop(libc::SIGPIPE)
    })?;
    let executor = Executor::with_interrupts(Arc::clone(&interrupts));
    let thread = std::thread::Builder::new()
        .name("smoke-runner run".to_owned())
        .spawn(move || {
            let (summary, warnings) = run_gated(
                &plan.gates,
                plan.gate_history.as_ref(),
                (&plan.suites, &plan.selection),
                &plan.settings,
                &executor,
                &reports,
            );
            let masker = &plan.settings.masker;
            let warnings = warnings
                .iter()
                .map(|w| masker.mask(w).into_owned())
                .collect();
            // Every report has written every event before the run is over.
            let report_failure = reports.finish();
            RunOutcome {
                summary,
                report_failure,
                cancelled: executor.interrupted(),
                warnings,
            }
        })?;
    Ok(RunHandle { interrupts, thread })
}

impl RunHandle {
    /// Cancels the run as SIGTERM would: running commands are stopped (TERM, then KILL), the
    /// steps left are reported as skipped, test dirs are removed. Other runs are untouched.
    pub fn cancel(&self) {
        self.interrupts.stop(libc::SIGTERM);
    }

    /// The run's cancellation, for whoever else may cancel it (another thread, a timer).
    pub fn interrupts(&self) -> &Arc<Interrupts> {
        &self.interrupts
    }

    /// Whether the run is over (its reports included).
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits until the run and its reports are done.
    pub fn wait(self) -> RunOutcome {
        match self.thread.join() {
            Ok(outcome) => outcome,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
