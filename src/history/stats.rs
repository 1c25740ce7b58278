//! The arithmetic behind `history flaky` and `history slow`: medians, percentiles, flips and
//! trends over a step's recent runs, oldest first.

use std::time::Duration;

use serde::Serialize;

use super::record::Outcome;

/// A trend counts as rising or falling when the fitted line moves the duration by more than
/// this fraction of the median over the runs looked at.
const TREND_THRESHOLD: f64 = 0.2;

/// Which way a step's duration is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// Getting slower.
    Rising,
    /// Getting faster.
    Falling,
    /// Neither, or too few runs to say.
    Steady,
}

impl Trend {
    /// The word reports print.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Rising => "rising",
            Trend::Falling => "falling",
            Trend::Steady => "steady",
        }
    }
}

/// The median (the mean of the middle two for an even count); `None` when empty.
pub fn median(durations: &[Duration]) -> Option<Duration> {
    let mut sorted = durations.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

/// The nearest-rank 95th percentile; `None` when empty.
pub fn p95(durations: &[Duration]) -> Option<Duration> {
    let mut sorted = durations.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (0.95 * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// How often the outcome changed between consecutive runs in which the step ran (pass vs
/// fail; skips are left out): changes / (runs − 1). `None` with fewer than two runs.
pub fn flips(outcomes: &[Outcome]) -> Option<(usize, f64)> {
    let ran: Vec<bool> = outcomes
        .iter()
        .filter(|o| o.ran())
        .map(|o| o.is_pass())
        .collect();
    if ran.len() < 2 {
        return None;
    }
    let changes = ran.windows(2).filter(|pair| pair[0] != pair[1]).count();
    Some((changes, changes as f64 / (ran.len() - 1) as f64))
}

/// The least-squares line through the durations (oldest first): its total change over the
/// runs, as a fraction of the median, and the trend that makes.
pub fn trend(durations: &[Duration]) -> (Trend, f64) {
    let n = durations.len();
    let Some(median) = median(durations).filter(|m| !m.is_zero()) else {
        return (Trend::Steady, 0.0);
    };
    if n < 3 {
        return (Trend::Steady, 0.0);
    }
    let ys: Vec<f64> = durations.iter().map(Duration::as_secs_f64).collect();
    let mean_x = (n - 1) as f64 / 2.0;
    let mean_y = ys.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let dx = i as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    let change = sxy / sxx * (n - 1) as f64 / median.as_secs_f64();
    let trend = if change > TREND_THRESHOLD {
        Trend::Rising
    } else if change < -TREND_THRESHOLD {
        Trend::Falling
    } else {
        Trend::Steady
    };
    (trend, change)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().copied().map(Duration::from_millis).collect()
    }

    #[test]
    fn median_and_p95() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&ms(&[30, 10, 20])), Some(Duration::from_millis(20)));
        assert_eq!(
            median(&ms(&[10, 40, 20, 30])),
            Some(Duration::from_millis(25))
        );
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(p95(&ms(&hundred)), Some(Duration::from_millis(95)));
        assert_eq!(p95(&ms(&[7])), Some(Duration::from_millis(7)));
    }

    #[test]
    fn alternating_outcomes_flip_every_time_and_skips_do_not_count() {
        use Outcome::*;
        assert_eq!(
            flips(&[Passed, Failed, Passed, Failed, Passed]),
            Some((4, 1.0))
        );
        assert_eq!(flips(&[Passed, Skipped, Passed, TimedOut]), Some((1, 0.5)));
        assert_eq!(flips(&[Passed, Flaky, Passed]), Some((0, 0.0)));
        assert_eq!(flips(&[Failed]), None);
    }

    #[test]
    fn trend_follows_the_fitted_line() {
        assert_eq!(trend(&ms(&[100, 200, 300, 400, 500])).0, Trend::Rising);
        assert_eq!(trend(&ms(&[500, 400, 300, 200, 100])).0, Trend::Falling);
        assert_eq!(trend(&ms(&[100, 104, 98, 101, 100])).0, Trend::Steady);
        assert_eq!(trend(&ms(&[100, 900])).0, Trend::Steady);
        let (_, change) = trend(&ms(&[100, 200, 300]));
        assert!((change - 1.0).abs() < 1e-9, "{change}");
    }
}
