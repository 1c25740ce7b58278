//! `--format tap` and `--tap FILE`: TAP version 14, as `prove` and other TAP harnesses read it.
//!
//! One test point per selected step, numbered in the order steps finish (suites running in
//! parallel interleave, and TAP numbers are an order, not an identity; the description is the
//! step's test name). The plan `1..N` comes last, when the number is known even after an
//! interrupt. Failures carry a YAML diagnostic block (`message`, `severity`, `at`, then the
//! [`FailureDetails`] every report shows: command, status, duration, attempts, the failed
//! checks, env changes, leftovers, test dir, log; the output tail, the command that reproduces
//! it); skipped steps are `ok … # SKIP reason`; flaky steps are `ok` with their attempts in a
//! diagnostic block, degraded ones `ok` with their time beside their `warn_duration`
//! (`severity: warn`). Setup steps are not test points, so the
//! counts equal the summary's. Rules that fail the run without a failing step are comments; an
//! interrupted run ends with `Bail out!`.
//!
//! The YAML is the subset TAP harnesses parse (Perl's `TAP::Parser::YAMLish`): mappings, lists,
//! and every string double-quoted with `\xHH` escapes for control characters.

use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};

use super::{
    Actual, CheckFailure, CheckSubject, DegradedNote, DetailField, Event, FailureDetails,
    StepResult, Summary, Verdict,
};
use super::{Reporter, reproduce_command};
use crate::suite::{Step, Suite};

/// Writes a run as TAP 14.
pub struct TapReporter<W: Write> {
    out: BufWriter<W>,
    /// Test points written so far.
    written: usize,
}

impl<W: Write> TapReporter<W> {
    /// A reporter writing TAP to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: BufWriter::new(out),
            written: 0,
        }
    }

    fn test_point(&mut self, suite: &Suite, step: &Step, result: &StepResult) -> io::Result<()> {
        self.written += 1;
        let number = self.written;
        let name = description(&step.test_name);
        let mut text = match &result.verdict {
            Verdict::Passed | Verdict::Flaky | Verdict::Degraded => {
                format!("ok {number} - {name}\n")
            }
            Verdict::Failed | Verdict::TimedOut => format!("not ok {number} - {name}\n"),
            Verdict::Skipped(reason) => {
                format!(
                    "ok {number} - {name} # SKIP {}\n",
                    directive(&reason.to_string())
                )
            }
        };
        match result.verdict {
            Verdict::Failed | Verdict::TimedOut => failure_block(&mut text, suite, step, result),
            Verdict::Flaky => flaky_block(&mut text, result),
            Verdict::Degraded => degraded_block(&mut text, DegradedNote::of(suite, step, result)),
            _ => {}
        }
        self.out.write_all(text.as_bytes())?;
        // Test points arrive as steps finish; a harness reading a pipe sees each at once.
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        // The gates' table as comments: a TAP reader shows them, a TAP parser skips them.
        for line in summary.gates.iter().flat_map(|gates| gates.text_lines()) {
            writeln!(self.out, "# {}", directive(&line))?;
        }
        for rule in &summary.broken_rules {
            writeln!(self.out, "# {}", directive(&rule.to_string()))?;
        }
        writeln!(self.out, "1..{}", self.written)?;
        if summary.interrupted {
            writeln!(self.out, "Bail out! the run was interrupted")?;
        }
        self.out.flush()
    }
}

impl<W: Write> Reporter for TapReporter<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted(_) => {
                self.out.write_all(b"TAP version 14\n")?;
                self.out.flush()
            }
            Event::StepFinished {
                suite,
                step,
                setup: false,
                result,
                ..
            } => self.test_point(suite, step, result),
            Event::RunFinished(summary) => self.finish(summary),
            _ => Ok(()),
        }
    }
}

/// A test point's description: one line, `#` escaped (it would start a directive).
fn description(name: &str) -> String {
    one_line(name).replace('\\', "\\\\").replace('#', "\\#")
}

/// A directive's reason or a comment: one line.
fn directive(text: &str) -> String {
    one_line(text)
}

fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The YAML block of a failed step: its message and place, then the step's
/// [`FailureDetails`] (the fields every report shows, each under its key; the checks as one
/// list with their parts), the output's last lines, and the command that re-runs it.
fn failure_block(text: &mut String, suite: &Suite, step: &Step, result: &StepResult) {
    let message = match (&result.verdict, result.failures.first()) {
        (Verdict::TimedOut, _) | (_, None) => result.status.to_string(),
        (_, Some(first)) => first.to_string(),
    };
    text.push_str("  ---\n");
    field(text, "message", &message);
    text.push_str("  severity: fail\n");
    if let Some(location) = &step.location {
        text.push_str("  at:\n");
        let _ = writeln!(
            text,
            "    file: {}\n    line: {}",
            quoted(&location.file.display().to_string()),
            location.line
        );
    }
    let details = FailureDetails::new(step, result);
    let mut checks_written = false;
    for (detail, value) in details.fields() {
        match detail {
            DetailField::Check if checks_written => {}
            DetailField::Check => {
                checks_written = true;
                text.push_str("  failures:\n");
                for failure in details.checks {
                    check_item(text, failure);
                }
            }
            _ => field(text, detail.key(), value),
        }
    }
    let tail: Vec<&str> = details.output_tail.lines().collect();
    if !tail.is_empty() {
        text.push_str("  output:\n");
        for line in tail {
            let _ = writeln!(text, "    - {}", quoted(line));
        }
    }
    if let Some(command) = reproduce_command(suite, step) {
        field(text, "reproduce", &command);
    }
    text.push_str("  ...\n");
}

/// The YAML block of a step that passed on a retry.
fn flaky_block(text: &mut String, result: &StepResult) {
    text.push_str("  ---\n");
    field(
        text,
        "message",
        &format!("flaky: passed on attempt {}", result.attempts),
    );
    let _ = writeln!(text, "  attempts: {}", result.attempts);
    text.push_str("  ...\n");
}

/// The YAML block of a step that passed over its `warn_duration`.
fn degraded_block(text: &mut String, note: Option<DegradedNote>) {
    text.push_str("  ---\n");
    let message = note.map_or_else(|| "degraded".to_owned(), |note| format!("degraded: {note}"));
    field(text, "message", &message);
    text.push_str("  severity: warn\n");
    if let Some(note) = note {
        let _ = writeln!(text, "  duration_ms: {}", note.took.as_millis());
        let _ = writeln!(text, "  warn_duration_ms: {}", note.warn.as_millis());
    }
    text.push_str("  ...\n");
}

/// One failed check as a list item of mappings.
fn check_item(text: &mut String, failure: &CheckFailure) {
    let _ = writeln!(text, "    - check: {}", failure.kind.name());
    let subject = match &failure.subject {
        CheckSubject::Status => "status".to_owned(),
        CheckSubject::Stdout => "stdout".to_owned(),
        CheckSubject::Stderr => "stderr".to_owned(),
        CheckSubject::Output => "output".to_owned(),
        CheckSubject::File(path) => format!("file {path}"),
        CheckSubject::Step => "step".to_owned(),
    };
    let _ = writeln!(text, "      subject: {}", quoted(&subject));
    let _ = writeln!(text, "      message: {}", quoted(&failure.to_string()));
    let _ = writeln!(text, "      expected: {}", quoted(&failure.expected));
    match &failure.actual {
        Actual::Unknown => {}
        Actual::Text(actual) => {
            let _ = writeln!(text, "      actual: {}", quoted(actual));
        }
        Actual::Size(size) => {
            let _ = writeln!(text, "      actual_bytes: {size}");
        }
    }
}

fn field(text: &mut String, key: &str, value: &str) {
    let _ = writeln!(text, "  {key}: {}", quoted(value));
}

/// A YAML double-quoted scalar: `\\`, `\"`, `\n`, `\t`, `\r` and `\xHH` for other control
/// characters, which both YAML and `TAP::Parser::YAMLish` read back.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            // C1 controls and the Unicode line separators end lines for some YAML readers.
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_escapes_what_yaml_and_yamlish_need() {
        assert_eq!(quoted("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quoted("x\ny\t\u{1b}[0m\u{7f}"), r#""x\ny\t\x1b[0m\x7f""#);
        assert_eq!(quoted("é\u{85}"), "\"é\u{fffd}\"");
    }

    #[test]
    fn the_end_names_broken_rules_and_bails_out_after_an_interrupt() {
        let summary = Summary {
            counts: super::super::Counts::default(),
            duration: std::time::Duration::ZERO,
            finished_at: std::time::SystemTime::UNIX_EPOCH,
            interrupted: true,
            kept_test_dirs: Vec::new(),
            filtered_out: 0,
            leaked_processes: 0,
            skipped_suites: Vec::new(),
            broken_rules: vec![super::super::BrokenRule::FlakySteps(2)],
            gates: None,
        };
        let mut out = Vec::new();
        TapReporter::new(&mut out)
            .report(&Event::RunFinished(summary))
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# --flaky-fails: 2 step(s) passed only on a retry\n1..0\nBail out! the run was interrupted\n"
        );
    }

    #[test]
    fn descriptions_escape_the_directive_mark() {
        assert_eq!(description("a#b\\c\nd"), r"a\#b\\c d");
    }
}
