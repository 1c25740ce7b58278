//! The elapsed-time line under a step that runs long, when the human report goes to a terminal.
//!
//! A step running for [`SHOW_AFTER`] or longer gets a line of its own under its `→ Running`
//! line, `  … running for 12s (timeout 120s)`, redrawn in place with a carriage return as the
//! seconds go by. Whatever the report writes next first blanks that line out, so the step's
//! result takes its place and the timer never shows in the middle of other text. Only
//! carriage returns and spaces move it: no escape codes, so it works with colour off too.
//!
//! The timer is the one thing a report shows that no event can carry (the present moment), so
//! this is the one place a report looks at the clock. It is drawn by a ticker thread that
//! wakes a few times a second whatever the steps do: the scheduler's threads pay nothing for
//! it but an uncontended lock per event, and steps shorter than [`SHOW_AFTER`] never wake
//! anything. Text that is not a terminal (a pipe, a file, a CI log) never gets a ticker at all
//! (see [`live_progress_wanted`]).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use owo_colors::Style;

use crate::report::CompactDuration;

/// How long a step runs before its timer shows.
pub(super) const SHOW_AFTER: Duration = Duration::from_secs(2);

/// How often the ticker looks at the clock. The timer shows whole seconds; four looks a second
/// keep it at most a quarter of a second behind.
const TICK: Duration = Duration::from_millis(250);

/// Whether the human report should show timers: its output is a terminal that can go back to
/// the start of a line (`TERM` is not `dumb`), and nothing else writes to the same output
/// between the report's lines (GitHub Actions annotations do, with `GITHUB_ACTIONS=true`).
pub fn live_progress_wanted(is_terminal: bool, env: impl Fn(&str) -> Option<OsString>) -> bool {
    is_terminal
        && env("TERM").is_none_or(|term| term != "dumb")
        && env("GITHUB_ACTIONS").is_none_or(|value| value != "true")
}

/// The step the timer is about: the one running in the suite whose text is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RunningStep {
    /// When it started, as the report saw it.
    pub(super) since: Instant,
    /// Its deadline, shown beside the elapsed time.
    pub(super) timeout: Duration,
}

/// The report's output: the writer as it is, or shared with a ticker drawing timers on it.
pub(super) enum Terminal<W: Write> {
    /// No timers: bytes go straight through.
    Plain(W),
    /// Timers drawn by a ticker thread.
    Ticking(Ticking<W>),
}

impl<W: Write> Terminal<W> {
    /// The ticker, when there is one.
    pub(super) fn ticking(&self) -> Option<&Ticking<W>> {
        match self {
            Self::Plain(_) => None,
            Self::Ticking(ticking) => Some(ticking),
        }
    }

    /// Stops the ticker (blanking its line) and returns the writer.
    pub(super) fn into_inner(self) -> io::Result<W> {
        match self {
            Self::Plain(out) => Ok(out),
            Self::Ticking(ticking) => ticking.into_inner(),
        }
    }
}

impl<W: Write> Write for Terminal<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(out) => out.write(buf),
            Self::Ticking(ticking) => ticking.screen().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(out) => out.flush(),
            Self::Ticking(ticking) => ticking.screen().out.flush(),
        }
    }
}

/// A writer shared with the ticker thread that draws the timer on it.
pub(super) struct Ticking<W: Write> {
    screen: Arc<Mutex<Screen<W>>>,
    ticker: Option<Ticker>,
}

/// The ticker thread, and the channel whose end stops it.
struct Ticker {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl<W: Write + Send + 'static> Ticking<W> {
    /// Starts a ticker drawing on `out`, the timer in `style`.
    pub(super) fn start(out: W, style: Style) -> Self {
        let screen = Arc::new(Mutex::new(Screen::new(out, style)));
        let (stop, stopped) = mpsc::channel::<()>();
        let shared = Arc::clone(&screen);
        let spawned = std::thread::Builder::new()
            .name("smoke-runner-timer".to_owned())
            .spawn(move || {
                // Ends when the sender is dropped.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    let mut screen = lock(&shared);
                    if screen.tick(Instant::now()).is_err() {
                        // The report will see the same error on its next write.
                        return;
                    }
                }
            });
        // Without a thread there are no timers, and nothing else changes.
        let ticker = spawned.ok().map(|thread| Ticker { stop, thread });
        Self { screen, ticker }
    }
}

impl<W: Write> Ticking<W> {
    /// Which step the timer is about; `None` stops drawing it (what is drawn stays until the
    /// report's next write blanks it).
    pub(super) fn set_running(&self, running: Option<RunningStep>) {
        lock(&self.screen).running = running;
    }

    fn screen(&self) -> MutexGuard<'_, Screen<W>> {
        lock(&self.screen)
    }

    /// Stops the ticker and blanks its line.
    fn stop(&mut self) -> io::Result<()> {
        if let Some(Ticker { stop, thread }) = self.ticker.take() {
            drop(stop);
            // A ticker that panicked has drawn nothing more to blank than one that did not.
            let _ = thread.join();
        }
        let mut screen = self.screen();
        screen.running = None;
        screen.erase()?;
        screen.out.flush()
    }

    fn into_inner(mut self) -> io::Result<W> {
        self.stop()?;
        let screen = Arc::clone(&self.screen);
        drop(self);
        match Arc::try_unwrap(screen) {
            Ok(screen) => Ok(screen
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .out),
            // The ticker is joined, so nobody else holds the screen.
            Err(_) => Err(io::Error::other("the timer still holds the output")),
        }
    }
}

impl<W: Write> Drop for Ticking<W> {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The terminal: the report's writer, and the timer line drawn on it, if any.
pub(super) struct Screen<W> {
    out: W,
    running: Option<RunningStep>,
    style: Style,
    /// The timer's text as drawn (empty when nothing is drawn).
    shown: String,
    /// Its width in columns.
    shown_width: usize,
}

impl<W: Write> Screen<W> {
    pub(super) fn new(out: W, style: Style) -> Self {
        Self {
            out,
            running: None,
            style,
            shown: String::new(),
            shown_width: 0,
        }
    }

    /// Draws or redraws the timer for the time `now`, when a step has run long enough.
    pub(super) fn tick(&mut self, now: Instant) -> io::Result<()> {
        // Between a step's end and the report's next line, what is drawn stays: that line
        // blanks it.
        let Some(step) = self.running else {
            return Ok(());
        };
        let elapsed = now.saturating_duration_since(step.since);
        if elapsed < SHOW_AFTER {
            return Ok(());
        }
        let mut text = String::new();
        let _ = write!(
            text,
            "  … running for {} (timeout {})",
            CompactDuration::elapsed(Duration::from_secs(elapsed.as_secs())),
            CompactDuration::timeout(step.timeout)
        );
        if text == self.shown {
            return Ok(());
        }
        let width = text.chars().count();
        // `59s` ──► `1m`: blank what the shorter text would leave over.
        if width < self.shown_width {
            self.erase()?;
        }
        write!(
            self.out,
            "\r{}{text}{}",
            self.style.prefix_formatter(),
            self.style.suffix_formatter()
        )?;
        self.out.flush()?;
        self.shown = text;
        self.shown_width = width;
        Ok(())
    }

    /// Blanks the timer line, leaving the cursor at its start.
    pub(super) fn erase(&mut self) -> io::Result<()> {
        if self.shown_width > 0 {
            let width = self.shown_width;
            write!(self.out, "\r{:width$}\r", "")?;
            self.shown.clear();
            self.shown_width = 0;
        }
        Ok(())
    }

    /// The writer, for tests.
    #[cfg(test)]
    pub(super) fn out(&self) -> &W {
        &self.out
    }

    /// Sets the running step, for tests.
    #[cfg(test)]
    pub(super) fn set_running(&mut self, running: Option<RunningStep>) {
        self.running = running;
    }
}

impl<W: Write> Write for Screen<W> {
    /// Writes report text, blanking the timer first.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.erase()?;
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn timers_only_on_a_terminal_that_is_not_dumb_nor_shared_with_annotations() {
        assert!(live_progress_wanted(true, env(&[("TERM", "xterm")])));
        assert!(live_progress_wanted(true, env(&[])));
        assert!(live_progress_wanted(true, env(&[("NO_COLOR", "1")])));
        assert!(!live_progress_wanted(false, env(&[("TERM", "xterm")])));
        assert!(!live_progress_wanted(true, env(&[("TERM", "dumb")])));
        assert!(!live_progress_wanted(
            true,
            env(&[("GITHUB_ACTIONS", "true")])
        ));
    }

    /// A screen whose step started at `t0` with a 120 s deadline.
    fn screen_running(t0: Instant) -> Screen<Vec<u8>> {
        let mut screen = Screen::new(Vec::new(), Style::new());
        screen.set_running(Some(RunningStep {
            since: t0,
            timeout: Duration::from_secs(120),
        }));
        screen
    }

    fn text(screen: &Screen<Vec<u8>>) -> String {
        String::from_utf8(screen.out().clone()).unwrap()
    }

    #[test]
    fn nothing_is_drawn_before_two_seconds() {
        let t0 = Instant::now();
        let mut screen = screen_running(t0);
        screen.tick(t0 + Duration::from_millis(1999)).unwrap();
        assert_eq!(text(&screen), "");
    }

    #[test]
    fn the_timer_is_redrawn_in_place_only_when_its_text_changes() {
        let t0 = Instant::now();
        let mut screen = screen_running(t0);
        screen.tick(t0 + Duration::from_millis(2000)).unwrap();
        screen.tick(t0 + Duration::from_millis(2900)).unwrap();
        screen.tick(t0 + Duration::from_millis(3100)).unwrap();
        assert_eq!(
            text(&screen),
            "\r  … running for 2s (timeout 120s)\r  … running for 3s (timeout 120s)"
        );
    }

    #[test]
    fn a_shorter_text_first_blanks_the_longer_one() {
        let t0 = Instant::now();
        let mut screen = screen_running(t0);
        screen.tick(t0 + Duration::from_secs(59)).unwrap();
        screen.tick(t0 + Duration::from_secs(60)).unwrap();
        let blank = " ".repeat("  … running for 59s (timeout 120s)".chars().count());
        assert_eq!(
            text(&screen),
            format!(
                "\r  … running for 59s (timeout 120s)\r{blank}\r\r  … running for 1m (timeout 120s)"
            )
        );
    }

    #[test]
    fn report_text_blanks_the_timer_before_it_is_written() {
        let t0 = Instant::now();
        let mut screen = screen_running(t0);
        screen.tick(t0 + Duration::from_secs(2)).unwrap();
        screen.set_running(None);
        // With no step running, what is drawn waits for the report's next line.
        screen.tick(t0 + Duration::from_secs(3)).unwrap();
        screen.write_all("✓ Slow\n".as_bytes()).unwrap();
        screen.write_all(b"next\n").unwrap();
        let blank = " ".repeat("  … running for 2s (timeout 120s)".chars().count());
        assert_eq!(
            text(&screen),
            format!("\r  … running for 2s (timeout 120s)\r{blank}\r✓ Slow\nnext\n")
        );
    }

    #[test]
    fn colour_styles_the_timer_without_counting_in_its_width() {
        let t0 = Instant::now();
        let mut screen = Screen::new(Vec::new(), Style::new().dimmed());
        screen.set_running(Some(RunningStep {
            since: t0,
            timeout: Duration::from_secs(5),
        }));
        screen.tick(t0 + Duration::from_secs(4)).unwrap();
        screen.write_all(b"x").unwrap();
        let blank = " ".repeat("  … running for 4s (timeout 5s)".chars().count());
        assert_eq!(
            text(&screen),
            format!("\r\x1b[2m  … running for 4s (timeout 5s)\x1b[0m\r{blank}\rx")
        );
    }

    #[test]
    fn stopping_the_ticker_blanks_its_line_and_returns_the_writer() {
        let ticking = Ticking::start(Vec::new(), Style::new());
        {
            // Under the lock throughout, so the ticker never sees the step running.
            let mut screen = ticking.screen();
            let now = Instant::now();
            screen.set_running(Some(RunningStep {
                since: now - Duration::from_secs(3),
                timeout: Duration::from_secs(9),
            }));
            screen.tick(now).unwrap();
            screen.set_running(None);
        }
        let out = String::from_utf8(Terminal::Ticking(ticking).into_inner().unwrap()).unwrap();
        assert!(
            out.starts_with("\r  … running for 3s (timeout 9s)"),
            "{out:?}"
        );
        let blank = " ".repeat("  … running for 3s (timeout 9s)".chars().count());
        assert!(out.ends_with(&format!("\r{blank}\r")), "{out:?}");
    }
}
