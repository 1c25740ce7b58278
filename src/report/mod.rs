//! Reporters: turn run events into text. One file per format; reporters never run processes.
//!
//! The scheduler emits [`Event`]s and never prints; each format implements [`Reporter`].
//! [`HumanReporter`] is the default, for people; [`ColorChoice`] and [`CompactDuration`] are
//! shared by the formats that print for people.

mod color;
mod compact_duration;
mod events;
mod hints;
mod human;
mod reporter;

pub use color::ColorChoice;
pub use compact_duration::CompactDuration;
pub use events::{
    Counts, EnvFileStatus, Event, RunStart, SkipReason, StepResult, SuiteResult, Summary, Verdict,
};
pub use hints::{BASELINE_RUNS, Baselines, Hint, PastRun};
pub use human::{HumanOptions, HumanReporter};
pub use reporter::Reporter;
