//! Settings: command-line flags, environment variables and the env file, resolved once.
//!
//! This module owns turning what the user typed into settings. It never runs processes and
//! never prints.

mod cli;
mod duration;
mod settings;

pub use cli::{Cli, ColorWhen, Command, ExecArgs, Format, ImportArgs, RunArgs};
pub use duration::{DurationError, MAX_DURATION, duration_from_secs, parse_duration};
pub use settings::{
    DEFAULT_COMMAND, DEFAULT_ENV_FILE, DEFAULT_TIMEOUT, Settings, SettingsError, timeout_from_env,
};
