//! Durations as users write them: `120` (seconds), `1.5s`, `500ms`, `2m`, `1h 30m`.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration `{input}`: {reason} (write seconds like `120` or `1.5`, or a unit: `500ms`, `30s`, `2m`)"
)]
pub struct DurationError {
    /// What the user wrote.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The longest duration accepted anywhere (timeouts, grace periods, retry intervals): 365 days.
///
/// Far beyond any sensible step, and far from the point where adding it to the clock overflows.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How much of a rejected input an error quotes.
const QUOTED_INPUT_CHARS: usize = 40;

/// Parses a duration: a bare number is seconds (fractions allowed); otherwise humantime syntax.
/// Durations above [`MAX_DURATION`] are refused.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let trimmed = input.trim();
    let error = |reason: String| DurationError {
        input: quoted_input(input),
        reason,
    };
    if trimmed.is_empty() {
        return Err(error("it is empty".into()));
    }
    if trimmed.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.')
    {
        let seconds: f64 = trimmed.parse().map_err(|_| error("not a number".into()))?;
        return duration_from_secs(seconds).map_err(|e| error(e.reason));
    }
    let duration = humantime::parse_duration(trimmed).map_err(|e| error(e.to_string()))?;
    within_ceiling(duration).map_err(error)
}

/// A duration from a number of seconds (a TOML number), with the checks of [`parse_duration`].
pub fn duration_from_secs(seconds: f64) -> Result<Duration, DurationError> {
    let error = |reason: String| DurationError {
        input: shown_number(seconds),
        reason,
    };
    if seconds.is_nan() {
        return Err(error("not a number".into()));
    }
    if seconds < 0.0 {
        return Err(error("it is negative".into()));
    }
    if seconds > MAX_DURATION.as_secs_f64() {
        return Err(error(too_long()));
    }
    Duration::try_from_secs_f64(seconds).map_err(|e| error(e.to_string()))
}

fn within_ceiling(duration: Duration) -> Result<Duration, String> {
    if duration > MAX_DURATION {
        Err(too_long())
    } else {
        Ok(duration)
    }
}

fn too_long() -> String {
    "it is longer than the limit of 365 days".into()
}

/// A number as an error shows it: huge ones in scientific notation, never in 300 digits.
fn shown_number(seconds: f64) -> String {
    if seconds.abs() >= 1e15 {
        format!("{seconds:e}")
    } else {
        seconds.to_string()
    }
}

/// The input as an error quotes it: cut to a readable length.
fn quoted_input(input: &str) -> String {
    match input.char_indices().nth(QUOTED_INPUT_CHARS) {
        Some((end, _)) => format!("{}…", &input[..end]),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse_duration("120"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn durations_that_overflow_the_clock_are_refused() {
        for huge in [
            "500000000000y",
            "9223372036854775808s",
            "9223372036854775807",
            "10000000000000000000",
            "366 days",
        ] {
            let err = parse_duration(huge).unwrap_err();
            assert!(err.reason.contains("365 days"), "{huge}: {err}");
        }
        assert_eq!(parse_duration("365 days"), Ok(MAX_DURATION));
    }

    #[test]
    fn huge_numbers_are_not_printed_in_full() {
        let err = duration_from_secs(1e300).unwrap_err();
        assert_eq!(err.input, "1e300");
        assert!(err.reason.contains("365 days"));
        let err = duration_from_secs(-1e19).unwrap_err();
        assert_eq!(err.input, "-1e19");
        assert_eq!(err.reason, "it is negative");
        assert_eq!(duration_from_secs(1.5), Ok(Duration::from_millis(1500)));
        assert!(duration_from_secs(f64::NAN).is_err());
        assert!(duration_from_secs(f64::INFINITY).is_err());
    }

    #[test]
    fn long_inputs_are_quoted_cut() {
        let long = "x".repeat(10_000);
        let err = parse_duration(&long).unwrap_err();
        assert!(err.to_string().len() < 400, "{err}");
        assert!(err.input.ends_with('…'));
    }

    #[test]
    fn rejects_garbage_with_a_hint() {
        for bad in ["", "abc", "1.2.3", "-1", "5 parsecs"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                err.to_string().contains("write seconds like `120`"),
                "{bad}: {err}"
            );
        }
    }
}
