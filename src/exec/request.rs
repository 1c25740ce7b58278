//! What to run: program, arguments, directory, environment, stdin, deadline.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::interact::Terminal;
use super::leftovers::TAG_VARIABLE;

/// Default pause between SIGTERM and SIGKILL when a command times out.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);

/// Default number of output bytes kept in memory per command; the rest goes to a temp file.
pub const DEFAULT_MEMORY_CAP: usize = 4 * 1024 * 1024;

/// The environment a command starts with: an explicit map, never implicit inheritance.
///
/// Cloning is cheap (the map is shared until one copy changes), and the `KEY=VALUE` block a
/// spawn hands to the kernel is built once per distinct environment, not once per command:
/// the steps of a suite mostly run with the suite's environment unchanged.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    vars: BTreeMap<OsString, OsString>,
    /// `vars` as `KEY=VALUE\0` entries, built on first use; reset by every change.
    block: OnceLock<Result<EnvBlock, NulInVariable>>,
}

impl Clone for Shared {
    fn clone(&self) -> Self {
        // A copy is made to be changed: its block would be stale.
        Self {
            vars: self.vars.clone(),
            block: OnceLock::new(),
        }
    }
}

/// An environment's variables as `KEY=VALUE` C strings in one buffer.
#[derive(Debug)]
pub(crate) struct EnvBlock {
    bytes: Vec<u8>,
    /// Where each entry starts in `bytes`.
    starts: Vec<usize>,
}

impl EnvBlock {
    /// The entries, each ending with a NUL byte.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &[u8]> {
        let ends = self
            .starts
            .iter()
            .skip(1)
            .copied()
            .chain([self.bytes.len()]);
        self.starts
            .iter()
            .zip(ends)
            .map(|(&start, end)| &self.bytes[start..end])
    }
}

/// A variable's name or value holds a NUL byte, which no process environment can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NulInVariable;

impl PartialEq for Environment {
    fn eq(&self, other: &Self) -> bool {
        self.shared.vars == other.shared.vars
    }
}

impl Eq for Environment {}

impl Environment {
    /// An empty environment.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A copy of this process's environment.
    pub fn inherit() -> Self {
        std::env::vars_os().collect()
    }

    fn vars_mut(&mut self) -> &mut BTreeMap<OsString, OsString> {
        let shared = Arc::make_mut(&mut self.shared);
        // Unshared already: the block must go with the change.
        shared.block = OnceLock::new();
        &mut shared.vars
    }

    /// Sets `key` to `value`.
    pub fn set(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> &mut Self {
        self.vars_mut().insert(key.into(), value.into());
        self
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        if self.shared.vars.contains_key(key.as_ref()) {
            self.vars_mut().remove(key.as_ref());
        }
        self
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: impl AsRef<OsStr>) -> Option<&OsStr> {
        self.shared.vars.get(key.as_ref()).map(OsString::as_os_str)
    }

    /// The value of `key` when it is set and valid UTF-8.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(OsStr::to_str)
    }

    /// All variables, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.shared
            .vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// The variables as `KEY=VALUE` C strings, as a command receives them: without any
    /// inherited [`TAG_VARIABLE`] (each command gets its own). Built once and kept while this
    /// environment (and every clone sharing it) is unchanged.
    pub(crate) fn block(&self) -> Result<&EnvBlock, NulInVariable> {
        self.shared
            .block
            .get_or_init(|| {
                let mut bytes = Vec::new();
                let mut starts = Vec::with_capacity(self.shared.vars.len());
                for (key, value) in &self.shared.vars {
                    let (key, value) = (key.as_bytes(), value.as_bytes());
                    if key == TAG_VARIABLE.as_bytes() {
                        continue;
                    }
                    if key.contains(&0) || value.contains(&0) {
                        return Err(NulInVariable);
                    }
                    starts.push(bytes.len());
                    bytes.extend_from_slice(key);
                    bytes.push(b'=');
                    bytes.extend_from_slice(value);
                    bytes.push(0);
                }
                Ok(EnvBlock { bytes, starts })
            })
            .as_ref()
            .map_err(|&error| error)
    }
}

impl<K: Into<OsString>, V: Into<OsString>> FromIterator<(K, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            shared: Arc::new(Shared {
                vars: iter
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
                block: OnceLock::new(),
            }),
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
    /// Run on a pseudo-terminal of this size, driven by its script, instead of pipes: stdin,
    /// stdout and stderr are the terminal (its output is captured as stdout), which is the
    /// command's controlling terminal. `stdin` and `log` are then unused.
    pub terminal: Option<Terminal>,
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
            terminal: None,
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

    /// Runs the command on a pseudo-terminal driven by `terminal`'s script.
    pub fn terminal(mut self, terminal: Terminal) -> Self {
        self.terminal = Some(terminal);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(block: &EnvBlock) -> Vec<&[u8]> {
        block.entries().collect()
    }

    #[test]
    fn the_block_lists_every_variable_but_an_inherited_tag_nul_terminated() {
        let env: Environment = [("B", "2"), ("A", "1"), (TAG_VARIABLE, "x")]
            .into_iter()
            .collect();
        let block = env.block().unwrap();
        assert_eq!(entries(block), [&b"A=1\0"[..], b"B=2\0"]);
    }

    #[test]
    fn clones_share_the_block_until_one_changes() {
        let suite: Environment = [("A", "1")].into_iter().collect();
        let step = suite.clone();
        assert!(std::ptr::eq(suite.block().unwrap(), step.block().unwrap()));
        let mut changed = step.clone();
        changed.set("B", "2");
        assert_eq!(entries(changed.block().unwrap()), [&b"A=1\0"[..], b"B=2\0"]);
        // The others still see their own variables.
        assert_eq!(entries(step.block().unwrap()), [&b"A=1\0"[..]]);
        changed.remove("A");
        assert_eq!(entries(changed.block().unwrap()), [&b"B=2\0"[..]]);
        assert_eq!(suite.get("A"), Some(OsStr::new("1")));
        assert_ne!(suite, changed);
    }

    #[test]
    fn a_nul_byte_in_a_value_is_refused() {
        let env: Environment = [("A", "a\0b")].into_iter().collect();
        assert_eq!(env.block().err(), Some(NulInVariable));
    }
}
