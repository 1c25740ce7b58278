//! The gates of one run, resolved from the flags, and the run they judge: repeated as asked,
//! its baseline read beside it, judged at its end.

use crate::config::Settings;
use crate::exec::Executor;
use crate::history::{HistoryStore, HistoryTarget};
use crate::report::{PlannedSuite, Summary};
use crate::scheduler::{self, EventSink, Selection};

use super::judge::{BaselineLoad, Judge};
use super::repeat::{Repeated, Repetition};
use super::spec::{BaselineSpec, Gate};

/// What the run is gated on.
#[derive(Debug, Clone, Default)]
pub struct GatePlan {
    /// `--gate`, in order.
    pub gates: Vec<Gate>,
    /// `--baseline`.
    pub baseline: BaselineSpec,
    /// `--require-baseline`: a step with too little baseline breaks the gate.
    pub require_baseline: bool,
    /// `--max-failure-rate`, a fraction.
    pub max_failure_rate: Option<f64>,
    /// `--repeat` / `--for`.
    pub repetition: Repetition,
}

impl GatePlan {
    /// Whether the run is judged by anything beyond its steps' verdicts.
    pub fn judges(&self) -> bool {
        !self.gates.is_empty() || self.max_failure_rate.is_some()
    }
}

/// A run gated by `plan`: every event goes to `sink`; the summary returned is the one the
/// reports received, and the warnings are for standard error. The baseline is read from the
/// history at `history` on a thread beside the run.
pub fn run_gated(
    plan: &GatePlan,
    history: Option<&HistoryTarget>,
    (suites, selection): (&[PlannedSuite], &Selection),
    settings: &Settings,
    executor: &Executor,
    sink: &dyn EventSink,
) -> (Summary, Vec<String>) {
    let run_once =
        |sink: &dyn EventSink| scheduler::run(suites, selection, settings, executor, sink);
    if !plan.judges() && !plan.repetition.repeats() {
        return (run_once(sink), Vec::new());
    }
    let baseline = match (plan.gates.is_empty(), history) {
        (false, Some(path)) => Some(read_baseline(
            path,
            gated_steps(suites, selection),
            &plan.baseline,
        )),
        _ => None,
    };
    let judge = Judge::new(plan, sink, baseline);
    let judged: &dyn EventSink = if plan.judges() { &judge } else { sink };
    let summary = Repeated::run(judged, plan.repetition, run_once);
    let (judged, warnings) = judge.into_parts();
    // The judge saw the end only when it judges.
    (judged.unwrap_or(summary), warnings)
}

/// The test names of the selected steps: the steps the gates judge.
fn gated_steps(suites: &[PlannedSuite], selection: &Selection) -> Vec<String> {
    suites
        .iter()
        .zip(&selection.steps)
        .flat_map(|(suite, on)| suite.steps.iter().zip(on))
        .filter(|(_, on)| **on)
        .map(|(step, _)| step.test_name.clone())
        .collect()
}

/// Reads the baseline on a thread of its own; a missing history is an empty baseline.
fn read_baseline(path: &HistoryTarget, names: Vec<String>, spec: &BaselineSpec) -> BaselineLoad {
    let path = path.clone();
    let (runs, filter) = (spec.runs, spec.filter());
    std::thread::spawn(move || {
        let store = match HistoryStore::open_existing(&path) {
            Ok(store) => store,
            Err(crate::history::HistoryError::Missing(_)) => return Ok(Default::default()),
            Err(error) => return Err(error.to_string()),
        };
        store
            .passing_durations_of(names.iter().map(String::as_str), runs, &filter)
            .map_err(|error| error.to_string())
    })
}
