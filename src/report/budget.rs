//! Duration budgets (`max_duration`, `warn_duration`) as every report words them: the time a
//! step took beside its budget, in one style, so that "took 412 ms, budget 300 ms" reads the
//! same in the human report, JUnit, TAP and GitHub annotations.

use std::fmt;
use std::time::Duration;

use super::{StepResult, Verdict};
use crate::suite::{Step, Suite};

/// A duration beside a budget: whole milliseconds below ten seconds (`412 ms`, `1512 ms`),
/// tenths of a second above (`12.4 s`). Rounded up, so that a step over its budget never reads
/// as taking exactly the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetTime(pub Duration);

impl fmt::Display for BudgetTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.0.as_micros();
        let millis = micros.div_ceil(1000);
        if millis < 10_000 {
            write!(f, "{millis} ms")
        } else {
            let tenths = micros.div_ceil(100_000);
            write!(f, "{}.{} s", tenths / 10, tenths % 10)
        }
    }
}

/// Why a passing step is degraded: `took 1512 ms, warn_duration 100 ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DegradedNote {
    /// The time the passing attempt took.
    pub took: Duration,
    /// The step's `warn_duration`.
    pub warn: Duration,
}

impl DegradedNote {
    /// Why `result`, of `step` of `suite`, is degraded; `None` when it is not.
    pub fn of(suite: &Suite, step: &Step, result: &StepResult) -> Option<Self> {
        let warn = suite.budgets_of(step).warn?;
        (result.verdict == Verdict::Degraded).then_some(Self {
            took: result.duration,
            warn,
        })
    }
}

impl fmt::Display for DegradedNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "took {}, warn_duration {}",
            BudgetTime(self.took),
            BudgetTime(self.warn)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_times_are_milliseconds_then_tenths_rounded_up() {
        let shown = |micros| BudgetTime(Duration::from_micros(micros)).to_string();
        assert_eq!(shown(300_000), "300 ms");
        assert_eq!(shown(300_001), "301 ms");
        assert_eq!(shown(1_512_000), "1512 ms");
        assert_eq!(shown(9_999_000), "9999 ms");
        assert_eq!(shown(10_000_000), "10.0 s");
        assert_eq!(shown(12_340_000), "12.4 s");
        assert_eq!(shown(0), "0 ms");
    }

    #[test]
    fn a_degraded_note_names_the_warning_budget() {
        let note = DegradedNote {
            took: Duration::from_millis(1512),
            warn: Duration::from_millis(100),
        };
        assert_eq!(note.to_string(), "took 1512 ms, warn_duration 100 ms");
    }
}
