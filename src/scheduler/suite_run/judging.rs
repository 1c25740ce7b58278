//! Judging one attempt: the step's checks applied to what happened (a command's outcome or
//! an HTTP response), as a [`StepResult`]. Nothing here runs anything but the checks.

use std::path::Path;
use std::time::Duration;

use crate::assert::{check_files, check_output, check_status};
use crate::exec::{CapturedOutput, Environment, Outcome, StreamSelector, Termination};
use crate::http::{HttpError, HttpResponse};
use crate::mask::Masker;
use crate::report::{
    Actual, BudgetTime, CheckFailure, CheckKind, CheckSubject, ExitStatus, StepResult, Verdict,
};
use crate::suite::{ExpectedStatus, HttpCheck, Step};

use super::super::step_command::PreparedStep;
use super::interact::unfinished_script;

/// Lines of output shown under a failed step.
const TAIL_LINES: usize = 20;
/// At most this many bytes of output are shown under a failed step.
pub(super) const TAIL_BYTES: usize = 8 * 1024;

/// What judging an attempt needs besides what happened.
pub(super) struct Judging<'a> {
    pub step: &'a Step,
    pub test_dir: &'a Path,
    /// The command (or request) as shown to users.
    pub command_line: &'a str,
    /// Which attempt this is, from 1.
    pub attempt: u32,
    /// Whether the run was interrupted (long checks stop early).
    pub interrupted: &'a dyn Fn() -> bool,
    /// With `--bless`: the masker golden files are written through.
    pub bless: Option<&'a Masker>,
    /// The step's `max_duration` (its own or its suite's): a longer attempt fails.
    pub max_duration: Option<Duration>,
}

/// At most this many bytes of stdout are kept by `capture`: a variable, not a file.
const CAPTURE_LIMIT: u64 = 1024 * 1024;

/// The step's stdout as a variable's value: decoded (invalid UTF-8 replaced), trimmed.
pub(super) fn captured_stdout(output: &CapturedOutput) -> Result<String, String> {
    let length = output.len(StreamSelector::Stdout);
    if length > CAPTURE_LIMIT {
        return Err(format!(
            "stdout is {length} bytes, more than the {CAPTURE_LIMIT} a variable may hold"
        ));
    }
    let text = output
        .text_lossy(StreamSelector::Stdout)
        .map_err(|error| format!("cannot read stdout: {error}"))?;
    let value = text.trim();
    if value.contains('\0') {
        return Err("stdout contains a NUL byte, which no variable can hold".to_owned());
    }
    Ok(value.to_owned())
}

/// Applies an `http` step's checks to the response (or the reason there is none), which
/// took `duration`; the body, kept as output for `capture`.
pub(super) fn judge_http(
    judging: &Judging<'_>,
    check: &HttpCheck,
    response: Result<HttpResponse, HttpError>,
    duration: Duration,
    env: &Environment,
) -> (StepResult, Option<CapturedOutput>) {
    let Judging {
        step,
        test_dir,
        command_line,
        attempt,
        interrupted,
        bless,
        max_duration,
    } = *judging;
    let mut result = StepResult {
        command_line: command_line.to_owned(),
        duration,
        attempts: attempt,
        test_dir: Some(test_dir.to_owned()),
        ..StepResult::not_started(String::new())
    };
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            if matches!(error, HttpError::TimedOut(_)) {
                result.verdict = Verdict::TimedOut;
            }
            result.status = ExitStatus::NoResponse;
            result.failures = vec![CheckFailure::error(error.to_string())];
            return (result, None);
        }
    };
    result.status = ExitStatus::Http(response.status);
    let mut failures = Vec::new();
    let expected = match check.status {
        Some(expected) if expected != response.status => Some(format!("HTTP status {expected}")),
        None if !(200..300).contains(&response.status) => Some("a 2xx HTTP status".to_owned()),
        _ => None,
    };
    if let Some(expected) = expected {
        failures.push(CheckFailure {
            subject: CheckSubject::Status,
            kind: CheckKind::Status,
            expected,
            actual: Actual::Text(response.status.to_string()),
        });
    }
    let output = match CapturedOutput::from_parts(&response.body, b"") {
        Ok(output) => output,
        Err(e) => {
            result.failures = vec![CheckFailure::error(format!(
                "cannot keep the response body: {e}"
            ))];
            return (result, None);
        }
    };
    failures.extend(check_output_and_files(
        step,
        &output,
        env,
        test_dir,
        (interrupted, bless),
    ));
    failures.extend(over_budget(max_duration, duration));
    result.verdict = if failures.is_empty() {
        Verdict::Passed
    } else {
        result.output_tail = output
            .tail_lines(StreamSelector::Combined, TAIL_LINES, TAIL_BYTES)
            .unwrap_or_default();
        Verdict::Failed
    };
    result.failures = failures;
    (result, Some(output))
}

/// The step's checks on its stdout, its stderr, both together, and the files it left.
fn check_output_and_files(
    step: &Step,
    output: &CapturedOutput,
    env: &Environment,
    test_dir: &Path,
    (interrupted, bless): (&dyn Fn() -> bool, Option<&Masker>),
) -> Vec<CheckFailure> {
    let streams = [
        (StreamSelector::Stdout, &step.stdout),
        (StreamSelector::Stderr, &step.stderr),
        (StreamSelector::Combined, &step.output),
    ];
    let mut failures: Vec<CheckFailure> = streams
        .into_iter()
        .flat_map(|(which, checks)| check_output(which, checks, output, env, interrupted, bless))
        .collect();
    failures.extend(check_files(&step.files, test_dir, env, interrupted));
    failures
}

/// Applies the step's checks to what the command did; `show_output` keeps the output's tail
/// of a passing step too.
pub(super) fn judge(
    judging: &Judging<'_>,
    outcome: &Outcome,
    prepared: &PreparedStep,
    show_output: bool,
) -> StepResult {
    let Judging {
        step,
        test_dir,
        command_line,
        attempt,
        interrupted,
        bless,
        max_duration,
    } = *judging;
    let request = &prepared.request;
    let env = &request.env;
    let mut failures: Vec<CheckFailure> = Vec::new();
    failures.extend(check_status(step.status, &outcome.termination));
    let unexpected_timeout = matches!(outcome.termination, Termination::TimedOut { .. })
        && step.status != ExpectedStatus::Timeout;
    let ran = !matches!(
        outcome.termination,
        Termination::FailedToStart(_) | Termination::Interrupted { .. }
    );
    if ran {
        failures.extend(unfinished_script(request, outcome));
    }
    if ran && !unexpected_timeout {
        failures.extend(check_output_and_files(
            step,
            &outcome.output,
            env,
            test_dir,
            (interrupted, bless),
        ));
        failures.extend(over_budget(max_duration, outcome.duration));
    }
    let verdict = if unexpected_timeout {
        Verdict::TimedOut
    } else if failures.is_empty() {
        Verdict::Passed
    } else {
        Verdict::Failed
    };
    let output_tail = if verdict == Verdict::Passed && !show_output {
        String::new()
    } else {
        outcome
            .output
            .tail_lines(StreamSelector::Combined, TAIL_LINES, TAIL_BYTES)
            .unwrap_or_default()
    };
    StepResult {
        verdict,
        command_line: command_line.to_owned(),
        status: exit_status(&outcome.termination, request.timeout),
        duration: outcome.duration,
        attempts: attempt,
        failures,
        output_tail,
        leaked_processes: outcome.leaked_processes,
        test_dir: Some(test_dir.to_owned()),
        log_path: None,
        log_span: None,
    }
}

/// The failed check of an attempt that took longer than its `max_duration`, if it did.
fn over_budget(max_duration: Option<Duration>, took: Duration) -> Option<CheckFailure> {
    let budget = max_duration.filter(|&budget| took > budget)?;
    Some(CheckFailure {
        subject: CheckSubject::Step,
        kind: CheckKind::Duration,
        expected: BudgetTime(budget).to_string(),
        actual: Actual::Text(BudgetTime(took).to_string()),
    })
}

/// A step that passed at its first attempt but took longer than its `warn_duration` passes
/// degraded. The time is the passing attempt's (a step's duration is its last attempt's); a
/// flaky step stays flaky, a retry being the stronger sign.
pub(super) fn degrade_if_slow(result: &mut StepResult, warn_duration: Option<Duration>) {
    if result.verdict == Verdict::Passed && warn_duration.is_some_and(|warn| result.duration > warn)
    {
        result.verdict = Verdict::Degraded;
    }
}

fn exit_status(termination: &Termination, timeout: Duration) -> ExitStatus {
    match *termination {
        Termination::Exited(code) => ExitStatus::Exited(code),
        Termination::Signaled(signal) => ExitStatus::Signaled(signal),
        Termination::TimedOut { signal } => ExitStatus::TimedOut {
            after: timeout,
            signal,
        },
        Termination::Interrupted { signal } => ExitStatus::Interrupted { signal },
        Termination::FailedToStart(failure) => ExitStatus::FailedToStart(failure),
    }
}
