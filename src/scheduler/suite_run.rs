//! Running one suite: test dir, fixtures, requirements, then its steps in order.

use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::assert::{check_files, check_output, check_status};
use crate::config::Settings;
use crate::exec::{
    CapturedOutput, Environment, ExecRequest, Executor, Outcome, StreamSelector, Termination,
    find_program,
};
use crate::http::{HttpError, send};
use crate::report::{
    Actual, CheckFailure, CheckKind, CheckSubject, Counts, Event, ExitStatus, SkipReason,
    StepResult, SuiteResult, Verdict,
};
use crate::suite::{
    Action, ExpectedStatus, HttpCheck, OnFailure, Requirement, Step, Suite, Template,
};

use super::fixture_copy::CopyError;
use super::services::{self, Ports, StartError};
use super::sink::EventSink;
use super::step_command::{
    command_request, http_call, prepare, step_environment, step_timeout, suite_environment,
};
use super::step_log::StepLogs;
use super::test_dir::TestDir;

/// Lines of output shown under a failed step.
const TAIL_LINES: usize = 20;
/// At most this many bytes of output are shown under a failed step.
const TAIL_BYTES: usize = 8 * 1024;

/// What a suite run needs besides the suite.
pub(super) struct SuiteContext<'a> {
    pub settings: &'a Settings,
    pub executor: &'a Executor,
    pub sink: &'a dyn EventSink,
    pub run_ignored: bool,
}

/// Runs the selected steps of `suite` and reports every one of them.
pub(super) fn run_suite(suite: &Suite, selected: &[bool], cx: &SuiteContext<'_>) -> SuiteResult {
    let started = Instant::now();
    let mut run = SuiteRun {
        suite,
        cx,
        counts: Counts::default(),
        leaked_processes: 0,
        first_failure: None,
        section: None,
        skipped_because: None,
        logs: RefCell::new(StepLogs::new(
            cx.settings.log_dir.as_deref(),
            &suite.slug,
            &cx.settings.masker,
        )),
    };

    let test_dir = match TestDir::create(&cx.settings.temp_root, &suite.slug) {
        Ok(dir) => dir,
        Err(error) => {
            let message = format!(
                "cannot create a test dir in {}: {error}",
                cx.settings.temp_root.display()
            );
            cx.sink.emit(&Event::SuiteStarted {
                suite,
                test_dir: &cx.settings.temp_root,
            });
            run.fail_setup(selected, &message);
            return run.finish(None, started);
        }
    };
    cx.sink.emit(&Event::SuiteStarted {
        suite,
        test_dir: test_dir.path(),
    });

    match prepare_suite(suite, cx, &test_dir) {
        Ok(Setup::Ready(mut env, ports)) => {
            run.with_services(selected, &mut env, &ports, test_dir.path())
        }
        Ok(Setup::Missing(reason)) => run.skip_all(selected, reason),
        Ok(Setup::Interrupted) => run.skip_all(selected, SkipReason::Interrupted),
        Err(message) => run.fail_setup(selected, &message),
    }

    let interrupted = cx.executor.interrupted().is_some();
    let keep = cx.settings.keep_temp || (!run.counts.success() && !interrupted);
    let kept = keep.then(|| test_dir.keep());
    run.finish(kept, started)
}

enum Setup {
    Ready(Environment, Ports),
    /// A requirement is missing: every step is skipped for this reason.
    Missing(SkipReason),
    Interrupted,
}

/// Fixtures, the suite's environment, requirements. Requirements are looked up exactly as the
/// steps will look programs up: in the suite's environment, from the test dir; check commands
/// run there too, within the suite's timeout.
fn prepare_suite(
    suite: &Suite,
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
        let missing = match requirement {
            Requirement::Program(program) => {
                let program = required_program(program, &env)?;
                find_program(program.as_ref(), &env, Some(test_dir.path()))
                    .is_err()
                    .then_some(SkipReason::MissingRequirement(program))
            }
            Requirement::Check(command) => {
                requirement_check(suite, command, &env, test_dir.path(), cx)?
            }
        };
        // A check cut short by an interrupt says nothing about the requirement.
        if interrupted() {
            return Ok(Setup::Interrupted);
        }
        if let Some(reason) = missing {
            return Ok(Setup::Missing(reason));
        }
    }
    Ok(Setup::Ready(env, ports))
}

/// Runs a `requires` check; the reason to skip when it does not exit 0: the last line of its
/// output, or how it ended when it printed nothing.
fn requirement_check(
    suite: &Suite,
    command: &crate::suite::Command,
    env: &Environment,
    test_dir: &Path,
    cx: &SuiteContext<'_>,
) -> Result<Option<SkipReason>, String> {
    let (request, check) = command_request(command, suite.shell.as_ref(), env, test_dir)
        .map_err(|e| format!("requires check: {e}"))?;
    let timeout = suite.timeout.unwrap_or(cx.settings.timeout);
    let request = request.timeout(timeout).kill_grace(cx.settings.kill_grace);
    let outcome = cx
        .executor
        .run(&request)
        .map_err(|e| format!("requires check `{check}`: smoke-runner could not run it: {e}"))?;
    if outcome.termination == Termination::Exited(0) {
        return Ok(None);
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
    Ok(Some(SkipReason::RequirementNotMet { check, reason }))
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

struct SuiteRun<'a> {
    suite: &'a Suite,
    cx: &'a SuiteContext<'a>,
    counts: Counts,
    leaked_processes: usize,
    first_failure: Option<&'a str>,
    section: Option<&'a str>,
    skipped_because: Option<SkipReason>,
    logs: RefCell<StepLogs<'a>>,
}

impl<'a> SuiteRun<'a> {
    /// Starts the services, runs the steps, stops the services (also on failure and interrupt).
    fn with_services(
        &mut self,
        selected: &[bool],
        env: &mut Environment,
        ports: &Ports,
        test_dir: &Path,
    ) {
        if self.suite.services.is_empty() {
            return self.steps(selected, env, test_dir, &mut []);
        }
        let kill_grace = self.cx.settings.kill_grace;
        let plans = match services::plan(self.suite, env, ports, test_dir, kill_grace) {
            Ok(plans) => plans,
            Err(message) => return self.fail_setup(selected, &message),
        };
        let mut started = Vec::with_capacity(plans.len());
        match services::start_all(&plans, self.cx.executor, test_dir, &mut started) {
            Ok(()) => self.steps(selected, env, test_dir, &mut started),
            Err(StartError::Failed(message)) => self.fail_setup(selected, &message),
            Err(StartError::Interrupted) => self.skip_all(selected, SkipReason::Interrupted),
        }
        services::stop_all(started);
        let settings = self.cx.settings;
        services::save_logs(
            &plans,
            settings.log_dir.as_deref(),
            &self.suite.slug,
            &settings.masker,
        );
    }

    /// Runs the steps in order; a failed step also says which `services` have exited.
    fn steps(
        &mut self,
        selected: &[bool],
        env: &mut Environment,
        test_dir: &Path,
        services: &mut [services::Started<'_>],
    ) {
        let roles = roles(self.suite, selected, self.cx.run_ignored);
        let mut last_run = None;
        // The first setup step that failed: the selected steps after it fail naming it.
        let mut failed_setup: Option<&'a Step> = None;
        for ((index, step), role) in self.suite.steps.iter().enumerate().zip(roles) {
            let setup = match role {
                Role::Skip => continue,
                Role::Setup => true,
                Role::Test => false,
            };
            self.enter_section(step);
            self.notes(&step.notes, env);
            last_run = Some(index);
            let mut result = if self.cx.executor.interrupted().is_some() {
                StepResult::skipped(SkipReason::Interrupted)
            } else if let (Some(reason), false) = (&step.ignore, self.cx.run_ignored) {
                StepResult::skipped(SkipReason::Ignored(reason.clone()))
            } else if let (Some(failed), false) = (failed_setup, setup) {
                StepResult::not_started(format!(
                    "setup step `{}` ({}) failed, so this step could not run with its state",
                    failed.name, failed.test_name
                ))
            } else if let (Some(failed), OnFailure::Stop, false) =
                (self.first_failure, self.suite.on_failure, step.always)
            {
                StepResult::skipped(SkipReason::EarlierFailure {
                    step: failed.to_owned(),
                })
            } else {
                let (result, captured) = self.run_step(index, step, setup, env, test_dir);
                if let (Some(name), Some(value)) = (&step.capture, captured) {
                    env.set(name, value);
                }
                result
            };
            if result.verdict.is_failure() {
                let exits = services::exits_behind_failure(services);
                result.failures.splice(0..0, exits);
                self.first_failure.get_or_insert(&step.name);
                if setup {
                    failed_setup.get_or_insert(step);
                }
            }
            self.finish_step(index, step, setup, &result);
        }
        // Closing notes belong after the last step: written when that step was reached.
        if last_run.is_some_and(|index| index + 1 == self.suite.steps.len()) {
            self.notes(&self.suite.closing_notes, env);
        }
    }

    /// Writes notes, expanded against the environment steps see at this point (captures
    /// included); a reference to an unset variable is shown as written.
    fn notes(&self, notes: &[Template], env: &Environment) {
        for note in notes {
            let text = note
                .expand(|name| env.get_str(name))
                .map_or_else(|_| note.source().to_owned(), |text| text.into_owned());
            self.cx.sink.emit(&Event::Note {
                suite: self.suite,
                text: &text,
            });
        }
    }

    /// The selected steps with their positions in the suite.
    fn selected<'s>(
        &self,
        selected: &'s [bool],
    ) -> impl Iterator<Item = (usize, &'a Step)> + use<'a, 's> {
        self.suite
            .steps
            .iter()
            .enumerate()
            .zip(selected)
            .filter(|(_, on)| **on)
            .map(|(step, _)| step)
    }

    fn enter_section(&mut self, step: &'a Step) {
        if let Some(section) = step.section.as_deref()
            && self.section != Some(section)
        {
            self.cx.sink.emit(&Event::SectionStarted {
                suite: self.suite,
                section,
            });
        }
        self.section = step.section.as_deref();
    }

    /// Runs `step` (with its retries); the value for its `capture`, when it passed.
    fn run_step(
        &self,
        index: usize,
        step: &Step,
        setup: bool,
        env: &Environment,
        test_dir: &Path,
    ) -> (StepResult, Option<String>) {
        if let Action::Http(check) = &step.action {
            return self.run_http_step(index, step, check, env, test_dir);
        }
        let prepared = match prepare(self.suite, step, env, self.cx.settings, test_dir) {
            Ok(prepared) => prepared,
            Err(message) => return (StepResult::not_started(message), None),
        };
        let attempts = step.retry.map_or(1, |retry| retry.attempts.max(1));
        let mut attempt = 1;
        loop {
            self.cx.sink.emit(&Event::StepStarted {
                suite: self.suite,
                index,
                step,
                setup,
                command_line: &prepared.command_line,
                timeout: prepared.request.timeout,
                attempt,
            });
            let (result, captured) = match self.cx.executor.run(&prepared.request) {
                Ok(outcome) => {
                    let mut result = judge(
                        step,
                        &outcome,
                        &prepared.request,
                        test_dir,
                        &prepared.command_line,
                        attempt,
                        self.cx.settings.show_output,
                        &|| self.cx.executor.interrupted().is_some(),
                    );
                    let name = step.test_name.rsplit("::").next();
                    result.log_path = self.logs.borrow_mut().write(
                        index,
                        name.unwrap_or(&step.test_name),
                        attempt,
                        &prepared.command_line,
                        &outcome,
                    );
                    let captured = match (&step.capture, result.passed()) {
                        (Some(name), true) => match captured_stdout(&outcome.output) {
                            Ok(value) => Some(value),
                            Err(problem) => {
                                result.verdict = Verdict::Failed;
                                result.failures.push(CheckFailure::error(format!(
                                    "capture `{name}`: {problem}"
                                )));
                                None
                            }
                        },
                        _ => None,
                    };
                    (result, captured)
                }
                Err(error) => (
                    StepResult::not_started(format!(
                        "smoke-runner could not run the command: {error}"
                    )),
                    None,
                ),
            };
            let out_of_attempts = attempt >= attempts || self.cx.executor.interrupted().is_some();
            if result.passed() || out_of_attempts {
                let mut result = result;
                if result.verdict == Verdict::Passed && attempt > 1 {
                    result.verdict = Verdict::Flaky;
                }
                return (result, captured);
            }
            self.pause(step.retry.map_or(Duration::ZERO, |retry| retry.interval));
            attempt += 1;
        }
    }

    /// An `http` step: the request, the expected status, then the usual checks on the body.
    fn run_http_step(
        &self,
        index: usize,
        step: &Step,
        check: &HttpCheck,
        env: &Environment,
        test_dir: &Path,
    ) -> (StepResult, Option<String>) {
        let timeout = step_timeout(self.suite, step, self.cx.settings);
        let env = match step_environment(step, env) {
            Ok(env) => env,
            Err(message) => return (StepResult::not_started(message), None),
        };
        let (call, line) = match http_call(check, &env, timeout) {
            Ok(ready) => ready,
            Err(message) => return (StepResult::not_started(message), None),
        };
        let attempts = step.retry.map_or(1, |retry| retry.attempts.max(1));
        let mut attempt = 1;
        loop {
            self.cx.sink.emit(&Event::StepStarted {
                suite: self.suite,
                index,
                step,
                setup: false,
                command_line: &line,
                timeout,
                attempt,
            });
            let started = Instant::now();
            let response = send(&call);
            let (mut result, body) = judge_http(
                step,
                check,
                response,
                started.elapsed(),
                &env,
                test_dir,
                &line,
                attempt,
                &|| self.cx.executor.interrupted().is_some(),
            );
            let captured = match (&step.capture, result.passed(), body) {
                (Some(name), true, Some(body)) => match captured_stdout(&body) {
                    Ok(value) => Some(value),
                    Err(problem) => {
                        result.verdict = Verdict::Failed;
                        result
                            .failures
                            .push(CheckFailure::error(format!("capture `{name}`: {problem}")));
                        None
                    }
                },
                _ => None,
            };
            let out_of_attempts = attempt >= attempts || self.cx.executor.interrupted().is_some();
            if result.passed() || out_of_attempts {
                if result.verdict == Verdict::Passed && attempt > 1 {
                    result.verdict = Verdict::Flaky;
                }
                return (result, captured);
            }
            self.pause(step.retry.map_or(Duration::ZERO, |retry| retry.interval));
            attempt += 1;
        }
    }

    /// Sleeps between attempts, waking early when the run is interrupted.
    fn pause(&self, interval: Duration) {
        let started = Instant::now();
        while self.cx.executor.interrupted().is_none() {
            // Measured from the start rather than as a deadline: no instant arithmetic to overflow.
            let left = interval.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }

    fn skip_all(&mut self, selected: &[bool], reason: SkipReason) {
        for (index, step) in self.selected(selected) {
            self.enter_section(step);
            self.finish_step(index, step, false, &StepResult::skipped(reason.clone()));
        }
        self.skipped_because = Some(reason);
    }

    /// The suite cannot run: its first selected step fails with `message`, the rest are skipped.
    fn fail_setup(&mut self, selected: &[bool], message: &str) {
        let mut first = true;
        for (index, step) in self.selected(selected) {
            self.enter_section(step);
            let result = if std::mem::take(&mut first) {
                StepResult::not_started(format!("suite setup failed: {message}"))
            } else {
                StepResult::skipped(SkipReason::SetupFailed(message.to_owned()))
            };
            self.finish_step(index, step, false, &result);
        }
    }

    /// Reports a finished step; setup steps are not counted.
    fn finish_step(&mut self, index: usize, step: &Step, setup: bool, result: &StepResult) {
        if !setup {
            self.counts.record(&result.verdict);
        }
        self.leaked_processes += result.leaked_processes;
        self.cx.sink.emit(&Event::StepFinished {
            suite: self.suite,
            index,
            step,
            setup,
            result,
        });
    }

    fn finish(self, kept_test_dir: Option<std::path::PathBuf>, started: Instant) -> SuiteResult {
        let logs = self.logs.into_inner();
        let log_dir = logs.dir().map(Path::to_owned);
        if let (Some(error), Some(dir)) = (logs.finish(), log_dir) {
            let text = format!(
                "warning: cannot write the step logs in {}: {error}",
                dir.display()
            );
            self.cx.sink.emit(&Event::Note {
                suite: self.suite,
                text: &text,
            });
        }
        let result = SuiteResult {
            counts: self.counts,
            kept_test_dir,
            duration: started.elapsed(),
            leaked_processes: self.leaked_processes,
            skipped_because: self.skipped_because,
        };
        self.cx.sink.emit(&Event::SuiteFinished {
            suite: self.suite,
            result: &result,
        });
        result
    }
}

/// What a step is in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Selected by the filters: run and reported as a test.
    Test,
    /// Not selected, but run for the state it leaves: an earlier step of a selected one, or an
    /// `always` (clean-up) step after the last selected one. Shown as setup, never counted.
    Setup,
    /// Neither: not run, not reported.
    Skip,
}

/// The role of each step of `suite`. Steps are sequential, so a selected step needs every
/// earlier step to have run first, as in a full run; a step that will not run (ignored) needs
/// none. Ignored steps are never run as setup.
fn roles(suite: &Suite, selected: &[bool], run_ignored: bool) -> Vec<Role> {
    let runs = |step: &Step| run_ignored || step.ignore.is_none();
    let last_test = suite
        .steps
        .iter()
        .zip(selected)
        .rposition(|(step, on)| *on && runs(step));
    suite
        .steps
        .iter()
        .zip(selected)
        .enumerate()
        .map(|(index, (step, on))| match last_test {
            _ if *on => Role::Test,
            Some(last) if index < last && runs(step) => Role::Setup,
            Some(last) if index > last && step.always && runs(step) => Role::Setup,
            _ => Role::Skip,
        })
        .collect()
}

/// At most this many bytes of stdout are kept by `capture`: a variable, not a file.
const CAPTURE_LIMIT: u64 = 1024 * 1024;

/// The step's stdout as a variable's value: decoded (invalid UTF-8 replaced), trimmed.
fn captured_stdout(output: &CapturedOutput) -> Result<String, String> {
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

/// Applies an `http` step's checks to the response (or the reason there is none).
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, all of it is needed"
)]
fn judge_http(
    step: &Step,
    check: &HttpCheck,
    response: Result<crate::http::HttpResponse, HttpError>,
    duration: Duration,
    env: &Environment,
    test_dir: &Path,
    command_line: &str,
    attempt: u32,
    interrupted: &dyn Fn() -> bool,
) -> (StepResult, Option<CapturedOutput>) {
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
        interrupted,
    ));
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
    interrupted: &dyn Fn() -> bool,
) -> Vec<CheckFailure> {
    let streams = [
        (StreamSelector::Stdout, &step.stdout),
        (StreamSelector::Stderr, &step.stderr),
        (StreamSelector::Combined, &step.output),
    ];
    let mut failures: Vec<CheckFailure> = streams
        .into_iter()
        .flat_map(|(which, checks)| check_output(which, checks, output, env, interrupted))
        .collect();
    failures.extend(check_files(&step.files, test_dir, env, interrupted));
    failures
}

/// Applies the step's checks to what happened.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, all of it is needed"
)]
fn judge(
    step: &Step,
    outcome: &Outcome,
    request: &ExecRequest,
    test_dir: &Path,
    command_line: &str,
    attempt: u32,
    show_output: bool,
    interrupted: &dyn Fn() -> bool,
) -> StepResult {
    let env = &request.env;
    let mut failures: Vec<CheckFailure> = Vec::new();
    failures.extend(check_status(step.status, &outcome.termination));
    let unexpected_timeout = matches!(outcome.termination, Termination::TimedOut { .. })
        && step.status != ExpectedStatus::Timeout;
    let ran = !matches!(
        outcome.termination,
        Termination::FailedToStart(_) | Termination::Interrupted { .. }
    );
    if ran && !unexpected_timeout {
        failures.extend(check_output_and_files(
            step,
            &outcome.output,
            env,
            test_dir,
            interrupted,
        ));
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
