//! `/metrics` in the Prometheus text format (version 0.0.4): last outcome per suite and per
//! step, the run-duration histogram, the time of each suite's last run, runs by result, queue
//! length. Label values are masked and escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

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
    let label = |text: &str| escape(&masker.mask(text));
    header(
        &mut out,
        "smoke_suite_passed",
        "gauge",
        "1 when the suite's latest run passed, 0 when it failed.",
    );
    for (name, state) in suites {
        let _ = writeln!(
            out,
            "smoke_suite_passed{{suite=\"{}\"}} {}",
            label(name),
            u8::from(state.passed)
        );
    }
    header(
        &mut out,
        "smoke_suite_consecutive_failures",
        "gauge",
        "Failed runs of the suite in a row.",
    );
    for (name, state) in suites {
        let _ = writeln!(
            out,
            "smoke_suite_consecutive_failures{{suite=\"{}\"}} {}",
            label(name),
            state.consecutive_failures
        );
    }
    header(
        &mut out,
        "smoke_suite_last_run_timestamp_seconds",
        "gauge",
        "When the suite's latest run ended (Unix time).",
    );
    for (name, state) in suites {
        let at = state
            .finished_at
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let _ = writeln!(
            out,
            "smoke_suite_last_run_timestamp_seconds{{suite=\"{}\"}} {at:.3}",
            label(name)
        );
    }
    header(
        &mut out,
        "smoke_step_passed",
        "gauge",
        "1 when the step passed (or was skipped) in its suite's latest run, 0 when it failed or timed out.",
    );
    for (name, state) in suites {
        for (step, (verdict, _)) in &state.steps {
            let passed = u8::from(!matches!(*verdict, "failed" | "timed_out"));
            let _ = writeln!(
                out,
                "smoke_step_passed{{suite=\"{}\",step=\"{}\"}} {passed}",
                label(name),
                label(step)
            );
        }
    }
    header(
        &mut out,
        "smoke_step_degraded",
        "gauge",
        "1 when the step passed but took longer than its warn_duration in its suite's latest run.",
    );
    for (name, state) in suites {
        for (step, (verdict, _)) in &state.steps {
            let _ = writeln!(
                out,
                "smoke_step_degraded{{suite=\"{}\",step=\"{}\"}} {}",
                label(name),
                label(step),
                u8::from(*verdict == "degraded")
            );
        }
    }
    header(
        &mut out,
        "smoke_step_duration_seconds",
        "gauge",
        "The step's duration in its suite's latest run.",
    );
    for (name, state) in suites {
        for (step, (_, duration)) in &state.steps {
            let _ = writeln!(
                out,
                "smoke_step_duration_seconds{{suite=\"{}\",step=\"{}\"}} {:.3}",
                label(name),
                label(step),
                duration.as_secs_f64()
            );
        }
    }
    histogram(&mut out, totals);
    header(
        &mut out,
        "smoke_runs_total",
        "counter",
        "Finished runs by result since the monitor started.",
    );
    for status in ["passed", "failed", "cancelled", "interrupted"] {
        let count = totals.runs_by_status.get(status).copied().unwrap_or(0);
        let _ = writeln!(out, "smoke_runs_total{{result=\"{status}\"}} {count}");
    }
    header(
        &mut out,
        "smoke_queue_length",
        "gauge",
        "Runs waiting to start.",
    );
    let _ = writeln!(out, "smoke_queue_length {queued}");
    header(&mut out, "smoke_runs_running", "gauge", "Runs running.");
    let _ = writeln!(out, "smoke_runs_running {running}");
    out
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
