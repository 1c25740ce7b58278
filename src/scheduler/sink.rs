//! Where the scheduler sends its events: any [`EventSink`], usually a [`Fanout`] that masks
//! secrets once and hands every event to each report.

use std::io;
use std::sync::Mutex;

use crate::mask::Masker;
use crate::report::{BrokenRule, Event, Reporter, SkipReason, StepResult, SuiteResult, Verdict};

/// Receives run events. Called from the threads that run suites, one event at a time per
/// suite; implementations serialise as they need.
pub trait EventSink: Sync {
    /// Handles one event.
    fn emit(&self, event: &Event<'_>);
}

impl<F: Fn(&Event<'_>) + Sync> EventSink for F {
    fn emit(&self, event: &Event<'_>) {
        self(event)
    }
}

/// A sink shared by several sinks: each event goes to each of them, in order.
impl EventSink for [&dyn EventSink] {
    fn emit(&self, event: &Event<'_>) {
        for sink in self {
            sink.emit(event);
        }
    }
}

/// Serialises events into a single-threaded handler.
impl<T: FnMut(&Event<'_>) + Send> EventSink for Mutex<T> {
    fn emit(&self, event: &Event<'_>) {
        let mut handler = self.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        handler(event);
    }
}

/// A report that could not be written.
#[derive(Debug)]
pub struct ReportFailure {
    /// Which report (`standard output`, a file path).
    pub target: String,
    /// The write error.
    pub error: io::Error,
}

/// One stream, many consumers: masks each event once, then hands it to every report in turn.
///
/// A report whose output fails (a closed pipe, a full disk) is dropped, the failure is kept
/// for [`Fanout::into_failure`], and `on_failure` is called once so that the run can stop.
pub struct Fanout<'r> {
    masker: &'r Masker,
    reports: Mutex<Vec<Consumer<'r>>>,
    failure: Mutex<Option<ReportFailure>>,
    on_failure: Box<dyn Fn() + Send + Sync + 'r>,
}

struct Consumer<'r> {
    target: String,
    report: Box<dyn Reporter + Send + 'r>,
}

impl<'r> Fanout<'r> {
    /// A fan-out masking with `masker`, calling `on_failure` when a report fails.
    pub fn new(masker: &'r Masker, on_failure: impl Fn() + Send + Sync + 'r) -> Self {
        Self {
            masker,
            reports: Mutex::new(Vec::new()),
            failure: Mutex::new(None),
            on_failure: Box::new(on_failure),
        }
    }

    /// Adds a report; `target` names its output in error messages.
    pub fn add(&mut self, target: impl Into<String>, report: impl Reporter + Send + 'r) {
        self.reports
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .push(Consumer {
                target: target.into(),
                report: Box::new(report),
            });
    }

    /// The first report failure, if any.
    pub fn into_failure(self) -> Option<ReportFailure> {
        self.failure.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    fn deliver(&self, event: &Event<'_>) {
        let mut reports = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        let mut failed = None;
        reports.retain_mut(|consumer| match consumer.report.report(event) {
            Ok(()) => true,
            Err(error) => {
                failed.get_or_insert(ReportFailure {
                    target: std::mem::take(&mut consumer.target),
                    error,
                });
                false
            }
        });
        drop(reports);
        if let Some(failure) = failed {
            let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() {
                *slot = Some(failure);
                drop(slot);
                (self.on_failure)();
            }
        }
    }
}

impl EventSink for Fanout<'_> {
    fn emit(&self, event: &Event<'_>) {
        if self.masker.is_empty() {
            return self.deliver(event);
        }
        let masker = self.masker;
        match *event {
            Event::StepStarted {
                suite,
                index,
                step,
                setup,
                command_line,
                timeout,
                attempt,
            } => self.deliver(&Event::StepStarted {
                suite,
                index,
                step,
                setup,
                command_line: &masker.mask(command_line),
                timeout,
                attempt,
            }),
            Event::StepFinished {
                suite,
                index,
                step,
                setup,
                result,
            } => self.deliver(&Event::StepFinished {
                suite,
                index,
                step,
                setup,
                result: &mask_result(masker, result),
            }),
            Event::Note { suite, text } => self.deliver(&Event::Note {
                suite,
                text: &masker.mask(text),
            }),
            Event::RunFinished(summary) => {
                let mut summary = summary.clone();
                for (_, reason) in &mut summary.skipped_suites {
                    mask_reason(masker, reason);
                }
                for rule in &mut summary.broken_rules {
                    mask_rule(masker, rule);
                }
                self.deliver(&Event::RunFinished(&summary))
            }
            Event::SuiteFinished { suite, result } => match &result.skipped_because {
                Some(reason) => {
                    let mut reason = reason.clone();
                    mask_reason(masker, &mut reason);
                    self.deliver(&Event::SuiteFinished {
                        suite,
                        result: &SuiteResult {
                            skipped_because: Some(reason),
                            ..result.clone()
                        },
                    })
                }
                None => self.deliver(event),
            },
            Event::RunStarted(_) | Event::SuiteStarted { .. } | Event::SectionStarted { .. } => {
                self.deliver(event)
            }
        }
    }
}

/// A copy of `result` with every secret masked: the command line, the checks, the output.
fn mask_result(masker: &Masker, result: &StepResult) -> StepResult {
    let mut result = result.clone();
    masker.mask_in_place(&mut result.command_line);
    masker.mask_in_place(&mut result.output_tail);
    for failure in &mut result.failures {
        masker.mask_in_place(&mut failure.expected);
        if let crate::report::Actual::Text(actual) = &mut failure.actual {
            masker.mask_in_place(actual);
        }
        if let crate::report::CheckSubject::File(path) = &mut failure.subject {
            masker.mask_in_place(path);
        }
    }
    if let Verdict::Skipped(reason) = &mut result.verdict {
        mask_reason(masker, reason);
    }
    result
}

/// A broken rule names what was skipped and why: a `requires` check's last line of output,
/// or a program name expanded from the environment.
fn mask_rule(masker: &Masker, rule: &mut BrokenRule) {
    match rule {
        BrokenRule::SkippedForMissingProgram { suite, program } => {
            masker.mask_in_place(suite);
            masker.mask_in_place(program);
        }
        BrokenRule::SkippedForUnmetRequirement { suite, reason } => {
            masker.mask_in_place(suite);
            masker.mask_in_place(reason);
        }
        BrokenRule::FlakySteps(_) => {}
    }
}

fn mask_reason(masker: &Masker, reason: &mut SkipReason) {
    match reason {
        SkipReason::Ignored(text)
        | SkipReason::MissingRequirement(text)
        | SkipReason::SetupFailed(text) => masker.mask_in_place(text),
        SkipReason::EarlierFailure { step } => masker.mask_in_place(step),
        SkipReason::RequirementNotMet { check, reason } => {
            masker.mask_in_place(check);
            masker.mask_in_place(reason);
        }
        SkipReason::Interrupted => {}
    }
}
