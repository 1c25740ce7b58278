//! smoke-runner: declarative smoke and integration tests for command-line programs.
//!
//! The data flows one way:
//!
//! ```text
//! CLI args + env file ─► config      (settings)
//! suite files         ─► suite       (raw serde mirror ─► validated model)
//! scheduler           ─► exec        (spawn in a new session, deadline, capture)
//! exec outcome        ─► assert      (checks on status, output, files)
//! results as events   ─► report      (every report a consumer of one event stream)
//! ```
//!
//! Embedding: load suites (or build [`suite::Suite`] values), pick the steps, run them with
//! settings, and receive every event:
//!
//! ```no_run
//! use std::sync::Arc;
//! use smoke_runner::{config::Settings, exec::Executor, report::Event, scheduler, suite};
//!
//! let suites = suite::load_paths(&["suites".into()]).expect("valid suites");
//! let selection = scheduler::Selection::all(&suites);
//! let suites: Vec<_> = suites.into_iter().map(Arc::new).collect();
//! let on_event = |event: Event| {
//!     if let Event::StepFinished { step, result, .. } = event {
//!         println!("{}: {:?}", step.test_name, result.verdict);
//!     }
//! };
//! let summary = scheduler::run(&suites, &selection, &Settings::new(), &Executor::new(), &on_event);
//! assert!(summary.counts.success());
//! ```

pub mod app;
pub mod assert;
pub mod config;
pub mod exec;
pub mod fnv1a;
pub mod harness;
pub mod history;
pub mod http;
pub mod import;
pub mod mask;
pub mod regular_file;
pub mod report;
pub mod scheduler;
pub mod suite;

pub use harness::Harness;
