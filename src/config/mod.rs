//! Settings: command-line flags, environment variables and the env file, resolved once.
//!
//! This module owns turning what the user typed into settings. It never runs processes and
//! never prints.

mod cli;
mod duration;
mod env_file;
mod run_label;
mod settings;

pub use cli::{
    Cli, Command, ExecArgs, Format, HistoryArgs, HistoryCommand, HistoryFileArgs, HistoryFormat,
    ImportArgs, LogArgs, Partition, ReportArgs, RetentionArgs, RunArgs, ServeArgs, Shard,
};
pub use duration::{DurationError, MAX_DURATION, duration_from_secs, parse_duration};
pub use env_file::{
    EnvFile, EnvFileError, MAX_ENV_FILE_SIZE, MAX_ENV_FILE_VALUES, MAX_EXPANDED_VALUE, parse_env,
    read_env_file,
};
pub use run_label::{MAX_LABEL_LEN, parse_branch, parse_label};
pub use settings::{
    DEFAULT_COMMAND, DEFAULT_ENV_FILE, DEFAULT_TIMEOUT, EnvFileStatus, Settings, SettingsError,
    timeout_from_env, utf8_var,
};
