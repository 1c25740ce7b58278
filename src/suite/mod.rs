//! Suites: TOML files (or Rust values) describing steps and their checks.
//!
//! `shape` checks every key's TOML type, `raw` mirrors the file format with serde; `validate`
//! turns it into the `model` the rest of the crate uses, reporting problems as `file:line:col`;
//! `load` reads files and folders. This module never runs anything. The file format is documented in `docs/suites.md`.

mod command_line;
mod error;
mod expand;
mod fixtures;
mod load;
mod model;
mod names;
mod pacing;
mod position;
mod raw;
mod shape;
mod validate;

pub use error::{Excerpt, LoadError, LoadErrorKind, LoadErrors, MAX_ERRORS_PER_FILE};
pub use expand::{ExpandError, Template, TemplateError};
pub use load::{MAX_SUITE_FILE_SIZE, load_file, load_paths, load_suites, parse_suite};
pub use model::{
    Action, Budgets, Command, CustomCheck, ExpectedStatus, FileCheck, Healthcheck, HttpCheck,
    InteractEntry, Location, OnFailure, OutputCheck, Probe, Pty, Requirement, Retry, Service,
    Shell, Step, Suite,
};
pub use names::{TestNames, slug};
pub use pacing::{Backoff, MAX_ATTEMPTS, Pacing};
