//! Where the scheduler sends its events.

use std::sync::Mutex;

use crate::report::Event;

/// Receives run events. Called from the threads that run suites, one event at a time per
/// suite; implementations serialise as they need.
pub trait EventSink: Sync {
    /// Handles one event.
    fn emit(&self, event: &Event<'_>);
}

impl<F: Fn(&Event<'_>) + Sync> EventSink for F {
    fn emit(&self, event: &Event<'_>) {
        self(event)
    }
}

/// A sink shared by several sinks: each event goes to each of them, in order.
impl EventSink for [&dyn EventSink] {
    fn emit(&self, event: &Event<'_>) {
        for sink in self {
            sink.emit(event);
        }
    }
}

/// Serialises events into a single-threaded handler.
impl<T: FnMut(&Event<'_>) + Send> EventSink for Mutex<T> {
    fn emit(&self, event: &Event<'_>) {
        let mut handler = self.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        handler(event);
    }
}
