//! Keeps the text of suites that run in parallel from interleaving.
//!
//! The suite that started first is the *foreground*: its text goes straight to the output. The
//! text of every other running suite is held in memory, in start order. When the foreground
//! suite finishes, the next suite's held text is written out and that suite becomes the
//! foreground; a suite that already finished in the background is written out whole and the
//! next one is promoted. With one suite at a time, everything is live.
//!
//! This module only routes bytes; what the text says is the reporter's business.

use std::collections::VecDeque;
use std::io::{self, BufWriter, Write};

use crate::report::SuiteId;

/// The output, plus the held text and reporter state `S` of each running suite.
pub(super) struct GroupedOutput<W: Write, S> {
    live: BufWriter<W>,
    /// Running suites in start order; the first is the foreground.
    running: VecDeque<RunningSuite<S>>,
}

struct RunningSuite<S> {
    id: SuiteId,
    /// Text written while in the background; empty for the foreground.
    held: Vec<u8>,
    finished: bool,
    state: S,
}

/// Where one suite's text goes right now.
pub(super) struct SuiteTarget<'a, S> {
    /// The live output for the foreground suite, its held text otherwise.
    pub(super) out: &'a mut dyn Write,
    /// The reporter's state for this suite.
    pub(super) state: &'a mut S,
    /// Whether this is the first event seen for the suite.
    pub(super) is_new: bool,
}

impl<W: Write, S: Default> GroupedOutput<W, S> {
    pub(super) fn new(out: W) -> Self {
        Self {
            live: BufWriter::new(out),
            running: VecDeque::new(),
        }
    }

    /// The live output, for text that belongs to the run rather than to a suite.
    pub(super) fn live(&mut self) -> &mut dyn Write {
        &mut self.live
    }

    /// Where `id`'s text goes, registering the suite (last in start order) on first sight.
    pub(super) fn suite(&mut self, id: SuiteId) -> SuiteTarget<'_, S> {
        // A linear scan: at most `--jobs` suites run at once.
        let (index, is_new) = match self.running.iter().position(|suite| suite.id == id) {
            Some(index) => (index, false),
            None => {
                self.running.push_back(RunningSuite {
                    id,
                    held: Vec::new(),
                    finished: false,
                    state: S::default(),
                });
                (self.running.len() - 1, true)
            }
        };
        let suite = &mut self.running[index];
        let out: &mut dyn Write = if index == 0 {
            &mut self.live
        } else {
            &mut suite.held
        };
        SuiteTarget {
            out,
            state: &mut suite.state,
            is_new,
        }
    }

    /// Marks `id` finished. When it is the foreground, writes out the held text of the suites
    /// that follow it, up to and including the first one still running, which becomes the
    /// foreground.
    pub(super) fn finish(&mut self, id: SuiteId) -> io::Result<()> {
        match self.running.iter().position(|suite| suite.id == id) {
            None => Ok(()),
            Some(0) => {
                self.running.pop_front();
                while let Some(next) = self.running.front_mut() {
                    self.live.write_all(&std::mem::take(&mut next.held))?;
                    if !next.finished {
                        break;
                    }
                    self.running.pop_front();
                }
                self.live.flush()
            }
            Some(index) => {
                self.running[index].finished = true;
                Ok(())
            }
        }
    }

    /// Writes out all held text in start order and forgets every suite, finished or not.
    pub(super) fn finish_all(&mut self) -> io::Result<()> {
        for suite in self.running.drain(..) {
            self.live.write_all(&suite.held)?;
        }
        self.live.flush()
    }

    /// The live output's writer.
    pub(super) fn writer(&self) -> &W {
        self.live.get_ref()
    }

    /// The state of the foreground suite (whose text is live), if a suite is running.
    pub(super) fn foreground(&self) -> Option<&S> {
        self.running.front().map(|suite| &suite.state)
    }

    /// Flushes the live output and returns the writer.
    pub(super) fn into_inner(self) -> io::Result<W> {
        self.live
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
    }
}
