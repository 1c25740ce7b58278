//! `--repeat N` and `--for DURATION`: the selected suites run again and again as one run. The
//! reports see one run: the first repetition's start, every repetition's suites and steps, and
//! one end whose counts, durations and kept test dirs add up every repetition's.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::report::{Event, Summary};
use crate::scheduler::EventSink;

/// How often the selected suites run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repetition {
    /// This many times (at least once).
    Times(u32),
    /// Again and again while another pass, as long as the passes so far took on average, ends
    /// within this long of the first one's start (at least once).
    For(Duration),
}

impl Default for Repetition {
    fn default() -> Self {
        Self::Times(1)
    }
}

impl Repetition {
    /// Whether another repetition starts after `done` of them, `elapsed` after the first began.
    /// For a time budget, only if one more pass of the average length so far still ends within
    /// it: `--for 60s` of 25 s passes runs two, not three ending at 75 s.
    pub fn again(self, done: u32, elapsed: Duration) -> bool {
        match self {
            Self::Times(times) => done < times,
            Self::For(budget) => {
                let average = elapsed.checked_div(done.max(1)).unwrap_or(elapsed);
                elapsed
                    .checked_add(average)
                    .is_some_and(|expected_end| expected_end <= budget)
            }
        }
    }

    /// Whether more than one run may happen.
    pub fn repeats(self) -> bool {
        self != Self::Times(1) && self != Self::Times(0)
    }
}

/// Passes events on to `inner`, but only the first run's start and none of the runs' ends:
/// [`Repeated::finish`] sends the one end of them all.
pub struct Repeated<'a> {
    inner: &'a dyn EventSink,
    started: AtomicBool,
    ends: Mutex<Option<Summary>>,
}

impl<'a> Repeated<'a> {
    /// Repetitions reported to `inner` as one run.
    pub fn new(inner: &'a dyn EventSink) -> Self {
        Self {
            inner,
            started: AtomicBool::new(false),
            ends: Mutex::new(None),
        }
    }

    /// Sends the end of every repetition as one, and returns it.
    pub fn finish(self) -> Option<Summary> {
        let end = self.ends.into_inner().unwrap_or_else(|p| p.into_inner())?;
        self.inner.emit(Event::RunFinished(end.clone()));
        Some(end)
    }

    /// Runs `run_once` as `repetition` says, stopping early when one is interrupted, and sends
    /// the end of them all: the run's summary.
    pub fn run(
        inner: &'a dyn EventSink,
        repetition: Repetition,
        mut run_once: impl FnMut(&dyn EventSink) -> Summary,
    ) -> Summary {
        let repeated = Self::new(inner);
        let first = Instant::now();
        let mut done = 0;
        let last = loop {
            let summary = run_once(&repeated);
            done += 1;
            if summary.interrupted || !repetition.again(done, first.elapsed()) {
                break summary;
            }
        };
        repeated.finish().unwrap_or(last)
    }
}

/// `total` with `one` more repetition added.
fn add_up(total: &mut Summary, one: &Summary) {
    total.counts.add(&one.counts);
    total.duration += one.duration;
    total.finished_at = one.finished_at;
    total.interrupted |= one.interrupted;
    total
        .kept_test_dirs
        .extend(one.kept_test_dirs.iter().cloned());
    total.filtered_out = one.filtered_out;
    total.leaked_processes += one.leaked_processes;
    for skipped in &one.skipped_suites {
        if !total.skipped_suites.contains(skipped) {
            total.skipped_suites.push(skipped.clone());
        }
    }
    for rule in &one.broken_rules {
        if !total.broken_rules.contains(rule) {
            total.broken_rules.push(rule.clone());
        }
    }
}

impl EventSink for Repeated<'_> {
    fn emit(&self, event: Event) {
        match event {
            Event::RunStarted(_) => {
                if !self.started.swap(true, Ordering::Relaxed) {
                    self.inner.emit(event);
                }
            }
            Event::RunFinished(summary) => {
                let mut ends = self.ends.lock().unwrap_or_else(|p| p.into_inner());
                match &mut *ends {
                    Some(total) => add_up(total, &summary),
                    None => *ends = Some(summary),
                }
            }
            other => self.inner.emit(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        assert!(Repetition::Times(3).again(2, Duration::ZERO));
        assert!(!Repetition::Times(3).again(3, Duration::ZERO));
        assert!(!Repetition::Times(1).repeats());
        let budget = Repetition::For(Duration::from_secs(60));
        // 100 passes of 0.59 s: one more ends at 59.59 s, within the minute.
        assert!(budget.again(100, Duration::from_secs(59)));
        assert!(!budget.again(1, Duration::from_secs(60)));
        // Passes of 25 s: a third would end at 75 s, past the budget; a second at 50 s is fine.
        assert!(budget.again(1, Duration::from_secs(25)));
        assert!(!budget.again(2, Duration::from_secs(50)));
        // Exactly filling the budget is still within it.
        assert!(budget.again(2, Duration::from_secs(40)));
        assert!(!Repetition::For(Duration::MAX).again(1, Duration::MAX));
    }
}
