//! One step, tried up to its `retry.attempts`: the one attempt loop every step kind goes
//! through. A kind (`run`/`sh` commands, `http` requests) only says how one attempt is made;
//! announcing it, judging it, capturing from it, retrying and calling a late pass flaky are
//! the same for all.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::exec::{CapturedOutput, Environment};
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

impl SuiteRun<'_> {
    /// Runs `step` (with its retries); the value for its `capture`, when it passed.
    pub(super) fn run_step(
        &self,
        index: usize,
        step: &Step,
        setup: bool,
        env: &Environment,
        test_dir: &Path,
    ) -> (StepResult, Option<String>) {
        let ready = match Attempt::prepare(self, step, env, test_dir) {
            Ok(ready) => ready,
            Err(message) => return (StepResult::not_started(message), None),
        };
        let attempts = step.retry.map_or(1, |retry| retry.attempts.max(1));
        let mut attempt = 1;
        loop {
            self.cx.sink.emit(Event::StepStarted {
                suite: self.suite.clone(),
                id: self.suite.step_id(index),
                step: StepRef::new(self.suite, index),
                setup,
                command_line: ready.command_line().to_owned(),
                timeout: ready.timeout(),
                attempt,
            });
            let (mut result, output) = self.attempt(index, step, &ready, test_dir, attempt);
            let captured = capture(step, &mut result, output.as_ref());
            let out_of_attempts = attempt >= attempts || self.interrupted();
            if result.passed() || out_of_attempts {
                if result.verdict == Verdict::Passed && attempt > 1 {
                    result.verdict = Verdict::Flaky;
                }
                degrade_if_slow(&mut result, self.suite.budgets_of(step).warn);
                return (result, captured);
            }
            self.pause(
                step.retry
                    .map_or(Duration::ZERO, |retry| retry.pacing.pause(attempt)),
            );
            attempt += 1;
        }
    }

    /// One attempt, judged; the output the step's `capture` reads (stdout, or the body).
    fn attempt(
        &self,
        index: usize,
        step: &Step,
        ready: &Attempt<'_>,
        test_dir: &Path,
        attempt: u32,
    ) -> (StepResult, Option<CapturedOutput>) {
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
            Attempt::Command(prepared) => match self.cx.executor.run(&prepared.request) {
                Ok(outcome) => {
                    let show_output = self.cx.settings.show_output;
                    let mut result = judge(&judging, &outcome, prepared, show_output);
                    let logged = self.logs.borrow_mut().write(
                        index,
                        &step.test_name,
                        attempt,
                        &prepared.command_line,
                        &outcome,
                    );
                    (result.log_path, result.log_span) = logged.unzip();
                    (result, Some(outcome.output))
                }
                Err(error) => (
                    StepResult::not_started(format!(
                        "smoke-runner could not run the command: {error}"
                    )),
                    None,
                ),
            },
            Attempt::Http {
                check, call, env, ..
            } => {
                let started = Instant::now();
                let response = send(call);
                judge_http(&judging, check, response, started.elapsed(), env)
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
