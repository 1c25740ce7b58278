//! The suite file format as serde sees it: plain structs mirroring the TOML, nothing checked.
//!
//! Every table denies unknown keys, and values the validator must point at keep their position
//! as `toml::Spanned`. Keys that accept two shapes ("a string or a list", "a number or a
//! keyword") have small hand-written `Deserialize` impls instead of `serde(untagged)`, so a
//! wrong value reads "expected a string or an array of strings" rather than "did not match any
//! variant". This module never judges values (ranges, keywords, regexes): `validate` does.
//!
//! Field names are the file's keys; docs/suites.md says what each one means.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSuite {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) description: Option<String>,
    pub(crate) command: Option<Spanned<String>>,
    pub(crate) timeout: Option<Spanned<RawDuration>>,
    pub(crate) max_duration: Option<Spanned<RawDuration>>,
    pub(crate) warn_duration: Option<Spanned<RawDuration>>,
    #[serde(default)]
    pub(crate) fixtures: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) env: RawEnv,
    #[serde(default)]
    pub(crate) requires: Vec<Spanned<RawRequirement>>,
    #[serde(default)]
    pub(crate) redact: Vec<String>,
    #[serde(default)]
    pub(crate) on_failure: RawOnFailure,
    pub(crate) shell: Option<Spanned<String>>,
    pub(crate) exclusive: Option<Spanned<String>>,
    pub(crate) workdir: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) tags: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) step: RawSteps,
    #[serde(default)]
    pub(crate) service: Vec<Spanned<RawService>>,
}

/// One `[[service]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawService {
    pub(crate) name: Spanned<String>,
    pub(crate) run: Option<Spanned<RawRun>>,
    pub(crate) sh: Option<Spanned<String>>,
    pub(crate) port: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) env: RawEnv,
    pub(crate) healthcheck: Option<Spanned<RawHealthcheck>>,
}

/// A service's `healthcheck`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a health check like `{ sh = \"pg_isready\", interval = \"1s\" }`"
)]
pub(crate) struct RawHealthcheck {
    pub(crate) run: Option<Spanned<RawRun>>,
    pub(crate) sh: Option<Spanned<String>>,
    pub(crate) http: Option<Spanned<RawHttp>>,
    pub(crate) tcp: Option<Spanned<String>>,
    pub(crate) interval: Option<Spanned<RawDuration>>,
    pub(crate) timeout: Option<Spanned<RawDuration>>,
    pub(crate) retries: Option<Spanned<i64>>,
    pub(crate) start_period: Option<Spanned<RawDuration>>,
    pub(crate) backoff: Option<Spanned<String>>,
    pub(crate) max_interval: Option<Spanned<RawDuration>>,
    pub(crate) jitter: Option<bool>,
}

/// `http` in a step or a health check.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an HTTP request like `{ url = \"http://127.0.0.1:${PORT}/health\", status = 200 }`"
)]
pub(crate) struct RawHttp {
    pub(crate) url: Spanned<String>,
    pub(crate) method: Option<Spanned<String>>,
    pub(crate) status: Option<Spanned<i64>>,
    #[serde(default)]
    pub(crate) headers: RawEnv,
    pub(crate) body: Option<Spanned<String>>,
}

/// One entry of `requires`: a program, or a command that must succeed.
#[derive(Debug)]
pub(crate) enum RawRequirement {
    Program(String),
    Check(RawRequirementCheck),
}

/// `requires = [{ sh = "…" }]`: a command that must exit 0.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a check like `{ sh = \"id postgres\" }`"
)]
pub(crate) struct RawRequirementCheck {
    pub(crate) run: Option<Spanned<RawRun>>,
    pub(crate) sh: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawRequirement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RequirementVisitor;

        impl<'de> Visitor<'de> for RequirementVisitor {
            type Value = RawRequirement;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a program name or a check like `{ sh = \"id postgres\" }`")
            }

            fn visit_str<E: de::Error>(self, program: &str) -> Result<RawRequirement, E> {
                Ok(RawRequirement::Program(program.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRequirement, A::Error> {
                RawRequirementCheck::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawRequirement::Check)
            }
        }

        deserializer.deserialize_any(RequirementVisitor)
    }
}

/// `on_failure`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawOnFailure {
    #[default]
    Stop,
    Continue,
}

/// One `[[step]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub(crate) section: Option<Spanned<String>>,
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) run: Option<Spanned<RawRun>>,
    pub(crate) sh: Option<Spanned<String>>,
    pub(crate) shell: Option<Spanned<String>>,
    pub(crate) capture: Option<Spanned<String>>,
    pub(crate) workdir: Option<Spanned<String>>,
    pub(crate) note: Option<Spanned<String>>,
    pub(crate) http: Option<Spanned<RawHttp>>,
    pub(crate) stdout: Option<RawStreamChecks>,
    pub(crate) stderr: Option<RawStreamChecks>,
    pub(crate) output: Option<RawStreamChecks>,
    pub(crate) stdin: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) env: RawEnv,
    #[serde(default)]
    pub(crate) env_remove: Vec<Spanned<String>>,
    pub(crate) status: Option<Spanned<RawStatus>>,
    #[serde(default)]
    pub(crate) files: Vec<RawFileCheck>,
    pub(crate) timeout: Option<Spanned<RawDuration>>,
    pub(crate) max_duration: Option<Spanned<RawDuration>>,
    pub(crate) warn_duration: Option<Spanned<RawDuration>>,
    pub(crate) retry: Option<RawRetry>,
    pub(crate) ignore: Option<String>,
    #[serde(default)]
    pub(crate) tags: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) always: bool,
    pub(crate) pty: Option<Spanned<bool>>,
    pub(crate) window: Option<Spanned<String>>,
    pub(crate) interact: Option<Spanned<Vec<Spanned<RawInteraction>>>>,
}

/// One entry of `interact`: exactly one of its keys (checked by `validate`).
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an `interact` entry like `{ expect = \"Continue? (y/n)\" }` or `{ send = \"y\\n\" }`"
)]
pub(crate) struct RawInteraction {
    pub(crate) expect: Option<Spanned<String>>,
    pub(crate) expect_regex: Option<Spanned<String>>,
    pub(crate) send: Option<Spanned<String>>,
}

/// `stdout`, `stderr` and `output` tables.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table of checks (`contains`, `not_contains`, `equals`, `matches`, `json`)"
)]
pub(crate) struct RawStreamChecks {
    pub(crate) contains: Option<Spanned<RawTexts>>,
    pub(crate) not_contains: Option<Spanned<RawTexts>>,
    pub(crate) equals: Option<Spanned<String>>,
    pub(crate) equals_file: Option<Spanned<String>>,
    pub(crate) matches: Option<Spanned<RawTexts>>,
    pub(crate) json: Option<Spanned<toml::Table>>,
}

/// One entry of `files`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a file check like `{ path = \"main.go\", exists = true }`"
)]
pub(crate) struct RawFileCheck {
    pub(crate) path: Spanned<String>,
    pub(crate) exists: Option<bool>,
    pub(crate) contains: Option<Spanned<RawTexts>>,
    pub(crate) not_contains: Option<Spanned<RawTexts>>,
}

/// `retry`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a retry table like `{ attempts = 3, interval = \"2s\" }`"
)]
pub(crate) struct RawRetry {
    pub(crate) attempts: Spanned<i64>,
    pub(crate) interval: Option<Spanned<RawDuration>>,
    pub(crate) backoff: Option<Spanned<String>>,
    pub(crate) max_interval: Option<Spanned<RawDuration>>,
    pub(crate) jitter: Option<bool>,
}

/// The `[[step]]` array; its own type so that `[step]` (a single table) gets a useful message.
#[derive(Debug, Default)]
pub(crate) struct RawSteps(pub(crate) Vec<Spanned<RawStep>>);

impl<'de> Deserialize<'de> for RawSteps {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StepsVisitor;

        impl<'de> Visitor<'de> for StepsVisitor {
            type Value = RawSteps;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of tables (write `[[step]]`, with double brackets)")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawSteps, A::Error> {
                let mut steps = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(step) = seq.next_element()? {
                    steps.push(step);
                }
                Ok(RawSteps(steps))
            }
        }

        deserializer.deserialize_seq(StepsVisitor)
    }
}

/// An `env` table, in file order.
#[derive(Debug, Default)]
pub(crate) struct RawEnv(pub(crate) Vec<(Spanned<String>, Spanned<String>)>);

impl<'de> Deserialize<'de> for RawEnv {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EnvVisitor;

        impl<'de> Visitor<'de> for EnvVisitor {
            type Value = RawEnv;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of variables like `{ NAME = \"value\" }`")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawEnv, A::Error> {
                let mut vars: Vec<(Spanned<String>, Spanned<String>)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    vars.push(entry);
                }
                // The toml crate hands table keys over sorted by name; their positions give
                // back the order they were written in.
                vars.sort_by_key(|(name, _)| name.span().start);
                Ok(RawEnv(vars))
            }
        }

        deserializer.deserialize_map(EnvVisitor)
    }
}

/// `run`: a command line to split like a shell would, or the arguments themselves.
#[derive(Debug)]
pub(crate) enum RawRun {
    Line(String),
    Args(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawRun {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RunVisitor;

        impl<'de> Visitor<'de> for RunVisitor {
            type Value = RawRun;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command line string or an array of arguments")
            }

            fn visit_str<E: de::Error>(self, line: &str) -> Result<RawRun, E> {
                Ok(RawRun::Line(line.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawRun, A::Error> {
                collect_strings(seq).map(RawRun::Args)
            }
        }

        deserializer.deserialize_any(RunVisitor)
    }
}

/// A string or an array of strings (`contains`, `not_contains`, `matches`).
#[derive(Debug)]
pub(crate) enum RawTexts {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawTexts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextsVisitor;

        impl<'de> Visitor<'de> for TextsVisitor {
            type Value = RawTexts;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawTexts, E> {
                Ok(RawTexts::One(text.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawTexts, A::Error> {
                collect_strings(seq).map(RawTexts::Many)
            }
        }

        deserializer.deserialize_any(TextsVisitor)
    }
}

fn collect_strings<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<Spanned<String>>, A::Error> {
    let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
    while let Some(item) = seq.next_element()? {
        items.push(item);
    }
    Ok(items)
}

/// `status`: an integer, or a keyword (checked by the validator).
#[derive(Debug)]
pub(crate) enum RawStatus {
    Code(i64),
    Keyword(String),
}

impl<'de> Deserialize<'de> for RawStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusVisitor;

        impl<'de> Visitor<'de> for StatusVisitor {
            type Value = RawStatus;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "an exit code from 0 to 255, or one of \"success\", \"failure\", \"timeout\", \"any\"",
                )
            }

            fn visit_i64<E: de::Error>(self, code: i64) -> Result<RawStatus, E> {
                Ok(RawStatus::Code(code))
            }

            fn visit_u64<E: de::Error>(self, code: u64) -> Result<RawStatus, E> {
                Ok(RawStatus::Code(i64::try_from(code).unwrap_or(i64::MAX)))
            }

            fn visit_str<E: de::Error>(self, keyword: &str) -> Result<RawStatus, E> {
                Ok(RawStatus::Keyword(keyword.to_owned()))
            }
        }

        deserializer.deserialize_any(StatusVisitor)
    }
}

/// `timeout`, `interval`, `max_duration`…: a duration string, or a number of seconds.
#[derive(Debug)]
pub(crate) enum RawDuration {
    Text(String),
    Seconds(f64),
}

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl<'de> Visitor<'de> for DurationVisitor {
            type Value = RawDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like \"30s\" or \"500ms\", or a number of seconds")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawDuration, E> {
                Ok(RawDuration::Text(text.to_owned()))
            }

            fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<RawDuration, E> {
                // Precision is lost only beyond 2^53 seconds, not a realistic timeout.
                Ok(RawDuration::Seconds(seconds as f64))
            }

            fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<RawDuration, E> {
                Ok(RawDuration::Seconds(seconds as f64))
            }

            fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<RawDuration, E> {
                Ok(RawDuration::Seconds(seconds))
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}
