//! Where the history database is: `--history`, else `SMOKE_HISTORY`, else
//! `target/smoke-history.sqlite`; `--no-history` turns recording off.
//!
//! A location is a SQLite file (a path, or `sqlite:PATH`) or a PostgreSQL database
//! (`postgres://user:password@host:port/db`). A PostgreSQL URL is never shown as given: its
//! password is replaced by `***` wherever the location is displayed or debug-printed, and
//! [`PostgresUrl::secrets`] hands the password's forms to the run's masker.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::HistoryError;
use crate::mask::{FramedSecret, MIN_SECRET_LEN};

/// The history file when neither `--history` nor `SMOKE_HISTORY` names one.
pub const DEFAULT_HISTORY_FILE: &str = "target/smoke-history.sqlite";
/// The environment variable naming the history file.
pub const HISTORY_ENV: &str = "SMOKE_HISTORY";
/// The name a history URL's password is masked as: `[redacted:SMOKE_HISTORY_PASSWORD]`.
pub const HISTORY_PASSWORD: &str = "SMOKE_HISTORY_PASSWORD";
/// What a password is shown as.
const HIDDEN: &str = "***";

/// Where runs are recorded, or that they are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryLocation {
    /// Record in (and read baselines from) this database.
    At(HistoryTarget),
    /// `--no-history`: neither read nor written.
    Disabled,
}

/// A history database: an embedded SQLite file or a PostgreSQL server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryTarget {
    /// A SQLite file (created on first use).
    File(PathBuf),
    /// A PostgreSQL database (the tables are created on first use).
    Postgres(PostgresUrl),
}

impl HistoryLocation {
    /// Resolves the flag, the variable's value and `--no-history`. A URL of a kind this build
    /// does not know is an error (its password hidden).
    pub fn resolve(
        flag: Option<&Path>,
        env: Option<&str>,
        disabled: bool,
    ) -> Result<Self, HistoryError> {
        match disabled {
            true => Ok(Self::Disabled),
            false => HistoryTarget::resolve(flag, env).map(Self::At),
        }
    }

    /// The database, unless history is off.
    pub fn target(&self) -> Option<&HistoryTarget> {
        match self {
            Self::At(target) => Some(target),
            Self::Disabled => None,
        }
    }

    /// The SQLite file, when the history is one.
    pub fn path(&self) -> Option<&Path> {
        match self.target()? {
            HistoryTarget::File(path) => Some(path),
            HistoryTarget::Postgres(_) => None,
        }
    }
}

impl HistoryTarget {
    /// The database named by the flag, else the variable's value, else the default file.
    pub fn resolve(flag: Option<&Path>, env: Option<&str>) -> Result<Self, HistoryError> {
        match (flag, env) {
            (Some(path), _) => Self::parse_path(path),
            (None, Some(value)) if !value.trim().is_empty() => Self::parse(value),
            _ => Ok(Self::File(PathBuf::from(DEFAULT_HISTORY_FILE))),
        }
    }

    /// `postgres://…` / `postgresql://…`, `sqlite:PATH`, or a path. Any other `scheme://` is
    /// refused rather than taken for a file name.
    pub fn parse(text: &str) -> Result<Self, HistoryError> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            return match path.is_empty() {
                true => Err(HistoryError::BadLocation {
                    shown: text.to_owned(),
                    reason: "`sqlite:` names no file (write sqlite:PATH)".into(),
                }),
                false => Ok(Self::File(PathBuf::from(path))),
            };
        }
        match url_scheme(text) {
            Some("postgres" | "postgresql") => PostgresUrl::parse(text).map(Self::Postgres),
            Some(scheme) => Err(HistoryError::BadLocation {
                shown: PostgresUrl::hide_password(text),
                reason: format!(
                    "`{scheme}://` is not a history this smoke-runner can keep; use a file path, sqlite:PATH or postgres://user:password@host:port/database"
                ),
            }),
            None => Ok(Self::File(PathBuf::from(text))),
        }
    }

    fn parse_path(path: &Path) -> Result<Self, HistoryError> {
        match path.to_str() {
            Some(text) => Self::parse(text),
            None => Ok(Self::File(path.to_owned())),
        }
    }

    /// Secret values in the location (a PostgreSQL password, as written and decoded), for the
    /// run's masker.
    pub fn secrets(&self) -> &[String] {
        match self {
            Self::File(_) => &[],
            Self::Postgres(url) => url.secrets(),
        }
    }
}

impl fmt::Display for HistoryTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => url.fmt(f),
        }
    }
}

/// What names a history: a path (a SQLite file) or a [`HistoryTarget`].
pub trait ToHistoryTarget {
    /// The history this names.
    fn to_history_target(&self) -> HistoryTarget;
}

impl ToHistoryTarget for Path {
    fn to_history_target(&self) -> HistoryTarget {
        HistoryTarget::File(self.to_owned())
    }
}

impl ToHistoryTarget for PathBuf {
    fn to_history_target(&self) -> HistoryTarget {
        HistoryTarget::File(self.clone())
    }
}

impl ToHistoryTarget for HistoryTarget {
    fn to_history_target(&self) -> HistoryTarget {
        self.clone()
    }
}

/// The passwords in the history URLs of the flag and of the variable, whichever is used (and
/// with `--no-history` too): the steps inherit the variable, so its password must be masked
/// even when the flag names another history.
pub fn history_secrets(flag: Option<&Path>, env: Option<&str>) -> Vec<String> {
    let flag = flag.and_then(Path::to_str);
    let mut secrets: Vec<String> = Vec::new();
    for text in flag
        .into_iter()
        .chain(env)
        .filter(|t| url_scheme(t).is_some())
    {
        match PostgresUrl::parse(text) {
            Ok(url) => secrets.extend(url.secrets().iter().cloned()),
            Err(_) => secrets.extend(raw_passwords(text).map(str::to_owned)),
        }
    }
    secrets.retain(|s| !s.is_empty());
    secrets.sort();
    secrets.dedup();
    secrets
}

/// `scheme` when `text` starts with `scheme://` (letters, digits, `+.-`, from a letter).
fn url_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
    .then_some(scheme)
}

/// A PostgreSQL connection URL. Displayed and debug-printed with its password as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    /// As given: only ever handed to the client library.
    text: String,
    /// With the password hidden.
    shown: String,
    /// The password as written in the URL and decoded.
    secrets: Vec<String>,
}

impl PostgresUrl {
    /// Checks `text` as the client library reads it.
    pub fn parse(text: &str) -> Result<Self, HistoryError> {
        let shown = Self::hide_password(text);
        let mut secrets: Vec<String> = raw_passwords(text).map(str::to_owned).collect();
        let config: postgres::Config =
            text.parse()
                .map_err(|error: postgres::Error| HistoryError::BadLocation {
                    reason: hide(&error.to_string(), &secrets),
                    shown: shown.clone(),
                })?;
        if let Some(decoded) = config
            .get_password()
            .and_then(|p| std::str::from_utf8(p).ok())
        {
            secrets.push(decoded.to_owned());
        }
        secrets.retain(|s| !s.is_empty());
        secrets.sort();
        secrets.dedup();
        Ok(Self {
            text: text.to_owned(),
            shown,
            secrets,
        })
    }

    /// The URL as the client library reads it. Never show it.
    pub(super) fn as_secret_str(&self) -> &str {
        &self.text
    }

    /// The password's forms (as written, percent-decoded), to be masked.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// `text` with every password in it (`user:PASSWORD@`, `password=PASSWORD`) as `***`.
    pub fn hide_password(text: &str) -> String {
        let passwords: Vec<String> = raw_passwords(text).map(str::to_owned).collect();
        hide(text, &passwords)
    }
}

/// Where a password shorter than [`MIN_SECRET_LEN`] is hidden and masked: only where it reads
/// as a password, a URL's `user:PASSWORD@` and a `password=` parameter (in libpq's key/value
/// form too, and in `PGPASSWORD=`-style lines). Wherever it appears, a password of three
/// letters would hide every word holding them; a longer password is hidden wherever it
/// appears.
const SHORT_PASSWORD_FRAMES: &[(&str, &str)] = &[(":", "@"), ("password=", ""), ("PASSWORD=", "")];

/// `passwords` as the run's masker takes them, under `name`: those of at least
/// [`MIN_SECRET_LEN`] bytes masked wherever they appear, shorter ones in their frames
/// ([`SHORT_PASSWORD_FRAMES`]).
pub fn password_masks(
    name: &str,
    passwords: &[String],
) -> (Vec<(String, String)>, Vec<FramedSecret>) {
    let (whole, short): (Vec<&String>, Vec<&String>) = passwords
        .iter()
        .filter(|p| !p.is_empty())
        .partition(|p| p.len() >= MIN_SECRET_LEN);
    let whole = whole
        .into_iter()
        .map(|p| (name.to_owned(), p.clone()))
        .collect();
    let framed = short
        .into_iter()
        .flat_map(|value| {
            SHORT_PASSWORD_FRAMES
                .iter()
                .map(|&(before, after)| FramedSecret {
                    name: name.to_owned(),
                    before,
                    value: value.clone(),
                    after,
                })
        })
        .collect();
    (whole, framed)
}

/// The masks for the history's password ([`history_secrets`] of `--history` and
/// `SMOKE_HISTORY`), as the run's masker takes them: the one place a run and the monitor get
/// them from.
pub fn history_password_masks(flag: Option<&Path>) -> (Vec<(String, String)>, Vec<FramedSecret>) {
    let env = std::env::var(HISTORY_ENV).ok();
    password_masks(HISTORY_PASSWORD, &history_secrets(flag, env.as_deref()))
}

/// What a user is told when the history's password is too short to be masked everywhere.
pub fn short_password_note() -> String {
    format!(
        "note: {HISTORY_PASSWORD} is shorter than {MIN_SECRET_LEN} characters: it is masked where it reads as a password (`user:PASSWORD@`, `password=PASSWORD`), not wherever it appears; a longer password is masked everywhere"
    )
}

/// `text` with each of `secrets` replaced by `***`, longest first; a short one only in its
/// frames, which stay ([`SHORT_PASSWORD_FRAMES`]).
pub(super) fn hide(text: &str, secrets: &[String]) -> String {
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    sorted.into_iter().fold(text.to_owned(), |out, secret| {
        if secret.len() >= MIN_SECRET_LEN {
            return out.replace(secret.as_str(), HIDDEN);
        }
        SHORT_PASSWORD_FRAMES
            .iter()
            .fold(out, |out, (before, after)| {
                out.replace(
                    &format!("{before}{secret}{after}"),
                    &format!("{before}{HIDDEN}{after}"),
                )
            })
    })
}

/// The passwords as written in a URL: after the first `:` of what precedes the first `@` (as
/// the client library reads it), and every `password=` parameter's value.
fn raw_passwords(text: &str) -> impl Iterator<Item = &str> {
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let in_credentials = rest
        .split_once('@')
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password);
    let in_params = rest
        .split_once('?')
        .map(|(_, params)| params)
        .into_iter()
        .flat_map(|params| params.split('&'))
        .filter_map(|param| param.strip_prefix("password="));
    in_credentials.into_iter().chain(in_params)
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PostgresUrl").field(&self.shown).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> HistoryLocation {
        HistoryLocation::At(HistoryTarget::File(path.into()))
    }

    #[test]
    fn flag_wins_over_variable_and_blank_variable_means_default() {
        let flag = Path::new("a.sqlite");
        let resolve = |flag, env, off| HistoryLocation::resolve(flag, env, off).unwrap();
        assert_eq!(
            resolve(Some(flag), Some("b.sqlite"), false),
            file("a.sqlite")
        );
        assert_eq!(resolve(None, Some("b.sqlite"), false), file("b.sqlite"));
        assert_eq!(resolve(None, Some("  "), false), file(DEFAULT_HISTORY_FILE));
        assert_eq!(resolve(Some(flag), None, true), HistoryLocation::Disabled);
        assert_eq!(resolve(None, Some("sqlite:x/h.db"), false), file("x/h.db"));
        assert_eq!(
            resolve(None, Some("sqlite:///x/h.db"), false),
            file("/x/h.db")
        );
    }

    #[test]
    fn a_postgres_password_is_hidden_when_shown_and_listed_for_masking() {
        let text = "postgres://smoke:s%40cret-pw@127.0.0.1:5432/hist?password=other-pw";
        let Ok(HistoryTarget::Postgres(url)) = HistoryTarget::parse(text) else {
            panic!("not a postgres url");
        };
        let shown = url.to_string();
        assert_eq!(
            shown,
            "postgres://smoke:***@127.0.0.1:5432/hist?password=***"
        );
        assert!(!format!("{url:?}").contains("pw"));
        assert!(url.secrets().contains(&"s%40cret-pw".to_owned()));
        assert!(url.secrets().contains(&"other-pw".to_owned()));
        assert_eq!(url.as_secret_str(), text);
    }

    #[test]
    fn a_short_password_is_hidden_and_masked_where_it_reads_as_one_and_nowhere_else() {
        let text = "postgres://lab:ab@lab.internal:5432/lab?password=ab";
        let Ok(HistoryTarget::Postgres(url)) = HistoryTarget::parse(text) else {
            panic!("not a postgres url");
        };
        assert_eq!(
            url.to_string(),
            "postgres://lab:***@lab.internal:5432/lab?password=***"
        );
        let (whole, framed) = password_masks(HISTORY_PASSWORD, url.secrets());
        assert!(whole.is_empty(), "{whole:?}");
        let masker = crate::mask::Masker::with_framed([], &framed);
        assert_eq!(
            masker.mask(&format!("{text} PGPASSWORD=ab; a table, abc, ab")),
            "postgres://lab:[redacted:SMOKE_HISTORY_PASSWORD]@lab.internal:5432/lab\
             ?password=[redacted:SMOKE_HISTORY_PASSWORD] \
             PGPASSWORD=[redacted:SMOKE_HISTORY_PASSWORD]; a table, abc, ab"
        );
        // A password of six bytes or more is masked wherever it appears.
        let (whole, framed) = password_masks(HISTORY_PASSWORD, &["abcdef".to_owned()]);
        assert_eq!(whole, [(HISTORY_PASSWORD.to_owned(), "abcdef".to_owned())]);
        assert!(framed.is_empty());
    }

    #[test]
    fn an_unknown_scheme_is_refused_with_the_password_hidden() {
        let error = HistoryTarget::parse("mysql://root:hunter22@db/x").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("`mysql://`"), "{message}");
        assert!(!message.contains("hunter22"), "{message}");
        assert!(HistoryTarget::parse("sqlite:").is_err());
        assert!(matches!(
            HistoryTarget::parse("./with:colon.sqlite"),
            Ok(HistoryTarget::File(_))
        ));
    }

    #[test]
    fn a_bad_postgres_url_is_an_error_without_its_password() {
        let error = HistoryTarget::parse("postgres://u:topsecret@host:notaport/db").unwrap_err();
        let message = error.to_string();
        assert!(!message.contains("topsecret"), "{message}");
        assert!(
            message.contains("postgres://u:***@host:notaport/db"),
            "{message}"
        );
    }
}
