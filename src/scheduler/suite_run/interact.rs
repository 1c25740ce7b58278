//! Judging a terminal step's script: the entry it stopped at, as a failed check. The
//! transcript itself is the step's output (its tail under the failure, all of it in the log).

use crate::exec::{ExecRequest, Interaction, Outcome, Termination};
use crate::report::{Actual, CheckFailure, CheckKind, CheckSubject};

/// The failure of a script that did not finish: which entry it stopped at and why. `None`
/// when it finished, or the step ran without a terminal.
pub(super) fn unfinished_script(request: &ExecRequest, outcome: &Outcome) -> Option<CheckFailure> {
    let progress = outcome.script.filter(|progress| !progress.finished())?;
    let entry = request.terminal.as_ref()?.script.get(progress.done)?;
    let ended = match outcome.termination {
        Termination::TimedOut { .. } => "before the step timed out",
        _ => "before the program ended",
    };
    let (kind, expected, why) = match entry {
        Interaction::Expect(text) => (CheckKind::Expect, lossy(text), ended),
        Interaction::ExpectRegex(regex) => (CheckKind::ExpectRegex, regex.to_string(), ended),
        Interaction::Send(text) => (CheckKind::Send, lossy(text), "the terminal was closed"),
    };
    Some(CheckFailure {
        subject: CheckSubject::Output,
        kind,
        expected,
        actual: Actual::Text(format!(
            "interact entry {} of {}, {why}",
            progress.done + 1,
            progress.total
        )),
    })
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
