//! Before a suite's first step: its fixtures copied, its environment built, its ports
//! allocated, and its `requires` (programs, check commands) looked at, each one reported as an
//! [`Event::RequirementChecked`].

use std::path::Path;
use std::time::{Duration, Instant};

use crate::exec::{Environment, StreamSelector, Termination, find_program};
use crate::report::{Event, PlannedSuite, SkipReason};
use crate::suite::{Requirement, Suite, Template};

use super::super::fixture_copy::CopyError;
use super::super::services::Ports;
use super::super::step_command::{command_request, suite_environment};
use super::super::test_dir::TestDir;
use super::SuiteContext;
use super::judging::TAIL_BYTES;

/// How a suite's preparation ended, when it did not fail.
pub(super) enum Setup {
    Ready(Environment, Ports),
    /// A requirement is missing: every step is skipped for this reason.
    Missing(SkipReason),
    Interrupted,
}

/// Fixtures, the suite's environment, requirements. Requirements are looked up exactly as the
/// steps will look programs up: in the suite's environment, from the test dir; check commands
/// run there too, within the suite's timeout.
pub(super) fn prepare_suite(
    suite: &PlannedSuite,
    cx: &SuiteContext<'_>,
    test_dir: &TestDir,
) -> Result<Setup, String> {
    let settings = cx.settings;
    let fixtures_root = suite
        .fixtures_root
        .as_deref()
        .unwrap_or(&settings.fixtures_dir);
    let interrupted = || cx.executor.interrupted().is_some();
    for fixture in &suite.fixtures {
        let source = fixtures_root.join(fixture);
        if !source.is_dir() {
            return Err(format!(
                "fixture `{fixture}` not found: {} is not a folder (see --fixtures)",
                source.display()
            ));
        }
        match test_dir.copy_fixture(fixtures_root, fixture, &interrupted) {
            Ok(()) => {}
            Err(CopyError::Interrupted) => return Ok(Setup::Interrupted),
            Err(e) => return Err(format!("cannot copy fixture `{fixture}`: {e}")),
        }
    }
    let ports = Ports::allocate(suite)?;
    let env = suite_environment(suite, settings, test_dir.path(), &ports.variables())?;
    for requirement in &suite.requires {
        let looking = Instant::now();
        let (shown, missing) = match requirement {
            Requirement::Program(program) => {
                let program = required_program(program, &env)?;
                let missing = find_program(program.as_ref(), &env, Some(test_dir.path()))
                    .is_err()
                    .then(|| SkipReason::MissingRequirement(program.clone()));
                (program, missing)
            }
            Requirement::Check(command) => {
                requirement_check(suite, command, &env, test_dir.path(), cx)?
            }
        };
        // A check cut short by an interrupt says nothing about the requirement.
        if interrupted() {
            return Ok(Setup::Interrupted);
        }
        let checked = Checked {
            shown,
            command: matches!(requirement, Requirement::Check(_)),
            duration: looking.elapsed(),
        };
        cx.sink.emit(checked.event(suite, missing.as_ref()));
        if let Some(reason) = missing {
            return Ok(Setup::Missing(reason));
        }
    }
    Ok(Setup::Ready(env, ports))
}

/// A requirement looked at: what it is, as users read it, and how long looking took.
struct Checked {
    shown: String,
    command: bool,
    duration: Duration,
}

impl Checked {
    /// The event saying so; `missing` is why the requirement is not met, if it is not.
    fn event(self, suite: &PlannedSuite, missing: Option<&SkipReason>) -> Event {
        let reason = missing.map(|reason| match reason {
            SkipReason::RequirementNotMet { reason, .. } => reason.clone(),
            SkipReason::MissingRequirement(_) => "not found on PATH".to_owned(),
            other => other.to_string(),
        });
        Event::RequirementChecked {
            suite: suite.clone(),
            requirement: self.shown,
            command: self.command,
            met: missing.is_none(),
            reason,
            duration: self.duration,
        }
    }
}

/// Runs a `requires` check: its command line, and the reason to skip when it does not exit 0
/// (the last line of its output, or how it ended when it printed nothing).
fn requirement_check(
    suite: &Suite,
    command: &crate::suite::Command,
    env: &Environment,
    test_dir: &Path,
    cx: &SuiteContext<'_>,
) -> Result<(String, Option<SkipReason>), String> {
    let (request, check) = command_request(command, suite.shell.as_ref(), env, test_dir)
        .map_err(|e| format!("requires check: {e}"))?;
    let timeout = suite.timeout.unwrap_or(cx.settings.timeout);
    let request = request.timeout(timeout).kill_grace(cx.settings.kill_grace);
    let outcome = cx
        .executor
        .run(&request)
        .map_err(|e| format!("requires check `{check}`: smoke-runner could not run it: {e}"))?;
    if outcome.termination == Termination::Exited(0) {
        return Ok((check, None));
    }
    let last_line = outcome
        .output
        .tail_lines(StreamSelector::Combined, 1, TAIL_BYTES)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let reason = if last_line.is_empty() {
        format!("`{check}` failed ({})", outcome.termination)
    } else {
        last_line
    };
    Ok((
        check.clone(),
        Some(SkipReason::RequirementNotMet { check, reason }),
    ))
}

/// The program a `requires` entry names: `${VAR}` expanded, first shell word (so
/// `"${PLANDEX_CMD}"` works when the command is `go run ./cmd`).
fn required_program(requirement: &str, env: &Environment) -> Result<String, String> {
    let problem = |e: &dyn std::fmt::Display| format!("requires `{requirement}`: {e}");
    let expanded = Template::parse(requirement)
        .map_err(|e| problem(&e))?
        .expand(|name| env.get_str(name))
        .map_err(|e| problem(&e))?
        .into_owned();
    let words = shell_words::split(&expanded).map_err(|e| problem(&e))?;
    Ok(words.into_iter().next().unwrap_or(expanded))
}
