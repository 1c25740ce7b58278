//! What can go wrong with the history database. During a run every one of these is a one-line
//! warning; for `smoke-runner history` and `report --html` they are errors.

use std::path::PathBuf;

/// A history database that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file is not a SQLite database (or is damaged).
    #[error(
        "{} is not a usable history database ({source}); move it away to start a new history",
        path.display()
    )]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// Another process holds the database longer than the busy timeout.
    #[error("{} is locked by another process ({source})", path.display())]
    Locked {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The file or its folder cannot be written.
    #[error("{} cannot be written ({source})", path.display())]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer smoke-runner.
    #[error(
        "{location} has schema version {found}; this smoke-runner knows up to {known} (upgrade smoke-runner, or use another --history)"
    )]
    NewerSchema {
        /// The database (file, or URL with its password hidden).
        location: String,
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// No history file exists yet (only for commands that read it).
    #[error(
        "no history at {} yet: runs record it there (or pass --history PATH / set SMOKE_HISTORY)",
        .0.display()
    )]
    Missing(PathBuf),
    /// The folder for the database cannot be created.
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `--history` / `SMOKE_HISTORY` names no history this build can keep.
    #[error("--history {shown}: {reason}")]
    BadLocation {
        /// The location as given, its password hidden.
        shown: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The PostgreSQL server cannot be reached, or refused the connection.
    #[error("cannot connect to the history at {location}: {reason}")]
    Connect {
        /// The URL, its password hidden.
        location: String,
        /// What the client library said (password hidden).
        reason: String,
    },
    /// A PostgreSQL statement failed.
    #[error("{location}: {reason}")]
    Postgres {
        /// The URL, its password hidden.
        location: String,
        /// What the server or the client library said.
        reason: String,
    },
    /// Any other SQLite failure.
    #[error("{}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
}

impl HistoryError {
    /// Classifies a SQLite error on `path`.
    pub(crate) fn from_sqlite(path: &std::path::Path, source: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let path = path.to_owned();
        match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                Self::Corrupt { path, source }
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                Self::Locked { path, source }
            }
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
                Self::ReadOnly { path, source }
            }
            _ => Self::Sqlite { path, source },
        }
    }
}
