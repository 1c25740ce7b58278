//! The monitor's runs: queued, running and finished, each with its status, progress, step
//! results and event lines, and the queue the workers take runs from.
//!
//! Everything here is shared between the HTTP handlers (which only read, enqueue and cancel)
//! and the worker threads (which run). Nothing here runs a process or blocks on I/O while the
//! lock is held.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::SystemTime;

use serde::Serialize;
use tokio::sync::watch;

use super::engine::RunHandle;
use super::state::StateStore;
use crate::report::JsonCounts;

/// Finished runs kept in memory (with their events) for the API; older ones are in the history.
pub const KEPT_FINISHED_RUNS: usize = 200;

/// Event lines kept per run; a run with more keeps its first ones and says how many it dropped.
pub const MAX_EVENT_LINES: usize = 100_000;

/// The output tail shown per step.
pub const OUTPUT_TAIL_BYTES: usize = 4096;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The suite's interval came round.
    Schedule,
    /// `POST /api/runs`.
    Api,
    /// A run started from the command line (`smoke-runner`), seen in the history.
    CommandLine,
}

impl Trigger {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Api => "api",
            Self::CommandLine => "command_line",
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a worker.
    Queued,
    /// Running.
    Running,
    /// Every selected step passed.
    Passed,
    /// A step failed or timed out.
    Failed,
    /// Cancelled through the API (or on shutdown, before it started).
    Cancelled,
    /// Cut short: the monitor stopped or crashed while it ran.
    Interrupted,
}

impl RunStatus {
    /// Whether the run is over.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }
}

/// What a run was asked to do.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunRequest {
    /// The suites, by name (all watched suites when the request named none).
    pub suites: Vec<String>,
    /// A libtest filter on test names.
    pub filter: Option<String>,
    /// The commit the caller deployed, recorded with the run.
    pub commit: Option<String>,
    /// The caller's labels, recorded with the run.
    pub labels: BTreeMap<String, String>,
}

/// Steps done of steps selected.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Progress {
    /// Steps finished (tests, not setup).
    pub done: usize,
    /// Steps selected.
    pub total: usize,
}

/// One finished step, as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    /// `suite::section::step`.
    pub name: String,
    /// The suite's name.
    pub suite: String,
    /// `passed`, `degraded`, `flaky`, `failed`, `timed_out`, `skipped`.
    pub verdict: &'static str,
    /// Milliseconds.
    pub duration_ms: u64,
    /// Attempts made.
    pub attempts: u32,
    /// The end of its output, masked.
    pub output_tail: String,
    /// Its full (masked) log, when logs are kept.
    pub log: Option<String>,
}

/// A run as `GET /api/runs/{id}` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    /// The run's id (also its id in the history).
    pub id: String,
    /// Where it is.
    pub status: RunStatus,
    /// What started it.
    pub trigger: Trigger,
    /// What it was asked to do.
    #[serde(flatten)]
    pub request: RunRequest,
    /// When it was queued (RFC 3339, UTC).
    pub queued_at: String,
    /// When it started.
    pub started_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
    /// Steps done of total.
    pub progress: Progress,
    /// Counts so far, as the `--json` schema's `run_finished` counts them (`passed` without
    /// the flaky steps, `degraded` a part of `passed`, `timed_out` of `failed`).
    pub counts: JsonCounts,
    /// Each finished step.
    pub steps: Vec<StepView>,
    /// Why it ended as it did, when that needs saying.
    pub note: Option<String>,
}

struct Entry {
    view: RunView,
    events: Vec<Arc<str>>,
    dropped_events: usize,
    published: watch::Sender<usize>,
    handle: Option<Arc<dyn RunHandle>>,
    cancel_requested: bool,
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Entry>,
    /// Every kept run's id, oldest first.
    order: VecDeque<String>,
    queue: VecDeque<String>,
    running: usize,
    /// How many runs may run at once (the workers beyond it wait).
    max_running: usize,
    accepting: bool,
    next: u64,
}

/// Why a run could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnqueueRefused {
    /// The queue holds as many runs as it may.
    QueueFull,
    /// The monitor is shutting down.
    ShuttingDown,
}

/// What came of a cancel request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The run was waiting and will never start.
    Dequeued,
    /// The running run was asked to stop.
    Stopping,
    /// No run has this id.
    Unknown,
    /// The run is over already.
    AlreadyOver(RunStatus),
    /// The run is being started; it can be cancelled in a moment.
    Starting,
}

/// The runs and the queue.
pub struct Runs {
    state: Mutex<State>,
    wake: Condvar,
    capacity: Mutex<usize>,
    prefix: String,
    recorded_in: std::sync::OnceLock<(Arc<StateStore>, i64)>,
}

impl Runs {
    /// An empty registry whose queue holds `capacity` runs; ids start with `prefix`.
    pub fn new(capacity: usize, prefix: String) -> Self {
        Self {
            state: Mutex::new(State {
                accepting: true,
                max_running: usize::MAX,
                ..State::default()
            }),
            wake: Condvar::new(),
            capacity: Mutex::new(capacity),
            prefix,
            recorded_in: std::sync::OnceLock::new(),
        }
    }

    /// Records every run's changes (queued, started, ended) in `state`, as monitor process
    /// `instance`. Set once, before the first run.
    pub fn record_in(&self, state: Arc<StateStore>, instance: i64) {
        let _ = self.recorded_in.set((state, instance));
    }

    /// Where runs are recorded, when they are.
    pub fn state(&self) -> Option<&StateStore> {
        self.recorded_in.get().map(|(state, _)| &**state)
    }

    /// Records `view`'s current state; called with the lock held, so that a run's writes
    /// reach the history in the order they happened.
    fn persist(&self, view: &RunView) {
        if let Some((state, instance)) = self.recorded_in.get() {
            state.run(*instance, view);
        }
    }

    /// Records that run `id` made the test dir `path` (removed after a crash).
    pub fn record_test_dir(&self, id: &str, path: &std::path::Path) {
        if let Some((state, _)) = self.recorded_in.get() {
            state.test_dir(id, path);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new queue size (after a reload); runs already queued stay.
    pub fn set_capacity(&self, capacity: usize) {
        *self.capacity.lock().unwrap_or_else(|p| p.into_inner()) = capacity;
    }

    /// How many runs may run at once (after a reload): running runs go on, and no worker takes
    /// a run while that many run.
    pub fn set_concurrency(&self, concurrency: usize) {
        self.lock().max_running = concurrency.max(1);
        self.wake.notify_all();
    }

    /// Queues a run; its id.
    pub fn enqueue(&self, trigger: Trigger, request: RunRequest) -> Result<String, EnqueueRefused> {
        let capacity = *self.capacity.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = self.lock();
        if !state.accepting {
            return Err(EnqueueRefused::ShuttingDown);
        }
        if state.queue.len() >= capacity {
            return Err(EnqueueRefused::QueueFull);
        }
        state.next += 1;
        let id = format!("{}-{}", self.prefix, state.next);
        let view = RunView {
            id: id.clone(),
            status: RunStatus::Queued,
            trigger,
            request,
            queued_at: rfc3339(SystemTime::now()),
            started_at: None,
            finished_at: None,
            progress: Progress::default(),
            counts: JsonCounts::default(),
            steps: Vec::new(),
            note: None,
        };
        self.persist(&view);
        let (published, _) = watch::channel(0);
        state.entries.insert(
            id.clone(),
            Entry {
                view,
                events: Vec::new(),
                dropped_events: 0,
                published,
                handle: None,
                cancel_requested: false,
            },
        );
        state.order.push_back(id.clone());
        state.queue.push_back(id.clone());
        forget_old(&mut state);
        drop(state);
        self.wake.notify_one();
        Ok(id)
    }

    /// Whether a run of `suite` triggered by the schedule is queued or running (the schedule
    /// never piles up runs of one suite).
    pub fn has_pending_scheduled(&self, suite: &str) -> bool {
        let state = self.lock();
        state.entries.values().any(|entry| {
            entry.view.trigger == Trigger::Schedule
                && !entry.view.status.is_final()
                && entry.view.request.suites.iter().any(|name| name == suite)
        })
    }

    /// Runs waiting.
    pub fn queue_len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Runs running.
    pub fn running(&self) -> usize {
        self.lock().running
    }

    /// The next queued run, waiting for one; `None` once the monitor stops accepting runs.
    /// The run is marked running.
    pub fn next_to_run(&self) -> Option<(String, RunRequest)> {
        let mut state = self.lock();
        loop {
            if !state.accepting {
                return None;
            }
            let free = state.running < state.max_running;
            if let Some(id) = free.then(|| state.queue.pop_front()).flatten() {
                state.running += 1;
                let entry = state.entries.get_mut(&id)?;
                entry.view.status = RunStatus::Running;
                entry.view.started_at = Some(rfc3339(SystemTime::now()));
                let request = entry.view.request.clone();
                self.persist(&entry.view);
                return Some((id, request));
            }
            state = self.wake.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The engine's handle of a running run, for cancelling it.
    pub fn set_handle(&self, id: &str, handle: Arc<dyn RunHandle>) {
        if let Some(entry) = self.lock().entries.get_mut(id) {
            entry.handle = Some(handle);
        }
    }

    /// A running run has ended with `status`.
    pub fn finish(&self, id: &str, status: RunStatus, note: Option<String>) {
        let mut state = self.lock();
        state.running = state.running.saturating_sub(1);
        if let Some(entry) = state.entries.get_mut(id) {
            entry.view.status = status;
            entry.view.finished_at = Some(rfc3339(SystemTime::now()));
            entry.view.note = note;
            entry.handle = None;
            entry.published.send_replace(entry.events.len());
            self.persist(&entry.view);
        }
        drop(state);
        self.wake.notify_all();
    }

    /// Cancels run `id`: a queued run is taken off the queue, a running one asked to stop.
    pub fn cancel(&self, id: &str) -> CancelOutcome {
        let mut state = self.lock();
        let Some(entry) = state.entries.get(id) else {
            return CancelOutcome::Unknown;
        };
        match entry.view.status {
            RunStatus::Queued => {
                state.queue.retain(|queued| queued != id);
                if let Some(entry) = state.entries.get_mut(id) {
                    entry.view.status = RunStatus::Cancelled;
                    entry.view.finished_at = Some(rfc3339(SystemTime::now()));
                    entry.view.note = Some("cancelled before it started".into());
                    entry.published.send_replace(entry.events.len());
                    self.persist(&entry.view);
                }
                CancelOutcome::Dequeued
            }
            RunStatus::Running => match entry.handle.clone() {
                Some(handle) => {
                    if let Some(entry) = state.entries.get_mut(id) {
                        entry.cancel_requested = true;
                    }
                    drop(state);
                    handle.cancel();
                    CancelOutcome::Stopping
                }
                None => CancelOutcome::Starting,
            },
            status => CancelOutcome::AlreadyOver(status),
        }
    }

    /// Stops accepting runs: queued runs are cancelled, idle workers return. Running runs go on.
    pub fn stop_accepting(&self) {
        let mut state = self.lock();
        state.accepting = false;
        let queued: Vec<String> = state.queue.drain(..).collect();
        for id in queued {
            if let Some(entry) = state.entries.get_mut(&id) {
                entry.view.status = RunStatus::Cancelled;
                entry.view.finished_at = Some(rfc3339(SystemTime::now()));
                entry.view.note = Some("the monitor stopped before the run started".into());
                entry.published.send_replace(entry.events.len());
                self.persist(&entry.view);
            }
        }
        drop(state);
        self.wake.notify_all();
    }

    /// Waits until no run is running, at most `timeout`; whether none is.
    pub fn wait_idle(&self, timeout: std::time::Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .wake
            .wait_timeout_while(state, timeout, |state| state.running > 0)
            .unwrap_or_else(|p| p.into_inner());
        state.running == 0
    }

    /// Whether run `id` was cancelled through the API while it ran.
    pub fn cancel_requested(&self, id: &str) -> bool {
        self.lock()
            .entries
            .get(id)
            .is_some_and(|entry| entry.cancel_requested)
    }

    /// The engine handles of every running run.
    pub fn running_handles(&self) -> Vec<Arc<dyn RunHandle>> {
        let state = self.lock();
        state
            .entries
            .values()
            .filter_map(|entry| entry.handle.clone())
            .collect()
    }

    /// Run `id` as the API shows it.
    pub fn view(&self, id: &str) -> Option<RunView> {
        self.lock().entries.get(id).map(|entry| entry.view.clone())
    }

    /// The newest runs first, of `suite` when given, at most `limit`; without their steps.
    pub fn list(&self, suite: Option<&str>, limit: usize) -> Vec<RunView> {
        let state = self.lock();
        (state.order.iter().rev())
            .filter_map(|id| state.entries.get(id))
            .filter(|entry| suite.is_none_or(|s| entry.view.request.suites.iter().any(|n| n == s)))
            .take(limit)
            .map(|entry| RunView {
                steps: Vec::new(),
                ..entry.view.clone()
            })
            .collect()
    }

    /// Run `id`'s event lines from `from` on, whether the run is over, and a receiver told
    /// when more lines come; `None` for an unknown run.
    pub fn events_from(&self, id: &str, from: usize) -> Option<EventBatch> {
        let state = self.lock();
        let entry = state.entries.get(id)?;
        Some(EventBatch {
            lines: entry.events.get(from..).unwrap_or_default().to_vec(),
            over: entry.view.status.is_final(),
            changed: entry.published.subscribe(),
        })
    }

    /// Updates run `id` with `change` and publishes `line`, its next event.
    pub fn record_event(&self, id: &str, line: Option<String>, change: impl FnOnce(&mut RunView)) {
        let mut state = self.lock();
        let Some(entry) = state.entries.get_mut(id) else {
            return;
        };
        change(&mut entry.view);
        if let Some(line) = line {
            if entry.events.len() < MAX_EVENT_LINES {
                entry.events.push(line.into());
            } else {
                entry.dropped_events += 1;
            }
        }
        entry.published.send_replace(entry.events.len());
    }
}

/// Event lines of a run, read at once.
pub struct EventBatch {
    /// The lines after the position asked for.
    pub lines: Vec<Arc<str>>,
    /// Whether the run was over when they were read.
    pub over: bool,
    /// Changes when lines are added or the run ends.
    pub changed: watch::Receiver<usize>,
}

/// Drops the oldest finished runs beyond [`KEPT_FINISHED_RUNS`].
fn forget_old(state: &mut State) {
    let finished = |state: &State| {
        (state.entries.values())
            .filter(|entry| entry.view.status.is_final())
            .count()
    };
    let mut excess = finished(state).saturating_sub(KEPT_FINISHED_RUNS);
    while excess > 0 {
        let Some(position) = state.order.iter().position(|id| {
            state
                .entries
                .get(id)
                .is_some_and(|entry| entry.view.status.is_final())
        }) else {
            break;
        };
        if let Some(id) = state.order.remove(position) {
            state.entries.remove(&id);
        }
        excess -= 1;
    }
}

/// `2026-12-02T03:04:05Z`.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}
