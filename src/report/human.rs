//! The default report: progress and results as people read them in a terminal or a CI log.
//!
//! It keeps the look of the `test_utils.sh` helper it replaces (`=== headings ===`, `→ Running
//! (timeout 120s): …`, `✓`/`✗` lines, the `=== Test Summary ===` block) and adds a detail
//! block under each failure: the command, how it ended, the failed checks and the last lines of
//! output. Suites running in parallel are printed one after the other, never interleaved (see
//! [`grouping`]).
//!
//! On a terminal, a step that runs long shows an elapsed-time line that updates in place (see
//! [`progress`]); that timer is the only clock this module looks at. Otherwise it only formats
//! events; it never runs processes or reads files.

mod grouping;
mod progress;
#[cfg(test)]
mod tests;

use std::fmt::{self, Write as _};
use std::io::{self, Write};
use std::time::{Duration, Instant, SystemTime};

use owo_colors::Style;

use self::grouping::GroupedOutput;
pub use self::progress::live_progress_wanted;
use self::progress::{RunningStep, Terminal, Ticking};
use super::reproduce_command;
use super::{
    Baselines, CompactDuration, Counts, DegradedNote, DetailField, EnvFileStatus, Event,
    ExitStatus, FailureDetails, GateLine, Hint, PlannedSuite, Reporter, RunStart, SkipReason,
    StepResult, SuiteResult, Summary, Verdict,
};
use crate::suite::{Step, Suite};

/// How the human report looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HumanOptions {
    /// Colour with ANSI escape codes. When false the output holds no escape codes at all.
    /// Resolve it from the user's choice with [`ColorChoice::resolve_for_stdout`](super::ColorChoice::resolve_for_stdout).
    pub color: bool,
    /// Also show how long each passed step took, and its output tail when the runner kept one.
    /// Failed and timed-out steps always show both.
    pub verbose: bool,
}

/// Writes the human report of a run to `W`, usually standard output.
///
/// Output is buffered and flushed after every event that reached the terminal, so progress is
/// visible as it happens at the cost of one write per event. When several suites run at once,
/// the text of all but the earliest-started one is held back until it finishes, so each
/// suite's lines stay together, in start order. [`Event::RunFinished`] writes out everything
/// still held before the summary.
pub struct HumanReporter<W: Write> {
    output: GroupedOutput<Terminal<W>, SuiteState>,
    palette: Palette,
    verbose: bool,
    /// What the run history says about each step, for the hints after its name.
    hints: Baselines,
}

/// What the reporter remembers about a running suite between its events.
#[derive(Default)]
struct SuiteState {
    /// The deadline of the latest attempt, to say what a timed-out step hit.
    timeout: Option<Duration>,
    /// The step running now, for the timer (only kept when there is one).
    running: Option<RunningStep>,
}

impl<W: Write> HumanReporter<W> {
    /// A reporter writing to `out`.
    pub fn new(out: W, options: HumanOptions) -> Self {
        Self::with_output(Terminal::Plain(out), options)
    }

    fn with_output(output: Terminal<W>, options: HumanOptions) -> Self {
        Self {
            output: GroupedOutput::new(output),
            palette: Palette::new(options.color),
            verbose: options.verbose,
            hints: Baselines::default(),
        }
    }

    /// Marks steps that the run history shows as slower than usual, newly failing or flaky.
    pub fn with_hints(mut self, baselines: Baselines) -> Self {
        self.hints = baselines;
        self
    }

    /// Writes what `event` means for the reader.
    ///
    /// An error is an I/O error on the output (a closed pipe, a full disk).
    pub fn report(&mut self, event: &Event) -> io::Result<()> {
        let Some(ticking) = self.output.writer().ticking() else {
            return self.write_event(event);
        };
        // No timer is drawn while the event's text is written: it could end up between the
        // pieces of a line. Then the timer is about the live suite's running step, if any.
        ticking.set_running(None);
        let written = self.write_event(event);
        let running = self.output.foreground().and_then(|state| state.running);
        if let Some(ticking) = self.output.writer().ticking() {
            ticking.set_running(running);
        }
        written
    }

    fn write_event(&mut self, event: &Event) -> io::Result<()> {
        let palette = self.palette;
        match event {
            Event::RunStarted(start) => {
                let out = self.output.live();
                write_run_start(out, palette, start)?;
                out.flush()
            }
            Event::SuiteStarted { suite, test_dir } => {
                let target = self.output.suite(suite.id());
                write_suite_heading(target.out, palette, suite)?;
                writeln!(target.out, "→ Test dir: {}", test_dir.display())?;
                target.out.flush()
            }
            Event::RequirementChecked { .. }
            | Event::ServiceStarted { .. }
            | Event::ServiceHealthy { .. }
            | Event::ServiceFailed { .. }
            | Event::ServiceStopped { .. } => {
                let suite = event.suite().expect("a suite's event");
                let target = self.suite_target(suite)?;
                write_setup_event(target.out, palette, event)?;
                target.out.flush()
            }
            Event::SectionStarted { suite, section } => {
                let target = self.suite_target(suite)?;
                write_section_heading(target.out, palette, section)?;
                target.out.flush()
            }
            Event::Note { suite, text } => {
                let target = self.suite_target(suite)?;
                write!(target.out, "ℹ ")?;
                write_indented(target.out, text, 2)?;
                target.out.flush()
            }
            Event::StepStarted {
                suite,
                setup,
                command_line,
                timeout,
                attempt,
                ..
            } => self.step_started(suite, (*setup, *attempt), command_line, *timeout),
            Event::StepFinished {
                suite,
                step,
                setup,
                result,
                ..
            } => self.step_finished(suite, step, *setup, result),
            Event::SuiteFinished { suite, result } => {
                let target = self.suite_target(suite)?;
                write_suite_end(target.out, result)?;
                self.output.finish(suite.id())
            }
            Event::RunFinished(summary) => {
                self.output.finish_all()?;
                let out = self.output.live();
                write_summary(out, palette, summary)?;
                out.flush()
            }
        }
    }

    /// Flushes the output and returns the writer. Text held for suites that never finished is
    /// dropped: report [`Event::RunFinished`] first to write it out.
    pub fn into_inner(self) -> io::Result<W> {
        self.output.into_inner()?.into_inner()
    }

    /// A step's attempt starts: its command line, and its deadline kept for its result (and
    /// for the elapsed-time line on a terminal).
    fn step_started(
        &mut self,
        suite: &PlannedSuite,
        (setup, attempt): (bool, u32),
        command_line: &str,
        timeout: Duration,
    ) -> io::Result<()> {
        let live_progress = self.output.writer().ticking().is_some();
        let target = self.suite_target(suite)?;
        target.state.timeout = Some(timeout);
        if live_progress {
            target.state.running = Some(RunningStep {
                since: Instant::now(),
                timeout,
            });
        }
        let timeout = CompactDuration::timeout(timeout);
        if setup {
            write!(target.out, "→ Setting up (timeout {timeout}): ")?;
        } else if attempt > 1 {
            write!(
                target.out,
                "→ Retrying (attempt {attempt}, timeout {timeout}): "
            )?;
        } else {
            write!(target.out, "→ Running (timeout {timeout}): ")?;
        }
        write_indented(target.out, command_line, 4)?;
        target.out.flush()
    }

    /// A step is done: its line, the history's hint, and under a failure its details and the
    /// command that runs it again.
    fn step_finished(
        &mut self,
        suite: &PlannedSuite,
        step: &Step,
        setup: bool,
        result: &StepResult,
    ) -> io::Result<()> {
        let (palette, verbose) = (self.palette, self.verbose);
        let hint = match (&result.verdict, setup) {
            (Verdict::Skipped(_), _) | (_, true) => None,
            (verdict, false) => {
                self.hints
                    .hint(&step.test_name, !verdict.is_failure(), result.duration)
            }
        };
        let target = self.suite_target(suite)?;
        let timeout = target.state.timeout.take();
        target.state.running = None;
        // The command that runs this step again, with its suite's earlier steps as setup.
        let rerun = result
            .verdict
            .is_failure()
            .then(|| reproduce_command(suite, step))
            .flatten();
        let line = StepLine {
            suite,
            step,
            name: &step.name,
            setup,
            verbose,
            rerun: rerun.as_deref(),
            hint,
        };
        write_step_result(target.out, palette, line, result, timeout)?;
        target.out.flush()
    }

    /// Where `suite`'s text goes; a suite first seen without [`Event::SuiteStarted`] (its setup
    /// failed, say) still gets its heading so its lines have a context.
    fn suite_target(
        &mut self,
        suite: &PlannedSuite,
    ) -> io::Result<grouping::SuiteTarget<'_, SuiteState>> {
        let target = self.output.suite(suite.id());
        if target.is_new {
            write_suite_heading(target.out, self.palette, suite)?;
        }
        Ok(target)
    }
}

impl<W: Write + Send + 'static> HumanReporter<W> {
    /// A reporter writing to a terminal: like [`HumanReporter::new`], and a step running for
    /// 2 s or more shows an elapsed-time line that updates in place until the step ends. Use
    /// it only when [`live_progress_wanted`] says so: the line is redrawn with carriage
    /// returns, which a pipe or a file would keep.
    pub fn on_terminal(out: W, options: HumanOptions) -> Self {
        let style = Palette::new(options.color).label;
        Self::with_output(Terminal::Ticking(Ticking::start(out, style)), options)
    }
}

impl<W: Write> Reporter for HumanReporter<W> {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        HumanReporter::report(self, event)
    }
}

/// The styles of the report; every one is plain (no escape codes) when colour is off.
#[derive(Debug, Clone, Copy)]
struct Palette {
    heading: Style,
    passed: Style,
    degraded: Style,
    failed: Style,
    timed_out: Style,
    skipped: Style,
    warning: Style,
    label: Style,
    run_succeeded: Style,
    run_failed: Style,
}

impl Palette {
    fn new(color: bool) -> Self {
        let plain = Style::new();
        if !color {
            return Self {
                heading: plain,
                passed: plain,
                degraded: plain,
                failed: plain,
                timed_out: plain,
                skipped: plain,
                warning: plain,
                label: plain,
                run_succeeded: plain,
                run_failed: plain,
            };
        }
        Self {
            heading: plain.bold(),
            passed: plain.green(),
            degraded: plain.yellow(),
            failed: plain.red(),
            timed_out: plain.yellow(),
            skipped: plain.dimmed(),
            warning: plain.yellow(),
            label: plain.dimmed(),
            run_succeeded: plain.green().bold(),
            run_failed: plain.red().bold(),
        }
    }
}

/// Writes `text` in `style` and ends the line.
fn paint_line(out: &mut dyn Write, style: Style, text: fmt::Arguments<'_>) -> io::Result<()> {
    writeln!(
        out,
        "{}{text}{}",
        style.prefix_formatter(),
        style.suffix_formatter()
    )
}

/// Writes `text` and ends the line, indenting any further lines by `indent` spaces so that a
/// multi-line command or message stays inside its block.
fn write_indented(out: &mut dyn Write, text: &str, indent: usize) -> io::Result<()> {
    let mut lines = text.lines();
    writeln!(out, "{}", lines.next().unwrap_or_default())?;
    for line in lines {
        writeln!(out, "{:indent$}{line}", "")?;
    }
    Ok(())
}

fn write_run_start(out: &mut dyn Write, palette: Palette, start: &RunStart) -> io::Result<()> {
    paint_line(
        out,
        palette.heading,
        format_args!(
            "=== smoke-runner started at {} ===",
            UtcTimestamp(start.started_at)
        ),
    )?;
    match &start.env_file {
        EnvFileStatus::Loaded(path) => {
            writeln!(out, "→ Loaded environment from {}", path.display())?;
        }
        EnvFileStatus::DefaultMissing(path) => {
            writeln!(out, "→ No environment file at {} (skipped)", path.display())?;
        }
        EnvFileStatus::Disabled => {}
    }
    writeln!(
        out,
        "→ Running {} {} from {} {} ({} at a time)",
        start.steps,
        plural(start.steps, "step", "steps"),
        start.suites,
        plural(start.suites, "suite", "suites"),
        start.jobs,
    )
}

/// A section's heading: `=== Testing NAME ===` (a section already named "Testing …" is not
/// prefixed again).
fn write_section_heading(out: &mut dyn Write, palette: Palette, section: &str) -> io::Result<()> {
    writeln!(out)?;
    let prefix = if section.starts_with("Testing") {
        ""
    } else {
        "Testing "
    };
    paint_line(
        out,
        palette.heading,
        format_args!("=== {prefix}{section} ==="),
    )
}

fn write_suite_heading(out: &mut dyn Write, palette: Palette, suite: &Suite) -> io::Result<()> {
    writeln!(out)?;
    paint_line(
        out,
        palette.heading,
        format_args!("=== Suite {} ===", suite.name),
    )
}

/// One short line for a requirement looked at or a service's start, health, failure or stop:
/// `→ Service api ready in 0.12s`. A failure shows its first line; the failed step below it
/// has the rest (the command, the log's last lines).
fn write_setup_event(out: &mut dyn Write, palette: Palette, event: &Event) -> io::Result<()> {
    match event {
        Event::RequirementChecked {
            requirement,
            command,
            met,
            reason,
            duration,
            ..
        } => {
            let took = if *command {
                format!(" ({})", CompactDuration::elapsed(*duration))
            } else {
                String::new()
            };
            match (met, reason) {
                (true, _) => writeln!(out, "→ Requirement met: {requirement}{took}"),
                (false, reason) => paint_line(
                    out,
                    palette.skipped,
                    format_args!(
                        "→ Requirement not met: {requirement}{took}: {}",
                        reason.as_deref().unwrap_or("no reason given")
                    ),
                ),
            }
        }
        Event::ServiceStarted {
            service,
            command,
            port,
            ..
        } => {
            let port = port
                .map(|port| format!(" (port {port})"))
                .unwrap_or_default();
            write!(out, "→ Starting service {service}{port}: ")?;
            write_indented(out, command, 4)
        }
        Event::ServiceHealthy { service, after, .. } => writeln!(
            out,
            "→ Service {service} ready in {}",
            CompactDuration::elapsed(*after)
        ),
        Event::ServiceFailed {
            service,
            after,
            message,
            ..
        } => paint_line(
            out,
            palette.failed,
            format_args!(
                "✗ Service {service} failed after {}: {}",
                CompactDuration::elapsed(*after),
                message.lines().next().unwrap_or_default()
            ),
        ),
        Event::ServiceStopped {
            service,
            ran_for,
            status,
            ..
        } => writeln!(
            out,
            "→ Service {service} stopped after {} ({status})",
            CompactDuration::elapsed(*ran_for)
        ),
        _ => Ok(()),
    }
}

/// How a step's result line is written.
#[derive(Clone, Copy)]
struct StepLine<'a> {
    suite: &'a Suite,
    step: &'a Step,
    name: &'a str,
    /// A setup step: marked as such (it is not counted).
    setup: bool,
    verbose: bool,
    /// The command re-running the step, shown when it failed.
    rerun: Option<&'a str>,
    /// What the run history says about the step.
    hint: Option<Hint>,
}

fn write_step_result(
    out: &mut dyn Write,
    palette: Palette,
    line: StepLine<'_>,
    result: &StepResult,
    timeout: Option<Duration>,
) -> io::Result<()> {
    let StepLine {
        name,
        setup,
        verbose,
        rerun,
        hint,
        ..
    } = line;
    let rerun = rerun.filter(|_| !setup);
    let hint = HintNote(hint);
    let shown;
    let name = if setup {
        shown = format!("setup: {name}");
        shown.as_str()
    } else {
        name
    };
    match &result.verdict {
        Verdict::Passed | Verdict::Flaky if verbose => {
            let took = CompactDuration::elapsed(result.duration);
            let flaky = FlakyNote(result);
            paint_line(
                out,
                palette.passed,
                format_args!("✓ {name}{flaky} ({took}){hint}"),
            )?;
            if !result.output_tail.is_empty() {
                write_output_tail(out, palette, &result.output_tail)?;
            }
        }
        Verdict::Passed | Verdict::Flaky => {
            let flaky = FlakyNote(result);
            paint_line(out, palette.passed, format_args!("✓ {name}{flaky}{hint}"))?
        }
        Verdict::Degraded => {
            let why = match DegradedNote::of(line.suite, line.step, result) {
                Some(note) => format!("degraded: {note}"),
                None => "degraded".to_owned(),
            };
            paint_line(
                out,
                palette.degraded,
                format_args!("✓ {name} ({why}){hint}"),
            )?;
            if verbose && !result.output_tail.is_empty() {
                write_output_tail(out, palette, &result.output_tail)?;
            }
        }
        Verdict::Failed => {
            paint_line(out, palette.failed, format_args!("✗ {name}{hint}"))?;
            write_failure_details(out, palette, line, result)?;
            write_rerun(out, palette, rerun)?;
        }
        Verdict::TimedOut => {
            let after = timed_out_after(result, timeout);
            paint_line(
                out,
                palette.timed_out,
                format_args!("⏱ {name} timed out after {after}{hint}"),
            )?;
            write_failure_details(out, palette, line, result)?;
            write_rerun(out, palette, rerun)?;
        }
        Verdict::Skipped(reason) => {
            paint_line(
                out,
                palette.skipped,
                format_args!("- {name} ({})", SkipNote(reason)),
            )?;
        }
    }
    write_leftovers(out, palette, result.leaked_processes, name)
}

/// The deadline a timed-out step hit, which reads better than its wall time (that includes
/// the kill's grace).
fn timed_out_after(result: &StepResult, timeout: Option<Duration>) -> CompactDuration {
    match (&result.status, timeout) {
        (ExitStatus::TimedOut { after, .. }, _) => CompactDuration::timeout(*after),
        (_, Some(timeout)) => CompactDuration::timeout(timeout),
        (_, None) => CompactDuration::elapsed(result.duration),
    }
}

/// The warning under a step that left `count` processes behind (none: nothing).
fn write_leftovers(
    out: &mut dyn Write,
    palette: Palette,
    count: usize,
    name: &str,
) -> io::Result<()> {
    if count == 0 {
        return Ok(());
    }
    paint_line(
        out,
        palette.warning,
        format_args!(
            "⚠ killed {count} leftover {} after {name}",
            plural(count, "process", "processes")
        ),
    )
}

/// The indented block under a failed or timed-out step. Empty fields are left out.
fn write_failure_details(
    out: &mut dyn Write,
    palette: Palette,
    line: StepLine<'_>,
    result: &StepResult,
) -> io::Result<()> {
    // Values start in column 15 so that they line up under each other.
    const VALUE_INDENT: usize = 14;
    let label = |out: &mut dyn Write, name: &str| {
        write!(
            out,
            "    {}{name:<10}{}",
            palette.label.prefix_formatter(),
            palette.label.suffix_formatter()
        )
    };
    let details = FailureDetails::new(line.step, result);
    // Leftovers have their own warning line under every step, failed or not.
    for (field, text) in details.fields() {
        if field != DetailField::Leftovers {
            label(out, field.label())?;
            write_indented(out, text, VALUE_INDENT)?;
        }
    }
    if result.output_tail.is_empty() {
        label(out, "output:")?;
        writeln!(out, "(none)")
    } else {
        write_output_tail(out, palette, &result.output_tail)
    }
}

/// `re-run:` and the command that runs a failed step again.
fn write_rerun(out: &mut dyn Write, palette: Palette, rerun: Option<&str>) -> io::Result<()> {
    match rerun {
        Some(command) => writeln!(
            out,
            "    {}re-run:{}   {command}",
            palette.label.prefix_formatter(),
            palette.label.suffix_formatter()
        ),
        None => Ok(()),
    }
}

/// `output (last N lines):` and the lines, each behind a `|` so that they cannot be mistaken
/// for the report's own lines.
fn write_output_tail(out: &mut dyn Write, palette: Palette, tail: &str) -> io::Result<()> {
    let count = tail.lines().count();
    paint_line(
        out,
        palette.label,
        format_args!(
            "    output (last {count} {}):",
            plural(count, "line", "lines")
        ),
    )?;
    let bar = palette.label.style("|");
    for line in tail.lines() {
        if line.is_empty() {
            writeln!(out, "      {bar}")?;
        } else {
            writeln!(out, "      {bar} {}", ControlPictures(line))?;
        }
    }
    Ok(())
}

/// A program's output with its control characters (escape codes, carriage returns, bells)
/// shown as Unicode control pictures (`␛`, `␍`, `␇`), so that they can neither restyle nor
/// overwrite the report, and a report without colour holds no escape codes. Tabs are kept.
struct ControlPictures<'a>(&'a str);

impl fmt::Display for ControlPictures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(start) = rest.find(|c: char| c.is_control() && c != '\t') {
            f.write_str(&rest[..start])?;
            let Some(control) = rest[start..].chars().next() else {
                break;
            };
            let picture = match u32::from(control) {
                code @ 0..0x20 => char::from_u32(0x2400 + code),
                0x7f => Some('␡'),
                // C1 controls have no pictures of their own.
                _ => None,
            };
            f.write_char(picture.unwrap_or(char::REPLACEMENT_CHARACTER))?;
            rest = &rest[start + control.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn write_suite_end(out: &mut dyn Write, result: &SuiteResult) -> io::Result<()> {
    if let Some(dir) = &result.kept_test_dir {
        writeln!(out, "→ Kept test dir for inspection: {}", dir.display())?;
    }
    Ok(())
}

fn write_summary(out: &mut dyn Write, palette: Palette, summary: &Summary) -> io::Result<()> {
    let counts = &summary.counts;
    writeln!(out)?;
    paint_line(out, palette.heading, format_args!("=== Test Summary ==="))?;
    writeln!(out, "Total tests: {}", counts.total())?;
    writeln!(out, "Passed: {}", counts.passed)?;
    if counts.degraded > 0 {
        // A part of `Passed`, as `Timeouts` is of `Failed`.
        paint_line(
            out,
            palette.degraded,
            format_args!("Degraded: {} (passed, over warn_duration)", counts.degraded),
        )?;
    }
    if counts.flaky > 0 {
        writeln!(out, "Flaky: {} (passed on a retry)", counts.flaky)?;
    }
    // As the shell helpers print it, for those who grep for it: `Timeouts` is a part of
    // `Failed`, not added to it.
    writeln!(out, "Failed: {}", counts.failed)?;
    writeln!(out, "Timeouts: {}", counts.timed_out)?;
    writeln!(out, "Skipped: {}", counts.skipped)?;
    for (suite, reason) in &summary.skipped_suites {
        paint_line(
            out,
            palette.skipped,
            format_args!("  suite {suite}: {}", SkipNote(reason)),
        )?;
    }
    writeln!(
        out,
        "Duration: {}",
        CompactDuration::elapsed(summary.duration)
    )?;
    for dir in &summary.kept_test_dirs {
        writeln!(out, "Kept test dir: {}", dir.display())?;
    }
    if summary.leaked_processes > 0 {
        paint_line(
            out,
            palette.warning,
            format_args!("Leftover processes killed: {}", summary.leaked_processes),
        )?;
    }
    if summary.interrupted {
        paint_line(
            out,
            palette.warning,
            format_args!("Interrupted: partial results"),
        )?;
    }
    writeln!(out, "Finished at {}", UtcTimestamp(summary.finished_at))?;
    write_gates(out, palette, summary)?;
    for rule in &summary.broken_rules {
        paint_line(out, palette.failed, format_args!("Failed by {rule}"))?;
    }
    let success = summary.success();
    let style = if success {
        palette.run_succeeded
    } else {
        palette.run_failed
    };
    let flaky = if counts.flaky > 0 {
        format!(", {} flaky", counts.flaky)
    } else {
        String::new()
    };
    paint_line(
        out,
        style,
        format_args!(
            "{} passed{}{flaky}, {} failed{}, {} skipped",
            counts.passed,
            DegradedCountNote(counts),
            counts.failed,
            TimedOutNote(counts),
            counts.skipped
        ),
    )
}

/// ` (N timed out)` after the failed count of a closing line when any step timed out; the
/// timeouts are among the failures counted before it.
pub(super) struct TimedOutNote<'a>(pub(super) &'a Counts);

impl fmt::Display for TimedOutNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.timed_out {
            0 => Ok(()),
            n => write!(f, " ({n} timed out)"),
        }
    }
}

/// ` (N degraded)` after the passed count of a closing line when any step passed degraded; they
/// are among the passes counted before it.
pub(super) struct DegradedCountNote<'a>(pub(super) &'a Counts);

impl fmt::Display for DegradedCountNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.degraded {
            0 => Ok(()),
            n => write!(f, " ({n} degraded)"),
        }
    }
}

/// The gates' tables and failure rate, broken rows in red, rows not judged in yellow.
fn write_gates(out: &mut dyn Write, palette: Palette, summary: &Summary) -> io::Result<()> {
    let Some(gates) = &summary.gates else {
        return Ok(());
    };
    for (kind, line) in gates.lines() {
        let style = match kind {
            GateLine::Heading => palette.heading,
            GateLine::Kept => palette.passed,
            GateLine::Broken => palette.failed,
            GateLine::Note => palette.warning,
        };
        paint_line(out, style, format_args!("{line}"))?;
    }
    Ok(())
}

/// ` (flaky: passed on attempt N)` after a flaky step's name; nothing otherwise.
struct FlakyNote<'a>(&'a StepResult);

impl fmt::Display for FlakyNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.verdict == Verdict::Flaky {
            write!(f, " (flaky: passed on attempt {})", self.0.attempts)
        } else {
            Ok(())
        }
    }
}

/// What the run history says about a step, after its name: ` — slower than usual (median
/// 0.30s)`, ` — newly failing`, ` — known flaky (3 of last 10)`.
struct HintNote(Option<Hint>);

impl fmt::Display for HintNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => Ok(()),
            Some(Hint::SlowerThanUsual { median }) => write!(
                f,
                " — slower than usual (median {})",
                CompactDuration::elapsed(median)
            ),
            Some(Hint::NewlyFailing) => f.write_str(" — newly failing"),
            Some(Hint::KnownFlaky { failures, runs }) => {
                write!(f, " — known flaky ({failures} of last {runs})")
            }
        }
    }
}

/// Why a step did not run, in the parentheses after its name.
struct SkipNote<'a>(&'a SkipReason);

impl fmt::Display for SkipNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            SkipReason::Ignored(reason) if reason.is_empty() => f.write_str("ignored"),
            SkipReason::Ignored(reason) => write!(f, "ignored: {reason}"),
            SkipReason::EarlierFailure { step } => {
                write!(f, "skipped: earlier step `{step}` failed")
            }
            SkipReason::MissingRequirement(program) => {
                write!(f, "skipped: requires `{program}`, not found on PATH")
            }
            SkipReason::RequirementNotMet { reason, .. } => write!(f, "skipped: {reason}"),
            SkipReason::SetupFailed(message) => write!(f, "skipped: suite setup failed: {message}"),
            SkipReason::Interrupted => f.write_str("skipped: interrupted"),
        }
    }
}

/// A wall-clock time as `2026-01-21 14:30:00 UTC`. Local time would need a time-zone database.
struct UtcTimestamp(SystemTime);

impl fmt::Display for UtcTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // humantime cannot format times before 1970; a clock that far off is shown as 1970.
        let time = self.0.max(SystemTime::UNIX_EPOCH);
        let rfc3339 = humantime::format_rfc3339_seconds(time).to_string();
        let (date, time) = rfc3339.split_once('T').unwrap_or((&rfc3339, ""));
        write!(f, "{date} {} UTC", time.trim_end_matches('Z'))
    }
}

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}
