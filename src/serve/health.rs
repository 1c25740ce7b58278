//! Each watched suite's latest results, kept as runs end: what `/healthz`, `/metrics`, the
//! status page and the alerts read. Nothing here starts a run.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::runs::{RunStatus, RunView};

/// Upper bounds (seconds) of the run-duration histogram's buckets.
pub const DURATION_BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// A suite's latest finished run.
#[derive(Debug, Clone)]
pub struct SuiteState {
    /// Whether every step of the suite passed in that run.
    pub passed: bool,
    /// The run.
    pub run_id: String,
    /// When it ended.
    pub finished_at: SystemTime,
    /// The steps that failed or timed out.
    pub failing_steps: Vec<String>,
    /// Failed runs in a row (0 after a pass).
    pub consecutive_failures: u32,
    /// Each step's verdict and duration in that run.
    pub steps: BTreeMap<String, (&'static str, Duration)>,
}

/// Counters over the monitor's life.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Finished runs by status (`passed`, `failed`, …).
    pub runs_by_status: BTreeMap<&'static str, u64>,
    /// Run durations: a count per bucket of [`DURATION_BUCKETS`] (not cumulative), then the
    /// overflow.
    pub duration_buckets: [u64; DURATION_BUCKETS.len() + 1],
    /// Sum of the run durations, seconds.
    pub duration_sum: f64,
}

/// The suites' latest results and the totals.
#[derive(Debug, Default)]
pub struct Health {
    state: Mutex<(BTreeMap<String, SuiteState>, Totals)>,
}

impl Health {
    /// A run ended with `status` after `duration`: its suites' latest results change (unless it
    /// was cancelled or interrupted, which says nothing about the suites); the suites whose
    /// state changed are returned with their new state.
    pub fn record(
        &self,
        view: &RunView,
        status: RunStatus,
        duration: Duration,
    ) -> Vec<(String, SuiteState)> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (suites, totals) = &mut *guard;
        *totals.runs_by_status.entry(status.as_str()).or_default() += 1;
        let seconds = duration.as_secs_f64();
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(DURATION_BUCKETS.len());
        totals.duration_buckets[bucket] += 1;
        totals.duration_sum += seconds;
        if !matches!(status, RunStatus::Passed | RunStatus::Failed) {
            return Vec::new();
        }
        let single = view.request.suites.len() == 1;
        let mut changed = Vec::new();
        for name in &view.request.suites {
            let steps: Vec<_> = view
                .steps
                .iter()
                .filter(|step| &step.suite == name)
                .collect();
            let failing_steps: Vec<String> = (steps.iter())
                .filter(|step| matches!(step.verdict, "failed" | "timed_out"))
                .map(|step| step.name.clone())
                .collect();
            let passed = match single {
                true => status == RunStatus::Passed,
                false => failing_steps.is_empty(),
            };
            let before = suites
                .get(name)
                .map_or(0, |state| state.consecutive_failures);
            let state = SuiteState {
                passed,
                run_id: view.id.clone(),
                finished_at: SystemTime::now(),
                failing_steps,
                consecutive_failures: if passed { 0 } else { before.saturating_add(1) },
                steps: (steps.iter())
                    .map(|step| {
                        let duration = Duration::from_millis(step.duration_ms);
                        (step.name.clone(), (step.verdict, duration))
                    })
                    .collect(),
            };
            suites.insert(name.clone(), state.clone());
            changed.push((name.clone(), state));
        }
        changed
    }

    /// Every suite's latest state, and the totals.
    pub fn snapshot(&self) -> (BTreeMap<String, SuiteState>, Totals) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
