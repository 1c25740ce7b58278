//! What to run: program, arguments, directory, environment, stdin, deadline.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

/// Default pause between SIGTERM and SIGKILL when a command times out.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);

/// Default number of output bytes kept in memory per command; the rest goes to a temp file.
pub const DEFAULT_MEMORY_CAP: usize = 4 * 1024 * 1024;

/// The environment a command starts with: an explicit map, never implicit inheritance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<OsString, OsString>,
}

impl Environment {
    /// An empty environment.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A copy of this process's environment.
    pub fn inherit() -> Self {
        Self {
            vars: std::env::vars_os().collect(),
        }
    }

    /// Sets `key` to `value`.
    pub fn set(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> &mut Self {
        self.vars.insert(key.into(), value.into());
        self
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.vars.remove(key.as_ref());
        self
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: impl AsRef<OsStr>) -> Option<&OsStr> {
        self.vars.get(key.as_ref()).map(OsString::as_os_str)
    }

    /// The value of `key` when it is set and valid UTF-8.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(OsStr::to_str)
    }

    /// All variables, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }
}

impl<K: Into<OsString>, V: Into<OsString>> FromIterator<(K, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// What a command reads on stdin. Never the runner's terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Stdin {
    /// Empty: `/dev/null`.
    #[default]
    Null,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
    /// The runner's own stdin when it is not a terminal (a pipe or file), else `/dev/null`.
    InheritUnlessTerminal,
}

/// One command to run under a deadline.
///
/// Built with [`ExecRequest::new`] and the chained setters; run with
/// [`Executor::run`](super::Executor::run).
#[derive(Debug, Clone)]
pub struct ExecRequest {
    /// The program: a path (anything with a `/`) or a name looked up in the command's `PATH`.
    pub program: OsString,
    /// Arguments after the program name.
    pub args: Vec<OsString>,
    /// Working directory; `None` keeps the runner's.
    pub cwd: Option<PathBuf>,
    /// The complete environment of the command.
    pub env: Environment,
    /// What the command reads on stdin.
    pub stdin: Stdin,
    /// How long the command may run before it is stopped.
    pub timeout: Duration,
    /// Pause between SIGTERM and SIGKILL at the deadline.
    pub kill_grace: Duration,
    /// Output bytes kept in memory; the rest is spilled to an unnamed temp file.
    pub memory_cap: usize,
    /// Keep the output for checks (off for `smoke-runner exec`, which only forwards).
    pub capture: bool,
    /// Copy output to this process's stdout/stderr as it arrives.
    pub forward: bool,
    /// Append stdout and stderr to this file instead of capturing them (long-running services:
    /// nothing has to read their pipes while other commands run).
    pub log: Option<PathBuf>,
}

impl ExecRequest {
    /// A request for `program` with the runner's environment, no arguments, a 300 s deadline.
    pub fn new(program: impl Into<OsString>) -> Self {
        Self::with_env(program, Environment::inherit())
    }

    /// [`ExecRequest::new`] with `env` instead of the runner's environment, which is then not
    /// copied (steps build their own: the per-step path is hot).
    pub fn with_env(program: impl Into<OsString>, env: Environment) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            cwd: None,
            env,
            stdin: Stdin::Null,
            timeout: Duration::from_secs(300),
            kill_grace: DEFAULT_KILL_GRACE,
            memory_cap: DEFAULT_MEMORY_CAP,
            capture: true,
            forward: false,
            log: None,
        }
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets the working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Replaces the environment.
    pub fn env(mut self, env: Environment) -> Self {
        self.env = env;
        self
    }

    /// Sets what the command reads on stdin.
    pub fn stdin(mut self, stdin: Stdin) -> Self {
        self.stdin = stdin;
        self
    }

    /// Sets the deadline. A timeout beyond the clock's range (`Duration::MAX`) means none.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the pause between SIGTERM and SIGKILL.
    pub fn kill_grace(mut self, grace: Duration) -> Self {
        self.kill_grace = grace;
        self
    }

    /// Sets how many output bytes stay in memory.
    pub fn memory_cap(mut self, bytes: usize) -> Self {
        self.memory_cap = bytes;
        self
    }

    /// Turns live forwarding to this process's stdout/stderr on or off.
    pub fn forward(mut self, forward: bool) -> Self {
        self.forward = forward;
        self
    }

    /// Turns output capture on or off.
    pub fn capture(mut self, capture: bool) -> Self {
        self.capture = capture;
        self
    }

    /// Sends stdout and stderr to the end of `path` (created if needed) instead of capturing
    /// them; `forward` and `capture` then have nothing to act on.
    pub fn log_to(mut self, path: impl Into<PathBuf>) -> Self {
        self.log = Some(path.into());
        self
    }

    /// The command line for display: program and arguments, quoted like a shell would need.
    pub fn display_command(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|arg| shell_words::quote(&arg.to_string_lossy()).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}
