//! One step, tried up to its `retry.attempts`: the one attempt loop every step kind goes
//! through. A kind (`run`/`sh` commands, `http` requests) only says how one attempt is made;
//! announcing it, judging it, capturing from it, retrying and calling a late pass flaky are
//! the same for all.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::exec::{CapturedOutput, Environment, Outcome};
use crate::http::{HttpCall, send};
use crate::report::{CheckFailure, Event, StepRef, StepResult, Verdict};
use crate::suite::{Action, HttpCheck, Step};

use super::super::step_command::{
    PreparedStep, http_call, prepare, step_environment, step_timeout,
};
use super::SuiteRun;
use super::judging::{Judging, captured_stdout, degrade_if_slow, judge, judge_http};

/// A step ready to be tried, whatever its kind.
enum Attempt<'s> {
    /// `run` or `sh`: a command for the executor.
    Command(PreparedStep),
    /// `http`: one request; the step's environment is what its checks expand against.
    Http {
        check: &'s HttpCheck,
        call: HttpCall,
        line: String,
        timeout: Duration,
        env: Environment,
    },
}

impl<'s> Attempt<'s> {
    /// Expands what the step runs; `Err` is why it cannot start.
    fn prepare(
        run: &SuiteRun<'_>,
        step: &'s Step,
        env: &Environment,
        test_dir: &Path,
    ) -> Result<Self, String> {
        let settings = run.cx.settings;
        if let Action::Http(check) = &step.action {
            let timeout = step_timeout(run.suite, step, settings);
            let env = step_environment(step, env)?;
            let (call, line) = http_call(check, &env, timeout)?;
            return Ok(Self::Http {
                check,
                call,
                line,
                timeout,
                env,
            });
        }
        prepare(run.suite, step, env, settings, test_dir).map(Self::Command)
    }

    /// The command (or request) as shown to users.
    fn command_line(&self) -> &str {
        match self {
            Self::Command(prepared) => &prepared.command_line,
            Self::Http { line, .. } => line,
        }
    }

    fn timeout(&self) -> Duration {
        match self {
            Self::Command(prepared) => prepared.request.timeout,
            Self::Http { timeout, .. } => *timeout,
        }
    }
}

/// An attempt's output for the suite's log, written once the attempt is judged: at once
/// for an attempt that is tried again, else when its step is reported (`SuiteRun::defer`).
pub(super) struct LogEntry {
    attempt: u32,
    command_line: String,
    outcome: Outcome,
}

impl SuiteRun<'_> {
    /// Runs `step` (with its retries); the value for its `capture`, when it passed, and the
    /// last attempt's output for the log, not written yet.
    pub(super) fn run_step(
        &self,
        index: usize,
        step: &Step,
        setup: bool,
        env: &Environment,
        test_dir: &Path,
    ) -> (StepResult, Option<String>, Option<LogEntry>) {
        let ready = match Attempt::prepare(self, step, env, test_dir) {
            Ok(ready) => ready,
            Err(message) => return (StepResult::not_started(message), None, None),
        };
        let attempts = step.retry.map_or(1, |retry| retry.attempts.max(1));
        let mut attempt = 1;
        loop {
            let started = Event::StepStarted {
                suite: self.suite.clone(),
                id: self.suite.step_id(index),
                step: StepRef::new(self.suite, index),
                setup,
                command_line: ready.command_line().to_owned(),
                timeout: ready.timeout(),
                attempt,
            };
            let (mut result, log, body) = self.attempt(step, &ready, test_dir, attempt, started);
            let output = log.as_ref().map(|log| &log.outcome.output);
            let captured = capture(step, &mut result, output.or(body.as_ref()));
            let out_of_attempts = attempt >= attempts || self.interrupted();
            if result.passed() || out_of_attempts {
                if result.verdict == Verdict::Passed && attempt > 1 {
                    result.verdict = Verdict::Flaky;
                }
                degrade_if_slow(&mut result, self.suite.budgets_of(step).warn);
                return (result, captured, log);
            }
            if let Some(log) = log {
                self.write_log(index, log);
            }
            self.pause(
                step.retry
                    .map_or(Duration::ZERO, |retry| retry.pacing.pause(attempt)),
            );
            attempt += 1;
        }
    }

    /// Appends an attempt's output to the suite's log; where it went in the log.
    pub(super) fn write_log(
        &self,
        index: usize,
        log: LogEntry,
    ) -> Option<(std::path::PathBuf, crate::report::LogSpan)> {
        self.logs.borrow_mut().write(
            index,
            &self.suite.steps[index].test_name,
            log.attempt,
            &log.command_line,
            &log.outcome,
        )
    }

    /// One attempt, judged, announced with `started` once it is under way; for a command, what
    /// it did (for the log and the step's `capture`), for a request, the body it got back.
    ///
    /// A command is announced once it has started, and the step before it is reported then
    /// too (`SuiteRun::emit` reports a deferred step first): the runner's work for the step
    /// that ended is done while the next one runs, not between them, where steps wait.
    fn attempt(
        &self,
        step: &Step,
        ready: &Attempt<'_>,
        test_dir: &Path,
        attempt: u32,
        started: Event,
    ) -> (StepResult, Option<LogEntry>, Option<CapturedOutput>) {
        let interrupted = || self.interrupted();
        let judging = Judging {
            step,
            test_dir,
            command_line: ready.command_line(),
            attempt,
            interrupted: &interrupted,
            bless: (self.cx.settings.bless).then_some(&self.cx.settings.masker),
            max_duration: self.suite.budgets_of(step).max,
        };
        match ready {
            Attempt::Command(prepared) => {
                let outcome = self.cx.executor.start(&prepared.request);
                self.emit(started);
                match outcome.and_then(|running| running.wait()) {
                    Ok(outcome) => {
                        let show_output = self.cx.settings.show_output;
                        let result = judge(&judging, &outcome, prepared, show_output);
                        let log = LogEntry {
                            attempt,
                            command_line: prepared.command_line.clone(),
                            outcome,
                        };
                        (result, Some(log), None)
                    }
                    Err(error) => (
                        StepResult::not_started(format!(
                            "smoke-runner could not run the command: {error}"
                        )),
                        None,
                        None,
                    ),
                }
            }
            Attempt::Http {
                check, call, env, ..
            } => {
                self.emit(started);
                let started = Instant::now();
                let response = send(call);
                let (result, body) = judge_http(&judging, check, response, started.elapsed(), env);
                (result, None, body)
            }
        }
    }

    /// Whether the run was interrupted.
    pub(super) fn interrupted(&self) -> bool {
        self.cx.executor.interrupted().is_some()
    }

    /// Sleeps between attempts, waking early when the run is interrupted.
    fn pause(&self, interval: Duration) {
        let started = Instant::now();
        while !self.interrupted() {
            // Measured from the start rather than as a deadline: no instant arithmetic to overflow.
            let left = interval.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }
}

/// The value for the step's `capture` from a passing attempt's `output`; a value that cannot
/// be one (too long, a NUL byte) fails the step.
fn capture(
    step: &Step,
    result: &mut StepResult,
    output: Option<&CapturedOutput>,
) -> Option<String> {
    let (Some(name), true, Some(output)) = (&step.capture, result.passed(), output) else {
        return None;
    };
    match captured_stdout(output) {
        Ok(value) => Some(value),
        Err(problem) => {
            result.verdict = Verdict::Failed;
            result
                .failures
                .push(CheckFailure::error(format!("capture `{name}`: {problem}")));
            None
        }
    }
}
