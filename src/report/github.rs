//! GitHub Actions (when `GITHUB_ACTIONS=true`): an `::error` annotation on the suite file's line
//! for each failing step, a `::warning` for each degraded one (passed over its `warn_duration`),
//! and the run's summary appended to `$GITHUB_STEP_SUMMARY` as Markdown
//! (failures first, each with its reproduce command).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::human::{DegradedCountNote, TimedOutNote};
use super::{
    DegradedNote, Event, GateReport, Summary, Verdict, gate_duration, gate_ratio, reproduce_command,
};
use crate::suite::Step;

/// Writes annotations to `A` (standard output) and the step summary to `S` at the end.
pub struct GithubReporter<A: Write, S: Write> {
    annotations: A,
    step_summary: Option<S>,
    failures: Vec<FailureRow>,
}

struct FailureRow {
    suite: String,
    step: String,
    timed_out: bool,
    details: String,
    reproduce: Option<String>,
}

impl<A: Write, S: Write> GithubReporter<A, S> {
    /// Annotations to `annotations`; the summary to `step_summary` when there is one.
    pub fn new(annotations: A, step_summary: Option<S>) -> Self {
        Self {
            annotations,
            step_summary,
            failures: Vec::new(),
        }
    }
}

impl<A: Write, S: Write> GithubReporter<A, S> {
    /// An `::error` for each step over its gate and for a failure rate over its maximum.
    fn gate_annotations(&mut self, gates: &GateReport) -> io::Result<()> {
        for table in &gates.tables {
            for row in table.rows.iter().filter(|row| table.row_broken(row)) {
                let title = format!("{} broke the gate {}", row.test_name, table.gate);
                let message = format!(
                    "baseline ({}) {}, now {}, ratio {}: {}",
                    table.baseline,
                    gate_duration(row.baseline),
                    gate_duration(row.now),
                    gate_ratio(row.ratio),
                    table.verdict_text(row)
                );
                writeln!(
                    self.annotations,
                    "::error title={}::{}",
                    escape_property(&title),
                    escape_data(&message)
                )?;
            }
        }
        if let Some(rate) = gates.failure_rate.as_ref().filter(|rate| !rate.held()) {
            writeln!(
                self.annotations,
                "::error title=failure rate over --max-failure-rate::{}",
                escape_data(&format!("{}: {}", rate.describe(), rate.steps_text()))
            )?;
        }
        self.annotations.flush()
    }

    /// A `::warning` on the line of a step that passed over its `warn_duration`.
    fn degraded_annotation(
        &mut self,
        step: &Step,
        setup: bool,
        note: Option<DegradedNote>,
    ) -> io::Result<()> {
        let setup_note = if setup { " (setup)" } else { "" };
        let title = format!("{}{setup_note} degraded", step.test_name);
        let message = note.map_or_else(
            || "passed over its warn_duration".to_owned(),
            |note| format!("passed, but {note}"),
        );
        writeln!(
            self.annotations,
            "::warning {}title={}::{}",
            location_properties(step),
            escape_property(&title),
            escape_data(&message)
        )?;
        self.annotations.flush()
    }
}

/// `file=…,line=…,` for an annotation on the step's line, when it has one.
fn location_properties(step: &Step) -> String {
    step.location.as_ref().map_or_else(String::new, |location| {
        format!(
            "file={},line={},",
            escape_property(&location.file.display().to_string()),
            location.line
        )
    })
}

impl<A: Write, S: Write> super::Reporter for GithubReporter<A, S> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::StepFinished {
                suite,
                step,
                setup,
                result,
                ..
            } if result.verdict.is_failure() => {
                let timed_out = result.verdict == Verdict::TimedOut;
                let mut details: Vec<String> =
                    result.failures.iter().map(ToString::to_string).collect();
                if timed_out || details.is_empty() {
                    details.insert(0, result.status.to_string());
                }
                let reproduce = reproduce_command(suite, step);
                let mut message = details.join("\n");
                if let Some(command) = &reproduce {
                    let _ = write!(message, "\nreproduce: {command}");
                }
                let what = if timed_out { "timed out" } else { "failed" };
                let setup_note = if *setup { " (setup)" } else { "" };
                let title = format!("{}{setup_note} {what}", step.test_name);
                writeln!(
                    self.annotations,
                    "::error {}title={}::{}",
                    location_properties(step),
                    escape_property(&title),
                    escape_data(&message)
                )?;
                self.annotations.flush()?;
                self.failures.push(FailureRow {
                    suite: suite.name.clone(),
                    step: step.name.clone(),
                    timed_out,
                    details: details.join("\n"),
                    reproduce,
                });
                Ok(())
            }
            Event::StepFinished {
                suite,
                step,
                setup,
                result,
                ..
            } if result.verdict == Verdict::Degraded => {
                self.degraded_annotation(step, *setup, DegradedNote::of(suite, step, result))
            }
            Event::RunFinished(summary) => {
                if let Some(gates) = &summary.gates {
                    self.gate_annotations(gates)?;
                }
                if let Some(mut out) = self.step_summary.take() {
                    out.write_all(markdown(summary, &self.failures).as_bytes())?;
                    out.flush()?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// A workflow command's message: `%`, CR and LF escaped.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property: as [`escape_data`], and `:` and `,` too.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A Markdown table cell: no pipes, no line breaks.
/// Each gate as a Markdown table; the failure rate as a line.
fn gates_markdown(text: &mut String, gates: &GateReport) {
    for table in &gates.tables {
        let _ = writeln!(
            text,
            "**Gate `{}`** against baseline {}\n",
            cell(&table.gate),
            cell(&table.baseline)
        );
        let _ = writeln!(text, "| Step | Baseline | Now | Ratio | Verdict |");
        let _ = writeln!(text, "|---|---|---|---|---|");
        for row in &table.rows {
            let _ = writeln!(
                text,
                "| {} | {} | {} | {} | {} |",
                cell(&row.test_name),
                gate_duration(row.baseline),
                gate_duration(row.now),
                gate_ratio(row.ratio),
                table.verdict_text(row)
            );
        }
        text.push('\n');
    }
    if let Some(rate) = &gates.failure_rate {
        let _ = writeln!(text, "- failure rate: {}\n", cell(&rate.describe()));
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

fn markdown(summary: &Summary, failures: &[FailureRow]) -> String {
    let counts = &summary.counts;
    let mut text = String::new();
    let mark = if summary.success() { "✅" } else { "❌" };
    // The same closing line as the human report: flaky steps apart from the passed ones, as
    // in the table below.
    let flaky = if counts.flaky > 0 {
        format!(", {} flaky", counts.flaky)
    } else {
        String::new()
    };
    let _ = writeln!(
        text,
        "### {mark} smoke-runner: {} passed{}{flaky}, {} failed{}, {} skipped\n",
        counts.passed,
        DegradedCountNote(counts),
        counts.failed,
        TimedOutNote(counts),
        counts.skipped
    );
    let _ = writeln!(
        text,
        "| Total | Passed | Degraded | Flaky | Failed | Timeouts | Skipped | Duration |"
    );
    let _ = writeln!(text, "|---|---|---|---|---|---|---|---|");
    let _ = writeln!(
        text,
        "| {} | {} | {} | {} | {} | {} | {} | {:.1}s |\n",
        counts.total(),
        counts.passed,
        counts.degraded,
        counts.flaky,
        counts.failed,
        counts.timed_out,
        counts.skipped,
        summary.duration.as_secs_f64()
    );
    if !failures.is_empty() {
        let _ = writeln!(text, "| | Suite | Step | Details | Reproduce |");
        let _ = writeln!(text, "|---|---|---|---|---|");
        for row in failures {
            let _ = writeln!(
                text,
                "| {} | {} | {} | {} | {} |",
                if row.timed_out { "⏱" } else { "✗" },
                cell(&row.suite),
                cell(&row.step),
                cell(&row.details),
                row.reproduce
                    .as_deref()
                    .map(|c| format!("`{}`", cell(c)))
                    .unwrap_or_default()
            );
        }
        text.push('\n');
    }
    for (suite, reason) in &summary.skipped_suites {
        let _ = writeln!(
            text,
            "- skipped suite **{}**: {}",
            cell(suite),
            cell(&reason.to_string())
        );
    }
    if let Some(gates) = &summary.gates {
        gates_markdown(&mut text, gates);
    }
    for rule in &summary.broken_rules {
        let _ = writeln!(text, "- run failed by {}", cell(&rule.to_string()));
    }
    text.push('\n');
    text
}
