//! `smoke-runner serve`, the monitor: watched suites run on a schedule and on request, their
//! results served over HTTP (API, health, metrics, a status page), alerts sent to a webhook.
//!
//! ```text
//! config (flags, --config) ──► Catalog ──► schedule ─┐
//!                                  POST /api/runs ───┴─► Runs (queue) ──► workers ──► RunEngine
//!                                                                                      │ events
//!  GET /api/runs/…, /healthz, /metrics ◄── Runs, Health ◄── RunTracker ◄───────────────┘
//! ```
//!
//! This module owns the HTTP side (tokio, axum, hyper) and the monitor's state. Runs happen on
//! the engine's threads, never on the async runtime; handlers never run a command and never
//! block on a run.

mod alerts;
mod api;
mod audit;
mod config;
mod engine;
mod health;
mod metrics;
mod monitor;
mod pages;
mod recovery;
mod runs;
mod server;
mod state;
mod status;
mod stored_events;
mod token;
mod tracker;

pub use api::{Api, MAX_BODY, router};
pub use config::{AlertConfig, ConfigError, DEFAULT_EVERY, ServeConfig};
pub use engine::{EngineRuns, RunEngine, RunHandle, RunObserver};
pub use health::{Health, SuiteState, Totals};
pub use monitor::{Catalog, Monitor};
pub use recovery::{Recovered, recover};
pub use runs::{RunRequest, RunStatus, RunView, Runs, Trigger};
pub use server::serve;
pub use state::{AuditEntry, OpenError, StateStore, triggers};
pub use token::{TOKEN_ENV, Token};
