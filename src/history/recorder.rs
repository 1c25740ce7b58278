//! The history's consumer of the event stream: it gathers one run's events into a
//! [`RunRecord`], written to the database once the run is over.
//!
//! It sees events after masking, like every other consumer, so nothing secret reaches the
//! database. Setup steps are not recorded: they are not counted anywhere else either.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::report::{
    Actual, Event, JsonEvent, PlannedSuite, Reporter, StepResult, SuiteTable, Verdict,
};
use crate::suite::Step;

use super::record::{CheckRecord, Outcome, RunRecord, SetupRecord, StepRecord, SuiteRecord};

/// What is known about a run before it starts, besides its events.
#[derive(Debug, Clone, Default)]
pub struct RunMeta {
    /// The run's id.
    pub run_id: String,
    /// The commit checked out, in a git repository.
    pub git_commit: Option<String>,
    /// The host name.
    pub host: Option<String>,
    /// `K/N` when the run is one shard.
    pub shard: Option<String>,
}

/// Gathers a run's events. Shared between the event stream (through [`RunRecorder::consumer`])
/// and whoever writes the record at the end.
#[derive(Debug)]
pub struct RunRecorder {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    meta: RunMeta,
    started_at: Option<SystemTime>,
    finished_at: Option<SystemTime>,
    interrupted: bool,
    /// What `run_started` said (masked, like every event).
    git_branch: Option<String>,
    label: Option<String>,
    /// Suites in the order their first event came.
    suites: SuiteTable<SuiteRecord>,
}

impl RunRecorder {
    /// A recorder for the run described by `meta`.
    pub fn new(meta: RunMeta) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                meta,
                started_at: None,
                finished_at: None,
                interrupted: false,
                git_branch: None,
                label: None,
                suites: SuiteTable::new(),
            })),
        }
    }

    /// The consumer to add to the run's event stream.
    pub fn consumer(&self) -> HistoryConsumer {
        HistoryConsumer {
            state: Arc::clone(&self.state),
        }
    }

    /// The run as recorded, ending with `exit_status`; `None` when the run never started.
    pub fn into_record(self, exit_status: i32) -> Option<RunRecord> {
        // A consumer still held somewhere (its stream never ended) gives up what it gathered.
        let mut shared = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = State {
            meta: std::mem::take(&mut shared.meta),
            suites: std::mem::take(&mut shared.suites),
            git_branch: shared.git_branch.take(),
            label: shared.label.take(),
            ..*shared
        };
        drop(shared);
        let started_at = state.started_at?;
        Some(RunRecord {
            run_id: state.meta.run_id,
            started_at,
            finished_at: state.finished_at.unwrap_or(started_at),
            git_commit: state.meta.git_commit,
            git_branch: state.git_branch,
            label: state.label,
            host: state.meta.host,
            shard: state.meta.shard,
            exit_status,
            interrupted: state.interrupted,
            suites: state.suites.take(),
        })
    }
}

/// Adds what `event` says to the run's record.
fn observe(state: &Mutex<State>, event: &Event) {
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    match event {
        Event::RunStarted(start) => {
            state.started_at = Some(start.started_at);
            state.git_branch.clone_from(&start.git_branch);
            state.label.clone_from(&start.label);
        }
        Event::SuiteStarted { suite, .. } => {
            state.suite(suite);
        }
        Event::StepFinished {
            suite,
            step,
            setup: false,
            result,
            ..
        } => {
            let record = step_record(step, result);
            state.suite(suite).steps.push(record);
        }
        Event::SuiteFinished { suite, result } => {
            let record = state.suite(suite);
            record.duration = result.duration;
            record.kept_test_dir = result
                .kept_test_dir
                .as_ref()
                .map(|dir| dir.display().to_string());
        }
        Event::RunFinished(summary) => {
            state.finished_at = Some(summary.finished_at);
            state.interrupted = summary.interrupted;
        }
        Event::RequirementChecked { suite, .. }
        | Event::ServiceStarted { suite, .. }
        | Event::ServiceHealthy { suite, .. }
        | Event::ServiceFailed { suite, .. }
        | Event::ServiceStopped { suite, .. } => {
            let record = SetupRecord::of(&JsonEvent::from_event(event));
            state.suite(suite).setup.extend(record);
        }
        _ => {}
    }
}

impl State {
    /// The record of `suite`, made on its first event.
    fn suite(&mut self, suite: &PlannedSuite) -> &mut SuiteRecord {
        self.suites.entry(suite, |suite| SuiteRecord {
            name: suite.name.clone(),
            file: suite.source.as_ref().map(|p| p.display().to_string()),
            duration: std::time::Duration::ZERO,
            kept_test_dir: None,
            steps: Vec::new(),
            setup: Vec::new(),
        })
    }
}

fn step_record(step: &Step, result: &StepResult) -> StepRecord {
    let (outcome, skip_reason) = match &result.verdict {
        Verdict::Passed => (Outcome::Passed, None),
        Verdict::Degraded => (Outcome::Degraded, None),
        Verdict::Flaky => (Outcome::Flaky, None),
        Verdict::Failed => (Outcome::Failed, None),
        Verdict::TimedOut => (Outcome::TimedOut, None),
        Verdict::Skipped(reason) => (Outcome::Skipped, Some(reason.to_string())),
    };
    StepRecord {
        test_name: step.test_name.clone(),
        file: step
            .location
            .as_ref()
            .map(|location| location.file.display().to_string()),
        line: step
            .location
            .as_ref()
            .and_then(|location| u32::try_from(location.line).ok()),
        outcome,
        status: result.status.to_string(),
        duration: result.duration,
        attempts: result.attempts,
        leftovers: u32::try_from(result.leaked_processes).unwrap_or(u32::MAX),
        log_path: result.log_place(),
        skip_reason,
        checks: result
            .failures
            .iter()
            .map(|failure| CheckRecord {
                kind: Some(failure.kind.name().to_owned()),
                expected: Some(failure.expected.clone()),
                actual: match &failure.actual {
                    Actual::Text(text) => Some(text.clone()),
                    Actual::Size(size) => Some(format!("{size} bytes")),
                    Actual::Unknown => None,
                },
                message: failure.to_string(),
            })
            .collect(),
        output_tail: result.output_tail.clone(),
    }
}

/// The recorder as one consumer of the event stream.
#[derive(Debug)]
pub struct HistoryConsumer {
    state: Arc<Mutex<State>>,
}

impl Reporter for HistoryConsumer {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        observe(&self.state, event);
        Ok(())
    }
}
