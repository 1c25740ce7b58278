//! Each watched suite's latest results, kept as runs end: what `/healthz`, `/metrics`, the
//! status page and the alerts read. At start-up each suite's state is seeded from the newest
//! result an earlier monitor stored ([`Health::seed`]), so a restart does not read `unknown`
//! until every suite has run again. Nothing here starts a run.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde_json::Value;

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
    /// Whether that run was one of an earlier monitor process, read from the history at
    /// start-up; it stands until this monitor runs the suite.
    pub from_earlier_process: bool,
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
                from_earlier_process: false,
            };
            suites.insert(name.clone(), state.clone());
            changed.push((name.clone(), state));
        }
        changed
    }

    /// Sets each suite's state that this monitor has not seen run yet from its newest
    /// finished runs stored by an earlier monitor (`stored`: run views, newest first; a run
    /// cancelled or interrupted says nothing about a suite and is passed over). The failures
    /// in a row are counted among those runs only.
    pub fn seed<'v>(&self, suite: &str, stored: impl IntoIterator<Item = &'v Value>) {
        let mut judged = stored.into_iter().filter_map(|view| judge(suite, view));
        let Some(newest) = judged.next() else {
            return;
        };
        let mut state = newest;
        if !state.passed {
            let earlier = judged.take_while(|earlier| !earlier.passed).count();
            state.consecutive_failures = u32::try_from(earlier + 1).unwrap_or(u32::MAX);
        }
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.entry(suite.to_owned()).or_insert(state);
    }

    /// Every suite's latest state, and the totals.
    pub fn snapshot(&self) -> (BTreeMap<String, SuiteState>, Totals) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `suite`'s state after the stored run `view` (as `GET /api/runs/{id}` shows a run), when the
/// run passed or failed and ran the suite. Judged as [`Health::record`] judges: a run of the
/// suite alone by its status, a suite among others by its steps.
fn judge(suite: &str, view: &Value) -> Option<SuiteState> {
    let suites = view["suites"].as_array()?;
    if !suites.iter().any(|name| name == suite) {
        return None;
    }
    let status = view["status"].as_str()?;
    if !matches!(status, "passed" | "failed") {
        return None;
    }
    let finished_at = humantime::parse_rfc3339_weak(view["finished_at"].as_str()?).ok()?;
    let mut failing_steps = Vec::new();
    let mut steps = BTreeMap::new();
    let of_suite =
        (view["steps"].as_array().into_iter().flatten()).filter(|step| step["suite"] == suite);
    for step in of_suite {
        let (Some(name), Some(verdict)) = (step["name"].as_str(), step["verdict"].as_str()) else {
            continue;
        };
        let Some(verdict) = VERDICTS.iter().copied().find(|known| *known == verdict) else {
            continue;
        };
        if matches!(verdict, "failed" | "timed_out") {
            failing_steps.push(name.to_owned());
        }
        let duration = Duration::from_millis(step["duration_ms"].as_u64().unwrap_or(0));
        steps.insert(name.to_owned(), (verdict, duration));
    }
    let passed = match suites.len() {
        1 => status == "passed",
        _ => failing_steps.is_empty(),
    };
    Some(SuiteState {
        passed,
        run_id: view["id"].as_str()?.to_owned(),
        finished_at,
        failing_steps,
        consecutive_failures: u32::from(!passed),
        steps,
        from_earlier_process: true,
    })
}

/// The step verdicts a run view holds (`StepView::verdict`).
const VERDICTS: [&str; 6] = [
    "passed",
    "degraded",
    "flaky",
    "failed",
    "timed_out",
    "skipped",
];
