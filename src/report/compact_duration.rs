//! Durations as the reports print them: short, and without allocating.
//!
//! Two styles, because the two kinds of durations are read differently:
//! - a **timeout** is a value the user configured, so it is printed exactly and in the units a
//!   user would write it (`500ms`, `1.5s`, `120s` for `PLANDEX_TIMEOUT=120`; minutes only from
//!   ten minutes up: `15m`, `1h 30m`);
//! - an **elapsed** time was measured, so it is rounded: to hundredths of a second under a
//!   minute (`0.41s`, `1.23s`), to whole seconds above (`3m 42s`, `1h 2m`).

use std::fmt;
use std::time::Duration;

/// A duration formatted for people; see the module docs for the two styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactDuration {
    duration: Duration,
    style: Style,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Timeout,
    Elapsed,
}

impl CompactDuration {
    /// A configured timeout, printed exactly: `500ms`, `1.5s`, `120s`, `15m`, `1h 30m`.
    pub fn timeout(duration: Duration) -> Self {
        Self {
            duration,
            style: Style::Timeout,
        }
    }

    /// A measured time, rounded: `0.41s`, `1.23s`, `59s`, `3m 42s`, `1h 2m`.
    pub fn elapsed(duration: Duration) -> Self {
        Self {
            duration,
            style: Style::Elapsed,
        }
    }
}

impl fmt::Display for CompactDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.style {
            Style::Timeout => fmt_timeout(self.duration, f),
            Style::Elapsed => fmt_elapsed(self.duration, f),
        }
    }
}

const TEN_MINUTES_MS: u128 = 10 * 60 * 1000;

fn fmt_timeout(duration: Duration, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let micros = duration.as_micros();
    if micros == 0 {
        return f.write_str("0s");
    }
    if micros < 1000 {
        return write!(f, "{micros}µs");
    }
    let millis = duration.as_millis();
    if millis < 1000 {
        write!(f, "{millis}ms")
    } else if millis < TEN_MINUTES_MS {
        write_seconds_with_fraction(f, millis / 1000, millis % 1000, 3)
    } else {
        write_hms(f, (millis / 1000) as u64)
    }
}

fn fmt_elapsed(duration: Duration, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // Rounded once, to the unit printed, so that 59.996s reads `1m` rather than `60s`.
    let centis = (duration.as_nanos() + 5_000_000) / 10_000_000;
    if centis < 60 * 100 {
        write_seconds_with_fraction(f, centis / 100, centis % 100, 2)
    } else {
        let seconds = (duration.as_nanos() + 500_000_000) / 1_000_000_000;
        write_hms(f, u64::try_from(seconds).unwrap_or(u64::MAX))
    }
}

/// Writes `whole.fraction` seconds, `fraction` having `digits` decimal places, trailing zeros
/// dropped: (1, 500, 3) is `1.5s`, (2, 0, 2) is `2s`.
fn write_seconds_with_fraction(
    f: &mut fmt::Formatter<'_>,
    whole: u128,
    mut fraction: u128,
    mut digits: usize,
) -> fmt::Result {
    if fraction == 0 {
        return write!(f, "{whole}s");
    }
    while fraction.is_multiple_of(10) {
        fraction /= 10;
        digits -= 1;
    }
    write!(f, "{whole}.{fraction:0digits$}s")
}

/// Writes whole seconds as `1h 2m 3s`, leaving out zero parts (`2m`, `1h 5s`).
fn write_hms(f: &mut fmt::Formatter<'_>, seconds: u64) -> fmt::Result {
    let parts = [
        (seconds / 3600, "h"),
        (seconds / 60 % 60, "m"),
        (seconds % 60, "s"),
    ];
    let mut first = true;
    for (value, unit) in parts {
        if value == 0 {
            continue;
        }
        if !first {
            f.write_str(" ")?;
        }
        write!(f, "{value}{unit}")?;
        first = false;
    }
    if first {
        f.write_str("0s")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout(d: Duration) -> String {
        CompactDuration::timeout(d).to_string()
    }

    fn elapsed(d: Duration) -> String {
        CompactDuration::elapsed(d).to_string()
    }

    #[test]
    fn timeouts_read_as_they_are_configured() {
        assert_eq!(timeout(Duration::ZERO), "0s");
        assert_eq!(timeout(Duration::from_micros(250)), "250µs");
        assert_eq!(timeout(Duration::from_millis(500)), "500ms");
        assert_eq!(timeout(Duration::from_secs(1)), "1s");
        assert_eq!(timeout(Duration::from_millis(1500)), "1.5s");
        assert_eq!(timeout(Duration::from_millis(2250)), "2.25s");
        assert_eq!(timeout(Duration::from_millis(1001)), "1.001s");
        assert_eq!(timeout(Duration::from_secs(120)), "120s");
        assert_eq!(timeout(Duration::from_secs(150)), "150s");
        assert_eq!(timeout(Duration::from_secs(599)), "599s");
        assert_eq!(timeout(Duration::from_secs(600)), "10m");
        assert_eq!(timeout(Duration::from_secs(750)), "12m 30s");
        assert_eq!(timeout(Duration::from_secs(5400)), "1h 30m");
    }

    #[test]
    fn elapsed_times_are_rounded() {
        assert_eq!(elapsed(Duration::ZERO), "0s");
        assert_eq!(elapsed(Duration::from_millis(4)), "0s");
        assert_eq!(elapsed(Duration::from_millis(5)), "0.01s");
        assert_eq!(elapsed(Duration::from_millis(410)), "0.41s");
        assert_eq!(elapsed(Duration::from_millis(1234)), "1.23s");
        assert_eq!(elapsed(Duration::from_millis(1500)), "1.5s");
        assert_eq!(elapsed(Duration::from_millis(1999)), "2s");
        assert_eq!(elapsed(Duration::from_secs(59)), "59s");
        assert_eq!(elapsed(Duration::from_millis(59_996)), "1m");
        assert_eq!(elapsed(Duration::from_secs(95)), "1m 35s");
        assert_eq!(elapsed(Duration::from_secs(222)), "3m 42s");
        assert_eq!(elapsed(Duration::from_secs(3600)), "1h");
        assert_eq!(elapsed(Duration::from_secs(3605)), "1h 5s");
        assert_eq!(elapsed(Duration::from_secs(3723)), "1h 2m 3s");
    }
}
