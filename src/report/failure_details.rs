//! What every report shows under a failed or timed-out step, as one value: the human report,
//! libtest's `---- name stdout ----` block, JUnit's `<failure>` text and TAP's YAML diagnostics
//! render the same fields, rounded the same way, each in its own layout. A field added here
//! reaches all of them.

use std::time::Duration;

use super::{CheckFailure, CompactDuration, ExitStatus, StepResult};
use crate::suite::Step;

/// One labelled line of the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailField {
    /// The command as it ran.
    Command,
    /// How it ended.
    Status,
    /// How long the last attempt took.
    Duration,
    /// How many attempts were made (only when more than one).
    Attempts,
    /// One failed check.
    Check,
    /// The variables the step sets (`NAME`) or removes (`-NAME`): names only, never values.
    Env,
    /// Processes the step left behind, killed after it.
    Leftovers,
    /// The suite's test dir.
    TestDir,
    /// Where the step's whole output is: its suite's log and the line its part starts at.
    Log,
}

impl DetailField {
    /// The label, with its colon: `command:`, `test dir:`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Command => "command:",
            Self::Status => "status:",
            Self::Duration => "duration:",
            Self::Attempts => "attempts:",
            Self::Check => "check:",
            Self::Env => "env:",
            Self::Leftovers => "leaked:",
            Self::TestDir => "test dir:",
            Self::Log => "log:",
        }
    }

    /// The key in reports that write fields as keys (TAP's YAML): `command`, `test_dir`. One
    /// key per field; checks, which may be several, are `check` each.
    pub fn key(self) -> &'static str {
        match self {
            Self::Command => "command",
            Self::Status => "status",
            Self::Duration => "duration",
            Self::Attempts => "attempts",
            Self::Check => "check",
            Self::Env => "env",
            Self::Leftovers => "leaked",
            Self::TestDir => "test_dir",
            Self::Log => "log",
        }
    }
}

/// The details of a failed step: labelled fields in the order reports print them (empty ones
/// left out), and the output's last lines.
#[derive(Debug, Clone)]
pub struct FailureDetails<'a> {
    fields: Vec<(DetailField, String)>,
    /// The failed checks the [`DetailField::Check`] fields describe, in the same order, for
    /// reports that show a check's parts (subject, expected, actual) apart.
    pub checks: &'a [CheckFailure],
    /// The output's last lines (empty when there was none).
    pub output_tail: &'a str,
}

impl<'a> FailureDetails<'a> {
    /// The details of `step`, which ended as `result`.
    pub fn new(step: &Step, result: &'a StepResult) -> Self {
        let mut fields = Vec::new();
        if !result.command_line.is_empty() {
            fields.push((DetailField::Command, result.command_line.clone()));
        }
        if result.status != ExitStatus::NotRun {
            fields.push((DetailField::Status, result.status.to_string()));
        }
        fields.push((DetailField::Duration, duration_text(result.duration)));
        if result.attempts > 1 {
            fields.push((DetailField::Attempts, result.attempts.to_string()));
        }
        for failure in &result.failures {
            fields.push((DetailField::Check, failure.to_string()));
        }
        let changed: Vec<String> = (step.env.iter().map(|(name, _)| name.clone()))
            .chain(step.env_remove.iter().map(|name| format!("-{name}")))
            .collect();
        if !changed.is_empty() {
            fields.push((DetailField::Env, changed.join(" ")));
        }
        if result.leaked_processes > 0 {
            let text = format!(
                "{} process(es) killed after the command",
                result.leaked_processes
            );
            fields.push((DetailField::Leftovers, text));
        }
        if let Some(dir) = &result.test_dir {
            fields.push((DetailField::TestDir, dir.display().to_string()));
        }
        if let Some(log) = result.log_place() {
            fields.push((DetailField::Log, log));
        }
        Self {
            fields,
            checks: &result.failures,
            output_tail: &result.output_tail,
        }
    }

    /// The fields, in order.
    pub fn fields(&self) -> impl Iterator<Item = (DetailField, &str)> {
        self.fields
            .iter()
            .map(|(field, text)| (*field, text.as_str()))
    }
}

/// A measured duration as every failure block prints it: `0.41s`, `3m 42s`.
fn duration_text(duration: Duration) -> String {
    CompactDuration::elapsed(duration).to_string()
}
