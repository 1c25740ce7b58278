//! `/metrics` in the Prometheus text format (version 0.0.4): last outcome per suite and per
//! step, the run-duration histogram, the time of each suite's last run, runs by result, queue
//! length. Label values are masked and escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use crate::mask::Masker;

use super::health::{DURATION_BUCKETS, SuiteState, Totals};

/// The exposition text.
pub fn render(
    masker: &Masker,
    suites: &BTreeMap<String, SuiteState>,
    totals: &Totals,
    queued: usize,
    running: usize,
) -> String {
    let mut out = String::new();
    let labels = Labels { masker, suites };
    labels.suite_gauge(
        &mut out,
        (
            "smoke_suite_passed",
            "1 when the suite's latest run passed, 0 when it failed.",
        ),
        |state| u8::from(state.passed).to_string(),
    );
    labels.suite_gauge(
        &mut out,
        (
            "smoke_suite_consecutive_failures",
            "Failed runs of the suite in a row.",
        ),
        |state| state.consecutive_failures.to_string(),
    );
    labels.suite_gauge(
        &mut out,
        (
            "smoke_suite_last_run_timestamp_seconds",
            "When the suite's latest run ended (Unix time).",
        ),
        |state| {
            let at =
                (state.finished_at.duration_since(UNIX_EPOCH)).map_or(0.0, |d| d.as_secs_f64());
            format!("{at:.3}")
        },
    );
    labels.step_gauge(
        &mut out,
        (
            "smoke_step_passed",
            "1 when the step passed (or was skipped) in its suite's latest run, 0 when it failed or timed out.",
        ),
        |verdict, _| u8::from(!matches!(verdict, "failed" | "timed_out")).to_string(),
    );
    labels.step_gauge(
        &mut out,
        (
            "smoke_step_degraded",
            "1 when the step passed but took longer than its warn_duration in its suite's latest run.",
        ),
        |verdict, _| u8::from(verdict == "degraded").to_string(),
    );
    labels.step_gauge(
        &mut out,
        (
            "smoke_step_duration_seconds",
            "The step's duration in its suite's latest run.",
        ),
        |_, duration| format!("{:.3}", duration.as_secs_f64()),
    );
    histogram(&mut out, totals);
    runs(&mut out, totals, queued, running);
    out
}

/// Runs by result, and the queue.
fn runs(out: &mut String, totals: &Totals, queued: usize, running: usize) {
    header(
        out,
        "smoke_runs_total",
        "counter",
        "Finished runs by result since the monitor started.",
    );
    for status in ["passed", "failed", "cancelled", "interrupted"] {
        let count = totals.runs_by_status.get(status).copied().unwrap_or(0);
        let _ = writeln!(out, "smoke_runs_total{{result=\"{status}\"}} {count}");
    }
    header(out, "smoke_queue_length", "gauge", "Runs waiting to start.");
    let _ = writeln!(out, "smoke_queue_length {queued}");
    header(out, "smoke_runs_running", "gauge", "Runs running.");
    let _ = writeln!(out, "smoke_runs_running {running}");
}

/// The watched suites, with their names (and their steps') made into masked label values.
struct Labels<'a> {
    masker: &'a Masker,
    suites: &'a BTreeMap<String, SuiteState>,
}

impl Labels<'_> {
    fn label(&self, text: &str) -> String {
        escape(&self.masker.mask(text))
    }

    /// A gauge with one sample per suite, `(name, help)`.
    fn suite_gauge(
        &self,
        out: &mut String,
        (metric, help): (&str, &str),
        value: impl Fn(&SuiteState) -> String,
    ) {
        header(out, metric, "gauge", help);
        for (name, state) in self.suites {
            let _ = writeln!(
                out,
                "{metric}{{suite=\"{}\"}} {}",
                self.label(name),
                value(state)
            );
        }
    }

    /// A gauge with one sample per step of each suite's latest run, `(name, help)`.
    fn step_gauge(
        &self,
        out: &mut String,
        (metric, help): (&str, &str),
        value: impl Fn(&str, Duration) -> String,
    ) {
        header(out, metric, "gauge", help);
        for (name, state) in self.suites {
            for (step, (verdict, duration)) in &state.steps {
                let _ = writeln!(
                    out,
                    "{metric}{{suite=\"{}\",step=\"{}\"}} {}",
                    self.label(name),
                    self.label(step),
                    value(verdict, *duration)
                );
            }
        }
    }
}

fn histogram(out: &mut String, totals: &Totals) {
    header(
        out,
        "smoke_run_duration_seconds",
        "histogram",
        "How long runs took.",
    );
    let mut cumulative = 0;
    for (bound, count) in DURATION_BUCKETS.iter().zip(&totals.duration_buckets) {
        cumulative += count;
        let _ = writeln!(
            out,
            "smoke_run_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
        );
    }
    let total: u64 = totals.duration_buckets.iter().sum();
    let _ = writeln!(
        out,
        "smoke_run_duration_seconds_bucket{{le=\"+Inf\"}} {total}"
    );
    let _ = writeln!(
        out,
        "smoke_run_duration_seconds_sum {:.6}",
        totals.duration_sum
    );
    let _ = writeln!(out, "smoke_run_duration_seconds_count {total}");
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the format wants it: `\`, `"` and newlines escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
