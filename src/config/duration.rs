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

/// Parses a duration: a bare number is seconds (fractions allowed); otherwise humantime syntax.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let trimmed = input.trim();
    let error = |reason: String| DurationError {
        input: input.to_owned(),
        reason,
    };
    if trimmed.is_empty() {
        return Err(error("it is empty".into()));
    }
    if trimmed.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.')
    {
        let seconds: f64 = trimmed.parse().map_err(|_| error("not a number".into()))?;
        return Duration::try_from_secs_f64(seconds).map_err(|e| error(e.to_string()));
    }
    humantime::parse_duration(trimmed).map_err(|e| error(e.to_string()))
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
