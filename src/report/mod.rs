//! Reports: every one a consumer of the run's event stream. One file per format; reports only
//! format, they never run processes, read files or look at clocks (but for the human report's
//! elapsed-time line on a terminal, which shows the present moment no event can carry).
//!
//! The scheduler emits [`Event`]s and never prints; each format implements [`Reporter`], and
//! the scheduler's `Fanout` feeds one run to any number of them, after masking secrets once
//! with a [`Masker`](crate::mask::Masker). [`HumanReporter`] is the default, for people; [`LibtestReporter`] writes
//! libtest's formats. [`ColorChoice`] and [`CompactDuration`] are shared by the formats that
//! print for people.

mod budget;
mod color;
mod compact_duration;
mod event_json;
mod events;
mod failure_details;
mod gates;
mod github;
mod hints;
mod human;
mod json;
mod junit;
mod libtest;
mod masking;
mod reporter;
mod reproduce;
mod suite_table;
mod tap;

pub use crate::config::EnvFileStatus;
pub use budget::{BudgetTime, DegradedNote};
pub use color::ColorChoice;
pub use compact_duration::CompactDuration;
pub use event_json::{
    EVENTS_SCHEMA, JsonCounts, JsonEnvFile, JsonEvent, JsonFailure, JsonLogSpan,
    JsonRequirementChecked, JsonRunFinished, JsonRunStarted, JsonServiceFailed, JsonServiceHealthy,
    JsonServiceStarted, JsonServiceStopped, JsonSkip, JsonSkippedSuite, JsonStatus, JsonStep,
    JsonStepFinished, JsonStepStarted, JsonSuite, JsonSuiteFinished, outcome_name,
};
pub use events::{
    Actual, BrokenRule, CheckFailure, CheckKind, CheckSubject, Counts, Event, ExitStatus, LogSpan,
    PlannedSuite, RunStart, SkipReason, StepId, StepRef, StepResult, SuiteId, SuiteResult, Summary,
    Verdict,
};
pub use failure_details::{DetailField, FailureDetails};
pub use gates::{
    FailureRate, GateLine, GateReport, GateRow, GateTable, GateVerdict, gate_duration, gate_ratio,
    percent,
};
pub use github::GithubReporter;
pub use hints::{BASELINE_RUNS, Baselines, BaselinesFeed, Hint, PastRun};
pub use human::{HumanOptions, HumanReporter, live_progress_wanted};
pub use json::{JsonReporter, event_json};
pub use junit::JunitReporter;
pub use libtest::{LibtestFormat, LibtestReporter, write_list};
pub use masking::MaskSecrets;
pub use reporter::Reporter;
pub use reproduce::reproduce_command;
pub use suite_table::SuiteTable;
pub use tap::TapReporter;
