//! Run events: the only thing the scheduler tells the outside world.
//!
//! The scheduler emits these in order (per suite; suites may interleave when they run in
//! parallel) and never prints. Every report is a consumer of the same stream. Events carry
//! data, not sentences: outcomes, exit statuses and failed checks are values, and each report
//! renders its own words. Everything a reporter needs is in the event: reporters never look at
//! processes, files or clocks of their own (the human report's elapsed-time line on a terminal
//! aside).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::gates::GateReport;
use crate::config::EnvFileStatus;
use crate::exec::{StartFailure, signal_name};
use crate::suite::{Step, Suite};

/// A suite's id within one run: its place in the run's plan (from 0), given when the plan is
/// made and carried by every event about the suite.
///
/// Two suites of one plan never share an id, even when they come from the same file or have
/// the same name (a suite asked for twice, suites built in Rust). The repetitions of a run
/// (`--repeat`) run the same plan, so a suite keeps its id across them and every report shows
/// its repetitions as one suite. Across runs a suite is known by its data: its file and name
/// (`Suite::source`, `Suite::name`), and a step by its test name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SuiteId(pub usize);

impl fmt::Display for SuiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A step's id within one run: its suite's id and its position in the suite (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StepId {
    /// The suite.
    pub suite: SuiteId,
    /// The step's position in its suite, from 0.
    pub index: usize,
}

/// A suite as a run holds it: its id in the run and the suite, shared with every event about
/// it. It dereferences to the [`Suite`].
#[derive(Debug, Clone)]
pub struct PlannedSuite {
    id: SuiteId,
    suite: Arc<Suite>,
}

impl PlannedSuite {
    /// `suite`, with the id `id` in its run.
    pub fn new(id: SuiteId, suite: Arc<Suite>) -> Self {
        Self { id, suite }
    }

    /// Every suite of `suites` with its place as its id.
    pub fn plan(suites: impl IntoIterator<Item = Suite>) -> Vec<Self> {
        (suites.into_iter().enumerate())
            .map(|(index, suite)| Self::new(SuiteId(index), Arc::new(suite)))
            .collect()
    }

    /// The suite's id in its run.
    pub fn id(&self) -> SuiteId {
        self.id
    }

    /// The suite, shared.
    pub fn shared(&self) -> &Arc<Suite> {
        &self.suite
    }

    /// The id of its `index`th step.
    pub fn step_id(&self, index: usize) -> StepId {
        StepId {
            suite: self.id,
            index,
        }
    }
}

impl std::ops::Deref for PlannedSuite {
    type Target = Suite;

    fn deref(&self) -> &Suite {
        &self.suite
    }
}

/// One thing that happened during a run.
///
/// Owned, so that it can travel to the reports' thread: a suite is shared ([`Arc`]), every
/// other field is the event's own.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run starts: what is about to run.
    RunStarted(RunStart),
    /// A suite's test dir is ready (fixtures copied) and its first step is about to start.
    SuiteStarted {
        /// The suite.
        suite: PlannedSuite,
        /// Its fresh test dir.
        test_dir: PathBuf,
    },
    /// A `requires` entry was looked at, before the suite's services and steps.
    RequirementChecked {
        /// The suite.
        suite: PlannedSuite,
        /// The program (`git`, expanded) or the check's command line.
        requirement: String,
        /// `true` for a check command, `false` for a program looked up on `PATH`.
        command: bool,
        /// Whether the requirement is met; the first one not met skips the suite.
        met: bool,
        /// Why it is not met (the check's last line of output, or how it ended).
        reason: Option<String>,
        /// How long looking took (the check command's run).
        duration: Duration,
    },
    /// A `[[service]]`'s command was started (its health check comes next).
    ServiceStarted {
        /// The suite.
        suite: PlannedSuite,
        /// The service's name.
        service: String,
        /// Its command line, expanded.
        command: String,
        /// Its `port = "auto"` port, when it has one.
        port: Option<u16>,
    },
    /// A service passed its health check (without one: it started), so the next one may start.
    ServiceHealthy {
        /// The suite.
        suite: PlannedSuite,
        /// The service's name.
        service: String,
        /// Time from its start.
        after: Duration,
    },
    /// A service could not start, exited before it was healthy or never became healthy: the
    /// suite's steps do not run.
    ServiceFailed {
        /// The suite.
        suite: PlannedSuite,
        /// The service's name.
        service: String,
        /// Time from its start.
        after: Duration,
        /// What happened, its command, the last lines of its log and of its last health check.
        message: String,
    },
    /// A service was stopped, after the suite's last step or its failure.
    ServiceStopped {
        /// The suite.
        suite: PlannedSuite,
        /// The service's name.
        service: String,
        /// Time from its start to its end.
        ran_for: Duration,
        /// How it ended (`killed by SIGTERM`, `exit status 0`).
        status: String,
    },
    /// The section changes within a suite (printed as a heading).
    SectionStarted {
        /// The suite.
        suite: PlannedSuite,
        /// The new section's name.
        section: String,
    },
    /// A `note` from the suite file, written when the run reaches it.
    Note {
        /// The suite.
        suite: PlannedSuite,
        /// The note, expanded.
        text: String,
    },
    /// A step's command is about to run (once per attempt).
    StepStarted {
        /// The suite.
        suite: PlannedSuite,
        /// The step's id in the run: its suite's id and its position in `suite.steps`.
        id: StepId,
        /// The step.
        step: StepRef,
        /// Whether the step runs only to set up a later one: shown as setup, never counted.
        setup: bool,
        /// The command line as it will run, expanded, for display.
        command_line: String,
        /// The deadline given to this attempt.
        timeout: Duration,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// A step is done: passed, degraded, flaky, failed, timed out or skipped.
    StepFinished {
        /// The suite.
        suite: PlannedSuite,
        /// The step's id in the run: its suite's id and its position in `suite.steps`.
        id: StepId,
        /// The step.
        step: StepRef,
        /// Whether the step ran only to set up a later one: shown as setup, never counted.
        setup: bool,
        /// What happened.
        result: Box<StepResult>,
    },
    /// A suite is done.
    SuiteFinished {
        /// The suite.
        suite: PlannedSuite,
        /// How it ended.
        result: SuiteResult,
    },
    /// The run is over (also after an interrupt).
    RunFinished(Summary),
}

impl Event {
    /// The suite the event belongs to; `None` for run events.
    pub fn suite(&self) -> Option<&PlannedSuite> {
        match self {
            Self::RunStarted(_) | Self::RunFinished(_) => None,
            Self::SuiteStarted { suite, .. }
            | Self::RequirementChecked { suite, .. }
            | Self::ServiceStarted { suite, .. }
            | Self::ServiceHealthy { suite, .. }
            | Self::ServiceFailed { suite, .. }
            | Self::ServiceStopped { suite, .. }
            | Self::SectionStarted { suite, .. }
            | Self::Note { suite, .. }
            | Self::StepStarted { suite, .. }
            | Self::StepFinished { suite, .. }
            | Self::SuiteFinished { suite, .. } => Some(suite),
        }
    }
}

/// One step of a shared suite, usable as the [`Step`] itself (it dereferences to it).
#[derive(Debug, Clone)]
pub struct StepRef {
    suite: PlannedSuite,
    index: usize,
}

impl StepRef {
    /// The `index`th step of `suite`.
    ///
    /// # Panics
    /// When `suite` has no such step: a scheduler bug, not an input error.
    pub fn new(suite: &PlannedSuite, index: usize) -> Self {
        assert!(
            index < suite.steps.len(),
            "step {index} of a suite with fewer"
        );
        Self {
            suite: suite.clone(),
            index,
        }
    }
}

impl std::ops::Deref for StepRef {
    type Target = Step;

    fn deref(&self) -> &Step {
        &self.suite.steps[self.index]
    }
}

/// What is about to run.
#[derive(Debug, Clone)]
pub struct RunStart {
    /// Wall-clock start, for the header line.
    pub started_at: SystemTime,
    /// What happened to the environment file.
    pub env_file: EnvFileStatus,
    /// Suites with at least one selected step.
    pub suites: usize,
    /// Selected steps (setup steps not included).
    pub steps: usize,
    /// Steps left out by the filters.
    pub filtered_out: usize,
    /// The longest test name among the selected steps, in characters, for reports that align
    /// names in a column.
    pub longest_name: usize,
    /// How many suites may run at once.
    pub jobs: usize,
    /// The share of the suites this run is (`2/3`, `count:2/3`), when it is one.
    pub shard: Option<String>,
    /// The run's `--label`.
    pub label: Option<String>,
    /// The git branch the run is recorded under.
    pub git_branch: Option<String>,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Ran and every check held.
    Passed,
    /// Failed at first, then passed on a later attempt.
    Flaky,
    /// Passed, but took longer than its `warn_duration`. Counted as a pass (`Counts::passed`
    /// includes it; `Counts::degraded` says how many of the passes were degraded).
    Degraded,
    /// Ran (or could not start) and a check failed.
    Failed,
    /// Hit its deadline and was killed (and a timeout was not expected). Counted as a failure.
    TimedOut,
    /// Not run; the reason says why.
    Skipped(SkipReason),
}

impl Verdict {
    /// Whether the verdict fails the run (a failure or a timeout).
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut)
    }
}

/// Why a step did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The step has `ignore = "…"`.
    Ignored(String),
    /// An earlier step failed and the suite stops on failure.
    EarlierFailure {
        /// The name of the step that failed.
        step: String,
    },
    /// A program listed in `requires` is not on `PATH`.
    MissingRequirement(String),
    /// A check command listed in `requires` did not exit 0.
    RequirementNotMet {
        /// The check's command line.
        check: String,
        /// The last line of its output, or how it ended when it printed nothing.
        reason: String,
    },
    /// The suite could not be set up (fixtures, test dir).
    SetupFailed(String),
    /// The run was interrupted before the step ran.
    Interrupted,
}

impl SkipReason {
    /// A short, stable name for the kind of reason (`ignored`, `earlier_failure`,
    /// `missing_requirement`, `requirement_not_met`, `setup_failed`, `interrupted`), for
    /// machine-readable reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ignored(_) => "ignored",
            Self::EarlierFailure { .. } => "earlier_failure",
            Self::MissingRequirement(_) => "missing_requirement",
            Self::RequirementNotMet { .. } => "requirement_not_met",
            Self::SetupFailed(_) => "setup_failed",
            Self::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ignored(reason) => write!(f, "{reason}"),
            Self::EarlierFailure { step } => write!(f, "skipped: earlier step `{step}` failed"),
            Self::MissingRequirement(program) => {
                write!(f, "requires `{program}`, not found on PATH")
            }
            Self::RequirementNotMet { reason, .. } => write!(f, "requirement not met: {reason}"),
            Self::SetupFailed(message) => write!(f, "suite setup failed: {message}"),
            Self::Interrupted => write!(f, "interrupted"),
        }
    }
}

/// How a step's process ended, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing ran (the step was skipped).
    NotRun,
    /// smoke-runner could not get as far as starting it (setup or preparation failed).
    NotStarted,
    /// The program could not be started.
    FailedToStart(StartFailure),
    /// It exited on its own with this code.
    Exited(i32),
    /// It was killed by this signal, not sent by the runner.
    Signaled(i32),
    /// It hit its deadline and the runner stopped it.
    TimedOut {
        /// The deadline it hit.
        after: Duration,
        /// The last signal the runner had to send.
        signal: i32,
    },
    /// The run was interrupted and the runner stopped it.
    Interrupted {
        /// The signal the runner received.
        signal: i32,
    },
    /// An `http` step got a response with this status.
    Http(u16),
    /// An `http` step got no response (refused, timed out, broken).
    NoResponse,
}

impl ExitStatus {
    /// The exit code, when the process exited on its own.
    pub fn code(&self) -> Option<i32> {
        match *self {
            Self::Exited(code) => Some(code),
            _ => None,
        }
    }

    /// The signal that ended the process, if one did.
    pub fn signal(&self) -> Option<i32> {
        match *self {
            Self::Signaled(signal)
            | Self::TimedOut { signal, .. }
            | Self::Interrupted { signal } => Some(signal),
            _ => None,
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotRun => Ok(()),
            Self::NotStarted => f.write_str("not started"),
            Self::FailedToStart(StartFailure::NotFound) => f.write_str("command not found"),
            Self::FailedToStart(StartFailure::NotExecutable) => {
                f.write_str("command not executable")
            }
            Self::FailedToStart(StartFailure::NoWorkingDirectory) => {
                f.write_str("working directory does not exist")
            }
            Self::Exited(code) => write!(f, "exit status {code}"),
            Self::Signaled(signal) => write!(f, "killed by {}", signal_name(signal)),
            Self::TimedOut { after, signal } => write!(
                f,
                "timed out after {} (stopped with {})",
                super::CompactDuration::timeout(after),
                signal_name(signal)
            ),
            Self::Interrupted { signal } => write!(f, "interrupted by {}", signal_name(signal)),
            Self::Http(status) => write!(f, "HTTP {status}"),
            Self::NoResponse => f.write_str("no response"),
        }
    }
}

/// What a failed check looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckSubject {
    /// The exit status.
    Status,
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// Both, in arrival order.
    Output,
    /// A file in the test dir (the path as written in the suite, expanded).
    File(String),
    /// The step as a whole: it could not be checked (setup failed, the command could not be
    /// prepared or run, captured output could not be read).
    Step,
}

/// Which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// The expected exit status (`status`).
    Status,
    /// `contains`.
    Contains,
    /// `not_contains`.
    NotContains,
    /// `equals`.
    Equals,
    /// `matches` (a regex).
    Matches,
    /// A predicate built in Rust.
    Predicate,
    /// `exists = true`.
    Exists,
    /// `exists = false`.
    Absent,
    /// `json`: `expected` is `` `/pointer` = value ``, `actual` the value found.
    Json,
    /// `equals_file`: `expected` is the file as written, `actual` a unified diff.
    EqualsFile,
    /// `max_duration`: `expected` is the budget, `actual` the time the attempt took.
    Duration,
    /// An `interact` entry `expect` the terminal never showed: `expected` is its text,
    /// `actual` which entry and what ended the wait.
    Expect,
    /// An `interact` entry `expect_regex` never matched: `expected` is the regex.
    ExpectRegex,
    /// An `interact` entry `send` the terminal did not take: `expected` is the text.
    Send,
    /// Nothing could be checked: `expected` holds what went wrong.
    Error,
}

impl CheckKind {
    /// A short, stable name (`status`, `contains`…), for machine-readable reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Contains => "contains",
            Self::NotContains => "not_contains",
            Self::Equals => "equals",
            Self::Matches => "matches",
            Self::Predicate => "predicate",
            Self::Exists => "exists",
            Self::Absent => "absent",
            Self::Json => "json",
            Self::EqualsFile => "equals_file",
            Self::Duration => "duration",
            Self::Expect => "expect",
            Self::ExpectRegex => "expect_regex",
            Self::Send => "send",
            Self::Error => "error",
        }
    }
}

/// What the checked thing actually was, when that is worth showing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actual {
    /// Not shown (`contains` failures: the output tail shows it).
    Unknown,
    /// An excerpt of the actual text.
    Text(String),
    /// Too long to be equal: only its size in bytes.
    Size(u64),
}

/// One failed check, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    /// What the check looked at.
    pub subject: CheckSubject,
    /// Which check.
    pub kind: CheckKind,
    /// What it expected: the text, the regex, the status; for [`CheckKind::Error`], the problem.
    pub expected: String,
    /// What it got.
    pub actual: Actual,
}

impl CheckFailure {
    /// A step that could not be checked at all.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            subject: CheckSubject::Step,
            kind: CheckKind::Error,
            expected: message.into(),
            actual: Actual::Unknown,
        }
    }
}

impl fmt::Display for CheckFailure {
    /// One line for people: `stdout does not contain "x"`, `expected exit status 0, got …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subject = match &self.subject {
            CheckSubject::Status | CheckSubject::Step => String::new(),
            CheckSubject::Stdout => "stdout".to_owned(),
            CheckSubject::Stderr => "stderr".to_owned(),
            CheckSubject::Output => "output".to_owned(),
            CheckSubject::File(path) => format!("file {path}"),
        };
        let expected = &self.expected;
        match (self.kind, &self.actual) {
            (CheckKind::Error, _) => f.write_str(expected),
            (CheckKind::Status, Actual::Text(actual)) => {
                write!(f, "expected {expected}, got {actual}")
            }
            (CheckKind::Status, _) => write!(f, "expected {expected}"),
            (CheckKind::Contains, _) => write!(f, "{subject} does not contain {expected:?}"),
            (CheckKind::NotContains, _) => {
                write!(f, "{subject} contains {expected:?}, which it must not")
            }
            (CheckKind::Equals, Actual::Size(size)) => write!(
                f,
                "{subject} is not equal to {expected:?} ({size} bytes instead of {})",
                expected.len()
            ),
            (CheckKind::Equals, Actual::Text(actual)) => {
                write!(
                    f,
                    "{subject} is not equal to {expected:?}: it is {actual:?}"
                )
            }
            (CheckKind::Equals, Actual::Unknown) => {
                write!(f, "{subject} is not equal to {expected:?}")
            }
            (CheckKind::Matches, _) => write!(f, "{subject} does not match /{expected}/"),
            (CheckKind::Predicate, _) => write!(f, "{subject} fails the check: {expected}"),
            (CheckKind::Exists, _) => write!(f, "{subject} does not exist"),
            (CheckKind::Absent, _) => write!(f, "{subject} exists, which it must not"),
            (CheckKind::Json, Actual::Text(actual)) => {
                write!(f, "{subject} JSON {expected}: it is {actual}")
            }
            (CheckKind::Json, _) => write!(f, "{subject} JSON {expected}: not found"),
            (CheckKind::EqualsFile, Actual::Text(diff)) => {
                write!(f, "{subject} differs from {expected}:\n{}", diff.trim_end())
            }
            (CheckKind::EqualsFile, _) => write!(f, "{subject} differs from {expected}"),
            (CheckKind::Duration, Actual::Text(took)) => {
                write!(f, "took {took}, budget {expected}")
            }
            (CheckKind::Duration, _) => write!(f, "took longer than its budget, {expected}"),
            (CheckKind::Expect, actual) => {
                write!(f, "the terminal never showed {expected:?}{}", why(actual))
            }
            (CheckKind::ExpectRegex, actual) => write!(
                f,
                "the terminal never showed a match of /{expected}/{}",
                why(actual)
            ),
            (CheckKind::Send, actual) => {
                write!(f, "the terminal did not take {expected:?}{}", why(actual))
            }
        }
    }
}

/// ` (…)` after an `interact` failure: which entry, and what ended the wait.
fn why(actual: &Actual) -> String {
    match actual {
        Actual::Text(why) => format!(" ({why})"),
        Actual::Unknown | Actual::Size(_) => String::new(),
    }
}

/// Everything known about a finished step.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// The verdict.
    pub verdict: Verdict,
    /// The command line that ran (expanded), empty when skipped.
    pub command_line: String,
    /// How the process ended.
    pub status: ExitStatus,
    /// Wall time of the last attempt.
    pub duration: Duration,
    /// Attempts made (0 when skipped).
    pub attempts: u32,
    /// Each failed check, in order.
    pub failures: Vec<CheckFailure>,
    /// The last lines of the combined output, decoded lossily, for failure reports.
    pub output_tail: String,
    /// Processes still running after the command that had to be killed.
    pub leaked_processes: usize,
    /// The suite's test dir the step ran in (`None` when skipped).
    pub test_dir: Option<PathBuf>,
    /// The file holding the step's full output, when it was saved: its suite's log, shared
    /// with the suite's other steps.
    pub log_path: Option<PathBuf>,
    /// Where in [`StepResult::log_path`] the step's output is.
    pub log_span: Option<LogSpan>,
}

/// Where one step's part of its suite's log is: every attempt, from the step's heading line
/// to the end of its last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSpan {
    /// The line of the step's heading, counted from 1.
    pub line: u64,
    /// The byte offset of that line.
    pub offset: u64,
    /// How many bytes the step's part holds.
    pub length: u64,
}

impl StepResult {
    /// Where a person finds the step's whole output: `<log>:<line>` (the line of the step's
    /// heading in its suite's log), or the log alone when the line is unknown.
    pub fn log_place(&self) -> Option<String> {
        let path = self.log_path.as_deref()?.display();
        Some(match self.log_span {
            Some(span) => format!("{path}:{}", span.line),
            None => path.to_string(),
        })
    }

    /// A result for a step that never ran.
    pub fn skipped(reason: SkipReason) -> Self {
        Self {
            verdict: Verdict::Skipped(reason),
            command_line: String::new(),
            status: ExitStatus::NotRun,
            duration: Duration::ZERO,
            attempts: 0,
            failures: Vec::new(),
            output_tail: String::new(),
            leaked_processes: 0,
            test_dir: None,
            log_path: None,
            log_span: None,
        }
    }

    /// A step that failed before its command could start, with the reason.
    pub fn not_started(message: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Failed,
            status: ExitStatus::NotStarted,
            failures: vec![CheckFailure::error(message)],
            ..Self::skipped(SkipReason::Interrupted)
        }
    }

    /// Whether the step counts as passed (flaky and degraded steps passed in the end).
    pub fn passed(&self) -> bool {
        matches!(
            self.verdict,
            Verdict::Passed | Verdict::Flaky | Verdict::Degraded
        )
    }
}

/// How a suite ended.
#[derive(Debug, Clone)]
pub struct SuiteResult {
    /// Counts over the suite's selected steps (setup steps not counted).
    pub counts: Counts,
    /// The test dir, when it was kept (after a failure, or with `--keep-temp`).
    pub kept_test_dir: Option<PathBuf>,
    /// Wall time of the suite.
    pub duration: Duration,
    /// Leftover processes killed after the suite's commands.
    pub leaked_processes: usize,
    /// Why every step of the suite was skipped, when one reason skipped them all (a missing
    /// program, a failed setup).
    pub skipped_because: Option<SkipReason>,
}

/// Step counts. Timeouts are failures: `failed` counts them, and `timed_out` says how many of
/// the failures were timeouts. Degraded steps are passes in the same way: `passed` counts them,
/// and `degraded` says how many of the passes were degraded. Every report shows these same
/// numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Steps that passed at the first attempt, degraded ones included.
    pub passed: usize,
    /// Of the passed steps, those that took longer than their `warn_duration`.
    pub degraded: usize,
    /// Steps that passed after failing (retries).
    pub flaky: usize,
    /// Steps that failed, timeouts included.
    pub failed: usize,
    /// Of the failed steps, those that timed out.
    pub timed_out: usize,
    /// Steps that did not run.
    pub skipped: usize,
}

impl Counts {
    /// Adds one verdict.
    pub fn record(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Passed => self.passed += 1,
            Verdict::Degraded => {
                self.passed += 1;
                self.degraded += 1;
            }
            Verdict::Flaky => self.flaky += 1,
            Verdict::Failed => self.failed += 1,
            Verdict::TimedOut => {
                self.failed += 1;
                self.timed_out += 1;
            }
            Verdict::Skipped(_) => self.skipped += 1,
        }
    }

    /// Adds another set of counts.
    pub fn add(&mut self, other: &Counts) {
        self.passed += other.passed;
        self.degraded += other.degraded;
        self.flaky += other.flaky;
        self.failed += other.failed;
        self.timed_out += other.timed_out;
        self.skipped += other.skipped;
    }

    /// All steps counted.
    pub fn total(&self) -> usize {
        self.passed + self.flaky + self.failed + self.skipped
    }

    /// Whether nothing failed or timed out.
    pub fn success(&self) -> bool {
        self.failed == 0
    }
}

/// The end of a run.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Counts over every selected step.
    pub counts: Counts,
    /// Wall time of the whole run.
    pub duration: Duration,
    /// Wall-clock end, for the footer line.
    pub finished_at: SystemTime,
    /// Whether the run was cut short by Ctrl-C or a termination signal.
    pub interrupted: bool,
    /// Test dirs kept for inspection.
    pub kept_test_dirs: Vec<PathBuf>,
    /// Steps left out by the filters.
    pub filtered_out: usize,
    /// Leaked processes killed over the whole run.
    pub leaked_processes: usize,
    /// Suites whose every step was skipped for one reason (a missing program, a failed
    /// setup), by name, with the reason.
    pub skipped_suites: Vec<(String, SkipReason)>,
    /// Rules that fail the run although no step failed (`--fail-on-skip`, `--flaky-fails`,
    /// `--degraded-fails`, a broken gate).
    pub broken_rules: Vec<BrokenRule>,
    /// What the deploy gates found (`--gate`, `--max-failure-rate`); `None` without them.
    pub gates: Option<GateReport>,
}

impl Summary {
    /// Whether the run succeeded: no failure (or, with `--max-failure-rate`, a failure rate
    /// within it), no broken rule, not interrupted.
    pub fn success(&self) -> bool {
        let failures_ok = self.counts.success()
            || (self.gates.as_ref()).is_some_and(GateReport::failures_within_rate);
        failures_ok && self.broken_rules.is_empty() && !self.interrupted
    }
}

/// A rule that failed the run although no step failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokenRule {
    /// `--fail-on-skip`: a suite was skipped because a program it requires is missing.
    SkippedForMissingProgram {
        /// The suite's name.
        suite: String,
        /// The program not found on `PATH`.
        program: String,
    },
    /// `--fail-on-skip`: a suite was skipped because a `requires` check failed.
    SkippedForUnmetRequirement {
        /// The suite's name.
        suite: String,
        /// Why the check failed.
        reason: String,
    },
    /// `--flaky-fails`: steps passed only on a retry.
    FlakySteps(usize),
    /// `--degraded-fails`: steps passed but took longer than their `warn_duration`.
    DegradedSteps(usize),
    /// `--gate`: steps over the gate (`web::answer 2.01x`), or without the baseline it
    /// required.
    Gate {
        /// The gate, canonical (`p95 <= 1.5x baseline`).
        gate: String,
        /// Each step that broke it, with its ratio or why.
        steps: Vec<String>,
    },
    /// `--max-failure-rate`: more step runs failed than the rate allows.
    FailureRate {
        /// `2 of 20 step runs failed (10%; at most 5%)`.
        description: String,
        /// `web::answer 2/20, …`.
        steps: String,
    },
}

impl fmt::Display for BrokenRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SkippedForMissingProgram { suite, program } => write!(
                f,
                "--fail-on-skip: suite `{suite}` was skipped: it requires `{program}`, not found on PATH"
            ),
            Self::SkippedForUnmetRequirement { suite, reason } => write!(
                f,
                "--fail-on-skip: suite `{suite}` was skipped: requirement not met: {reason}"
            ),
            Self::FlakySteps(count) => {
                write!(f, "--flaky-fails: {count} step(s) passed only on a retry")
            }
            Self::DegradedSteps(count) => write!(
                f,
                "--degraded-fails: {count} step(s) took longer than their warn_duration"
            ),
            Self::Gate { gate, steps } => {
                write!(f, "--gate `{gate}`: broken by {}", steps.join(", "))
            }
            Self::FailureRate { description, steps } => {
                write!(f, "--max-failure-rate: {description}")?;
                if !steps.is_empty() {
                    write!(f, ": {steps}")?;
                }
                Ok(())
            }
        }
    }
}
