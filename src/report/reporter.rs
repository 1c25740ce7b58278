//! The one interface every report format implements.

use std::io;

use super::Event;

/// Turns run events into output, one event at a time, in the order the scheduler emits them.
///
/// A reporter only formats: it never runs processes, reads files or looks at clocks (the one
/// exception is the human report's elapsed-time line on a terminal). An error
/// is an I/O error on its output; the scheduler decides whether that stops the run.
pub trait Reporter {
    /// Handles one event.
    fn report(&mut self, event: &Event) -> io::Result<()>;
}

impl<R: Reporter + ?Sized> Reporter for &mut R {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        (**self).report(event)
    }
}

impl<R: Reporter + ?Sized> Reporter for Box<R> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        (**self).report(event)
    }
}
