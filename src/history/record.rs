//! What the history stores about a run: plain records, independent of how the run was observed
//! (live events, or event files imported afterwards).

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::report::JsonEvent;

/// One run of smoke-runner (or several shards imported as one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// A unique id for the run (`20261123T191700Z-4242`).
    pub run_id: String,
    /// Wall-clock start.
    pub started_at: SystemTime,
    /// Wall-clock end.
    pub finished_at: SystemTime,
    /// The commit checked out where the run started, when that is a git repository.
    pub git_commit: Option<String>,
    /// The git branch: `--branch`, else the one checked out where the run started.
    pub git_branch: Option<String>,
    /// The run's `--label` (`staging`, `prod-eu`).
    pub label: Option<String>,
    /// The machine's host name.
    pub host: Option<String>,
    /// `K/N` when the run was one shard; several joined by `,` for imported shards.
    pub shard: Option<String>,
    /// What smoke-runner exited with.
    pub exit_status: i32,
    /// Whether the run was cut short by a signal.
    pub interrupted: bool,
    /// The suites that ran, in the order they finished.
    pub suites: Vec<SuiteRecord>,
}

impl RunRecord {
    /// Every step of the run.
    pub fn steps(&self) -> impl Iterator<Item = &StepRecord> {
        self.suites.iter().flat_map(|suite| suite.steps.iter())
    }
}

/// One suite of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteRecord {
    /// The suite's name.
    pub name: String,
    /// The suite file, as the run named it.
    pub file: Option<String>,
    /// Wall time of the suite.
    pub duration: Duration,
    /// The test dir, when it was kept.
    pub kept_test_dir: Option<String>,
    /// The suite's steps, in order.
    pub steps: Vec<StepRecord>,
    /// Its requirements looked at and its services' lives, in order.
    pub setup: Vec<SetupRecord>,
}

/// One requirement looked at, or one moment of a service's life, as the history keeps it (the
/// suite's list of them is stored as JSON with the suite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupRecord {
    /// `requirement_checked`, `service_started`, `service_healthy`, `service_failed` or
    /// `service_stopped`, as in the event stream.
    pub event: String,
    /// The requirement (program or check command) or the service.
    pub name: String,
    /// Whether it went well: a requirement met, a service started, healthy or stopped.
    pub ok: bool,
    /// Microseconds: looking at a requirement; for a service, from its start (0 when started).
    pub duration_us: u64,
    /// The reason a requirement is not met, a service's command, failure or end.
    pub detail: Option<String>,
}

impl SetupRecord {
    /// The record of a setup event of the stream (`None` for other events).
    pub fn of(event: &JsonEvent) -> Option<Self> {
        let micros = |secs: f64| Duration::try_from_secs_f64(secs).map_or(0, |d| d.as_micros());
        let (event, name, ok, secs, detail) = match event {
            JsonEvent::RequirementChecked(e) => (
                "requirement_checked",
                &e.requirement,
                e.met,
                e.duration_secs,
                e.reason.clone(),
            ),
            JsonEvent::ServiceStarted(e) => (
                "service_started",
                &e.service,
                true,
                0.0,
                Some(e.command.clone()),
            ),
            JsonEvent::ServiceHealthy(e) => {
                ("service_healthy", &e.service, true, e.after_secs, None)
            }
            JsonEvent::ServiceFailed(e) => (
                "service_failed",
                &e.service,
                false,
                e.after_secs,
                Some(e.message.clone()),
            ),
            JsonEvent::ServiceStopped(e) => (
                "service_stopped",
                &e.service,
                true,
                e.ran_for_secs,
                Some(e.status.clone()),
            ),
            _ => return None,
        };
        Some(Self {
            event: event.to_owned(),
            name: name.clone(),
            ok,
            duration_us: u64::try_from(micros(secs)).unwrap_or(u64::MAX),
            detail,
        })
    }
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    /// The full test name (`suite::section::step`): what the history groups by.
    pub test_name: String,
    /// The suite file the step is defined in.
    pub file: Option<String>,
    /// The step's line in that file.
    pub line: Option<u32>,
    /// How it ended.
    pub outcome: Outcome,
    /// How the process ended, in words (`exit status 3`); empty when skipped.
    pub status: String,
    /// Wall time of the last attempt.
    pub duration: Duration,
    /// Attempts made (0 when skipped).
    pub attempts: u32,
    /// Leftover processes killed after the step.
    pub leftovers: u32,
    /// Where the step's full output was kept, if anywhere.
    pub log_path: Option<String>,
    /// Why the step did not run, when skipped.
    pub skip_reason: Option<String>,
    /// The checks that failed, in order.
    pub checks: Vec<CheckRecord>,
    /// The last lines of the step's output (already masked).
    pub output_tail: String,
}

/// One failed check of a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRecord {
    /// Which check (`status`, `stdout contains`, …), when known.
    pub kind: Option<String>,
    /// What was expected, when known.
    pub expected: Option<String>,
    /// What was found, when known.
    pub actual: Option<String>,
    /// The check's failure message as reports print it.
    pub message: String,
}

/// How a step ended, as the history stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every check held on the first attempt.
    Passed,
    /// Passed on the first attempt, but took longer than its `warn_duration`.
    Degraded,
    /// Passed, but only on a retry.
    Flaky,
    /// A check failed.
    Failed,
    /// The step hit its deadline.
    TimedOut,
    /// The step did not run.
    Skipped,
}

impl Outcome {
    /// Every outcome, in the order reports list them.
    pub const ALL: [Outcome; 6] = [
        Outcome::Passed,
        Outcome::Degraded,
        Outcome::Flaky,
        Outcome::Failed,
        Outcome::TimedOut,
        Outcome::Skipped,
    ];

    /// The name stored in the database and shown in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Degraded => "degraded",
            Outcome::Flaky => "flaky",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed_out",
            Outcome::Skipped => "skipped",
        }
    }

    /// The outcome stored under `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == name)
    }

    /// Whether the step ran and ended green (on the first attempt or a retry, degraded or not).
    pub fn is_pass(self) -> bool {
        matches!(self, Outcome::Passed | Outcome::Degraded | Outcome::Flaky)
    }

    /// Whether the step ran and ended red.
    pub fn is_fail(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::TimedOut)
    }

    /// Whether the step ran at all.
    pub fn ran(self) -> bool {
        self != Outcome::Skipped
    }
}
