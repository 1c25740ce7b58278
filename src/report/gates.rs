//! What the deploy gates found, as data carried by the run's summary: one table per `--gate`
//! (step, baseline, now, ratio, verdict) and the failure rate over repeated runs. Every report
//! renders these values in its own form; [`GateReport::text_lines`] is the plain-text table the
//! text reports share.

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Everything the gates of a run decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GateReport {
    /// One table per `--gate`, in the order given.
    pub tables: Vec<GateTable>,
    /// `--max-failure-rate`, when given.
    pub failure_rate: Option<FailureRate>,
}

/// One `--gate` over every step that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct GateTable {
    /// The gate as written canonically (`p95 <= 1.5x baseline`).
    pub gate: String,
    /// The baseline it compares with (`last:20`).
    pub baseline: String,
    /// Whether a step with too little baseline breaks the gate (`--require-baseline`).
    pub baseline_required: bool,
    /// One row per step, in the order the steps first finished.
    pub rows: Vec<GateRow>,
}

/// One step under one gate.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRow {
    /// The step's test name.
    pub test_name: String,
    /// The baseline's statistic; `None` when too few past runs passed.
    pub baseline: Option<Duration>,
    /// How many past passing runs the baseline is made of.
    pub baseline_runs: usize,
    /// This run's statistic over its passing samples; `None` when none passed.
    pub now: Option<Duration>,
    /// How many passing samples this run has of the step (more than one with `--repeat`).
    pub samples: usize,
    /// now / baseline, when both are known and the baseline is not zero.
    pub ratio: Option<f64>,
    /// What the gate says.
    pub verdict: GateVerdict,
}

/// What a line of the gates' text says, for reports that paint it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateLine {
    /// A gate's heading or its column names.
    Heading,
    /// A step within its gate; a failure rate that held.
    Kept,
    /// A step over its gate; a failure rate over its maximum.
    Broken,
    /// A step not judged (too little baseline, no passing sample).
    Note,
}

/// A gate's verdict on one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateVerdict {
    /// Within the gate.
    Kept,
    /// Over it.
    Broken,
    /// Too little baseline to judge (breaks the gate only with `--require-baseline`).
    NoBaseline,
    /// No passing sample in this run: its failure is reported as a failure, not here.
    NotJudged,
}

impl GateVerdict {
    /// The word reports print.
    pub fn as_str(self) -> &'static str {
        match self {
            GateVerdict::Kept => "ok",
            GateVerdict::Broken => "BROKEN",
            GateVerdict::NoBaseline => "no baseline",
            GateVerdict::NotJudged => "not judged",
        }
    }
}

/// `--max-failure-rate` over every step run of the run (every repetition counted).
#[derive(Debug, Clone, PartialEq)]
pub struct FailureRate {
    /// The largest fraction of step runs that may fail.
    pub max: f64,
    /// Step runs that ran (skips not counted).
    pub step_runs: usize,
    /// Of those, the ones that failed or timed out.
    pub failed: usize,
    /// The steps that failed at least once: test name, failures, runs. Most failures first.
    pub failing_steps: Vec<(String, usize, usize)>,
}

impl FailureRate {
    /// failed / step runs (0 when nothing ran).
    pub fn rate(&self) -> f64 {
        if self.step_runs == 0 {
            0.0
        } else {
            self.failed as f64 / self.step_runs as f64
        }
    }

    /// Whether the rate stayed within the maximum.
    pub fn held(&self) -> bool {
        self.rate() <= self.max
    }

    /// `10% of 20 step runs failed (at most 5%)`.
    pub fn describe(&self) -> String {
        format!(
            "{} of {} step runs failed ({}; at most {})",
            self.failed,
            self.step_runs,
            percent(self.rate()),
            percent(self.max)
        )
    }

    /// `http::answer 2/20, db::ping 1/20`.
    pub fn steps_text(&self) -> String {
        let parts: Vec<String> = self
            .failing_steps
            .iter()
            .map(|(name, failed, runs)| format!("{name} {failed}/{runs}"))
            .collect();
        parts.join(", ")
    }
}

/// `5%`, `12.5%`.
pub fn percent(fraction: f64) -> String {
    let value = fraction * 100.0;
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}%")
    } else {
        format!("{value:.1}%")
    }
}

/// A duration as the gate tables print it: `412ms`, `1.25s`; `-` when unknown.
pub fn gate_duration(duration: Option<Duration>) -> String {
    match duration {
        None => "-".into(),
        Some(d) if d < Duration::from_secs(1) => format!("{:.1}ms", d.as_secs_f64() * 1000.0),
        Some(d) => format!("{:.2}s", d.as_secs_f64()),
    }
}

/// `2.01x`; `-` when unknown.
pub fn gate_ratio(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "-".into(), |r| format!("{r:.2}x"))
}

impl GateReport {
    /// Whether any gate was broken (the failure rate included).
    pub fn broken(&self) -> bool {
        self.tables.iter().any(GateTable::broken)
            || self.failure_rate.as_ref().is_some_and(|rate| !rate.held())
    }

    /// Whether step failures are judged by the failure rate rather than one by one: a run
    /// with `--max-failure-rate` whose rate held passes although some step runs failed.
    pub fn failures_within_rate(&self) -> bool {
        self.failure_rate.as_ref().is_some_and(FailureRate::held)
    }

    /// The tables and the failure rate as plain text, one line each: a heading per gate, then
    /// aligned columns.
    pub fn text_lines(&self) -> Vec<String> {
        self.lines().into_iter().map(|(_, line)| line).collect()
    }

    /// [`GateReport::text_lines`], each line with what it says, for reports that paint.
    pub fn lines(&self) -> Vec<(GateLine, String)> {
        let mut lines = Vec::new();
        for table in &self.tables {
            lines.push((
                GateLine::Heading,
                format!("Gate `{}` against baseline {}:", table.gate, table.baseline),
            ));
            let width = (table.rows.iter())
                .map(|row| row.test_name.chars().count())
                .max()
                .unwrap_or(0)
                .max(4);
            lines.push((
                GateLine::Heading,
                format!(
                    "  {:<width$}  {:>10}  {:>10}  {:>7}  verdict",
                    "step", "baseline", "now", "ratio"
                ),
            ));
            for row in &table.rows {
                let mut line = format!(
                    "  {:<width$}  {:>10}  {:>10}  {:>7}  {}",
                    row.test_name,
                    gate_duration(row.baseline),
                    gate_duration(row.now),
                    gate_ratio(row.ratio),
                    table.verdict_text(row),
                );
                if row.verdict == GateVerdict::NoBaseline {
                    let _ = write!(line, " ({} passing past runs)", row.baseline_runs);
                }
                let kind = match row.verdict {
                    _ if table.row_broken(row) => GateLine::Broken,
                    GateVerdict::NoBaseline | GateVerdict::NotJudged => GateLine::Note,
                    _ => GateLine::Kept,
                };
                lines.push((kind, line));
            }
        }
        if let Some(rate) = &self.failure_rate {
            let mut line = format!("Failure rate: {}", rate.describe());
            if !rate.failing_steps.is_empty() {
                let _ = write!(line, ": {}", rate.steps_text());
            }
            let kind = if rate.held() {
                GateLine::Kept
            } else {
                GateLine::Broken
            };
            lines.push((kind, line));
        }
        lines
    }
}

impl GateTable {
    /// Whether a row breaks the gate.
    pub fn row_broken(&self, row: &GateRow) -> bool {
        match row.verdict {
            GateVerdict::Broken => true,
            GateVerdict::NoBaseline => self.baseline_required,
            GateVerdict::Kept | GateVerdict::NotJudged => false,
        }
    }

    /// Whether any row breaks the gate.
    pub fn broken(&self) -> bool {
        self.rows.iter().any(|row| self.row_broken(row))
    }

    /// The verdict's word, `BROKEN` also for a missing baseline that was required.
    pub fn verdict_text(&self, row: &GateRow) -> &'static str {
        if row.verdict == GateVerdict::NoBaseline && self.baseline_required {
            "BROKEN: no baseline"
        } else {
            row.verdict.as_str()
        }
    }
}

/// The gates in the event JSON (`run_finished`'s `gates`, docs/events.md) and in the libtest
/// JSON's suite end: durations in seconds, `null` when unknown.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonGates {
    /// Whether a gate or the failure rate was broken.
    pub broken: bool,
    /// One per `--gate`.
    pub tables: Vec<JsonGateTable>,
    /// `--max-failure-rate`, when given.
    pub failure_rate: Option<JsonFailureRate>,
}

/// One `--gate`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonGateTable {
    /// `p95 <= 1.5x baseline`.
    pub gate: String,
    /// `last:20`.
    pub baseline: String,
    /// `--require-baseline`.
    pub baseline_required: bool,
    /// Whether a row broke it.
    pub broken: bool,
    /// One per step.
    pub rows: Vec<JsonGateRow>,
}

/// One step under one gate.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonGateRow {
    /// The step's test name.
    pub test_name: String,
    /// The baseline's statistic.
    pub baseline_secs: Option<f64>,
    /// Past passing runs it is made of.
    pub baseline_runs: usize,
    /// This run's statistic.
    pub now_secs: Option<f64>,
    /// This run's passing samples.
    pub samples: usize,
    /// now / baseline.
    pub ratio: Option<f64>,
    /// `ok`, `BROKEN`, `no baseline`, `BROKEN: no baseline`, `not judged`.
    pub verdict: String,
}

/// `--max-failure-rate`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonFailureRate {
    /// The maximum, a fraction.
    pub max: f64,
    /// failed / step runs.
    pub rate: f64,
    /// Step runs that ran.
    pub step_runs: usize,
    /// Of those, failed.
    pub failed: usize,
    /// Whether the rate held.
    pub held: bool,
    /// The steps that failed at least once.
    pub failing_steps: Vec<JsonFailingStep>,
}

/// A step that failed in some of its runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonFailingStep {
    /// Its test name.
    pub test_name: String,
    /// How many of its runs failed.
    pub failed: usize,
    /// How many ran.
    pub runs: usize,
}

impl JsonGates {
    /// The report as the schema writes it.
    pub fn of(gates: &GateReport) -> Self {
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        let table = |table: &GateTable| JsonGateTable {
            gate: table.gate.clone(),
            baseline: table.baseline.clone(),
            baseline_required: table.baseline_required,
            broken: table.broken(),
            rows: (table.rows.iter())
                .map(|row| JsonGateRow {
                    test_name: row.test_name.clone(),
                    baseline_secs: secs(row.baseline),
                    baseline_runs: row.baseline_runs,
                    now_secs: secs(row.now),
                    samples: row.samples,
                    ratio: row.ratio,
                    verdict: table.verdict_text(row).to_owned(),
                })
                .collect(),
        };
        Self {
            broken: gates.broken(),
            tables: gates.tables.iter().map(table).collect(),
            failure_rate: gates.failure_rate.as_ref().map(|rate| JsonFailureRate {
                max: rate.max,
                rate: rate.rate(),
                step_runs: rate.step_runs,
                failed: rate.failed,
                held: rate.held(),
                failing_steps: (rate.failing_steps.iter())
                    .map(|(name, failed, runs)| JsonFailingStep {
                        test_name: name.clone(),
                        failed: *failed,
                        runs: *runs,
                    })
                    .collect(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: u64) -> Option<Duration> {
        Some(Duration::from_millis(value))
    }

    #[test]
    fn the_table_lines_up_and_names_each_verdict() {
        let report = GateReport {
            tables: vec![GateTable {
                gate: "p95 <= 1.5x baseline".into(),
                baseline: "last:10".into(),
                baseline_required: false,
                rows: vec![
                    GateRow {
                        test_name: "web::answer".into(),
                        baseline: ms(300),
                        baseline_runs: 10,
                        now: ms(603),
                        samples: 1,
                        ratio: Some(2.01),
                        verdict: GateVerdict::Broken,
                    },
                    GateRow {
                        test_name: "web::new step".into(),
                        baseline: None,
                        baseline_runs: 2,
                        now: ms(12),
                        samples: 1,
                        ratio: None,
                        verdict: GateVerdict::NoBaseline,
                    },
                ],
            }],
            failure_rate: Some(FailureRate {
                max: 0.05,
                step_runs: 20,
                failed: 2,
                failing_steps: vec![("web::answer".into(), 2, 20)],
            }),
        };
        assert!(report.broken());
        assert!(!report.failures_within_rate());
        assert_eq!(
            report.text_lines().join("\n"),
            [
                "Gate `p95 <= 1.5x baseline` against baseline last:10:",
                "  step             baseline         now    ratio  verdict",
                "  web::answer       300.0ms     603.0ms    2.01x  BROKEN",
                "  web::new step           -      12.0ms        -  no baseline (2 passing past runs)",
                "Failure rate: 2 of 20 step runs failed (10%; at most 5%): web::answer 2/20",
            ]
            .join("\n")
        );
    }

    #[test]
    fn a_missing_baseline_breaks_the_gate_only_when_required() {
        let mut table = GateTable {
            gate: "p50 <= 2x baseline".into(),
            baseline: "last:20".into(),
            baseline_required: false,
            rows: vec![GateRow {
                test_name: "a".into(),
                baseline: None,
                baseline_runs: 0,
                now: ms(1),
                samples: 1,
                ratio: None,
                verdict: GateVerdict::NoBaseline,
            }],
        };
        assert!(!table.broken());
        table.baseline_required = true;
        assert!(table.broken());
        assert_eq!(table.verdict_text(&table.rows[0]), "BROKEN: no baseline");
    }
}
