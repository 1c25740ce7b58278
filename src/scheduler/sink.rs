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
use crate::report::{Event, MaskSecrets, Reporter};

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
                    event.mask_secrets(&self.masker);
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
