//! Run events: the only thing the scheduler tells the outside world.
//!
//! The scheduler emits these in order (per suite; suites may interleave when they run in
//! parallel) and never prints. Reporters turn them into text. Everything a reporter needs to
//! print is in the event: reporters never look at processes, files or clocks of their own.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::suite::{Step, Suite};

/// Where the environment file came from, for the report's first lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvFileStatus {
    /// Loaded from this path.
    Loaded(PathBuf),
    /// The default path does not exist; nothing loaded (not an error).
    DefaultMissing(PathBuf),
    /// Loading was turned off.
    Disabled,
}

/// One thing that happened during a run.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The run starts: what is about to run.
    RunStarted(&'a RunStart),
    /// A suite's test dir is ready (fixtures copied) and its first step is about to start.
    SuiteStarted {
        /// The suite.
        suite: &'a Suite,
        /// Its fresh test dir.
        test_dir: &'a std::path::Path,
    },
    /// The section changes within a suite (printed as a heading).
    SectionStarted {
        /// The suite.
        suite: &'a Suite,
        /// The new section's name.
        section: &'a str,
    },
    /// A `note` from the suite file, written when the run reaches it.
    Note {
        /// The suite.
        suite: &'a Suite,
        /// The note, expanded.
        text: &'a str,
    },
    /// A step's command is about to run (once per attempt).
    StepStarted {
        /// The suite.
        suite: &'a Suite,
        /// The step.
        step: &'a Step,
        /// The command line as it will run, expanded, for display.
        command_line: &'a str,
        /// The deadline given to this attempt.
        timeout: Duration,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// A step is done: passed, failed, timed out or skipped.
    StepFinished {
        /// The suite.
        suite: &'a Suite,
        /// The step.
        step: &'a Step,
        /// What happened.
        result: &'a StepResult,
    },
    /// A suite is done.
    SuiteFinished {
        /// The suite.
        suite: &'a Suite,
        /// How it ended.
        result: &'a SuiteResult,
    },
    /// The run is over (also after an interrupt).
    RunFinished(&'a Summary),
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
    /// Selected steps.
    pub steps: usize,
    /// How many suites may run at once.
    pub jobs: usize,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Ran and every check held.
    Passed,
    /// Ran (or could not start) and a check failed.
    Failed,
    /// Hit its deadline and was killed (and a timeout was not expected).
    TimedOut,
    /// Not run; the reason says why.
    Skipped(SkipReason),
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
    /// The suite could not be set up (fixtures, test dir).
    SetupFailed(String),
    /// The run was interrupted before the step ran.
    Interrupted,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ignored(reason) => write!(f, "{reason}"),
            Self::EarlierFailure { step } => write!(f, "skipped: earlier step `{step}` failed"),
            Self::MissingRequirement(program) => {
                write!(f, "requires `{program}`, not found on PATH")
            }
            Self::SetupFailed(message) => write!(f, "suite setup failed: {message}"),
            Self::Interrupted => write!(f, "interrupted"),
        }
    }
}

/// Everything known about a finished step.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// The verdict.
    pub verdict: Verdict,
    /// The command line that ran (expanded), empty when skipped.
    pub command_line: String,
    /// How the process ended, in words (`exit status 3`, `timed out after 1s`…); empty when skipped.
    pub status: String,
    /// Wall time of the last attempt.
    pub duration: Duration,
    /// Attempts made (0 when skipped).
    pub attempts: u32,
    /// One line per failed check, in order.
    pub failures: Vec<String>,
    /// The last lines of the combined output, decoded lossily, for failure reports.
    pub output_tail: String,
    /// Processes still running after the command that had to be killed.
    pub leaked_processes: usize,
}

impl StepResult {
    /// A result for a step that never ran.
    pub fn skipped(reason: SkipReason) -> Self {
        Self {
            verdict: Verdict::Skipped(reason),
            command_line: String::new(),
            status: String::new(),
            duration: Duration::ZERO,
            attempts: 0,
            failures: Vec::new(),
            output_tail: String::new(),
            leaked_processes: 0,
        }
    }

    /// Whether the step counts as passed.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }
}

/// How a suite ended.
#[derive(Debug, Clone)]
pub struct SuiteResult {
    /// Counts over the suite's selected steps.
    pub counts: Counts,
    /// The test dir, when it was kept (after a failure, or with `--keep-temp`).
    pub kept_test_dir: Option<PathBuf>,
    /// Wall time of the suite.
    pub duration: Duration,
    /// Leftover processes killed after the suite's commands.
    pub leaked_processes: usize,
}

/// Step counts. `total` is the sum of the other four.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Steps that passed.
    pub passed: usize,
    /// Steps that failed (not counting timeouts).
    pub failed: usize,
    /// Steps that timed out.
    pub timed_out: usize,
    /// Steps that did not run.
    pub skipped: usize,
}

impl Counts {
    /// Adds one verdict.
    pub fn record(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Passed => self.passed += 1,
            Verdict::Failed => self.failed += 1,
            Verdict::TimedOut => self.timed_out += 1,
            Verdict::Skipped(_) => self.skipped += 1,
        }
    }

    /// Adds another set of counts.
    pub fn add(&mut self, other: &Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.timed_out += other.timed_out;
        self.skipped += other.skipped;
    }

    /// All steps counted.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.timed_out + self.skipped
    }

    /// Whether nothing failed or timed out.
    pub fn success(&self) -> bool {
        self.failed == 0 && self.timed_out == 0
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
    /// Leaked processes killed over the whole run.
    pub leaked_processes: usize,
}
