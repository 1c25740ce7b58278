//! The exit-status check.

use crate::exec::Termination;
use crate::report::{Actual, CheckFailure, CheckKind, CheckSubject};
use crate::suite::ExpectedStatus;

/// `None` when `termination` is what `expected` asks for, else the failed check.
pub fn check_status(expected: ExpectedStatus, termination: &Termination) -> Option<CheckFailure> {
    let ok = match (expected, termination) {
        (_, Termination::FailedToStart(_) | Termination::Interrupted { .. }) => false,
        (ExpectedStatus::Timeout, Termination::TimedOut { .. }) => true,
        (_, Termination::TimedOut { .. }) | (ExpectedStatus::Timeout, _) => false,
        (ExpectedStatus::Any, _) => true,
        (ExpectedStatus::Code(code), Termination::Exited(actual)) => code == *actual,
        (ExpectedStatus::Code(_), Termination::Signaled(_)) => false,
        (ExpectedStatus::Failure, Termination::Exited(actual)) => *actual != 0,
        (ExpectedStatus::Failure, Termination::Signaled(_)) => true,
    };
    if ok {
        return None;
    }
    let wanted = match expected {
        ExpectedStatus::Code(code) => format!("exit status {code}"),
        ExpectedStatus::Failure => "a failure (non-zero exit)".to_owned(),
        ExpectedStatus::Timeout => "a timeout".to_owned(),
        ExpectedStatus::Any => "the command to run".to_owned(),
    };
    Some(CheckFailure {
        subject: CheckSubject::Status,
        kind: CheckKind::Status,
        expected: wanted,
        actual: Actual::Text(termination.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::StartFailure;

    #[test]
    fn each_expectation_accepts_exactly_its_outcomes() {
        use ExpectedStatus::*;
        use Termination::*;
        let outcomes = [
            Exited(0),
            Exited(3),
            Signaled(9),
            TimedOut { signal: 15 },
            FailedToStart(StartFailure::NotFound),
            Interrupted { signal: 2 },
        ];
        let table: [(ExpectedStatus, [bool; 6]); 5] = [
            (Code(0), [true, false, false, false, false, false]),
            (Code(3), [false, true, false, false, false, false]),
            (Failure, [false, true, true, false, false, false]),
            (Timeout, [false, false, false, true, false, false]),
            (Any, [true, true, true, false, false, false]),
        ];
        for (expected, accepts) in table {
            for (outcome, accept) in outcomes.iter().zip(accepts) {
                assert_eq!(
                    check_status(expected, outcome).is_none(),
                    accept,
                    "{expected:?} vs {outcome:?}"
                );
            }
        }
    }

    #[test]
    fn failure_message_names_both_sides() {
        assert_eq!(
            check_status(ExpectedStatus::Code(0), &Termination::Exited(3))
                .unwrap()
                .to_string(),
            "expected exit status 0, got exit status 3"
        );
    }
}
