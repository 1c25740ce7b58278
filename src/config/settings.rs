//! Resolved settings for a run: flags over the process environment over the env file over
//! defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::exec::{DEFAULT_KILL_GRACE, Environment};
use crate::mask::{FramedSecret, Masker, looks_secret};

use super::cli::RunArgs;
use super::duration::parse_duration;
use super::env_file::{EnvFileError, read_env_file};
use super::run_label::{parse_branch, parse_label};

/// The env file used when neither `--env-file` nor `PLANDEX_ENV_FILE` says otherwise.
pub const DEFAULT_ENV_FILE: &str = "../.env.client-keys";
/// The command `run` steps invoke when neither `--cmd` nor `PLANDEX_CMD` says otherwise.
pub const DEFAULT_COMMAND: &str = "plandex-dev";
/// The step timeout when neither `--timeout` nor `PLANDEX_TIMEOUT` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

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

/// Everything the scheduler needs to know besides the suites.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What `run` steps invoke when a suite has no `command`, split like a shell.
    pub command: String,
    /// Step timeout when neither the step nor the suite sets one.
    pub timeout: Duration,
    /// Pause between SIGTERM and SIGKILL at a deadline.
    pub kill_grace: Duration,
    /// The base environment of every step: the process environment over the env file.
    pub env: Environment,
    /// What happened to the env file.
    pub env_file: EnvFileStatus,
    /// Root of the fixture folders for suites whose own root the loader did not set (suites
    /// built in Rust); `--fixtures`, else `fixtures`.
    pub fixtures_dir: PathBuf,
    /// Where test dirs are created.
    pub temp_root: PathBuf,
    /// Things worth saying about the settings that do not stop the run (printed on stderr).
    pub warnings: Vec<String>,
    /// Keep every test dir, not only failing suites'.
    pub keep_temp: bool,
    /// How many suites run at once.
    pub jobs: usize,
    /// Replaces secret values in everything written (reports, logs).
    pub masker: Masker,
    /// Names of the env-file variables whose names look secret (masked by `masker`).
    pub secret_names: Vec<String>,
    /// Secrets that are no variable's value (the history URL's password): name, value. Kept
    /// by [`Settings::with_masker`].
    pub extra_secrets: Vec<(String, String)>,
    /// Secrets too short to mask wherever they appear (a short history password), masked in
    /// the frames that say what they are. Kept by [`Settings::with_masker`].
    pub framed_secrets: Vec<FramedSecret>,
    /// Where this run's step logs go (`<dir>/<suite>/<nn>-<step>.log`); `None`: not saved.
    pub log_dir: Option<PathBuf>,
    /// Keep the output of passing steps for the reports too.
    pub show_output: bool,
    /// `--bless`: rewrite the golden files (`equals_file`) of failing checks from the output.
    pub bless: bool,
    /// A step skipped for a missing requirement fails the run.
    pub fail_on_skip: bool,
    /// A flaky step (passed on a retry) fails the run.
    pub flaky_fails: bool,
    /// A degraded step (passed, but over its `warn_duration`) fails the run.
    pub degraded_fails: bool,
    /// `--label`: the run's label, recorded with it and shown in `run_started`.
    pub label: Option<String>,
    /// The git branch the run is recorded under: `--branch`, else (filled in by the caller) the
    /// checkout's.
    pub git_branch: Option<String>,
}

impl Settings {
    /// Settings with defaults and the process environment, no env file: for embedding.
    pub fn new() -> Self {
        let env = Environment::inherit();
        let command = env
            .get_str("PLANDEX_CMD")
            .unwrap_or(DEFAULT_COMMAND)
            .to_owned();
        Self {
            command,
            timeout: DEFAULT_TIMEOUT,
            kill_grace: DEFAULT_KILL_GRACE,
            env,
            env_file: EnvFileStatus::Disabled,
            fixtures_dir: PathBuf::from("fixtures"),
            temp_root: std::env::temp_dir(),
            warnings: Vec::new(),
            keep_temp: false,
            jobs: default_jobs(),
            masker: Masker::none(),
            secret_names: Vec::new(),
            extra_secrets: Vec::new(),
            framed_secrets: Vec::new(),
            log_dir: None,
            show_output: false,
            bless: false,
            fail_on_skip: false,
            flaky_fails: false,
            degraded_fails: false,
            label: None,
            git_branch: None,
        }
    }

    /// Resolves the command line and the environment into settings, loading the env file.
    pub fn from_args(args: &RunArgs) -> Result<Self, SettingsError> {
        let process_env = Environment::inherit();
        let (env, env_file, warning, secret_names) = load_env_file(args, process_env)?;
        let command = match &args.cmd {
            Some(cmd) => cmd.clone(),
            None => utf8_var(&env, "PLANDEX_CMD")?
                .filter(|c| !c.trim().is_empty())
                .unwrap_or(DEFAULT_COMMAND)
                .to_owned(),
        };
        let timeout = match &args.timeout {
            Some(text) => parse_duration(text).map_err(|source| SettingsError::Duration {
                what: "--timeout",
                source,
            })?,
            None => timeout_from_env(utf8_var(&env, "PLANDEX_TIMEOUT")?)?,
        };
        let kill_grace =
            parse_duration(&args.kill_after).map_err(|source| SettingsError::Duration {
                what: "--kill-after",
                source,
            })?;
        let label = flag_or_var(&args.label, &env, "SMOKE_LABEL", parse_label)?;
        let git_branch = flag_or_var(&args.branch, &env, "SMOKE_BRANCH", parse_branch)?;
        let jobs = match args.jobs {
            Some(0) => return Err(SettingsError::ZeroJobs),
            Some(jobs) => jobs,
            None => default_jobs(),
        };
        Ok(Self {
            command,
            timeout,
            kill_grace,
            env,
            env_file,
            fixtures_dir: args
                .fixtures
                .clone()
                .unwrap_or_else(|| PathBuf::from("fixtures")),
            temp_root: std::env::temp_dir(),
            warnings: warning.into_iter().collect(),
            keep_temp: args.keep_temp,
            jobs,
            masker: Masker::none(),
            secret_names,
            extra_secrets: Vec::new(),
            framed_secrets: Vec::new(),
            log_dir: None,
            show_output: args.show_output || args.nocapture,
            bless: args.bless,
            fail_on_skip: args.fail_on_skip,
            flaky_fails: args.flaky_fails,
            degraded_fails: args.degraded_fails,
            label,
            git_branch,
        }
        .with_masker(&args.redact))
    }

    /// Rebuilds the masker for the env file's secret-looking variables plus `extra` names
    /// (`--redact`, suites' `redact`), with their values in this environment.
    pub fn with_masker(mut self, extra: &[String]) -> Self {
        let names: Vec<&str> = self
            .secret_names
            .iter()
            .chain(extra)
            .map(String::as_str)
            .collect();
        let extra =
            (self.extra_secrets.iter()).map(|(name, value)| (name.as_str(), value.as_str()));
        self.masker = Masker::with_framed(
            names
                .iter()
                .filter_map(|name| Some((*name, self.env.get_str(name)?)))
                .chain(extra),
            &self.framed_secrets,
        );
        self
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::new()
    }
}

/// The default step timeout from the value of `PLANDEX_TIMEOUT`: unset or blank means
/// [`DEFAULT_TIMEOUT`]. Shared by suite runs and `smoke-runner exec`.
pub fn timeout_from_env(value: Option<&str>) -> Result<Duration, SettingsError> {
    match value {
        Some(text) if !text.trim().is_empty() => {
            parse_duration(text).map_err(|source| SettingsError::Duration {
                what: "PLANDEX_TIMEOUT",
                source,
            })
        }
        _ => Ok(DEFAULT_TIMEOUT),
    }
}

/// The value of `name`, which must be UTF-8 if set: a setting is never silently ignored.
pub fn utf8_var<'a>(
    env: &'a Environment,
    name: &'static str,
) -> Result<Option<&'a str>, SettingsError> {
    match env.get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).ok_or(SettingsError::NotUtf8(name)),
    }
}

/// The flag's value, else the variable `name`'s (unset or blank: none) checked by `parse`.
fn flag_or_var(
    flag: &Option<String>,
    env: &Environment,
    name: &'static str,
    parse: fn(&str) -> Result<String, String>,
) -> Result<Option<String>, SettingsError> {
    if flag.is_some() {
        return Ok(flag.clone());
    }
    match utf8_var(env, name)? {
        Some(value) if !value.trim().is_empty() => {
            parse(value)
                .map(Some)
                .map_err(|message| SettingsError::Invalid {
                    what: name,
                    message,
                })
        }
        _ => Ok(None),
    }
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Loads the env file under the process environment (which wins); also returns a warning
/// about the file's permissions, if any.
fn load_env_file(
    args: &RunArgs,
    mut env: Environment,
) -> Result<(Environment, EnvFileStatus, Option<String>, Vec<String>), SettingsError> {
    if args.no_env_file {
        return Ok((env, EnvFileStatus::Disabled, None, Vec::new()));
    }
    let (path, explicit) = match (&args.env_file, env.get("PLANDEX_ENV_FILE")) {
        (Some(path), _) => (path.clone(), true),
        (None, Some(path)) if !path.is_empty() => (PathBuf::from(path), true),
        _ => (PathBuf::from(DEFAULT_ENV_FILE), false),
    };
    // `symlink_metadata`: a dangling link or a link loop is not "missing", it is an error.
    if std::fs::symlink_metadata(&path).is_err() {
        if explicit {
            return Err(SettingsError::EnvFileMissing(path));
        }
        return Ok((env, EnvFileStatus::DefaultMissing(path), None, Vec::new()));
    }
    let lookup = |name: &str| env.get_str(name).map(str::to_owned);
    let file = read_env_file(&path, &lookup).map_err(|source| SettingsError::EnvFile {
        path: path.clone(),
        source,
    })?;
    let mut secret_names = Vec::new();
    for (key, value) in file.vars {
        if looks_secret(&key) {
            secret_names.push(key.clone());
        }
        if env.get(&key).is_none() {
            env.set(key, value);
        }
    }
    Ok((env, EnvFileStatus::Loaded(path), file.warning, secret_names))
}

/// Settings that cannot be used. All of them are usage errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The env file named by `--env-file` or `PLANDEX_ENV_FILE` does not exist.
    #[error(
        "environment file {} does not exist (it was set with --env-file or PLANDEX_ENV_FILE; fix the path, or pass --no-env-file)",
        .0.display()
    )]
    EnvFileMissing(PathBuf),
    /// The env file could not be read or parsed, or is not safe to use.
    #[error("cannot load environment file {}: {source}", path.display())]
    EnvFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: EnvFileError,
    },
    /// A variable that holds a setting is not UTF-8.
    #[error("{0} is not valid UTF-8: set it to a UTF-8 value, or unset it")]
    NotUtf8(&'static str),
    /// A duration flag or variable is malformed.
    #[error("{what}: {source}")]
    Duration {
        /// Which flag or variable.
        what: &'static str,
        /// The parse error.
        #[source]
        source: super::DurationError,
    },
    /// `--jobs 0`.
    #[error("--jobs must be at least 1")]
    ZeroJobs,
    /// A variable holding a setting has a value the setting refuses.
    #[error("{what}: {message}")]
    Invalid {
        /// Which variable.
        what: &'static str,
        /// What is wrong, with an example.
        message: String,
    },
}
