//! The monitor's settings: `serve` flags over the `--config` file over defaults, resolved once
//! (and again on SIGHUP) into a [`ServeConfig`].
//!
//! The file is read bounded and as a regular file only; its TOML is mirrored by serde structs
//! that refuse unknown keys, then checked into the model the rest of `serve` uses.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::config::{ServeArgs, parse_duration};

/// The largest configuration file read.
const MAX_CONFIG_SIZE: u64 = 1024 * 1024;

/// The interval when neither `--every` nor the file gives one.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(5 * 60);

/// The shortest interval accepted: a monitor that starts a run more often than this only
/// measures itself.
pub const MIN_EVERY: Duration = Duration::from_millis(500);

/// The monitor's settings, resolved.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where the API listens.
    pub listen: SocketAddr,
    /// Each watched suite's interval, by suite name, for suites named in the file.
    pub suite_every: BTreeMap<String, Duration>,
    /// The interval of every other suite.
    pub every: Duration,
    /// The largest random delay added to each scheduled start.
    pub jitter: Option<Duration>,
    /// Runs at once.
    pub concurrency: usize,
    /// Runs that may wait.
    pub queue: usize,
    /// How long running runs get to finish on SIGTERM.
    pub drain_timeout: Duration,
    /// Where the token is read from, when not from the environment.
    pub token_file: Option<PathBuf>,
    /// Suites that are not run on a schedule (API only).
    pub unscheduled: Vec<String>,
    /// The webhook alerts, when configured.
    pub alerts: Option<AlertConfig>,
}

/// `[alerts]`: a webhook called after consecutive failures and on recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertConfig {
    /// The receiver (`http://…`).
    pub webhook: String,
    /// Consecutive failed runs of a suite before it is reported failing.
    pub after: u32,
    /// While a suite keeps failing, the alert is repeated this often.
    pub remind: Option<Duration>,
}

/// What is wrong with the settings, with where it was found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the serve configuration {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::regular_file::ReadError,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line and column.
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("{what}: {message}")]
    Value {
        /// Which flag or key (`--every`, `suite.api.every in serve.toml`).
        what: String,
        /// What is wrong and what to do.
        message: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    every: Option<String>,
    jitter: Option<String>,
    concurrency: Option<usize>,
    queue: Option<usize>,
    drain_timeout: Option<String>,
    token_file: Option<PathBuf>,
    #[serde(default)]
    suite: BTreeMap<String, RawSuite>,
    alerts: Option<RawAlerts>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    every: Option<String>,
    #[serde(default = "yes")]
    scheduled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    webhook: String,
    #[serde(default = "one")]
    after: u32,
    remind: Option<String>,
}

fn one() -> u32 {
    1
}

impl ServeConfig {
    /// Flags over the `--config` file over defaults.
    pub fn resolve(args: &ServeArgs) -> Result<Self, ConfigError> {
        let raw = match &args.config {
            Some(path) => read_file(path)?,
            None => RawConfig::default(),
        };
        let file = args.config.as_deref().map(Path::display);
        let key = |name: &str| match &file {
            Some(file) => format!("`{name}` in {file}"),
            None => format!("`{name}`"),
        };
        let duration = |what: String, text: &str| {
            parse_duration(text).map_err(|error| ConfigError::Value {
                what,
                message: error.to_string(),
            })
        };
        let every = match (&args.every, &raw.every) {
            (Some(text), _) => at_least_min(duration("--every".into(), text)?, "--every")?,
            (None, Some(text)) => at_least_min(duration(key("every"), text)?, &key("every"))?,
            (None, None) => DEFAULT_EVERY,
        };
        let mut suite_every = BTreeMap::new();
        let mut unscheduled = Vec::new();
        for (name, suite) in &raw.suite {
            let what = key(&format!("suite.{name}.every"));
            if let Some(text) = &suite.every {
                suite_every.insert(
                    name.clone(),
                    at_least_min(duration(what.clone(), text)?, &what)?,
                );
            }
            if !suite.scheduled {
                unscheduled.push(name.clone());
            }
        }
        let listen_text = (args.listen.as_deref())
            .or(raw.listen.as_deref())
            .unwrap_or("127.0.0.1:8080");
        let listen = listen_text.parse().map_err(|_| ConfigError::Value {
            what: if args.listen.is_some() {
                "--listen".into()
            } else {
                key("listen")
            },
            message: format!("`{listen_text}` is not an address and port (write `127.0.0.1:8080`)"),
        })?;
        let drain_timeout = match (&args.drain_timeout, &raw.drain_timeout) {
            (Some(text), _) => duration("--drain-timeout".into(), text)?,
            (None, Some(text)) => duration(key("drain_timeout"), text)?,
            (None, None) => Duration::from_secs(30),
        };
        let jitter = match &raw.jitter {
            Some(text) => Some(duration(key("jitter"), text)?),
            None => None,
        };
        let concurrency = positive(
            args.concurrency.or(raw.concurrency).unwrap_or(1),
            "concurrency",
        )?;
        let queue = positive(args.queue.or(raw.queue).unwrap_or(16), "queue")?;
        let alerts = raw
            .alerts
            .map(|alerts| alert_config(alerts, &key))
            .transpose()?;
        Ok(Self {
            listen,
            suite_every,
            every,
            jitter,
            concurrency,
            queue,
            drain_timeout,
            token_file: args.token_file.clone().or(raw.token_file),
            unscheduled,
            alerts,
        })
    }

    /// The interval of the suite named `name`.
    pub fn every_for(&self, name: &str) -> Duration {
        self.suite_every.get(name).copied().unwrap_or(self.every)
    }

    /// The largest random delay for a suite run every `every`: `jitter`, else a tenth of the
    /// interval.
    pub fn jitter_for(&self, every: Duration) -> Duration {
        self.jitter.unwrap_or(every / 10)
    }
}

fn read_file(path: &Path) -> Result<RawConfig, ConfigError> {
    let bytes =
        crate::regular_file::read(path, MAX_CONFIG_SIZE).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
    let text = String::from_utf8(bytes).map_err(|_| ConfigError::Parse {
        path: path.to_owned(),
        message: "the file is not UTF-8 text".into(),
    })?;
    toml::from_str(&text).map_err(|error| ConfigError::Parse {
        path: path.to_owned(),
        message: error.to_string().trim_end().to_owned(),
    })
}

fn alert_config(raw: RawAlerts, key: &dyn Fn(&str) -> String) -> Result<AlertConfig, ConfigError> {
    if !(raw.webhook.starts_with("http://") || raw.webhook.starts_with("https://")) {
        return Err(ConfigError::Value {
            what: key("alerts.webhook"),
            message: "the webhook must be an http:// or https:// address".into(),
        });
    }
    if raw.after == 0 {
        return Err(ConfigError::Value {
            what: key("alerts.after"),
            message: "must be 1 or more (failed runs in a row before an alert)".into(),
        });
    }
    let remind = match &raw.remind {
        Some(text) => Some(parse_duration(text).map_err(|error| ConfigError::Value {
            what: key("alerts.remind"),
            message: error.to_string(),
        })?),
        None => None,
    };
    Ok(AlertConfig {
        webhook: raw.webhook,
        after: raw.after,
        remind,
    })
}

fn at_least_min(every: Duration, what: &str) -> Result<Duration, ConfigError> {
    if every < MIN_EVERY {
        return Err(ConfigError::Value {
            what: what.to_owned(),
            message: format!("an interval must be at least {} ms", MIN_EVERY.as_millis()),
        });
    }
    Ok(every)
}

fn positive(value: usize, what: &str) -> Result<usize, ConfigError> {
    if value == 0 {
        return Err(ConfigError::Value {
            what: what.to_owned(),
            message: "must be 1 or more".into(),
        });
    }
    Ok(value)
}
