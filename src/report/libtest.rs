//! The libtest formats (`--format pretty|terse|json`, `-q`), as `cargo test` users read them.
//!
//! One consumer of the event stream like any other: it formats events and never runs anything.
//! The text follows libtest's (`running N tests`, `test name ... ok`, the `failures:` block,
//! `test result: …`), so tools that read `cargo test` output read this too. The JSON lines
//! follow libtest's unstable JSON format, with more detail: `exec_time`, the failure report in
//! `stdout`, the skip reason in `message`, `timed_out` for timeouts (on a test, `true`; on the
//! closing `suite` event, how many of `failed` timed out; before `test result:`, `timeouts: N`).
//!
//! With `--show-output` (or `--nocapture`), passing steps' output follows libtest's
//! `successes:` block (and the `stdout` of `ok` JSON events), as the scheduler kept it: the
//! last lines, secrets masked. Failures carry what the human report shows a reader: command,
//! status, checks, environment changes, test dir, log and the command that re-runs the step.

use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};

use owo_colors::Style;

use super::gates::JsonGates;
use super::{
    DegradedNote, Event, FailureDetails, Reporter, RunStart, StepResult, Summary, Verdict,
    reproduce_command,
};
use crate::suite::{Step, Suite};

/// Which libtest format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibtestFormat {
    /// One line per test.
    Pretty,
    /// One character per test.
    Terse,
    /// One JSON object per line.
    Json,
}

/// Writes a run in a libtest format.
pub struct LibtestReporter<W: Write> {
    out: BufWriter<W>,
    format: LibtestFormat,
    color: bool,
    name_width: usize,
    /// With one suite at a time, `test name ... ` is written when a step starts, so a long step
    /// shows what it is waiting for; with several, whole lines are written when steps finish.
    live_names: bool,
    /// Whether passing steps' output is shown (`--show-output`, `--nocapture`).
    show_output: bool,
    /// Passing tests and their output, for the `successes:` block.
    successes: Vec<(String, String)>,
    /// Failed steps and their reports, for the `failures:` block.
    failures: Vec<(String, String)>,
}

impl<W: Write> LibtestReporter<W> {
    /// A reporter writing `format` to `out`, with ANSI colours when `color` is true.
    pub fn new(out: W, format: LibtestFormat, color: bool) -> Self {
        Self {
            out: BufWriter::new(out),
            format,
            color,
            name_width: 0,
            live_names: false,
            show_output: false,
            successes: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Shows the output of passing steps too, as libtest's `--show-output` does: a
    /// `successes:` block in `pretty` and `terse`, `stdout` in the JSON `ok` events. The
    /// scheduler keeps passing steps' output only when asked to (`Settings::show_output`).
    pub fn with_show_output(mut self, show_output: bool) -> Self {
        self.show_output = show_output;
        self
    }

    fn run_started(&mut self, start: &RunStart) -> io::Result<()> {
        self.name_width = start.longest_name;
        self.live_names = start.jobs == 1 && self.format == LibtestFormat::Pretty;
        match self.format {
            LibtestFormat::Pretty | LibtestFormat::Terse => {
                let s = if start.steps == 1 { "" } else { "s" };
                write!(self.out, "\nrunning {} test{s}\n", start.steps)?;
            }
            LibtestFormat::Json => writeln!(
                self.out,
                r#"{{ "type": "suite", "event": "started", "test_count": {} }}"#,
                start.steps
            )?,
        }
        self.out.flush()
    }

    fn step_started(&mut self, step: &Step, setup: bool, attempt: u32) -> io::Result<()> {
        if attempt > 1 || setup {
            return Ok(());
        }
        match self.format {
            LibtestFormat::Pretty if self.live_names => {
                self.write_name("test", &step.test_name)?;
                self.out.flush()
            }
            LibtestFormat::Pretty | LibtestFormat::Terse => Ok(()),
            LibtestFormat::Json => {
                writeln!(
                    self.out,
                    r#"{{ "type": "test", "event": "started", "name": {} }}"#,
                    json(&step.test_name)
                )?;
                self.out.flush()
            }
        }
    }

    fn write_name(&mut self, word: &str, name: &str) -> io::Result<()> {
        write!(self.out, "{word} {name:<0$} ... ", self.name_width)
    }

    fn step_finished(
        &mut self,
        suite: &Suite,
        step: &Step,
        setup: bool,
        result: &StepResult,
    ) -> io::Result<()> {
        let ran = !matches!(result.verdict, Verdict::Skipped(_));
        let name = &step.test_name;
        if result.verdict.is_failure() {
            let (title, rerun) = if setup {
                // A setup step is not a test of its own: re-running it alone means little.
                (format!("{name} (setup)"), None)
            } else {
                (name.clone(), reproduce_command(suite, step))
            };
            let message = failure_message(step, result, rerun.as_deref());
            self.failures.push((title, message));
        } else if result.passed() && !setup && self.show_output {
            self.successes
                .push((name.clone(), result.output_tail.clone()));
        }
        match self.format {
            LibtestFormat::Pretty => {
                if setup {
                    self.write_name("setup", name)?;
                } else if !(self.live_names && ran) {
                    self.write_name("test", name)?;
                }
                self.write_outcome(&result.verdict, DegradedNote::of(suite, step, result))?;
                writeln!(self.out)?;
            }
            LibtestFormat::Terse if setup => {}
            LibtestFormat::Terse => {
                let (c, style) = match &result.verdict {
                    Verdict::Passed | Verdict::Flaky => ('.', Style::new().green()),
                    Verdict::Degraded => ('.', Style::new().yellow()),
                    Verdict::Failed | Verdict::TimedOut => ('F', Style::new().red()),
                    Verdict::Skipped(_) => ('i', Style::new().yellow()),
                };
                self.paint(style, &c.to_string())?;
            }
            LibtestFormat::Json if setup => {}
            LibtestFormat::Json => {
                let stdout = match &result.verdict {
                    Verdict::Failed | Verdict::TimedOut => {
                        self.failures.last().map(|(_, report)| report.clone())
                    }
                    // As libtest captures it: whole lines.
                    Verdict::Passed | Verdict::Flaky | Verdict::Degraded
                        if self.show_output && !result.output_tail.is_empty() =>
                    {
                        Some(lines(&result.output_tail))
                    }
                    Verdict::Passed | Verdict::Flaky | Verdict::Degraded | Verdict::Skipped(_) => {
                        None
                    }
                };
                let degraded = DegradedNote::of(suite, step, result);
                let line = json_test(name, result, stdout.as_deref(), degraded);
                self.out.write_all(line.as_bytes())?;
            }
        }
        self.out.flush()
    }

    fn paint(&mut self, style: Style, text: &str) -> io::Result<()> {
        if self.color {
            write!(self.out, "{}", style.style(text))
        } else {
            self.out.write_all(text.as_bytes())
        }
    }

    fn write_outcome(
        &mut self,
        verdict: &Verdict,
        degraded: Option<DegradedNote>,
    ) -> io::Result<()> {
        match verdict {
            Verdict::Passed => self.paint(Style::new().green(), "ok"),
            Verdict::Degraded => match degraded {
                Some(note) => self.paint(Style::new().yellow(), &format!("ok (degraded: {note})")),
                None => self.paint(Style::new().yellow(), "ok (degraded)"),
            },
            Verdict::Flaky => self.paint(Style::new().green(), "ok (flaky)"),
            Verdict::Failed => self.paint(Style::new().red(), "FAILED"),
            Verdict::TimedOut => self.paint(Style::new().red(), "FAILED (timed out)"),
            Verdict::Skipped(super::SkipReason::Ignored(_)) => {
                self.paint(Style::new().yellow(), "ignored")
            }
            Verdict::Skipped(reason) => {
                self.paint(Style::new().yellow(), &format!("ignored ({reason})"))
            }
        }
    }

    fn run_finished(&mut self, summary: &Summary) -> io::Result<()> {
        let counts = &summary.counts;
        let passed = counts.passed + counts.flaky;
        let failed = !summary.success();
        match self.format {
            LibtestFormat::Pretty | LibtestFormat::Terse => {
                if self.format == LibtestFormat::Terse {
                    writeln!(self.out)?;
                }
                if self.show_output {
                    write_block(&mut self.out, "successes", &mut self.successes)?;
                }
                if !self.failures.is_empty() {
                    write_block(&mut self.out, "failures", &mut self.failures)?;
                }
                if let Some(gates) = &summary.gates {
                    writeln!(self.out)?;
                    for line in gates.text_lines() {
                        writeln!(self.out, "{line}")?;
                    }
                }
                for rule in &summary.broken_rules {
                    writeln!(self.out, "\nrun failed by {rule}")?;
                }
                if counts.timed_out > 0 {
                    // libtest has no timeouts; they are among the failures counted below.
                    writeln!(self.out, "\ntimeouts: {}", counts.timed_out)?;
                }
                if counts.degraded > 0 {
                    // Nor degraded steps: they are among the passes.
                    writeln!(self.out, "\ndegraded: {}", counts.degraded)?;
                }
                write!(self.out, "\ntest result: ")?;
                if failed {
                    self.paint(Style::new().red(), "FAILED")?;
                } else {
                    self.paint(Style::new().green(), "ok")?;
                }
                writeln!(
                    self.out,
                    ". {passed} passed; {} failed; {} ignored; 0 measured; {} filtered out; \
                     finished in {:.2}s\n",
                    counts.failed,
                    counts.skipped,
                    summary.filtered_out,
                    summary.duration.as_secs_f64()
                )?;
            }
            LibtestFormat::Json => {
                // The gates ride along in the suite's end, as a field libtest readers ignore.
                let gates = (summary.gates.as_ref())
                    .and_then(|gates| serde_json::to_string(&JsonGates::of(gates)).ok())
                    .map(|gates| format!(r#", "gates": {gates}"#))
                    .unwrap_or_default();
                writeln!(
                    self.out,
                    r#"{{ "type": "suite", "event": "{}", "passed": {passed}, "failed": {}, "ignored": {}, "measured": 0, "filtered_out": {}, "exec_time": {}{}{}{gates} }}"#,
                    if failed { "failed" } else { "ok" },
                    counts.failed,
                    counts.skipped,
                    summary.filtered_out,
                    summary.duration.as_secs_f64(),
                    if counts.timed_out > 0 {
                        format!(r#", "timed_out": {}"#, counts.timed_out)
                    } else {
                        String::new()
                    },
                    if counts.degraded > 0 {
                        format!(r#", "degraded": {}"#, counts.degraded)
                    } else {
                        String::new()
                    }
                )?
            }
        }
        self.out.flush()
    }
}

impl<W: Write> Reporter for LibtestReporter<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted(start) => self.run_started(start),
            Event::StepStarted {
                step,
                setup,
                attempt,
                ..
            } => self.step_started(step, *setup, *attempt),
            Event::StepFinished {
                suite,
                step,
                setup,
                result,
                ..
            } => self.step_finished(suite, step, *setup, result),
            Event::RunFinished(summary) => self.run_finished(summary),
            Event::SuiteStarted { .. }
            | Event::RequirementChecked { .. }
            | Event::ServiceStarted { .. }
            | Event::ServiceHealthy { .. }
            | Event::ServiceFailed { .. }
            | Event::ServiceStopped { .. }
            | Event::SectionStarted { .. }
            | Event::Note { .. }
            | Event::SuiteFinished { .. } => Ok(()),
        }
    }
}

/// `--list`: one `name: test` line per selected step, as libtest lists tests.
pub fn write_list<'s>(
    out: &mut dyn Write,
    steps: impl IntoIterator<Item = (&'s Suite, &'s Step)>,
) -> io::Result<()> {
    let mut out = BufWriter::new(out);
    for (_, step) in steps {
        writeln!(out, "{}: test", step.test_name)?;
    }
    out.flush()
}

/// One libtest JSON line for a finished test; `stdout` is the failure report or, with
/// `--show-output`, a passing test's output; `degraded` why a passing test is degraded.
fn json_test(
    name: &str,
    result: &StepResult,
    stdout: Option<&str>,
    degraded: Option<DegradedNote>,
) -> String {
    let mut line = format!(r#"{{ "type": "test", "name": {}"#, json(name));
    let event = match &result.verdict {
        Verdict::Passed | Verdict::Flaky | Verdict::Degraded => "ok",
        Verdict::Failed | Verdict::TimedOut => "failed",
        Verdict::Skipped(_) => "ignored",
    };
    let _ = write!(line, r#", "event": "{event}""#);
    if let Some(stdout) = stdout {
        let _ = write!(line, r#", "stdout": {}"#, json(stdout));
    }
    if let Verdict::Skipped(reason) = &result.verdict {
        let message = reason.to_string();
        if !message.is_empty() {
            let _ = write!(line, r#", "message": {}"#, json(&message));
        }
    }
    if result.verdict == Verdict::TimedOut {
        line.push_str(r#", "timed_out": true"#);
    }
    if result.verdict == Verdict::Flaky {
        line.push_str(r#", "flaky": true"#);
    }
    if result.verdict == Verdict::Degraded {
        line.push_str(r#", "degraded": true"#);
        if let Some(note) = degraded {
            let _ = write!(line, r#", "message": {}"#, json(&note.to_string()));
        }
    }
    if !matches!(result.verdict, Verdict::Skipped(_)) {
        let _ = write!(line, r#", "exec_time": {}"#, result.duration.as_secs_f64());
    }
    line.push_str(" }\n");
    line
}

/// libtest's `successes:` / `failures:` block: each test's text under `---- name stdout ----`
/// (tests without any left out), then every name, sorted.
fn write_block(
    out: &mut impl Write,
    title: &str,
    tests: &mut [(String, String)],
) -> io::Result<()> {
    writeln!(out, "\n{title}:")?;
    let mut texts = tests.iter().filter(|(_, text)| !text.is_empty()).peekable();
    if texts.peek().is_some() {
        writeln!(out)?;
    }
    for (name, text) in texts {
        writeln!(out, "---- {name} stdout ----")?;
        writeln!(out, "{}", lines(text))?;
    }
    writeln!(out, "\n{title}:")?;
    tests.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, _) in tests.iter() {
        writeln!(out, "    {name}")?;
    }
    Ok(())
}

/// `text` ending with a newline, as a program's output of whole lines does.
fn lines(text: &str) -> String {
    let mut text = text.to_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// A JSON string literal.
fn json(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The report under `---- name stdout ----`: the step's [`FailureDetails`], the output's last
/// lines, and the command that re-runs the step.
fn failure_message(step: &Step, result: &StepResult, rerun: Option<&str>) -> String {
    let details = FailureDetails::new(step, result);
    let mut message = String::new();
    for (field, text) in details.fields() {
        let _ = writeln!(message, "{:<10}{text}", field.label());
    }
    if !details.output_tail.is_empty() {
        message.push_str("output (last lines):\n");
        for line in details.output_tail.lines() {
            let _ = writeln!(message, "  | {line}");
        }
    }
    if let Some(command) = rerun {
        let _ = writeln!(message, "re-run:   {command}");
    }
    message
}
