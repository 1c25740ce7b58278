//! The pauses between tries of a step's `retry` or a service's health check: fixed, linear or
//! exponential back-off, capped by `max_interval`, with optional jitter.
//!
//! A pure computation over the model: the scheduler asks for the pause before each try and
//! sleeps it (waking early on an interrupt). Every product saturates, so no setting overflows.

use std::hash::BuildHasher;
use std::time::Duration;

/// The most attempts a `retry` may ask for: more is a typo, not a policy (`4294967295` would
/// keep a failing step running for ever).
pub const MAX_ATTEMPTS: u32 = 1000;

/// How the pause grows from one try to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backoff {
    /// Every pause is `interval`.
    #[default]
    Fixed,
    /// `interval`, 2 × `interval`, 3 × `interval`…
    Linear,
    /// `interval`, 2 × `interval`, 4 × `interval`…
    Exponential,
}

impl Backoff {
    /// The keyword as written in a suite file.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Linear => "linear",
            Self::Exponential => "exponential",
        }
    }

    /// The back-off a keyword names.
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        [Self::Fixed, Self::Linear, Self::Exponential]
            .into_iter()
            .find(|backoff| backoff.keyword() == keyword)
    }
}

/// The pauses between tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// The first pause.
    pub interval: Duration,
    /// How the later pauses grow.
    pub backoff: Backoff,
    /// No pause is longer than this (jitter included).
    pub max_interval: Option<Duration>,
    /// Each pause is drawn at random between half of it and the whole of it, so that tries of
    /// steps retrying at once spread out.
    pub jitter: bool,
}

impl Pacing {
    /// A fixed pause of `interval`, no jitter.
    pub fn fixed(interval: Duration) -> Self {
        Self {
            interval,
            backoff: Backoff::Fixed,
            max_interval: None,
            jitter: false,
        }
    }

    /// The pause after the `failed`th failed try (from 1), jitter drawn at random.
    pub fn pause(&self, failed: u32) -> Duration {
        self.pause_with(failed, random_fraction())
    }

    /// The pause after the `failed`th failed try (from 1), with `fraction` (from 0 to 1) as
    /// the jitter's draw: the pause is `(1 - fraction / 2)` of the computed one.
    pub fn pause_with(&self, failed: u32, fraction: f64) -> Duration {
        let steps = failed.max(1) - 1;
        let grown = match self.backoff {
            Backoff::Fixed => self.interval,
            Backoff::Linear => self.interval.saturating_mul(steps.saturating_add(1)),
            Backoff::Exponential => {
                let factor = 1u32.checked_shl(steps).unwrap_or(u32::MAX);
                self.interval.saturating_mul(factor)
            }
        };
        let capped = self.max_interval.map_or(grown, |max| grown.min(max));
        if self.jitter {
            capped.mul_f64(1.0 - fraction.clamp(0.0, 1.0) / 2.0)
        } else {
            capped
        }
    }
}

/// A number from 0 to 1, different on every call: std's randomly keyed hasher over a counter,
/// good enough to spread retries out, and no generator to seed or carry around.
fn random_fraction() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static DRAWS: AtomicU64 = AtomicU64::new(0);
    let draw = DRAWS.fetch_add(1, Ordering::Relaxed);
    let hash = std::collections::hash_map::RandomState::new().hash_one(draw);
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(pauses: impl IntoIterator<Item = Duration>) -> Vec<f64> {
        pauses.into_iter().map(|p| p.as_secs_f64()).collect()
    }

    #[test]
    fn pauses_grow_as_the_back_off_says_and_stop_at_the_cap() {
        let pacing = |backoff, max_interval| Pacing {
            interval: Duration::from_secs(1),
            backoff,
            max_interval,
            jitter: false,
        };
        let five = |pacing: Pacing| secs((1..=5).map(|n| pacing.pause(n)));
        assert_eq!(five(pacing(Backoff::Fixed, None)), [1.0; 5]);
        assert_eq!(
            five(pacing(Backoff::Linear, None)),
            [1.0, 2.0, 3.0, 4.0, 5.0]
        );
        assert_eq!(
            five(pacing(Backoff::Exponential, None)),
            [1.0, 2.0, 4.0, 8.0, 16.0]
        );
        assert_eq!(
            five(pacing(Backoff::Exponential, Some(Duration::from_secs(5)))),
            [1.0, 2.0, 4.0, 5.0, 5.0]
        );
        // A thousand doublings saturate instead of overflowing.
        assert_eq!(
            pacing(Backoff::Exponential, None).pause(MAX_ATTEMPTS),
            Duration::from_secs(u64::from(u32::MAX))
        );
        assert_eq!(
            pacing(Backoff::Linear, Some(Duration::from_secs(60))).pause(u32::MAX),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn jitter_draws_between_half_and_the_whole_pause() {
        let pacing = Pacing {
            interval: Duration::from_secs(2),
            backoff: Backoff::Exponential,
            max_interval: Some(Duration::from_secs(6)),
            jitter: true,
        };
        assert_eq!(pacing.pause_with(2, 0.0), Duration::from_secs(4));
        assert_eq!(pacing.pause_with(2, 1.0), Duration::from_secs(2));
        assert_eq!(pacing.pause_with(3, 0.5), Duration::from_secs_f64(4.5));
        let draws: Vec<Duration> = (0..200).map(|_| pacing.pause(1)).collect();
        assert!(
            draws
                .iter()
                .all(|d| (Duration::from_secs(1)..=Duration::from_secs(2)).contains(d))
        );
        let distinct: std::collections::HashSet<_> = draws.iter().collect();
        assert!(distinct.len() > 100, "{distinct:?}");
    }

    #[test]
    fn keywords_round_trip() {
        for backoff in [Backoff::Fixed, Backoff::Linear, Backoff::Exponential] {
            assert_eq!(Backoff::from_keyword(backoff.keyword()), Some(backoff));
        }
        assert_eq!(Backoff::from_keyword("Exponential"), None);
    }
}
