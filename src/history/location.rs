//! Where the history database is: `--history PATH`, else `SMOKE_HISTORY`, else
//! `target/smoke-history.sqlite`; `--no-history` turns recording off.

use std::path::{Path, PathBuf};

/// The history file when neither `--history` nor `SMOKE_HISTORY` names one.
pub const DEFAULT_HISTORY_FILE: &str = "target/smoke-history.sqlite";
/// The environment variable naming the history file.
pub const HISTORY_ENV: &str = "SMOKE_HISTORY";

/// Where runs are recorded, or that they are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryLocation {
    /// Record in (and read baselines from) this file.
    File(PathBuf),
    /// `--no-history`: neither read nor written.
    Disabled,
}

impl HistoryLocation {
    /// Resolves the flag, the variable's value and `--no-history`.
    pub fn resolve(flag: Option<&Path>, env: Option<&str>, disabled: bool) -> Self {
        match disabled {
            true => Self::Disabled,
            false => Self::File(Self::file(flag, env)),
        }
    }

    /// The history file named by the flag, else the variable's value, else the default.
    pub fn file(flag: Option<&Path>, env: Option<&str>) -> PathBuf {
        match (flag, env) {
            (Some(path), _) => path.to_owned(),
            (None, Some(value)) if !value.trim().is_empty() => PathBuf::from(value),
            _ => PathBuf::from(DEFAULT_HISTORY_FILE),
        }
    }

    /// The file, unless history is off.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::File(path) => Some(path),
            Self::Disabled => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_over_variable_and_blank_variable_means_default() {
        let flag = Path::new("a.sqlite");
        assert_eq!(
            HistoryLocation::resolve(Some(flag), Some("b.sqlite"), false),
            HistoryLocation::File(flag.into())
        );
        assert_eq!(
            HistoryLocation::resolve(None, Some("b.sqlite"), false),
            HistoryLocation::File("b.sqlite".into())
        );
        assert_eq!(
            HistoryLocation::resolve(None, Some("  "), false),
            HistoryLocation::File(DEFAULT_HISTORY_FILE.into())
        );
        assert_eq!(
            HistoryLocation::resolve(Some(flag), None, true),
            HistoryLocation::Disabled
        );
    }
}
