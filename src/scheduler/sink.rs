//! Where the scheduler sends its events: any [`EventSink`], usually a [`ReportThread`] that
//! hands each event to a [`Fanout`] on a thread of its own, where secrets are masked once and
//! every report gets the event.
//!
//! The scheduler only ever sends: a report that is slow (a pipe nobody reads) delays the
//! report, never a step.
//!
//! Waking a thread is the dearest part of handing an event over (a `futex` call for the
//! sender, a context switch and a scheduling delay on a busy machine), and a run of quick steps
//! sends two events per step. So the reports' thread is woken only when it sleeps with nothing
//! to do: after each batch it takes every event queued, reports them, then lingers for
//! [`LINGER`] without being woken, and takes what arrived meanwhile in one go. Events reach the
//! reports at most [`LINGER`] late, and a run of quick steps wakes the thread a few dozen times
//! a second instead of twice a step (`benches/README.md`).

use std::io;
use std::mem;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::mask::Masker;
use crate::report::{BrokenRule, Event, Reporter, SkipReason, StepResult, Verdict};

/// Receives run events. Called from the threads that run suites, one event at a time per
/// suite; implementations serialise as they need, and should return quickly: a step waits
/// for its events to be taken.
pub trait EventSink: Sync {
    /// Handles one event.
    fn emit(&self, event: Event);
}

impl<F: Fn(Event) + Sync> EventSink for F {
    fn emit(&self, event: Event) {
        self(event)
    }
}

/// A report that could not be written.
#[derive(Debug)]
pub struct ReportFailure {
    /// Which report (`standard output`, a file path).
    pub target: String,
    /// The write error.
    pub error: io::Error,
}

/// One stream, many consumers: masks each event once, then hands it to every report in turn.
///
/// A report whose output fails (a closed pipe, a full disk) is dropped, the failure is kept
/// for [`ReportThread::finish`], and the run is told once so that it can stop.
#[derive(Default)]
pub struct Fanout {
    reports: Vec<Consumer>,
}

/// A [`Fanout`] at work on the reports' thread.
struct Delivery {
    masker: Masker,
    reports: Vec<Consumer>,
    failure: Option<ReportFailure>,
    on_failure: Box<dyn Fn() + Send>,
}

struct Consumer {
    target: String,
    report: Box<dyn Reporter + Send>,
}

impl Fanout {
    /// A fan-out with no report yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a report; `target` names its output in error messages.
    pub fn add(&mut self, target: impl Into<String>, report: impl Reporter + Send + 'static) {
        self.reports.push(Consumer {
            target: target.into(),
            report: Box::new(report),
        });
    }

    /// Starts the reports' thread: from now on, events sent to the returned sink reach every
    /// report in the order they were sent, masked with `masker`. `on_failure` is called once,
    /// on that thread, when a report cannot be written.
    pub fn spawn(
        self,
        masker: Masker,
        on_failure: impl Fn() + Send + 'static,
    ) -> io::Result<ReportThread> {
        let delivery = Delivery {
            masker,
            reports: self.reports,
            failure: None,
            on_failure: Box::new(on_failure),
        };
        let queue = Arc::new(Queue::default());
        let taken = Arc::clone(&queue);
        let thread = std::thread::Builder::new()
            .name("smoke-runner reports".to_owned())
            .spawn(move || delivery.consume(&taken))?;
        Ok(ReportThread { queue, thread })
    }
}

/// How long the reports' thread keeps taking events without being woken after it reported a
/// batch: the most an event waits before its reports see it while events keep coming.
pub const LINGER: Duration = Duration::from_millis(20);

/// The events between the scheduler's threads and the reports' thread.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when the reports' thread sleeps and an event (or the end) arrives.
    wake: Condvar,
}

#[derive(Default)]
struct QueueState {
    events: Vec<Event>,
    /// No event comes any more.
    closed: bool,
    /// The reports' thread waits for [`Queue::wake`] (and not out a [`LINGER`]).
    asleep: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A panic while the lock is held leaves the queue itself whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, event: Event) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        state.events.push(event);
        if mem::take(&mut state.asleep) {
            self.wake.notify_one();
        }
    }

    fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.asleep = false;
        self.wake.notify_one();
    }

    /// The next batch into `batch` (emptied first): every event queued, after waiting for one
    /// (lingering first when `lingering`); `false` once the queue is closed and empty.
    fn take(&self, batch: &mut Vec<Event>, lingering: bool) -> bool {
        batch.clear();
        let mut state = self.lock();
        if lingering && state.events.is_empty() && !state.closed {
            state = self
                .wake
                .wait_timeout(state, LINGER)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        while state.events.is_empty() && !state.closed {
            state.asleep = true;
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.asleep = false;
        mem::swap(&mut state.events, batch);
        !batch.is_empty()
    }
}

impl Delivery {
    /// Every event until the queue is closed; the first report failure, if any.
    fn consume(mut self, queue: &Queue) -> Option<ReportFailure> {
        // Should a report panic, later events are dropped rather than kept for nobody.
        struct CloseOnExit<'a>(&'a Queue);
        impl Drop for CloseOnExit<'_> {
            fn drop(&mut self) {
                let mut state = self.0.lock();
                state.closed = true;
                state.events = Vec::new();
            }
        }
        let _close = CloseOnExit(queue);
        let mut batch = Vec::new();
        let mut lingering = false;
        while queue.take(&mut batch, lingering) {
            for mut event in batch.drain(..) {
                if !self.masker.is_empty() {
                    mask_event(&self.masker, &mut event);
                }
                self.deliver(&event);
            }
            // Lingering after a batch lets the events of the next steps gather meanwhile.
            lingering = true;
        }
        self.failure
    }

    fn deliver(&mut self, event: &Event) {
        let mut failed = None;
        self.reports
            .retain_mut(|consumer| match consumer.report.report(event) {
                Ok(()) => true,
                Err(error) => {
                    failed.get_or_insert(ReportFailure {
                        target: std::mem::take(&mut consumer.target),
                        error,
                    });
                    false
                }
            });
        if let Some(failure) = failed
            && self.failure.is_none()
        {
            self.failure = Some(failure);
            (self.on_failure)();
        }
    }
}

/// The sending end of a [`Fanout`] on its own thread: sending never waits for a report.
pub struct ReportThread {
    queue: Arc<Queue>,
    thread: JoinHandle<Option<ReportFailure>>,
}

impl ReportThread {
    /// Waits until every report has handled every event sent; the first report failure.
    pub fn finish(self) -> Option<ReportFailure> {
        self.queue.close();
        match self.thread.join() {
            Ok(failure) => failure,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl EventSink for ReportThread {
    fn emit(&self, event: Event) {
        // When the reports' thread is gone (a report panicked), the event stays queued and
        // `finish` says what happened.
        self.queue.push(event);
    }
}

/// Masks every text of `event` that may hold a secret.
fn mask_event(masker: &Masker, event: &mut Event) {
    match event {
        Event::StepStarted { command_line, .. } => masker.mask_in_place(command_line),
        Event::StepFinished { result, .. } => mask_result(masker, result),
        Event::Note { text, .. } => masker.mask_in_place(text),
        Event::RequirementChecked {
            requirement,
            reason,
            ..
        } => {
            masker.mask_in_place(requirement);
            reason
                .iter_mut()
                .for_each(|reason| masker.mask_in_place(reason));
        }
        Event::ServiceStarted {
            service, command, ..
        } => {
            masker.mask_in_place(service);
            masker.mask_in_place(command);
        }
        Event::ServiceHealthy { service, .. } => masker.mask_in_place(service),
        Event::ServiceFailed {
            service, message, ..
        } => {
            masker.mask_in_place(service);
            masker.mask_in_place(message);
        }
        Event::ServiceStopped {
            service, status, ..
        } => {
            masker.mask_in_place(service);
            masker.mask_in_place(status);
        }
        Event::RunFinished(summary) => {
            for (_, reason) in &mut summary.skipped_suites {
                mask_reason(masker, reason);
            }
            for rule in &mut summary.broken_rules {
                mask_rule(masker, rule);
            }
        }
        Event::SuiteFinished { result, .. } => {
            if let Some(reason) = &mut result.skipped_because {
                mask_reason(masker, reason);
            }
        }
        Event::RunStarted(_) | Event::SuiteStarted { .. } | Event::SectionStarted { .. } => {}
    }
}

/// Masks every secret in `result`: the command line, the checks, the output.
fn mask_result(masker: &Masker, result: &mut StepResult) {
    masker.mask_in_place(&mut result.command_line);
    masker.mask_in_place(&mut result.output_tail);
    for failure in &mut result.failures {
        masker.mask_in_place(&mut failure.expected);
        if let crate::report::Actual::Text(actual) = &mut failure.actual {
            masker.mask_in_place(actual);
        }
        if let crate::report::CheckSubject::File(path) = &mut failure.subject {
            masker.mask_in_place(path);
        }
    }
    if let Verdict::Skipped(reason) = &mut result.verdict {
        mask_reason(masker, reason);
    }
}

/// A broken rule names what was skipped and why: a `requires` check's last line of output,
/// or a program name expanded from the environment.
fn mask_rule(masker: &Masker, rule: &mut BrokenRule) {
    match rule {
        BrokenRule::SkippedForMissingProgram { suite, program } => {
            masker.mask_in_place(suite);
            masker.mask_in_place(program);
        }
        BrokenRule::SkippedForUnmetRequirement { suite, reason } => {
            masker.mask_in_place(suite);
            masker.mask_in_place(reason);
        }
        BrokenRule::FlakySteps(_) | BrokenRule::DegradedSteps(_) => {}
        BrokenRule::Gate { gate, steps } => {
            masker.mask_in_place(gate);
            steps.iter_mut().for_each(|step| masker.mask_in_place(step));
        }
        BrokenRule::FailureRate { description, steps } => {
            masker.mask_in_place(description);
            masker.mask_in_place(steps);
        }
    }
}

fn mask_reason(masker: &Masker, reason: &mut SkipReason) {
    match reason {
        SkipReason::Ignored(text)
        | SkipReason::MissingRequirement(text)
        | SkipReason::SetupFailed(text) => masker.mask_in_place(text),
        SkipReason::EarlierFailure { step } => masker.mask_in_place(step),
        SkipReason::RequirementNotMet { check, reason } => {
            masker.mask_in_place(check);
            masker.mask_in_place(reason);
        }
        SkipReason::Interrupted => {}
    }
}

/// A report that hands every event (masked, like every report's) to a channel: for a consumer
/// of the caller's own, such as a server streaming a run to its clients. A receiver that left
/// is no failure: the run goes on for its other reports.
#[derive(Debug)]
pub struct Subscriber(Sender<Event>);

impl Subscriber {
    /// A subscriber and the receiving end of its channel.
    pub fn channel() -> (Self, Receiver<Event>) {
        let (sender, receiver) = mpsc::channel();
        (Self(sender), receiver)
    }
}

impl Reporter for Subscriber {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        let _ = self.0.send(event.clone());
        Ok(())
    }
}
