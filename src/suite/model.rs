//! The validated suite model: what the scheduler runs.
//!
//! Everything here has been checked: names are unique and slugged, regexes compiled, durations
//! parsed. Nothing here knows about TOML; suites built in Rust use the same types.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use super::pacing::Pacing;

use regex::bytes::Regex;

use super::expand::Template;

/// One suite: a sequence of steps run in order in one fresh test dir.
#[derive(Debug, Clone)]
pub struct Suite {
    /// Display name (the `name` key, else the file stem).
    pub name: String,
    /// Slug of `name`, the first part of every step's test name.
    pub slug: String,
    /// Free text shown in listings.
    pub description: Option<String>,
    /// The file the suite came from (`None` for suites built in Rust).
    pub source: Option<PathBuf>,
    /// What `run` steps invoke; `None` means the settings' command (`PLANDEX_CMD`).
    pub command: Option<Template>,
    /// Default timeout for steps; `None` means the settings' timeout (`PLANDEX_TIMEOUT`).
    pub timeout: Option<Duration>,
    /// The default duration budgets of its steps (`max_duration`, `warn_duration`). They bound
    /// each step, not the suite as a whole.
    pub budgets: Budgets,
    /// Folders under the fixtures root copied into the test dir before the first step.
    pub fixtures: Vec<String>,
    /// The fixtures root, once the loader has found it (`--fixtures`, else the `fixtures/`
    /// folder nearest above the suite file); `None` means the settings' fixtures folder.
    pub fixtures_root: Option<PathBuf>,
    /// Environment set for every step, in file order.
    pub env: Vec<(String, Template)>,
    /// What the suite needs, checked in order before anything runs; the first one missing
    /// skips every step with the reason.
    pub requires: Vec<Requirement>,
    /// Variables whose values are masked as `[redacted:NAME]` in everything the run writes.
    pub redact: Vec<String>,
    /// What happens to later steps after a step fails.
    pub on_failure: OnFailure,
    /// Long-running processes started, in order and each healthy, before the first step.
    pub services: Vec<Service>,
    /// How `sh` steps run unless a step says otherwise; `None` means [`Shell::strict`].
    pub shell: Option<Shell>,
    /// A resource the suite must not share: suites with the same value never run at once.
    pub exclusive: Option<String>,
    /// The directory steps start in; relative to the suite file's folder. `None` means the
    /// test dir.
    pub workdir: Option<Template>,
    /// Words that filter expressions select the suite's steps by (`tag(slow)`); every step
    /// has them too.
    pub tags: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Notes written after the last step (note-only steps at the end of the file).
    pub closing_notes: Vec<Template>,
}

impl Suite {
    /// The duration budgets `step` is held to: its own, else its suite's, each on its own.
    pub fn budgets_of(&self, step: &Step) -> Budgets {
        Budgets {
            max: step.budgets.max.or(self.budgets.max),
            warn: step.budgets.warn.or(self.budgets.warn),
        }
    }
}

/// How long a step may take (`max_duration`, `warn_duration`), measured on each attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budgets {
    /// An attempt that takes longer fails, with a failed check saying by how much.
    pub max: Option<Duration>,
    /// A step whose passing attempt takes longer passes, but degraded.
    pub warn: Option<Duration>,
}

/// What happens to the remaining steps of a suite once one has failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// Later steps are skipped (reported as ignored), except `always` steps.
    #[default]
    Stop,
    /// Later steps run anyway.
    Continue,
}

/// One step of a suite: one command and the checks on its outcome.
#[derive(Debug, Clone)]
pub struct Step {
    /// Display name (the `name` key).
    pub name: String,
    /// Section heading the step belongs to, if any.
    pub section: Option<String>,
    /// The full test name, `suite::section::step` slugged and unique within the suite.
    pub test_name: String,
    /// What to run.
    pub action: Action,
    /// Per-step timeout; `None` means the suite's.
    pub timeout: Option<Duration>,
    /// The step's own duration budgets; where one is `None`, the suite's holds (see
    /// [`Suite::budgets_of`]).
    pub budgets: Budgets,
    /// Environment set for this step only, applied after the suite's.
    pub env: Vec<(String, Template)>,
    /// Variables removed from this step's environment.
    pub env_remove: Vec<String>,
    /// Bytes written to the command's stdin (expanded); `None` means empty stdin.
    pub stdin: Option<Template>,
    /// The expected exit status.
    pub status: ExpectedStatus,
    /// Checks on stdout.
    pub stdout: Vec<OutputCheck>,
    /// Checks on stderr.
    pub stderr: Vec<OutputCheck>,
    /// Checks on stdout and stderr combined in arrival order.
    pub output: Vec<OutputCheck>,
    /// Checks on files in the test dir after the step.
    pub files: Vec<FileCheck>,
    /// Retry the step until it passes.
    pub retry: Option<Retry>,
    /// Its suite's tags, then its own (`tags`), for filter expressions.
    pub tags: Vec<String>,
    /// Run even after an earlier step failed with `on_failure = "stop"`.
    pub always: bool,
    /// Never run; reported as ignored with this reason.
    pub ignore: Option<String>,
    /// Where the step is defined, for messages (`file:line:col`).
    pub location: Option<Location>,
    /// How an `sh` step runs; `None` means the suite's shell.
    pub shell: Option<Shell>,
    /// A variable set to the step's trimmed stdout, for later steps, when the step passes.
    pub capture: Option<String>,
    /// The directory this step starts in; relative to the suite's (its `workdir`, else the
    /// test dir). `None` means the suite's.
    pub workdir: Option<Template>,
    /// Lines written to the report when the step is reached, before it runs (its own `note`
    /// and those of note-only steps just before it).
    pub notes: Vec<Template>,
    /// `pty = true`: the command runs on a pseudo-terminal, driven by its `interact` script.
    /// `None`: pipes, no terminal at all (a program that wants one fails at once).
    pub pty: Option<Pty>,
}

/// A step's pseudo-terminal: its window and the script played against it.
#[derive(Debug, Clone)]
pub struct Pty {
    /// Lines of the window (`window = "COLSxROWS"`; 24 by default).
    pub rows: u16,
    /// Columns of the window (80 by default).
    pub cols: u16,
    /// The `interact` entries, in order.
    pub interact: Vec<InteractEntry>,
}

impl Default for Pty {
    fn default() -> Self {
        Self {
            rows: 24,
            cols: 80,
            interact: Vec::new(),
        }
    }
}

/// One entry of `interact`.
#[derive(Debug, Clone)]
pub enum InteractEntry {
    /// Wait until the terminal shows this text (expanded), after the previous match.
    Expect(Template),
    /// Wait until the terminal shows a match of this regex, after the previous match.
    ExpectRegex(Arc<Regex>),
    /// Type this text (expanded; `\n` is Enter).
    Send(Template),
}

/// The interpreter of `sh` steps: a program and its first arguments; the step's line is
/// appended as the last argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shell {
    /// Program and arguments, for example `["python3", "-c"]`.
    pub argv: Vec<String>,
}

impl Shell {
    /// The default: `bash --noprofile --norc -eo pipefail -c`, so that a failing command in a
    /// list or a pipeline fails the step, as in a `set -e` script (GitHub Actions runs its
    /// `shell: bash` steps the same way).
    pub fn strict() -> Self {
        Self {
            argv: ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
                .map(String::from)
                .to_vec(),
        }
    }

    /// An interpreter line as written in a suite file: split like a shell would; a single
    /// word gets `-c` (so `"bash"` is plain `bash -c`). `None` when the line is empty or
    /// has an unclosed quote.
    pub fn from_line(line: &str) -> Option<Self> {
        let mut argv = shell_words::split(line).ok()?;
        if argv.is_empty() {
            return None;
        }
        if argv.len() == 1 {
            argv.push("-c".to_owned());
        }
        Some(Self { argv })
    }
}

/// A position in a suite file, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The suite file.
    pub file: PathBuf,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// What a step runs.
#[derive(Debug, Clone)]
pub enum Action {
    /// Arguments appended to the suite's command (already split, each one a template).
    Run(Vec<Template>),
    /// A shell line run in the test dir by the step's [`Shell`].
    Shell(Template),
    /// An HTTP request; the response body is the step's stdout.
    Http(HttpCheck),
}

/// A whole command of its own (services and health checks do not use the suite's `command`).
#[derive(Debug, Clone)]
pub enum Command {
    /// Program and arguments, each a template.
    Argv(Vec<Template>),
    /// A bash line (`bash -c`).
    Shell(Template),
}

/// One entry of `requires`.
#[derive(Debug, Clone)]
pub enum Requirement {
    /// A program that must be found on `PATH` (a template; its first word counts).
    Program(String),
    /// A command that must exit 0, run in the test dir with the suite's environment; the last
    /// line of its output says why when it does not.
    Check(Command),
}

/// One `[[service]]`: started before the first step, stopped after the last.
#[derive(Debug, Clone)]
pub struct Service {
    /// The `name` key.
    pub name: String,
    /// What runs, in the test dir, in its own process group, output to a log file.
    pub command: Command,
    /// `port = "auto"`: a free loopback port, `${PORT}` in the block, `${<NAME>_PORT}` everywhere.
    pub auto_port: bool,
    /// The variable holding the port for every block: `DB_PORT` for the service `db`.
    pub port_variable: String,
    /// Environment for the service and its health check, applied after the suite's.
    pub env: Vec<(String, Template)>,
    /// When the service counts as ready; `None`: once started (or, with a port, once it
    /// accepts connections).
    pub healthcheck: Option<Healthcheck>,
    /// Where the service is defined.
    pub location: Option<Location>,
}

/// When a service counts as healthy, with docker compose's knobs.
#[derive(Debug, Clone)]
pub struct Healthcheck {
    /// What is tried.
    pub probe: Probe,
    /// Longest pause between two tries (the first tries come faster).
    pub interval: Duration,
    /// Time allowed for one try.
    pub timeout: Duration,
    /// With `start_period`, how long failing tries are accepted:
    /// `start_period + retries × interval`.
    pub retries: u32,
    /// Time the service gets before failures count.
    pub start_period: Duration,
    /// With `backoff`, `max_interval` or `jitter`: the pauses between tries, from `interval`
    /// on. Without them, the pauses start short and grow with the time waited, up to
    /// `interval`.
    pub pacing: Option<Pacing>,
}

impl Healthcheck {
    /// How long after the start the service is given up on.
    pub fn patience(&self) -> Duration {
        self.start_period
            .saturating_add(self.interval.saturating_mul(self.retries))
    }
}

/// One health check try.
#[derive(Debug, Clone)]
pub enum Probe {
    /// A command; exit status 0 is healthy.
    Command(Command),
    /// An HTTP request; the expected status (by default any 2xx) is healthy.
    Http(HttpCheck),
    /// A TCP connection to `host:port` is accepted.
    Tcp(Template),
}

/// An HTTP request and the status it expects.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    /// The URL, expanded at run time.
    pub url: Template,
    /// `GET` unless given.
    pub method: String,
    /// The expected status; `None`: any 2xx.
    pub status: Option<u16>,
    /// Headers, in file order.
    pub headers: Vec<(String, Template)>,
    /// Request body.
    pub body: Option<Template>,
}

/// The exit status a step expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedStatus {
    /// Exactly this exit code (`0` by default).
    Code(i32),
    /// Any non-zero exit, or death by a signal; not a timeout.
    Failure,
    /// The step must time out.
    Timeout,
    /// Whatever happens, as long as it started and finished.
    Any,
}

impl Default for ExpectedStatus {
    fn default() -> Self {
        Self::Code(0)
    }
}

/// One check on a captured stream.
#[derive(Debug, Clone)]
pub enum OutputCheck {
    /// The stream contains this text.
    Contains(Template),
    /// The stream does not contain this text.
    NotContains(Template),
    /// The stream equals this text (a single trailing newline on either side is ignored).
    Equals(Template),
    /// The stream matches this regular expression.
    Matches(Arc<Regex>),
    /// The stream equals a golden file, placeholders allowed (`equals_file`).
    EqualsFile {
        /// The file: the suite's folder joined with the path as written.
        path: PathBuf,
        /// The path as written, for messages and diffs.
        shown: String,
        /// The suite's folder, `[ROOT]` in the file.
        root: PathBuf,
    },
    /// A custom predicate, for suites built in Rust.
    Predicate(CustomCheck),
    /// The stream is JSON and the value at this JSON pointer (`/status`) equals this value.
    Json {
        /// An RFC 6901 pointer: empty for the whole document, else starting with `/`.
        pointer: String,
        /// The value it must equal.
        expected: serde_json::Value,
    },
}

/// A custom check on a stream's bytes, built with the `predicates` crate.
///
/// The predicate sees the whole stream in memory, so use it on outputs that fit the capture cap.
#[derive(Clone)]
pub struct CustomCheck(pub Arc<dyn predicates::Predicate<[u8]> + Send + Sync>);

impl CustomCheck {
    /// Wraps a predicate, for example `predicates::str::contains("ok").from_utf8()`.
    pub fn new(predicate: impl predicates::Predicate<[u8]> + Send + Sync + 'static) -> Self {
        Self(Arc::new(predicate))
    }
}

impl std::fmt::Debug for CustomCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CustomCheck({})", self.0)
    }
}

/// One check on a file, relative to the test dir.
#[derive(Debug, Clone)]
pub struct FileCheck {
    /// Path relative to the test dir (expanded).
    pub path: Template,
    /// `Some(true)`: must exist; `Some(false)`: must not exist.
    pub exists: Option<bool>,
    /// Text the file must contain.
    pub contains: Vec<Template>,
    /// Text the file must not contain.
    pub not_contains: Vec<Template>,
}

/// Retry policy for a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Total attempts, from 1 to [`MAX_ATTEMPTS`](super::pacing::MAX_ATTEMPTS).
    pub attempts: u32,
    /// The pauses between attempts.
    pub pacing: Pacing,
}
