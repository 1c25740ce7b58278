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
//! Embedding: load suites (or build [`suite::Suite`] values), pick the steps, and start a run
//! with the reports that consume its events; several runs may go at once, each cancelled on
//! its own:
//!
//! ```no_run
//! use smoke_runner::{config::Settings, engine, exec::Interrupts, report::Event, scheduler, suite};
//!
//! let suites = suite::load_paths(&["suites".into()]).expect("valid suites");
//! let selection = scheduler::Selection::all(&suites);
//! let plan = engine::RunPlan::new(suites, selection, Settings::new());
//! let (subscriber, events) = scheduler::Subscriber::channel();
//! let mut reports = scheduler::Fanout::new();
//! reports.add("my events", subscriber);
//! let run = engine::start(plan, reports, Interrupts::new().unwrap()).unwrap();
//! for event in events {
//!     if let Event::StepFinished { step, result, .. } = event {
//!         println!("{}: {:?}", step.test_name, result.verdict);
//!     }
//! }
//! assert!(run.wait().summary.success());
//! ```

pub mod app;
pub mod assert;
pub mod config;
pub mod engine;
pub mod exec;
pub mod fnv1a;
pub mod gate;
pub mod harness;
pub mod history;
pub mod http;
pub mod import;
pub mod mask;
pub mod regular_file;
pub mod report;
pub mod scheduler;
pub mod serve;
pub mod suite;

pub use harness::Harness;
