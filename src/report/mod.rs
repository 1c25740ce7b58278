//! Reporters: turn run events into text. One file per format; reporters never run processes.

mod events;

pub use events::{
    Counts, EnvFileStatus, Event, RunStart, SkipReason, StepResult, SuiteResult, Summary, Verdict,
};
