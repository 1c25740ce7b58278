//! The event JSON schema (`docs/events.md`) as one set of serde types: `--json` writes them
//! ([`JsonEvent::from_event`]) and `history import` reads them back, so the two cannot drift.
//!
//! Readers ignore fields they do not know and take missing ones as empty, as the schema's
//! versioning rule asks (fields may be added within a version).

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::gates::JsonGates;
use super::{
    Actual, CheckFailure, CheckSubject, Counts, EnvFileStatus, Event, ExitStatus, PlannedSuite,
    RunStart, SkipReason, StepResult, SuiteResult, Summary, Verdict,
};
use crate::suite::Step;

/// The version of the event schema; bumped when a field changes meaning or goes away.
pub const EVENTS_SCHEMA: u32 = 1;

/// One line of the event stream, without its `schema` field (see [`JsonEvent::to_value`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JsonEvent {
    /// `run_started`.
    RunStarted(JsonRunStarted),
    /// `suite_started`.
    SuiteStarted {
        /// The suite.
        suite: JsonSuite,
        /// Its test dir.
        test_dir: String,
    },
    /// `requirement_checked`: a `requires` entry looked at.
    RequirementChecked(JsonRequirementChecked),
    /// `service_started`.
    ServiceStarted(JsonServiceStarted),
    /// `service_healthy`.
    ServiceHealthy(JsonServiceHealthy),
    /// `service_failed`.
    ServiceFailed(JsonServiceFailed),
    /// `service_stopped`.
    ServiceStopped(JsonServiceStopped),
    /// `section_started`.
    SectionStarted {
        /// The suite.
        suite: JsonSuite,
        /// The section's name.
        section: String,
    },
    /// `note`.
    Note {
        /// The suite.
        suite: JsonSuite,
        /// The note, expanded.
        text: String,
    },
    /// `step_started`, once per attempt.
    StepStarted(JsonStepStarted),
    /// `step_finished`.
    StepFinished(Box<JsonStepFinished>),
    /// `suite_finished`.
    SuiteFinished(JsonSuiteFinished),
    /// `run_finished`.
    RunFinished(JsonRunFinished),
    /// An event this version does not know (read side only).
    #[serde(other)]
    Other,
}

/// `run_started`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonRunStarted {
    /// RFC 3339, UTC.
    pub started_at: String,
    /// What happened to the environment file.
    pub env_file: JsonEnvFile,
    /// Suites with at least one selected step.
    pub suites: usize,
    /// Selected steps.
    pub steps: usize,
    /// Steps left out by the filters.
    pub filtered_out: usize,
    /// Suites at once.
    pub jobs: usize,
    /// The share of the suites a run is (`--shard 2/3`: `2/3`; `--partition count:2/3`:
    /// `count:2/3`), absent when it ran them all. `history import` records the shards it joins
    /// (`1/3,2/3`), so a missing one shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The run's `--label`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The git branch the run is recorded under, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
}

/// The environment file's fate: `status` is `loaded`, `default_missing` or `disabled`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonEnvFile {
    /// `loaded`, `default_missing` or `disabled`.
    pub status: String,
    /// The file (not for `disabled`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A suite as events name it: by its `id` in the run; its `name` and `file` are data (two
/// suites of one run may share them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonSuite {
    /// The suite's id in its run (its place in the run's plan, from 0). Absent from files
    /// written before it was added: readers then tell suites apart by `file` and `name`.
    pub id: Option<usize>,
    /// The suite's name.
    pub name: String,
    /// The suite file as given; null for suites built in Rust.
    pub file: Option<String>,
}

/// `requirement_checked`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonRequirementChecked {
    /// The suite.
    pub suite: JsonSuite,
    /// `program` (looked up on `PATH`) or `check` (a command that must exit 0).
    pub kind: String,
    /// The program, or the check's command line.
    pub requirement: String,
    /// Whether it is met.
    pub met: bool,
    /// Why not, when not met.
    pub reason: Option<String>,
    /// How long looking took.
    pub duration_secs: f64,
}

/// `service_started`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonServiceStarted {
    /// The suite.
    pub suite: JsonSuite,
    /// The service's name.
    pub service: String,
    /// Its command line (masked).
    pub command: String,
    /// Its `port = "auto"` port.
    pub port: Option<u16>,
}

/// `service_healthy`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonServiceHealthy {
    /// The suite.
    pub suite: JsonSuite,
    /// The service's name.
    pub service: String,
    /// Time from its start.
    pub after_secs: f64,
}

/// `service_failed`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonServiceFailed {
    /// The suite.
    pub suite: JsonSuite,
    /// The service's name.
    pub service: String,
    /// Time from its start.
    pub after_secs: f64,
    /// What happened, its command, its log's last lines (masked).
    pub message: String,
}

/// `service_stopped`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonServiceStopped {
    /// The suite.
    pub suite: JsonSuite,
    /// The service's name.
    pub service: String,
    /// Time from its start to its end.
    pub ran_for_secs: f64,
    /// How it ended.
    pub status: String,
}

/// A step as events name it; its id is its suite's plus `line` (else `index`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonStep {
    /// The step's name.
    pub name: String,
    /// `suite::section::step`.
    pub test_name: String,
    /// Its section.
    pub section: Option<String>,
    /// Its position in the suite, from 0.
    pub index: usize,
    /// The line of its `[[step]]`.
    pub line: Option<usize>,
}

/// `step_started`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonStepStarted {
    /// The suite.
    pub suite: JsonSuite,
    /// The step.
    pub step: JsonStep,
    /// Run only to set up a later step; not counted.
    pub setup: bool,
    /// From 1.
    pub attempt: u32,
    /// The step's timeout.
    pub timeout_secs: f64,
    /// The command as it runs (masked).
    pub command: String,
}

/// `step_finished`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonStepFinished {
    /// The suite.
    pub suite: JsonSuite,
    /// The step.
    pub step: JsonStep,
    /// Run only to set up a later step; not counted.
    pub setup: bool,
    /// `passed`, `degraded`, `flaky`, `failed`, `timed_out`, `skipped`.
    pub outcome: String,
    /// Why it was skipped (only when it was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<JsonSkip>,
    /// How the command (or request) ended.
    pub status: JsonStatus,
    /// The last attempt's duration.
    pub duration_secs: f64,
    /// The step's `max_duration` (its own or its suite's), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_duration_secs: Option<f64>,
    /// The step's `warn_duration` (its own or its suite's), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn_duration_secs: Option<f64>,
    /// Attempts made (0 when skipped).
    pub attempts: u32,
    /// The command as it ran.
    pub command: String,
    /// One per failed check.
    pub failures: Vec<JsonFailure>,
    /// The last lines of output (failures, and passing steps with `--show-output`).
    pub output_tail: String,
    /// Processes the step left behind.
    pub leaked_processes: usize,
    /// The suite's test dir.
    pub test_dir: Option<String>,
    /// The step's log: its suite's log file, shared with the suite's other steps.
    pub log: Option<String>,
    /// Where in `log` the step's output is.
    pub log_span: Option<JsonLogSpan>,
}

/// Where a step's output is in its suite's log.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonLogSpan {
    /// The line of the step's heading, from 1.
    pub line: u64,
    /// The byte offset of that line.
    pub offset: u64,
    /// The bytes of the step's part, every attempt included.
    pub length: u64,
}

/// How a step's command or request ended, by `kind`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JsonStatus {
    /// Skipped.
    #[default]
    NotRun,
    /// Could not be prepared.
    NotStarted,
    /// The program could not be started.
    FailedToStart {
        /// Why, in words.
        text: String,
    },
    /// Exited on its own.
    Exited {
        /// The exit code.
        code: i32,
    },
    /// Killed by a signal it was not sent by the runner.
    Signaled {
        /// The signal.
        signal: i32,
    },
    /// Stopped at its deadline.
    TimedOut {
        /// The timeout.
        after_secs: f64,
        /// The signal that ended it.
        signal: i32,
    },
    /// Stopped because the run was interrupted.
    Interrupted {
        /// The signal the runner got.
        signal: i32,
    },
    /// An `http` step's response.
    Http {
        /// The response status.
        code: u16,
    },
    /// An `http` step got no response.
    NoResponse,
    /// A kind this version does not know (read side only).
    #[serde(other)]
    Unknown,
}

/// A failed check.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonFailure {
    /// `status`, `stdout`, `stderr`, `output`, `file`, `step`.
    pub subject: String,
    /// The file, for `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The check's kind.
    pub check: Option<String>,
    /// What was expected.
    pub expected: Option<String>,
    /// An excerpt of what was found, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The size of what was found, when too long to be equal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_bytes: Option<u64>,
    /// The line the human report prints.
    pub message: String,
}

/// Why steps were skipped.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonSkip {
    /// `ignored`, `earlier_failure`, …
    pub kind: String,
    /// In words.
    pub reason: String,
}

/// `suite_finished`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonSuiteFinished {
    /// The suite.
    pub suite: JsonSuite,
    /// Its counts.
    pub counts: JsonCounts,
    /// How long it took.
    pub duration_secs: f64,
    /// Its test dir, when kept.
    pub kept_test_dir: Option<String>,
    /// Processes its steps left behind.
    pub leaked_processes: usize,
    /// The one reason every step was skipped, if there is one.
    pub skipped_because: Option<JsonSkip>,
}

/// `run_finished`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonRunFinished {
    /// Whether the run passed.
    pub success: bool,
    /// Whether it was interrupted.
    pub interrupted: bool,
    /// The run's counts.
    pub counts: JsonCounts,
    /// How long it took.
    pub duration_secs: f64,
    /// RFC 3339, UTC.
    pub finished_at: String,
    /// Steps left out by the filters.
    pub filtered_out: usize,
    /// Test dirs kept.
    pub kept_test_dirs: Vec<String>,
    /// Processes left behind.
    pub leaked_processes: usize,
    /// Suites whose every step was skipped for one reason.
    pub skipped_suites: Vec<JsonSkippedSuite>,
    /// `--fail-on-skip`, `--flaky-fails`, `--gate`, `--max-failure-rate` rules the run broke.
    pub broken_rules: Vec<String>,
    /// What the deploy gates found; absent without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gates: Option<JsonGates>,
}

/// A suite skipped as a whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonSkippedSuite {
    /// The suite's name.
    pub suite: String,
    /// The skip's kind.
    pub kind: String,
    /// In words.
    pub reason: String,
}

/// The counts of the human summary, the libtest summary and the JUnit report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonCounts {
    /// `passed + flaky + failed + skipped`.
    pub total: usize,
    /// Passed at once (degraded steps included).
    pub passed: usize,
    /// How many of `passed` took longer than their `warn_duration`.
    pub degraded: usize,
    /// Passed on a retry.
    pub flaky: usize,
    /// Failed (timeouts included).
    pub failed: usize,
    /// How many of `failed` timed out.
    pub timed_out: usize,
    /// Skipped.
    pub skipped: usize,
}

impl JsonEvent {
    /// The event as the schema writes it.
    pub fn from_event(event: &Event) -> Self {
        match event {
            Event::RunStarted(start) => Self::RunStarted(run_started(start)),
            Event::SuiteStarted { suite, test_dir } => Self::SuiteStarted {
                suite: JsonSuite::of(suite),
                test_dir: display(test_dir),
            },
            Event::SectionStarted { suite, section } => Self::SectionStarted {
                suite: JsonSuite::of(suite),
                section: section.to_owned(),
            },
            Event::Note { suite, text } => Self::Note {
                suite: JsonSuite::of(suite),
                text: text.to_owned(),
            },
            Event::StepStarted {
                suite,
                id,
                step,
                setup,
                command_line,
                timeout,
                attempt,
            } => Self::StepStarted(JsonStepStarted {
                suite: JsonSuite::of(suite),
                step: JsonStep::of(step, id.index),
                setup: *setup,
                attempt: *attempt,
                timeout_secs: timeout.as_secs_f64(),
                command: command_line.to_owned(),
            }),
            Event::StepFinished {
                suite,
                id,
                step,
                setup,
                result,
            } => {
                let budgets = suite.budgets_of(step);
                let mut finished = step_finished(
                    JsonSuite::of(suite),
                    JsonStep::of(step, id.index),
                    *setup,
                    result,
                );
                finished.max_duration_secs = budgets.max.map(|max| max.as_secs_f64());
                finished.warn_duration_secs = budgets.warn.map(|warn| warn.as_secs_f64());
                Self::StepFinished(Box::new(finished))
            }
            Event::SuiteFinished { suite, result } => {
                Self::SuiteFinished(suite_finished(JsonSuite::of(suite), result))
            }
            Event::RunFinished(summary) => Self::RunFinished(run_finished(summary)),
            Event::RequirementChecked { .. }
            | Event::ServiceStarted { .. }
            | Event::ServiceHealthy { .. }
            | Event::ServiceFailed { .. }
            | Event::ServiceStopped { .. } => setup_event(event),
        }
    }

    /// The event as one JSON object with its `schema`, keys in order (as every line has been
    /// written since the schema began).
    pub fn to_value(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("event types serialize");
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("schema".into(), EVENTS_SCHEMA.into());
        }
        value
    }
}

impl JsonSuite {
    fn of(suite: &PlannedSuite) -> Self {
        Self {
            id: Some(suite.id().0),
            name: suite.name.clone(),
            file: suite.source.as_deref().map(display),
        }
    }
}

impl JsonStep {
    fn of(step: &Step, index: usize) -> Self {
        Self {
            name: step.name.clone(),
            test_name: step.test_name.clone(),
            section: step.section.clone(),
            index,
            line: step.location.as_ref().map(|l| l.line),
        }
    }
}

impl JsonStatus {
    /// The status as the runner knows it; `None` for a kind this version does not know.
    pub fn to_exit_status(&self) -> Option<ExitStatus> {
        Some(match *self {
            Self::NotRun => ExitStatus::NotRun,
            Self::NotStarted => ExitStatus::NotStarted,
            // Its words are in `text`; the cause itself is not in the schema.
            Self::FailedToStart { .. } | Self::Unknown => return None,
            Self::Exited { code } => ExitStatus::Exited(code),
            Self::Signaled { signal } => ExitStatus::Signaled(signal),
            Self::TimedOut { after_secs, signal } => ExitStatus::TimedOut {
                after: std::time::Duration::try_from_secs_f64(after_secs).unwrap_or_default(),
                signal,
            },
            Self::Interrupted { signal } => ExitStatus::Interrupted { signal },
            Self::Http { code } => ExitStatus::Http(code),
            Self::NoResponse => ExitStatus::NoResponse,
        })
    }

    fn of(status: &ExitStatus) -> Self {
        match *status {
            ExitStatus::NotRun => Self::NotRun,
            ExitStatus::NotStarted => Self::NotStarted,
            ExitStatus::FailedToStart(_) => Self::FailedToStart {
                text: status.to_string(),
            },
            ExitStatus::Exited(code) => Self::Exited { code },
            ExitStatus::Signaled(signal) => Self::Signaled { signal },
            ExitStatus::TimedOut { after, signal } => Self::TimedOut {
                after_secs: after.as_secs_f64(),
                signal,
            },
            ExitStatus::Interrupted { signal } => Self::Interrupted { signal },
            ExitStatus::Http(code) => Self::Http { code },
            ExitStatus::NoResponse => Self::NoResponse,
        }
    }
}

impl JsonSkip {
    fn of(reason: &SkipReason) -> Self {
        Self {
            kind: reason.kind().to_owned(),
            reason: reason.to_string(),
        }
    }
}

impl JsonCounts {
    /// The schema's counts of `counts`.
    pub fn of(counts: &Counts) -> Self {
        Self {
            total: counts.total(),
            passed: counts.passed,
            degraded: counts.degraded,
            flaky: counts.flaky,
            failed: counts.failed,
            timed_out: counts.timed_out,
            skipped: counts.skipped,
        }
    }

    /// Counts one more step's verdict, by the one rule [`Counts::record`] holds.
    pub fn record(&mut self, verdict: &Verdict) {
        let mut counts = Counts {
            passed: self.passed,
            degraded: self.degraded,
            flaky: self.flaky,
            failed: self.failed,
            timed_out: self.timed_out,
            skipped: self.skipped,
        };
        counts.record(verdict);
        *self = Self::of(&counts);
    }
}

/// A requirement or service event as the schema writes it (any other event: `Other`).
fn setup_event(event: &Event) -> JsonEvent {
    match event {
        Event::RequirementChecked {
            suite,
            requirement,
            command,
            met,
            reason,
            duration,
        } => JsonEvent::RequirementChecked(JsonRequirementChecked {
            suite: JsonSuite::of(suite),
            kind: if *command { "check" } else { "program" }.to_owned(),
            requirement: requirement.clone(),
            met: *met,
            reason: reason.clone(),
            duration_secs: duration.as_secs_f64(),
        }),
        Event::ServiceStarted {
            suite,
            service,
            command,
            port,
        } => JsonEvent::ServiceStarted(JsonServiceStarted {
            suite: JsonSuite::of(suite),
            service: service.clone(),
            command: command.clone(),
            port: *port,
        }),
        Event::ServiceHealthy {
            suite,
            service,
            after,
        } => JsonEvent::ServiceHealthy(JsonServiceHealthy {
            suite: JsonSuite::of(suite),
            service: service.clone(),
            after_secs: after.as_secs_f64(),
        }),
        Event::ServiceFailed {
            suite,
            service,
            after,
            message,
        } => JsonEvent::ServiceFailed(JsonServiceFailed {
            suite: JsonSuite::of(suite),
            service: service.clone(),
            after_secs: after.as_secs_f64(),
            message: message.clone(),
        }),
        Event::ServiceStopped {
            suite,
            service,
            ran_for,
            status,
        } => JsonEvent::ServiceStopped(JsonServiceStopped {
            suite: JsonSuite::of(suite),
            service: service.clone(),
            ran_for_secs: ran_for.as_secs_f64(),
            status: status.clone(),
        }),
        _ => JsonEvent::Other,
    }
}

fn run_started(start: &RunStart) -> JsonRunStarted {
    let env_file = match &start.env_file {
        EnvFileStatus::Loaded(path) => ("loaded", Some(display(path))),
        EnvFileStatus::DefaultMissing(path) => ("default_missing", Some(display(path))),
        EnvFileStatus::Disabled => ("disabled", None),
    };
    JsonRunStarted {
        started_at: timestamp(start.started_at),
        env_file: JsonEnvFile {
            status: env_file.0.to_owned(),
            path: env_file.1,
        },
        suites: start.suites,
        steps: start.steps,
        filtered_out: start.filtered_out,
        jobs: start.jobs,
        shard: start.shard.clone(),
        label: start.label.clone(),
        git_branch: start.git_branch.clone(),
    }
}

fn step_finished(
    suite: JsonSuite,
    step: JsonStep,
    setup: bool,
    result: &StepResult,
) -> JsonStepFinished {
    JsonStepFinished {
        suite,
        step,
        setup,
        outcome: outcome_name(&result.verdict).to_owned(),
        skip: match &result.verdict {
            Verdict::Skipped(reason) => Some(JsonSkip::of(reason)),
            _ => None,
        },
        status: JsonStatus::of(&result.status),
        duration_secs: result.duration.as_secs_f64(),
        max_duration_secs: None,
        warn_duration_secs: None,
        attempts: result.attempts,
        command: result.command_line.clone(),
        failures: result.failures.iter().map(failure).collect(),
        output_tail: result.output_tail.clone(),
        leaked_processes: result.leaked_processes,
        test_dir: result.test_dir.as_deref().map(display),
        log: result.log_path.as_deref().map(display),
        log_span: result.log_span.map(|span| JsonLogSpan {
            line: span.line,
            offset: span.offset,
            length: span.length,
        }),
    }
}

fn suite_finished(suite: JsonSuite, result: &SuiteResult) -> JsonSuiteFinished {
    JsonSuiteFinished {
        suite,
        counts: JsonCounts::of(&result.counts),
        duration_secs: result.duration.as_secs_f64(),
        kept_test_dir: result.kept_test_dir.as_deref().map(display),
        leaked_processes: result.leaked_processes,
        skipped_because: result.skipped_because.as_ref().map(JsonSkip::of),
    }
}

fn run_finished(summary: &Summary) -> JsonRunFinished {
    JsonRunFinished {
        success: summary.success(),
        interrupted: summary.interrupted,
        counts: JsonCounts::of(&summary.counts),
        duration_secs: summary.duration.as_secs_f64(),
        finished_at: timestamp(summary.finished_at),
        filtered_out: summary.filtered_out,
        kept_test_dirs: summary.kept_test_dirs.iter().map(|d| display(d)).collect(),
        leaked_processes: summary.leaked_processes,
        skipped_suites: (summary.skipped_suites.iter())
            .map(|(suite, reason)| JsonSkippedSuite {
                suite: suite.clone(),
                kind: reason.kind().to_owned(),
                reason: reason.to_string(),
            })
            .collect(),
        broken_rules: summary
            .broken_rules
            .iter()
            .map(ToString::to_string)
            .collect(),
        gates: summary.gates.as_ref().map(JsonGates::of),
    }
}

fn failure(failure: &CheckFailure) -> JsonFailure {
    let (subject, file) = match &failure.subject {
        CheckSubject::Status => ("status", None),
        CheckSubject::Stdout => ("stdout", None),
        CheckSubject::Stderr => ("stderr", None),
        CheckSubject::Output => ("output", None),
        CheckSubject::File(path) => ("file", Some(path.clone())),
        CheckSubject::Step => ("step", None),
    };
    let (actual, actual_bytes) = match &failure.actual {
        Actual::Unknown => (None, None),
        Actual::Text(text) => (Some(text.clone()), None),
        Actual::Size(size) => (None, Some(*size)),
    };
    JsonFailure {
        subject: subject.to_owned(),
        file,
        check: Some(failure.kind.name().to_owned()),
        expected: Some(failure.expected.clone()),
        actual,
        actual_bytes,
        message: failure.to_string(),
    }
}

/// The schema's name of a verdict (a step's `outcome`): `passed`, `degraded`, `flaky`,
/// `failed`, `timed_out`, `skipped`.
pub fn outcome_name(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "passed",
        Verdict::Degraded => "degraded",
        Verdict::Flaky => "flaky",
        Verdict::Failed => "failed",
        Verdict::TimedOut => "timed_out",
        Verdict::Skipped(_) => "skipped",
    }
}

fn timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time.max(SystemTime::UNIX_EPOCH)).to_string()
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_written_is_read_back_as_the_same_status() {
        let statuses = [
            ExitStatus::Exited(3),
            ExitStatus::Signaled(9),
            ExitStatus::TimedOut {
                after: std::time::Duration::from_millis(1500),
                signal: 15,
            },
            ExitStatus::Interrupted { signal: 2 },
            ExitStatus::Http(503),
            ExitStatus::NoResponse,
            ExitStatus::NotRun,
        ];
        for status in statuses {
            let written = serde_json::to_string(&JsonStatus::of(&status)).unwrap();
            let read: JsonStatus = serde_json::from_str(&written).unwrap();
            assert_eq!(read.to_exit_status(), Some(status), "{written}");
        }
    }

    #[test]
    fn setup_events_are_read_back_as_written() {
        let line = r#"{"schema":1,"event":"service_failed","suite":{"name":"s","file":null},"service":"api","after_secs":0.25,"message":"exited"}"#;
        let JsonEvent::ServiceFailed(failed) = serde_json::from_str(line).unwrap() else {
            panic!("a service_failed event");
        };
        assert_eq!(
            (
                failed.service.as_str(),
                failed.after_secs,
                failed.message.as_str()
            ),
            ("api", 0.25, "exited")
        );
        let written = JsonEvent::RequirementChecked(JsonRequirementChecked {
            kind: "check".into(),
            requirement: "id postgres".into(),
            reason: Some("no such user".into()),
            ..JsonRequirementChecked::default()
        })
        .to_value();
        assert_eq!(written["event"], "requirement_checked");
        let read: JsonEvent = serde_json::from_value(written).unwrap();
        assert!(
            matches!(&read, JsonEvent::RequirementChecked(r) if r.reason.as_deref() == Some("no such user")),
            "{read:?}"
        );
    }

    #[test]
    fn unknown_events_and_status_kinds_are_read_as_such() {
        let event: JsonEvent =
            serde_json::from_str(r#"{"schema":1,"event":"service_ready","x":1}"#).unwrap();
        assert!(matches!(event, JsonEvent::Other), "{event:?}");
        let line = r#"{"event":"step_finished","status":{"kind":"teleported"},"later":true}"#;
        let JsonEvent::StepFinished(finished) = serde_json::from_str(line).unwrap() else {
            panic!("a step_finished event");
        };
        assert!(matches!(finished.status, JsonStatus::Unknown));
        assert_eq!(finished.attempts, 0, "a missing field reads as empty");
    }
}
