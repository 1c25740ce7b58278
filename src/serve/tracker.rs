//! The monitor's consumer of a run's (masked) events: each event becomes a `--json` line for
//! `GET /api/runs/{id}/events`, progress and step results for `GET /api/runs/{id}`, and a
//! record for the history.

use std::io;
use std::sync::Arc;

use crate::history::RunRecorder;
use crate::report::{Event, Reporter, event_json, outcome_name};

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
            view.counts.record(&result.verdict);
            view.steps.push(StepView {
                name: step.test_name.clone(),
                suite: suite.name.clone(),
                verdict: outcome_name(&result.verdict),
                duration_ms: u64::try_from(result.duration.as_millis()).unwrap_or(u64::MAX),
                attempts: result.attempts,
                output_tail: tail(&result.output_tail, OUTPUT_TAIL_BYTES),
                log: result.log_place(),
            });
        }
        _ => {}
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
