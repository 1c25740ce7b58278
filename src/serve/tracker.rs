//! The monitor's consumer of a run's (masked) events: each event becomes a `--json` line for
//! `GET /api/runs/{id}/events`, progress and step results for `GET /api/runs/{id}`, and a
//! record for the history.

use std::io;
use std::sync::Arc;

use crate::history::RunRecorder;
use crate::report::{Event, Reporter, Verdict, event_json};

use super::runs::{OUTPUT_TAIL_BYTES, RunView, Runs, StepView};

/// Follows one run.
pub struct RunTracker {
    runs: Arc<Runs>,
    id: String,
    recorder: Arc<RunRecorder>,
}

impl RunTracker {
    /// A tracker feeding run `id` of `runs` and `recorder`.
    pub fn new(runs: Arc<Runs>, id: String, recorder: Arc<RunRecorder>) -> Self {
        Self { runs, id, recorder }
    }
}

impl Reporter for RunTracker {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        self.recorder.consumer().report(event)?;
        if let Event::SuiteStarted { test_dir, .. } = event {
            self.runs.record_test_dir(&self.id, test_dir);
        }
        let line = serde_json::to_string(&event_json(event)).ok();
        self.runs
            .record_event(&self.id, line, |view| apply(view, event));
        Ok(())
    }
}

/// What `event` changes in the run's view.
fn apply(view: &mut RunView, event: &Event) {
    match event {
        Event::RunStarted(start) => view.progress.total = start.steps,
        Event::StepFinished {
            suite,
            step,
            setup: false,
            result,
            ..
        } => {
            view.progress.done += 1;
            let counts = &mut view.counts;
            match result.verdict {
                Verdict::Passed => counts.passed += 1,
                Verdict::Degraded => {
                    counts.passed += 1;
                    counts.degraded += 1;
                }
                Verdict::Flaky => {
                    counts.passed += 1;
                    counts.flaky += 1;
                }
                Verdict::Failed => counts.failed += 1,
                Verdict::TimedOut => {
                    counts.failed += 1;
                    counts.timed_out += 1;
                }
                Verdict::Skipped(_) => counts.skipped += 1,
            }
            view.steps.push(StepView {
                name: step.test_name.clone(),
                suite: suite.name.clone(),
                verdict: verdict_name(&result.verdict),
                duration_ms: u64::try_from(result.duration.as_millis()).unwrap_or(u64::MAX),
                attempts: result.attempts,
                output_tail: tail(&result.output_tail, OUTPUT_TAIL_BYTES),
                log: result.log_place(),
            });
        }
        _ => {}
    }
}

/// The name the API gives a verdict (the `--json` schema's `outcome`).
pub fn verdict_name(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "passed",
        Verdict::Flaky => "flaky",
        Verdict::Degraded => "degraded",
        Verdict::Failed => "failed",
        Verdict::TimedOut => "timed_out",
        Verdict::Skipped(_) => "skipped",
    }
}

/// The last `max` bytes of `text`, cut at a character boundary.
fn tail(text: &str, max: usize) -> String {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}
