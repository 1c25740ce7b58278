//! Driving a command through a pseudo-terminal: the terminal it gets (window size, the script
//! of expectations and inputs) and the [`Dialogue`] that plays the script against what the
//! command shows.
//!
//! This file owns the script's rules, not the terminal: it is fed the terminal's output and
//! says what to type next. Opening the terminal is `unix/pty.rs`'s job; reading and writing it
//! is the supervisor's poll loop, the same one that watches every command. Nothing here waits:
//! an expectation that is never met is ended by the command's own deadline.

use std::sync::Arc;

use regex::bytes::Regex;

/// How much of the output since the last match an expectation is looked for in: a regex finds
/// its match within the last 64 KiB, a literal anywhere (its own length is always kept).
const WINDOW: usize = 64 * 1024;

/// A command's pseudo-terminal: its size and the script run against it.
#[derive(Debug, Clone)]
pub struct Terminal {
    /// Lines of the window (`stty size`'s first number).
    pub rows: u16,
    /// Columns of the window.
    pub cols: u16,
    /// Expectations and inputs, played in order.
    pub script: Vec<Interaction>,
}

impl Terminal {
    /// An 80×24 terminal with an empty script.
    pub fn new() -> Self {
        Self {
            rows: 24,
            cols: 80,
            script: Vec::new(),
        }
    }
}

impl Default for Terminal {
    fn default() -> Self {
        Self::new()
    }
}

/// One entry of a terminal script.
#[derive(Debug, Clone)]
pub enum Interaction {
    /// Wait until the terminal shows these bytes (after the previous match).
    Expect(Vec<u8>),
    /// Wait until the terminal shows a match of this regex (after the previous match).
    ExpectRegex(Arc<Regex>),
    /// Type these bytes.
    Send(Vec<u8>),
}

/// How far a command's script got: `done` of its `total` entries. An unfinished script stopped
/// at entry `done` (from 0): an expectation never met, or input the terminal no longer took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptProgress {
    /// Entries played to the end.
    pub done: usize,
    /// Entries in the script.
    pub total: usize,
}

impl ScriptProgress {
    /// Whether every entry was played.
    pub fn finished(&self) -> bool {
        self.done >= self.total
    }
}

/// A script being played: which entry is next, the output it has not yet matched, the input
/// not yet written.
#[derive(Debug)]
pub(crate) struct Dialogue<'a> {
    script: &'a [Interaction],
    /// The entry being played.
    next: usize,
    /// Output since the end of the last match (its last [`WINDOW`] bytes, at least).
    unmatched: Vec<u8>,
    /// Of the current `Send`, how many bytes are written.
    written: usize,
    /// The terminal no longer takes input: the script cannot go on.
    stuck: bool,
}

impl<'a> Dialogue<'a> {
    /// Starts `script`: entries that need no output (leading inputs) are ready at once.
    pub(crate) fn new(script: &'a [Interaction]) -> Self {
        let mut dialogue = Self {
            script,
            next: 0,
            unmatched: Vec::new(),
            written: 0,
            stuck: false,
        };
        dialogue.advance();
        dialogue
    }

    /// The terminal showed `bytes`.
    pub(crate) fn observe(&mut self, bytes: &[u8]) {
        if self.next >= self.script.len() || self.stuck {
            return;
        }
        self.unmatched.extend_from_slice(bytes);
        self.advance();
        self.trim();
    }

    /// The input to write now; empty while the script waits for output or is over.
    pub(crate) fn pending_input(&self) -> &[u8] {
        match self.script.get(self.next) {
            Some(Interaction::Send(bytes)) if !self.stuck => &bytes[self.written..],
            _ => &[],
        }
    }

    /// `count` bytes of [`Dialogue::pending_input`] were written.
    pub(crate) fn wrote(&mut self, count: usize) {
        self.written += count;
        self.advance();
    }

    /// The terminal refused input (the command closed it): the script stops here.
    pub(crate) fn input_refused(&mut self) {
        self.stuck = true;
    }

    /// Whether the script has nothing left to do.
    pub(crate) fn is_over(&self) -> bool {
        self.next >= self.script.len() || self.stuck
    }

    /// How far the script got.
    pub(crate) fn progress(&self) -> ScriptProgress {
        ScriptProgress {
            done: self.next,
            total: self.script.len(),
        }
    }

    /// Plays entries until one has to wait: for output not shown yet, or input not written.
    fn advance(&mut self) {
        while let Some(entry) = self.script.get(self.next) {
            let end = match entry {
                Interaction::Send(bytes) => {
                    if self.written < bytes.len() {
                        return;
                    }
                    self.written = 0;
                    self.next += 1;
                    continue;
                }
                Interaction::Expect(text) => {
                    memchr::memmem::find(&self.unmatched, text).map(|at| at + text.len())
                }
                Interaction::ExpectRegex(regex) => {
                    regex.find(&self.unmatched).map(|found| found.end())
                }
            };
            let Some(end) = end else {
                return;
            };
            self.unmatched.drain(..end);
            self.next += 1;
        }
    }

    /// Forgets output no expectation can still need: all but the last [`WINDOW`] bytes (or
    /// the expected literal's length, when longer). Only done once twice that has piled up, so
    /// the copying stays linear in the output.
    fn trim(&mut self) {
        let keep = match self.script.get(self.next) {
            Some(Interaction::Expect(text)) => WINDOW.max(text.len()),
            _ => WINDOW,
        };
        if self.unmatched.len() > 2 * keep {
            let cut = self.unmatched.len() - keep;
            self.unmatched.drain(..cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(text: &str) -> Interaction {
        Interaction::Expect(text.as_bytes().to_vec())
    }

    fn send(text: &str) -> Interaction {
        Interaction::Send(text.as_bytes().to_vec())
    }

    fn regex(pattern: &str) -> Interaction {
        Interaction::ExpectRegex(Arc::new(Regex::new(pattern).unwrap()))
    }

    /// Writes whatever input is pending, all at once.
    fn type_pending(dialogue: &mut Dialogue<'_>) -> String {
        let input = String::from_utf8(dialogue.pending_input().to_vec()).unwrap();
        dialogue.wrote(input.len());
        input
    }

    #[test]
    fn leading_input_is_ready_at_once_and_later_input_waits_for_its_prompt() {
        let script = [
            send("hi\n"),
            expect("Name? "),
            send("alice\n"),
            expect("Bye"),
        ];
        let mut dialogue = Dialogue::new(&script);
        assert_eq!(type_pending(&mut dialogue), "hi\n");
        assert_eq!(dialogue.pending_input(), b"");
        dialogue.observe(b"Na");
        assert_eq!(dialogue.pending_input(), b"");
        dialogue.observe(b"me? ");
        assert_eq!(type_pending(&mut dialogue), "alice\n");
        assert_eq!(dialogue.progress(), ScriptProgress { done: 3, total: 4 });
        dialogue.observe(b"alice\nBye\n");
        assert!(dialogue.is_over());
        assert!(dialogue.progress().finished());
    }

    #[test]
    fn input_written_in_parts_is_finished_only_when_all_of_it_is() {
        let script = [send("abcdef"), expect("x")];
        let mut dialogue = Dialogue::new(&script);
        dialogue.wrote(2);
        assert_eq!(dialogue.pending_input(), b"cdef");
        assert_eq!(dialogue.progress().done, 0);
        dialogue.wrote(4);
        assert_eq!(dialogue.progress().done, 1);
    }

    #[test]
    fn each_expectation_is_looked_for_after_the_previous_match() {
        // The second "ok" must be a new one: the first was used up by the first expectation.
        let script = [expect("ok"), expect("ok")];
        let mut dialogue = Dialogue::new(&script);
        dialogue.observe(b"ok then");
        assert_eq!(dialogue.progress().done, 1);
        dialogue.observe(b" o");
        assert_eq!(dialogue.progress().done, 1);
        dialogue.observe(b"k");
        assert!(dialogue.progress().finished());
    }

    #[test]
    fn several_expectations_met_by_one_read() {
        let script = [expect("one"), regex(r"t\w+o"), expect("three")];
        let mut dialogue = Dialogue::new(&script);
        dialogue.observe(b"one two three");
        assert!(dialogue.progress().finished());
    }

    #[test]
    fn a_refused_input_stops_the_script_there() {
        let script = [expect("?"), send("y\n"), expect("done")];
        let mut dialogue = Dialogue::new(&script);
        dialogue.observe(b"?");
        dialogue.input_refused();
        assert!(dialogue.is_over());
        assert_eq!(dialogue.pending_input(), b"");
        assert_eq!(dialogue.progress(), ScriptProgress { done: 1, total: 3 });
    }

    #[test]
    fn a_long_wait_keeps_a_bounded_window_and_still_finds_the_prompt() {
        let script = [expect("Ready>")];
        let mut dialogue = Dialogue::new(&script);
        let noise = vec![b'.'; 4096];
        for _ in 0..200 {
            dialogue.observe(&noise);
            assert!(dialogue.unmatched.len() <= 2 * WINDOW);
        }
        dialogue.observe(b"Rea");
        dialogue.observe(b"dy>");
        assert!(dialogue.progress().finished());
    }
}
