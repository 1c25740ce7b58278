//! Suites: TOML files (or Rust values) describing steps and their checks.
//!
//! `raw` mirrors the file format with serde; `load` validates it into the `model` the rest of
//! the crate uses, reporting problems as `file:line:col`. This module never runs anything.

mod expand;
mod model;
mod names;

pub use expand::{Template, TemplateError, UnsetVariable};
pub use model::{
    Action, CustomCheck, ExpectedStatus, FileCheck, Location, OnFailure, OutputCheck, Retry, Step,
    Suite,
};
pub use names::{TestNames, slug};
