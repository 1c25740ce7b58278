//! `--junit PATH`: JUnit XML as CI systems read it, written with quick-junit when the run ends.
//!
//! One `<testsuite>` per suite, one `<testcase>` per step (with `file` and `line`), `<failure>`
//! with the failed checks and the output tail (`type="timeout"` for timeouts), `<skipped>` with
//! the reason, flaky steps as passes with their failed attempts, degraded steps as passes with
//! a `degraded` property saying how long they took beside their `warn_duration`. A suite with
//! timeouts says how many in a `timeouts` attribute (a part of its `failures`, as `Timeouts:` is
//! of `Failed:`), one with degraded steps in a `degraded` attribute (a part of its passes).
//! Setup steps are not test cases, so the counts equal the summary's. A suite's requirements
//! and services are `<properties>` of its `<testsuite>` (`service api healthy` = `after 0.12s`),
//! a service's failure in full in its `<system-out>`.

use std::fmt::Write as _;
use std::io::{self, Write};

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite, XmlString,
};

use super::{
    CompactDuration, DegradedNote, Event, FailureDetails, GateReport, PlannedSuite, StepResult,
    SuiteTable, Verdict, gate_duration, gate_ratio, reproduce_command,
};
use crate::suite::{Step, Suite};

/// At most this many bytes of output go into a test case's `system-out`.
const SYSTEM_OUT_LIMIT: usize = 64 * 1024;

/// Collects the run and writes JUnit XML to `W` at [`Event::RunFinished`].
pub struct JunitReporter<W: Write> {
    out: Option<W>,
    suites: SuiteTable<TestSuite>,
}

impl<W: Write> JunitReporter<W> {
    /// A reporter writing to `out` when the run ends.
    pub fn new(out: W) -> Self {
        Self {
            out: Some(out),
            suites: SuiteTable::new(),
        }
    }

    fn suite(&mut self, suite: &PlannedSuite) -> &mut TestSuite {
        self.suites.entry(suite, |suite| {
            let mut test_suite = TestSuite::new(suite.name.as_str());
            if let Some(file) = &suite.source {
                test_suite
                    .extra
                    .insert("file".into(), file.display().to_string().into());
            }
            test_suite
        })
    }
}

impl<W: Write> super::Reporter for JunitReporter<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::SuiteStarted { suite, .. } => {
                self.suite(suite);
            }
            Event::StepFinished {
                suite,
                step,
                setup: false,
                result,
                ..
            } => {
                let case = test_case(suite, step, result);
                let test_suite = self.suite(suite);
                test_suite.add_test_case(case);
                match result.verdict {
                    Verdict::TimedOut => count_one_more(test_suite, "timeouts"),
                    Verdict::Degraded => count_one_more(test_suite, "degraded"),
                    _ => {}
                }
            }
            Event::SuiteFinished { suite, result } => {
                self.suite(suite).set_time(result.duration);
            }
            Event::RequirementChecked { suite, .. }
            | Event::ServiceStarted { suite, .. }
            | Event::ServiceHealthy { suite, .. }
            | Event::ServiceFailed { suite, .. }
            | Event::ServiceStopped { suite, .. } => {
                let test_suite = self.suite(suite);
                if let Some((name, value)) = setup_property(event) {
                    test_suite.add_property(Property::new(name, value));
                }
                if let Event::ServiceFailed { message, .. } = event {
                    test_suite.set_system_out(message.as_str());
                }
            }
            Event::RunFinished(summary) => {
                let mut report = Report::new("smoke-runner");
                report.set_time(summary.duration);
                report.add_test_suites(self.suites.take());
                if let Some(gates) = &summary.gates {
                    report.add_test_suite(gates_suite(gates));
                }
                if let Some(mut out) = self.out.take() {
                    report
                        .serialize(&mut out)
                        .map_err(|error| io::Error::other(error.to_string()))?;
                    out.flush()?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// One more in the suite's `timeouts` or `degraded` attribute: like the summary's `Timeouts: N`
/// and `Degraded: N`, a part of its failures or passes, never added to them.
fn count_one_more(test_suite: &mut TestSuite, attribute: &str) {
    let key = XmlString::new(attribute);
    let count = test_suite
        .extra
        .get(&key)
        .and_then(|n| n.as_str().parse::<usize>().ok())
        .unwrap_or(0);
    test_suite.extra.insert(key, (count + 1).to_string().into());
}

/// A requirement or service event as a suite's property: `service api healthy` = `after 0.12s`.
fn setup_property(event: &Event) -> Option<(String, String)> {
    let took = |duration: &std::time::Duration| CompactDuration::elapsed(*duration);
    Some(match event {
        Event::RequirementChecked {
            requirement,
            met,
            reason,
            duration,
            ..
        } => {
            let verdict = if *met { "met" } else { "not met" };
            let mut value = format!("{verdict} in {}", took(duration));
            if let Some(reason) = reason {
                let _ = write!(value, ": {reason}");
            }
            (format!("requirement {requirement}"), value)
        }
        Event::ServiceStarted {
            service, command, ..
        } => (format!("service {service} started"), command.clone()),
        Event::ServiceHealthy { service, after, .. } => (
            format!("service {service} healthy"),
            format!("after {}", took(after)),
        ),
        Event::ServiceFailed {
            service,
            after,
            message,
            ..
        } => (
            format!("service {service} failed"),
            format!(
                "after {}: {}",
                took(after),
                message.lines().next().unwrap_or_default()
            ),
        ),
        Event::ServiceStopped {
            service,
            ran_for,
            status,
            ..
        } => (
            format!("service {service} stopped"),
            format!("after {}: {status}", took(ran_for)),
        ),
        _ => return None,
    })
}

fn test_case(suite: &Suite, step: &Step, result: &StepResult) -> TestCase {
    let status = match &result.verdict {
        Verdict::Passed | Verdict::Degraded => TestCaseStatus::success(),
        Verdict::Flaky => {
            let mut status = TestCaseStatus::success();
            for _ in 1..result.attempts {
                let mut rerun = TestRerun::new(NonSuccessKind::Failure);
                rerun.set_message("failed before passing on a retry");
                status.add_rerun(rerun);
            }
            status
        }
        Verdict::Failed | Verdict::TimedOut => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let checks: Vec<String> = result.failures.iter().map(ToString::to_string).collect();
            let message = if result.verdict == Verdict::TimedOut {
                result.status.to_string()
            } else {
                checks
                    .first()
                    .cloned()
                    .unwrap_or_else(|| result.status.to_string())
            };
            status.set_message(message);
            status.set_type(if result.verdict == Verdict::TimedOut {
                "timeout"
            } else {
                "failure"
            });
            status.set_description(description(suite, step, result));
            status
        }
        Verdict::Skipped(reason) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(reason.to_string());
            status.set_type(reason.kind());
            status
        }
    };
    let mut case = TestCase::new(step.test_name.as_str(), status);
    case.set_classname(suite.name.as_str());
    if result.verdict == Verdict::Degraded {
        let why = DegradedNote::of(suite, step, result).map(|note| note.to_string());
        case.add_property(Property::new(
            "degraded",
            why.unwrap_or_else(|| "passed over its warn_duration".to_owned()),
        ));
    }
    if !matches!(result.verdict, Verdict::Skipped(_)) {
        case.set_time(result.duration);
    }
    if let Some(location) = &step.location {
        case.extra.insert(
            XmlString::new("file"),
            location.file.display().to_string().into(),
        );
        case.extra
            .insert(XmlString::new("line"), location.line.to_string().into());
    }
    if !result.output_tail.is_empty() {
        let tail = &result.output_tail;
        let start = tail.len().saturating_sub(SYSTEM_OUT_LIMIT);
        let start = (start..tail.len())
            .find(|&i| tail.is_char_boundary(i))
            .unwrap_or(tail.len());
        case.set_system_out(&tail[start..]);
    }
    case
}

/// The gates as a `<testsuite name="smoke-runner gates">` without test cases (so the counts stay
/// the steps'): a property per gate and row, the table as `system-out`.
fn gates_suite(gates: &GateReport) -> TestSuite {
    let mut suite = TestSuite::new("smoke-runner gates");
    for table in &gates.tables {
        suite.add_property(Property::new(
            format!("gate {}", table.gate),
            format!(
                "baseline {}: {}",
                table.baseline,
                if table.broken() { "broken" } else { "kept" }
            ),
        ));
        for row in &table.rows {
            suite.add_property(Property::new(
                format!("gate {} :: {}", table.gate, row.test_name),
                format!(
                    "baseline {}, now {}, ratio {}: {}",
                    gate_duration(row.baseline),
                    gate_duration(row.now),
                    gate_ratio(row.ratio),
                    table.verdict_text(row)
                ),
            ));
        }
    }
    if let Some(rate) = &gates.failure_rate {
        suite.add_property(Property::new("failure rate", rate.describe()));
    }
    suite.set_system_out(gates.text_lines().join("\n"));
    suite
}

/// The `<failure>` text: everything a reader needs to act, the same [`FailureDetails`] as
/// every report.
fn description(suite: &Suite, step: &Step, result: &StepResult) -> String {
    let details = FailureDetails::new(step, result);
    let mut text = String::new();
    for (field, value) in details.fields() {
        let _ = writeln!(text, "{:<11}{value}", field.label());
    }
    if let Some(command) = reproduce_command(suite, step) {
        let _ = writeln!(text, "reproduce: {command}");
    }
    if !details.output_tail.is_empty() {
        text.push_str("output (last lines):\n");
        for output in details.output_tail.lines() {
            let _ = writeln!(text, "  | {output}");
        }
    }
    text
}
