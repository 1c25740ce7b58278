//! Hints from the run history, as data: a step slower than usual, newly failing, or known to
//! be flaky. The history is read before the run into [`Baselines`]; reporters ask it about
//! each finished step and only format the answer.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How many of a step's recent runs the hints look at.
pub const BASELINE_RUNS: usize = 10;
/// A passing step is "slower than usual" past this many times its median…
pub const SLOWER_FACTOR: u32 = 3;
/// …and at least this much over it, so that millisecond steps on a busy machine stay quiet.
pub const SLOWER_MIN_EXCESS: Duration = Duration::from_millis(250);
/// Runs that must have passed before a failure counts as "newly failing".
const NEWLY_FAILING_PASSES: usize = 1;
/// Failures among the recent runs that make a failing step "known flaky".
const FLAKY_FAILURES: usize = 2;

/// How a step did in one earlier run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastRun {
    /// Whether it passed (on any attempt).
    pub passed: bool,
    /// How long it took.
    pub duration: Duration,
}

/// Each step's recent runs, oldest first, by test name.
///
/// They may still be arriving while the run goes on ([`Baselines::loading`]): a hint then
/// waits until its step's runs are in, so the history is read beside the run, not before it.
/// Clones share what has arrived.
#[derive(Debug, Clone)]
pub struct Baselines {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<Loaded>,
    arrived: Condvar,
}

#[derive(Debug)]
struct Loaded {
    /// Every step looked up so far, with no runs when it has no history.
    steps: HashMap<String, Vec<PastRun>>,
    /// Whether nothing more will arrive.
    complete: bool,
    /// Hints waiting for their step's runs. Waking them is a system call even when none
    /// waits, once per step looked up: skipped when none does (most runs).
    waiting: usize,
}

/// The loading end of [`Baselines::loading`]. Dropping it (done, failed or panicked) says that
/// nothing more will arrive: hints stop waiting.
#[derive(Debug)]
pub struct BaselinesFeed {
    shared: Arc<Shared>,
}

impl BaselinesFeed {
    /// The recent runs of step `test_name` (oldest first, none when it has no history); only
    /// the last [`BASELINE_RUNS`] are kept.
    pub fn add(&self, test_name: String, mut runs: Vec<PastRun>) {
        runs.drain(..runs.len().saturating_sub(BASELINE_RUNS));
        let mut loaded = self.shared.lock();
        loaded.steps.insert(test_name, runs);
        if loaded.waiting > 0 {
            self.shared.arrived.notify_all();
        }
    }
}

impl Drop for BaselinesFeed {
    fn drop(&mut self) {
        self.shared.lock().complete = true;
        self.shared.arrived.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Loaded> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for Baselines {
    /// No history: no hints.
    fn default() -> Self {
        Self::new(std::iter::empty())
    }
}

/// What the history says about a step that just finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// It passed, but took more than [`SLOWER_FACTOR`] times its median of recent passing runs.
    SlowerThanUsual {
        /// The median of its recent passing runs.
        median: Duration,
    },
    /// It failed, and passed in its recent runs.
    NewlyFailing,
    /// It failed, and failed `failures` times in its last `runs` runs, passing in others.
    KnownFlaky {
        /// Failures among the recent runs.
        failures: usize,
        /// Recent runs looked at.
        runs: usize,
    },
}

impl Baselines {
    /// Baselines from each step's recent runs (oldest first); only the last
    /// [`BASELINE_RUNS`] of each are kept.
    pub fn new(steps: impl IntoIterator<Item = (String, Vec<PastRun>)>) -> Self {
        let (baselines, feed) = Self::loading();
        for (name, runs) in steps {
            feed.add(name, runs);
        }
        baselines
    }

    /// Baselines that arrive through the feed, while hints are asked for.
    pub fn loading() -> (Self, BaselinesFeed) {
        let shared = Arc::new(Shared {
            state: Mutex::new(Loaded {
                steps: HashMap::new(),
                complete: false,
                waiting: 0,
            }),
            arrived: Condvar::new(),
        });
        let feed = BaselinesFeed {
            shared: Arc::clone(&shared),
        };
        (Self { shared }, feed)
    }

    /// The hint for step `test_name`, which just ran: `passed` or not, in `duration`. Skipped
    /// steps get none.
    pub fn hint(&self, test_name: &str, passed: bool, duration: Duration) -> Option<Hint> {
        // A passing step needs to take this long to be slower than usual, whatever its runs
        // so far: no need to wait for them (most steps of most runs).
        if passed && duration < SLOWER_MIN_EXCESS {
            return None;
        }
        let mut loaded = self.shared.lock();
        while !loaded.complete && !loaded.steps.contains_key(test_name) {
            loaded.waiting += 1;
            loaded = (self.shared.arrived.wait(loaded)).unwrap_or_else(|p| p.into_inner());
            loaded.waiting -= 1;
        }
        let past = loaded.steps.get(test_name)?;
        if passed {
            let mut durations: Vec<Duration> = past
                .iter()
                .filter(|run| run.passed)
                .map(|run| run.duration)
                .collect();
            durations.sort_unstable();
            let median = match durations.len() {
                0 => return None,
                n if n % 2 == 1 => durations[n / 2],
                n => (durations[n / 2 - 1] + durations[n / 2]) / 2,
            };
            let slower = duration > median.saturating_mul(SLOWER_FACTOR)
                && duration.saturating_sub(median) >= SLOWER_MIN_EXCESS;
            return slower.then_some(Hint::SlowerThanUsual { median });
        }
        let failures = past.iter().filter(|run| !run.passed).count();
        let passes = past.len() - failures;
        if failures >= FLAKY_FAILURES && passes > 0 {
            return Some(Hint::KnownFlaky {
                failures,
                runs: past.len(),
            });
        }
        let recent_passes = past.iter().rev().take_while(|run| run.passed).count();
        (recent_passes >= NEWLY_FAILING_PASSES).then_some(Hint::NewlyFailing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(spec: &[(bool, u64)]) -> Vec<PastRun> {
        spec.iter()
            .map(|&(passed, ms)| PastRun {
                passed,
                duration: Duration::from_millis(ms),
            })
            .collect()
    }

    fn baselines(spec: &[(bool, u64)]) -> Baselines {
        Baselines::new([("s::step".to_owned(), runs(spec))])
    }

    #[test]
    fn slower_than_three_times_the_median_of_passing_runs() {
        let b = baselines(&[(true, 100), (true, 200), (false, 9000), (true, 300)]);
        let ms = Duration::from_millis;
        assert_eq!(
            b.hint("s::step", true, ms(700)),
            Some(Hint::SlowerThanUsual { median: ms(200) })
        );
        assert_eq!(b.hint("s::step", true, ms(600)), None);
        assert_eq!(b.hint("other", true, ms(60_000)), None);
    }

    #[test]
    fn millisecond_steps_need_a_real_excess() {
        let b = baselines(&[(true, 2), (true, 3), (true, 2)]);
        assert_eq!(b.hint("s::step", true, Duration::from_millis(40)), None);
    }

    #[test]
    fn failing_after_passes_is_new_and_after_mixed_runs_is_flaky() {
        let d = Duration::from_millis(5);
        let new = baselines(&[(true, 5), (true, 5), (true, 5)]);
        assert_eq!(new.hint("s::step", false, d), Some(Hint::NewlyFailing));
        let flaky = baselines(&[(true, 5), (false, 5), (true, 5), (false, 5), (true, 5)]);
        assert_eq!(
            flaky.hint("s::step", false, d),
            Some(Hint::KnownFlaky {
                failures: 2,
                runs: 5
            })
        );
        let always_failing = baselines(&[(false, 5), (false, 5)]);
        assert_eq!(always_failing.hint("s::step", false, d), None);
    }

    #[test]
    fn a_hint_waits_for_its_steps_runs_while_they_load() {
        let (baselines, feed) = Baselines::loading();
        let asking = std::thread::spawn({
            let baselines = baselines.clone();
            move || baselines.hint("s::later", false, Duration::ZERO)
        });
        // Once the hint waits: the runs that arrive then must wake it.
        wait_for_a_waiting_hint(&baselines);
        feed.add("s::first".to_owned(), runs(&[(true, 5)]));
        feed.add("s::later".to_owned(), runs(&[(true, 5), (true, 5)]));
        assert_eq!(asking.join().unwrap(), Some(Hint::NewlyFailing));
        // A step the history never held: answered once loading is over, not before.
        let never = std::thread::spawn({
            let baselines = baselines.clone();
            move || baselines.hint("s::new", false, Duration::ZERO)
        });
        wait_for_a_waiting_hint(&baselines);
        drop(feed);
        assert_eq!(never.join().unwrap(), None);
    }

    /// Returns once a hint waits for runs (a handshake, not a sleep); fails after 30 s.
    fn wait_for_a_waiting_hint(baselines: &Baselines) {
        let until = std::time::Instant::now() + Duration::from_secs(30);
        while baselines.shared.lock().waiting == 0 {
            assert!(std::time::Instant::now() < until, "no hint came to wait");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// A step that passed in less than the excess a slower step needs cannot get a hint: it
    /// does not wait for its runs (which may never come while the history is read).
    #[test]
    fn a_quick_pass_does_not_wait_for_its_runs() {
        let (baselines, feed) = Baselines::loading();
        let (told, answer) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = told.send(baselines.hint("s::quick", true, Duration::from_millis(200)));
        });
        let hint = answer.recv_timeout(Duration::from_secs(30));
        drop(feed);
        assert_eq!(hint, Ok(None), "the hint waited for the step's runs");
    }

    #[test]
    fn only_the_last_ten_runs_count() {
        let mut spec = vec![(false, 5); 5];
        spec.extend([(true, 5); 10]);
        let b = baselines(&spec);
        assert_eq!(
            b.hint("s::step", false, Duration::ZERO),
            Some(Hint::NewlyFailing)
        );
    }
}
