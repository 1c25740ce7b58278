//! Running one suite: test dir, then its requirements (`requirements.rs`), services, and
//! its steps in order, each through the one attempt loop (`attempts.rs`) and judged
//! (`judging.rs`). This file decides which steps run, in which role, and reports them.

mod attempts;
mod interact;
mod judging;
mod requirements;

use std::cell::RefCell;
use std::path::Path;
use std::time::Instant;

use crate::config::Settings;
use crate::exec::{Environment, Executor};
use crate::report::{Counts, Event, PlannedSuite, SkipReason, StepRef, StepResult, SuiteResult};
use crate::suite::{OnFailure, Step, Suite, Template};

use super::services::{self, Ports, ServiceEvents, StartError};
use super::sink::EventSink;
use super::step_log::StepLogs;
use super::test_dir::TestDir;
use requirements::{Setup, prepare_suite};

/// What a suite run needs besides the suite.
pub(super) struct SuiteContext<'a> {
    pub settings: &'a Settings,
    pub executor: &'a Executor,
    pub sink: &'a dyn EventSink,
    pub run_ignored: bool,
}

/// Runs the selected steps of `suite`, whose files are named `file_name` in the run, and
/// reports every one of them.
pub(super) fn run_suite(
    (suite, file_name): (&PlannedSuite, &str),
    selected: &[bool],
    cx: &SuiteContext<'_>,
) -> SuiteResult {
    let started = Instant::now();
    let interrupted = || cx.executor.interrupted().is_some();
    let mut run = SuiteRun {
        suite,
        cx,
        counts: Counts::default(),
        leaked_processes: 0,
        first_failure: None,
        section: None,
        skipped_because: None,
        file_name,
        logs: RefCell::new(StepLogs::new(
            cx.settings.log_dir.as_deref(),
            file_name,
            &cx.settings.masker,
            &interrupted,
        )),
    };

    let test_dir = match TestDir::create(&cx.settings.temp_root, file_name) {
        Ok(dir) => dir,
        Err(error) => {
            let message = format!(
                "cannot create a test dir in {}: {error}",
                cx.settings.temp_root.display()
            );
            cx.sink.emit(Event::SuiteStarted {
                suite: suite.clone(),
                test_dir: cx.settings.temp_root.clone(),
            });
            run.fail_setup(selected, &message);
            return run.finish(None, started);
        }
    };
    cx.sink.emit(Event::SuiteStarted {
        suite: suite.clone(),
        test_dir: test_dir.path().to_owned(),
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

struct SuiteRun<'a> {
    suite: &'a PlannedSuite,
    cx: &'a SuiteContext<'a>,
    counts: Counts,
    leaked_processes: usize,
    first_failure: Option<&'a str>,
    section: Option<&'a str>,
    skipped_because: Option<SkipReason>,
    /// What names the suite's files in the run (see `step_log::file_names`).
    file_name: &'a str,
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
        let settings = self.cx.settings;
        let logs = (test_dir, &settings.masker);
        let plans = match services::plan(self.suite, env, ports, logs, settings.kill_grace) {
            Ok(plans) => plans,
            Err(message) => return self.fail_setup(selected, &message),
        };
        let mut started = Vec::with_capacity(plans.len());
        let events = ServiceEvents {
            sink: self.cx.sink,
            suite: self.suite,
        };
        let executor = self.cx.executor;
        match services::start_all(&plans, executor, test_dir, &mut started, events) {
            Ok(()) => self.steps(selected, env, test_dir, &mut started),
            Err(StartError::Failed(message)) => self.fail_setup(selected, &message),
            Err(StartError::Interrupted) => self.skip_all(selected, SkipReason::Interrupted),
        }
        services::stop_all(started, events);
        services::save_logs(
            &plans,
            settings.log_dir.as_deref(),
            self.file_name,
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
            let mut result = if self.interrupted() {
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
            self.finish_step(index, setup, result);
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
            self.cx.sink.emit(Event::Note {
                suite: self.suite.clone(),
                text,
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
            self.cx.sink.emit(Event::SectionStarted {
                suite: self.suite.clone(),
                section: section.to_owned(),
            });
        }
        self.section = step.section.as_deref();
    }

    fn skip_all(&mut self, selected: &[bool], reason: SkipReason) {
        for (index, step) in self.selected(selected) {
            self.enter_section(step);
            self.finish_step(index, false, StepResult::skipped(reason.clone()));
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
            self.finish_step(index, false, result);
        }
    }

    /// Reports a finished step; setup steps are not counted.
    fn finish_step(&mut self, index: usize, setup: bool, mut result: StepResult) {
        // A failure's report names its place in the log: it must be in the file by then.
        if !result.passed() && result.log_path.is_some() && !self.logs.get_mut().flush() {
            (result.log_path, result.log_span) = (None, None);
        }
        if !setup {
            self.counts.record(&result.verdict);
        }
        self.leaked_processes += result.leaked_processes;
        self.cx.sink.emit(Event::StepFinished {
            suite: self.suite.clone(),
            id: self.suite.step_id(index),
            step: StepRef::new(self.suite, index),
            setup,
            result: Box::new(result),
        });
    }

    fn finish(self, kept_test_dir: Option<std::path::PathBuf>, started: Instant) -> SuiteResult {
        let logs = self.logs.into_inner();
        let log_path = logs.path();
        if let (Some(error), Some(path)) = (logs.finish(), log_path) {
            let text = format!(
                "warning: cannot write the step logs in {}: {error}",
                path.display()
            );
            self.cx.sink.emit(Event::Note {
                suite: self.suite.clone(),
                text,
            });
        }
        let result = SuiteResult {
            counts: self.counts,
            kept_test_dir,
            duration: started.elapsed(),
            leaked_processes: self.leaked_processes,
            skipped_because: self.skipped_because,
        };
        self.cx.sink.emit(Event::SuiteFinished {
            suite: self.suite.clone(),
            result: result.clone(),
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
