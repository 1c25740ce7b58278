//! The one-line command that re-runs a step, for failure reports.

use crate::suite::{Step, Suite};

/// `smoke-runner --suites <suite file> --exact <test name>`, quoted for a POSIX shell; `None`
/// for suites built in Rust (no file to name).
pub fn reproduce_command(suite: &Suite, step: &Step) -> Option<String> {
    let file = suite.source.as_ref()?;
    Some(format!(
        "smoke-runner --suites {} --exact {}",
        shell_words::quote(&file.display().to_string()),
        shell_words::quote(&step.test_name)
    ))
}
