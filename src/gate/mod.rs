//! Deploy gates: a run judged beyond its steps' verdicts. `--gate "p95 <= 2x baseline"` compares
//! each step's duration with the same step's in its newest passing runs of the history;
//! `--repeat N` / `--for 60s` run the selected suites again and again as one run, and
//! `--max-failure-rate 5%` judges the share of step runs that failed instead of each failure.
//!
//! The gates sit between the scheduler and the reports ([`Judge`], [`Repeated`] are event sinks
//! in front of the fan-out): the run's last event carries their tables and the rules they broke,
//! so every report shows them. This module reads the history but never writes it, and never
//! prints.

mod judge;
mod plan;
mod repeat;
mod spec;

pub use judge::{BaselineDurations, Judge, MIN_BASELINE_RUNS};
pub use plan::{GatePlan, run_gated};
pub use repeat::{Repeated, Repetition};
pub use spec::{
    BaselineSpec, Comparison, DEFAULT_BASELINE_RUNS, Gate, Stat, parse_baseline, parse_gate,
    parse_rate,
};
