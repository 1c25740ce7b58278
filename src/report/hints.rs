//! Hints from the run history, as data: a step slower than usual, newly failing, or known to
//! be flaky. The history is read before the run into [`Baselines`]; reporters ask it about
//! each finished step and only format the answer.

use std::collections::HashMap;
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
#[derive(Debug, Clone, Default)]
pub struct Baselines {
    steps: HashMap<String, Vec<PastRun>>,
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
        let steps = steps
            .into_iter()
            .map(|(name, mut runs)| {
                let excess = runs.len().saturating_sub(BASELINE_RUNS);
                runs.drain(..excess);
                (name, runs)
            })
            .collect();
        Self { steps }
    }

    /// Whether there is no history at all.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The hint for step `test_name`, which just ran: `passed` or not, in `duration`. Skipped
    /// steps get none.
    pub fn hint(&self, test_name: &str, passed: bool, duration: Duration) -> Option<Hint> {
        let past = self.steps.get(test_name)?;
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
