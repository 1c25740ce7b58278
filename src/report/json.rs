//! `--json PATH`: the run's events as JSON lines, one object per event, for machines (CI
//! dashboards, `smoke-runner history import`). The schema is versioned and documented in
//! `docs/events.md`; every object carries `"schema": 1`. The schema's
//! types are in `event_json.rs`, shared with `history import`, which reads them back.

use std::io::{self, BufWriter, Write};

use serde_json::Value;

use super::Event;
use super::event_json::JsonEvent;

/// Writes every event as one JSON line.
pub struct JsonReporter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> JsonReporter<W> {
    /// A reporter writing JSON lines to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: BufWriter::new(out),
        }
    }
}

impl<W: Write> super::Reporter for JsonReporter<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        let value = event_json(event);
        serde_json::to_writer(&mut self.out, &value)?;
        self.out.write_all(b"\n")?;
        if matches!(event, Event::RunFinished(_)) {
            self.out.flush()?;
        }
        Ok(())
    }
}

/// One event as a JSON object, `schema` included (the types are in `event_json.rs`).
pub fn event_json(event: &Event) -> Value {
    JsonEvent::from_event(event).to_value()
}
