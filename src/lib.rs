//! smoke-runner: declarative smoke and integration tests for command-line programs.
//!
//! The data flows one way:
//!
//! ```text
//! CLI args + env file ─► config      (settings)
//! suite files         ─► suite       (raw serde mirror ─► validated model)
//! scheduler           ─► exec        (spawn in a new session, deadline, capture)
//! exec outcome        ─► assert      (checks on status, output, files)
//! results as events   ─► report      (human, libtest, json)
//! ```

pub mod app;
pub mod assert;
pub mod config;
pub mod exec;
pub mod report;
pub mod scheduler;
pub mod suite;
