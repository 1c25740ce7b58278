//! The gates' consumer of the event stream: collects every step run's outcome and duration, and
//! at the end of the run judges them against the baseline and the failure rate. It sits between
//! the scheduler and the reports, so the run's last event already carries the gates' tables and
//! the rules they broke.

use std::collections::HashMap;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::history::{median, p95};
use crate::report::{
    BrokenRule, Event, FailureRate, GateReport, GateRow, GateTable, GateVerdict, Summary, Verdict,
    gate_ratio,
};
use crate::scheduler::EventSink;

use super::plan::GatePlan;
use super::spec::{Gate, Stat};

/// A step needs at least this many passing past runs (or the baseline's K, when smaller) for a
/// gate to judge it.
pub const MIN_BASELINE_RUNS: usize = 5;

/// Each step's durations in its newest passing past runs, by test name.
pub type BaselineDurations = HashMap<String, Vec<Duration>>;

/// Where the baseline comes from: read on a thread of its own while the suites run.
pub type BaselineLoad = JoinHandle<Result<BaselineDurations, String>>;

/// One step's runs in this run (every repetition).
#[derive(Debug, Default)]
struct StepRuns {
    passing: Vec<Duration>,
    ran: usize,
    failed: usize,
}

#[derive(Debug, Default)]
struct Samples {
    order: Vec<String>,
    steps: HashMap<String, StepRuns>,
}

/// Passes every event on to `inner`, judging the run at [`Event::RunFinished`].
pub struct Judge<'a> {
    plan: &'a GatePlan,
    inner: &'a dyn EventSink,
    baseline: Mutex<Option<BaselineLoad>>,
    samples: Mutex<Samples>,
    judged: Mutex<Option<Summary>>,
    warnings: Mutex<Vec<String>>,
}

impl<'a> Judge<'a> {
    /// A judge for `plan` in front of `inner`; `baseline` is being read (none without `--gate`).
    pub fn new(
        plan: &'a GatePlan,
        inner: &'a dyn EventSink,
        baseline: Option<BaselineLoad>,
    ) -> Self {
        Self {
            plan,
            inner,
            baseline: Mutex::new(baseline),
            samples: Mutex::default(),
            judged: Mutex::default(),
            warnings: Mutex::default(),
        }
    }

    /// The summary as the reports received it (gates and broken rules included), once the run
    /// finished; and warnings for standard error (a baseline that could not be read).
    pub fn into_parts(self) -> (Option<Summary>, Vec<String>) {
        (
            self.judged.into_inner().unwrap_or_else(|p| p.into_inner()),
            self.warnings
                .into_inner()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }

    fn warn(&self, warning: String) {
        (self.warnings.lock().unwrap_or_else(|p| p.into_inner())).push(warning);
    }

    fn record(&self, test_name: &str, verdict: &Verdict, duration: Duration) {
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let samples = &mut *samples;
        let runs = match samples.steps.get_mut(test_name) {
            Some(runs) => runs,
            None => {
                samples.order.push(test_name.to_owned());
                samples.steps.entry(test_name.to_owned()).or_default()
            }
        };
        match verdict {
            Verdict::Passed | Verdict::Flaky | Verdict::Degraded => runs.passing.push(duration),
            Verdict::Failed | Verdict::TimedOut => runs.failed += 1,
            Verdict::Skipped(_) => return,
        }
        runs.ran += 1;
    }

    fn judge(&self, summary: &Summary) -> Summary {
        let samples = std::mem::take(&mut *self.samples.lock().unwrap_or_else(|p| p.into_inner()));
        let load = self
            .baseline
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let baseline = match load.map(JoinHandle::join) {
            None => BaselineDurations::new(),
            Some(Ok(Ok(found))) => found,
            Some(Ok(Err(error))) => {
                self.warn(format!("the gates have no baseline: {error}"));
                BaselineDurations::new()
            }
            Some(Err(_)) => {
                self.warn("the gates have no baseline: its reader failed".into());
                BaselineDurations::new()
            }
        };
        let report = GateReport {
            tables: (self.plan.gates.iter())
                .map(|gate| self.table(gate, &samples, &baseline))
                .collect(),
            failure_rate: self
                .plan
                .max_failure_rate
                .map(|max| failure_rate(max, &samples)),
        };
        let mut judged = summary.clone();
        judged.broken_rules.extend(broken_rules(&report));
        judged.gates = Some(report);
        judged
    }

    fn table(&self, gate: &Gate, samples: &Samples, baseline: &BaselineDurations) -> GateTable {
        let needed = MIN_BASELINE_RUNS.min(self.plan.baseline.runs);
        let rows = (samples.order.iter())
            .filter_map(|name| Some((name, samples.steps.get(name)?)))
            .map(|(name, runs)| {
                let past = baseline.get(name).map_or(&[][..], Vec::as_slice);
                judge_row(gate, name, &runs.passing, past, needed)
            })
            .collect();
        GateTable {
            gate: gate.to_string(),
            baseline: self.plan.baseline.to_string(),
            baseline_required: self.plan.require_baseline,
            rows,
        }
    }
}

/// `stat` over `durations`; `None` when empty.
fn statistic(stat: Stat, durations: &[Duration]) -> Option<Duration> {
    match stat {
        Stat::P50 => median(durations),
        Stat::P95 => p95(durations),
        Stat::Max => durations.iter().copied().max(),
    }
}

/// One step under `gate`: this run's passing samples against `past` (needing `needed` of them).
fn judge_row(
    gate: &Gate,
    name: &str,
    samples: &[Duration],
    past: &[Duration],
    needed: usize,
) -> GateRow {
    let now = statistic(gate.stat, samples);
    let base = (past.len() >= needed.max(1))
        .then(|| statistic(gate.stat, past))
        .flatten();
    let ratio = match (now, base) {
        (Some(now), Some(base)) if !base.is_zero() => Some(now.as_secs_f64() / base.as_secs_f64()),
        _ => None,
    };
    let verdict = match (now, base) {
        (None, _) => GateVerdict::NotJudged,
        (Some(_), None) => GateVerdict::NoBaseline,
        (Some(now), Some(base)) if gate.holds(now.as_secs_f64(), base.as_secs_f64()) => {
            GateVerdict::Kept
        }
        (Some(_), Some(_)) => GateVerdict::Broken,
    };
    GateRow {
        test_name: name.to_owned(),
        baseline: base,
        baseline_runs: past.len(),
        now,
        samples: samples.len(),
        ratio,
        verdict,
    }
}

fn failure_rate(max: f64, samples: &Samples) -> FailureRate {
    let mut failing_steps: Vec<(String, usize, usize)> = (samples.order.iter())
        .filter_map(|name| {
            let runs = samples.steps.get(name)?;
            (runs.failed > 0).then(|| (name.clone(), runs.failed, runs.ran))
        })
        .collect();
    failing_steps.sort_by_key(|step| std::cmp::Reverse(step.1));
    FailureRate {
        max,
        step_runs: samples.steps.values().map(|runs| runs.ran).sum(),
        failed: samples.steps.values().map(|runs| runs.failed).sum(),
        failing_steps,
    }
}

/// The rules the report's verdicts break: one per broken gate, one for the failure rate.
fn broken_rules(report: &GateReport) -> Vec<BrokenRule> {
    let mut rules: Vec<BrokenRule> = (report.tables.iter())
        .filter(|table| table.broken())
        .map(|table| BrokenRule::Gate {
            gate: table.gate.clone(),
            steps: (table.rows.iter())
                .filter(|row| table.row_broken(row))
                .map(|row| match row.verdict {
                    GateVerdict::NoBaseline => format!("{} (no baseline)", row.test_name),
                    _ => format!("{} {}", row.test_name, gate_ratio(row.ratio)),
                })
                .collect(),
        })
        .collect();
    if let Some(rate) = report.failure_rate.as_ref().filter(|rate| !rate.held()) {
        rules.push(BrokenRule::FailureRate {
            description: rate.describe(),
            steps: rate.steps_text(),
        });
    }
    rules
}

impl EventSink for Judge<'_> {
    fn emit(&self, event: Event) {
        match event {
            Event::StepFinished {
                ref step,
                setup: false,
                ref result,
                ..
            } => {
                self.record(&step.test_name, &result.verdict, result.duration);
                self.inner.emit(event);
            }
            Event::RunFinished(summary) => {
                let judged = self.judge(&summary);
                self.inner.emit(Event::RunFinished(judged.clone()));
                *self.judged.lock().unwrap_or_else(|p| p.into_inner()) = Some(judged);
            }
            other => self.inner.emit(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::spec::parse_gate;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().copied().map(Duration::from_millis).collect()
    }

    #[test]
    fn twice_the_baseline_breaks_a_one_and_a_half_gate_and_one_point_two_keeps_it() {
        let gate = parse_gate("p95 <= 1.5x baseline").unwrap();
        let past = ms(&[100, 102, 98, 101, 99, 100, 103, 97, 100, 100]);
        let slow = judge_row(&gate, "web::answer", &ms(&[200]), &past, 5);
        assert_eq!(slow.verdict, GateVerdict::Broken);
        assert_eq!(slow.baseline, Some(Duration::from_millis(103)));
        assert!((slow.ratio.unwrap() - 200.0 / 103.0).abs() < 1e-9);
        let fine = judge_row(&gate, "web::answer", &ms(&[120]), &past, 5);
        assert_eq!(fine.verdict, GateVerdict::Kept);
    }

    #[test]
    fn repeated_samples_are_summarised_by_the_gates_statistic() {
        let gate = parse_gate("p50 <= 2x baseline").unwrap();
        // One slow repetition in five: the median is unmoved.
        let row = judge_row(&gate, "a", &ms(&[10, 11, 90, 10, 12]), &ms(&[10; 5]), 5);
        assert_eq!(row.now, Some(Duration::from_millis(11)));
        assert_eq!(row.verdict, GateVerdict::Kept);
        let gate = parse_gate("max <= 2x baseline").unwrap();
        let row = judge_row(&gate, "a", &ms(&[10, 11, 90, 10, 12]), &ms(&[10; 5]), 5);
        assert_eq!(row.verdict, GateVerdict::Broken);
    }

    #[test]
    fn too_little_baseline_and_no_passing_sample_are_not_judged() {
        let gate = parse_gate("p95 <= 2x baseline").unwrap();
        let row = judge_row(&gate, "a", &ms(&[500]), &ms(&[10, 10]), 5);
        assert_eq!(
            (row.verdict, row.baseline_runs),
            (GateVerdict::NoBaseline, 2)
        );
        let row = judge_row(&gate, "a", &[], &ms(&[10; 5]), 5);
        assert_eq!(row.verdict, GateVerdict::NotJudged);
        // A zero baseline gives no ratio but still judges.
        let row = judge_row(&gate, "a", &ms(&[1]), &ms(&[0; 5]), 5);
        assert_eq!((row.ratio, row.verdict), (None, GateVerdict::Broken));
    }

    #[test]
    fn the_failure_rate_names_the_failing_steps_most_failures_first() {
        let mut samples = Samples::default();
        for (name, ran, failed) in [("a", 20, 1), ("b", 20, 2), ("c", 20, 0)] {
            samples.order.push(name.into());
            samples.steps.insert(
                name.into(),
                StepRuns {
                    passing: Vec::new(),
                    ran,
                    failed,
                },
            );
        }
        let rate = failure_rate(0.05, &samples);
        assert_eq!((rate.step_runs, rate.failed), (60, 3));
        assert!(rate.held());
        assert_eq!(rate.steps_text(), "b 2/20, a 1/20");
        let rate = failure_rate(0.04, &samples);
        assert!(!rate.held());
    }
}
