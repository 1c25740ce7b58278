//! `smoke-runner [OPTIONS] [FILTER]`: load settings and suites, run, report, exit status.
//!
//! One run, one event stream: the chosen report on standard output (the human report or a
//! libtest format) is one consumer of the scheduler's [`Fanout`], which masks secrets first.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::config::{Format, Partition, RunArgs, Settings, Shard};
use crate::exec::{Executor, Interrupts};
use crate::mask::{MIN_SECRET_LEN, Masker, looks_secret};
use crate::report::{
    Event, GithubReporter, HumanOptions, HumanReporter, JsonReporter, JunitReporter, LibtestFormat,
    LibtestReporter, Reporter, TapReporter, live_progress_wanted, write_list,
};
use crate::scheduler::{self, Fanout, Filter, FilterError, Filterset, Selection};
use crate::suite::{Suite, load_suites};

use super::exit::RunEnd;
use super::history::{RunHistory, last_failed_suites};
use super::report_output::{InterruptibleStdout, ReaderNotReading, report_stdout};
use super::retention;
use crate::history::{HISTORY_ENV, HistoryLocation};

/// Runs suites as the command line asks and returns the exit status.
pub fn run_main(args: &RunArgs) -> i32 {
    run_suites(args).code()
}

/// Runs suites as `args` ask: settings, suites, selection, the run and its reports. Errors are
/// printed on standard error (one line each, suite errors with their positions).
pub fn run_suites(args: &RunArgs) -> RunEnd {
    run_suites_with(args, |_| {})
}

/// [`run_suites`], with a last word on the settings before anything runs (the smoke harness
/// points `PLANDEX_CMD` at its stand-in this way).
pub fn run_suites_with(args: &RunArgs, adjust: impl FnOnce(&mut Settings)) -> RunEnd {
    // Installed before anything is read, so that an interrupt during loading is seen too.
    let executor = match Interrupts::install() {
        Ok(interrupts) => Executor::with_interrupts(interrupts),
        Err(error) => {
            stderr_line!(
                "warning: cannot install signal handlers ({error}); Ctrl-C will not clean up"
            );
            Executor::new()
        }
    };
    let interrupted = |executor: &Executor| {
        executor.interrupted().map(|signal| RunEnd::Finished {
            failed: true,
            interrupted: Some(signal),
        })
    };
    let mut settings = match Settings::from_args(args) {
        Ok(settings) => settings,
        Err(error) => {
            // The env file could not be used, so its secrets are unknown: mask what the process
            // environment and --redact name.
            let masker = early_masker(args);
            stderr_line!("error: {}", masker.mask(&error.to_string()));
            return RunEnd::Usage;
        }
    };
    adjust(&mut settings);
    let filter = match filter(args) {
        Ok(filter) => filter,
        Err(error) => {
            stderr_line!("error: {}", settings.masker.mask(&error.to_string()));
            return RunEnd::Usage;
        }
    };
    for warning in &settings.warnings {
        stderr_line!("warning: {}", settings.masker.mask(warning));
    }
    let suites = match load_suites(&args.suites, args.fixtures.as_deref()) {
        Ok(suites) => suites,
        Err(errors) => {
            stderr_line!("{}", settings.masker.mask(&errors.to_string()));
            return interrupted(&executor).unwrap_or(RunEnd::Usage);
        }
    };
    if let Some(end) = interrupted(&executor) {
        return end;
    }
    if suites.iter().any(|suite| !suite.redact.is_empty()) {
        let names: Vec<String> = (args.redact.iter())
            .chain(suites.iter().flat_map(|suite| &suite.redact))
            .cloned()
            .collect();
        settings = settings.with_masker(&names);
    }
    let mut selection = Selection::new(&suites, &filter);
    match (args.shard, args.partition) {
        (Some(shard), _) | (None, Some(Partition::Hash(shard))) => {
            keep_shard(&suites, &mut selection, shard);
        }
        (None, Some(Partition::Count(part))) => {
            selection.keep_count_partition(&suites, part.index, part.count);
        }
        (None, None) => {}
    }
    let state = RerunState::new();
    let history_location = history_location(args);
    if args.rerun_failed {
        // The last run in the history, else (no history) the state file.
        let last_failed = match history_location.path() {
            Some(path) => last_failed_suites(path),
            None => state.read(),
        };
        match last_failed {
            Some(failed) => keep_failed(&suites, &mut selection, &failed),
            None => {
                let source = history_location.path().unwrap_or(&state.path);
                stderr_line!(
                    "note: no failed suites recorded by a previous run ({}): nothing to re-run",
                    source.display()
                );
                return RunEnd::Finished {
                    failed: false,
                    interrupted: None,
                };
            }
        }
    }
    if args.list {
        return list(&suites, &selection);
    }
    if !settings.masker.too_short().is_empty() {
        stderr_line!(
            "note: not masking {}: values shorter than {MIN_SECRET_LEN} characters would hide too much of the report",
            settings.masker.too_short().join(", ")
        );
    }
    let run_id = run_id();
    if !args.no_log_dir {
        settings.log_dir = Some(args.log_dir.join(&run_id));
    }
    let settings = settings;
    let shard = (args.shard)
        .map(|shard| format!("{}/{}", shard.index, shard.count))
        .or_else(|| args.partition.map(|partition| partition.to_string()));
    // Only the human report shows hints: the others need no baselines read.
    let hinted = format(args) == Format::Human;
    let test_names = suites
        .iter()
        .filter(|_| hinted)
        .flat_map(|suite| suite.steps.iter().map(|step| step.test_name.as_str()));
    let history = RunHistory::open(&history_location, run_id.clone(), shard, test_names);
    // A report that cannot be written stops the run: commands are stopped, test dirs removed.
    let stopper = executor.clone();
    let mut fanout = Fanout::new(settings.masker.clone(), move || stopper.stop(libc::SIGPIPE));
    let failed_suites = FailedSuites::default();
    fanout.add("the rerun state", failed_suites.clone());
    if let Err(end) = add_file_reports(&mut fanout, args, &settings) {
        return end;
    }
    let stdout = io::stdout();
    let color = args.color.resolve_for_stdout();
    match format(args) {
        Format::Human => {
            let options = HumanOptions {
                color,
                verbose: settings.show_output,
            };
            let live = live_progress_wanted(stdout.is_terminal(), |name| std::env::var_os(name));
            let human = if live {
                HumanReporter::on_terminal(report_stdout(), options)
            } else {
                HumanReporter::new(report_stdout(), options)
            };
            fanout.add(
                "standard output",
                human.with_hints(history.baselines().clone()),
            )
        }
        Format::Tap => fanout.add("standard output", TapReporter::new(report_stdout())),
        libtest => fanout.add(
            "standard output",
            LibtestReporter::new(report_stdout(), libtest_format(libtest), color)
                .with_show_output(settings.show_output),
        ),
    }
    if let Some(consumer) = history.consumer() {
        fanout.add("the run history", consumer);
    }
    let reports = match fanout.spawn() {
        Ok(reports) => reports,
        Err(error) => return report_failed("the reports' thread", &error),
    };
    let suites: Vec<Arc<Suite>> = suites.into_iter().map(Arc::new).collect();
    let summary = scheduler::run(&suites, &selection, &settings, &executor, &reports);
    // Every report has written every event before the run ends.
    let end = match reports.finish() {
        // Interrupted while the reader of standard output was not reading: an interrupt.
        Some(failure) if ReaderNotReading::is(&failure.error) => RunEnd::Finished {
            failed: true,
            interrupted: Some(executor.interrupted().unwrap_or(libc::SIGINT)),
        },
        Some(failure) => report_failed(&failure.target, &failure.error),
        None => RunEnd::Finished {
            failed: !summary.success(),
            interrupted: summary
                .interrupted
                .then(|| executor.interrupted().unwrap_or(libc::SIGINT)),
        },
    };
    if !summary.interrupted
        && let Err(error) = state.write(&failed_suites.take())
    {
        stderr_line!(
            "warning: cannot record the failed suites in {} for --rerun-failed: {error}",
            state.path.display()
        );
    }
    history.finish(end.code(), &args.retention);
    if !args.no_log_dir {
        retention::prune_logs_after_run(&args.log_dir, &run_id, &args.retention);
    }
    end
}

/// `--history`, `SMOKE_HISTORY`, `--no-history`.
fn history_location(args: &RunArgs) -> HistoryLocation {
    let env = std::env::var(HISTORY_ENV).ok();
    HistoryLocation::resolve(args.history.as_deref(), env.as_deref(), args.no_history)
}

/// A masker for errors found before the env file could be read: the process environment's
/// secret-looking variables and `--redact` names.
fn early_masker(args: &RunArgs) -> Masker {
    let vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| looks_secret(name) || args.redact.contains(name))
        .collect();
    Masker::new(vars.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

/// `--junit`, `--tap`, `--json` and, on GitHub Actions, annotations and the step summary.
fn add_file_reports(
    fanout: &mut Fanout,
    args: &RunArgs,
    settings: &Settings,
) -> Result<(), RunEnd> {
    let create = |path: &Path| {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|error| report_failed(&path.display().to_string(), &error))?;
        }
        File::create(path).map_err(|error| report_failed(&path.display().to_string(), &error))
    };
    if let Some(path) = &args.junit {
        fanout.add(
            path.display().to_string(),
            JunitReporter::new(create(path)?),
        );
    }
    if let Some(path) = &args.tap {
        fanout.add(path.display().to_string(), TapReporter::new(create(path)?));
    }
    if let Some(path) = &args.json {
        let file = io::BufWriter::new(create(path)?);
        fanout.add(path.display().to_string(), JsonReporter::new(file));
    }
    if settings.env.get_str("GITHUB_ACTIONS") == Some("true") {
        let summary = match settings.env.get_str("GITHUB_STEP_SUMMARY") {
            Some(path) if !path.is_empty() => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|error| report_failed(path, &error))?,
            ),
            _ => None,
        };
        fanout.add(
            "standard output (GitHub annotations)",
            GithubReporter::new(report_stdout(), summary),
        );
    }
    Ok(())
}

/// The run's id, for its log folder: `20260121-143000-<pid>` (UTC).
fn run_id() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let digits: String = now.chars().filter(char::is_ascii_digit).take(14).collect();
    let (date, time) = digits.split_at(digits.len().min(8));
    format!("{date}-{time}-{}", std::process::id())
}

/// `--shard K/N`: keeps the suites whose name hashes to shard K. The hash (FNV-1a) depends on
/// the name alone, so adding or removing a suite never moves another one.
fn keep_shard(suites: &[Suite], selection: &mut Selection, shard: Shard) {
    for (suite, steps) in suites.iter().zip(&mut selection.steps) {
        if shard_of(&suite.name, shard.count) != shard.index {
            steps.iter_mut().for_each(|on| *on = false);
        }
    }
}

/// The shard (from 1) of `count` that the suite named `name` belongs to.
pub fn shard_of(name: &str, count: u32) -> u32 {
    let hash = crate::fnv1a::Fnv1a::of(name.as_bytes());
    (hash % u64::from(count.max(1))) as u32 + 1
}

/// `--rerun-failed`: keeps the suites recorded as failed.
fn keep_failed(suites: &[Suite], selection: &mut Selection, failed: &[String]) {
    for (suite, steps) in suites.iter().zip(&mut selection.steps) {
        if !failed.contains(&suite_key(suite)) {
            steps.iter_mut().for_each(|on| *on = false);
        }
    }
}

/// How the rerun state names a suite: its file, else its name.
fn suite_key(suite: &Suite) -> String {
    suite
        .source
        .as_ref()
        .map_or_else(|| suite.name.clone(), |file| file.display().to_string())
}

/// The suites that failed in the last run, one per line in `target/smoke-runner/last-failed`.
struct RerunState {
    path: PathBuf,
}

impl RerunState {
    fn new() -> Self {
        Self {
            path: PathBuf::from("target/smoke-runner/last-failed"),
        }
    }

    /// The recorded suites; `None` when no run recorded any state yet.
    fn read(&self) -> Option<Vec<String>> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        Some(text.lines().map(str::to_owned).collect())
    }

    fn write(&self, failed: &[String]) -> io::Result<()> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut text = failed.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        std::fs::write(&self.path, text)
    }
}

/// Collects the suites that failed, for the rerun state.
#[derive(Clone, Default)]
struct FailedSuites(Arc<Mutex<Vec<String>>>);

impl FailedSuites {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Reporter for FailedSuites {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        if let Event::SuiteFinished { suite, result } = event
            && !result.counts.success()
        {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(suite_key(suite));
        }
        Ok(())
    }
}

/// `--list`: the selected steps' names, nothing run.
fn list(suites: &[Suite], selection: &Selection) -> RunEnd {
    let steps = suites
        .iter()
        .zip(&selection.steps)
        .flat_map(|(suite, on)| {
            suite
                .steps
                .iter()
                .zip(on)
                .map(move |(s, on)| (suite, s, on))
        })
        .filter(|(_, _, on)| **on)
        .map(|(suite, step, _)| (suite, step));
    let mut out = io::BufWriter::with_capacity(64 * 1024, InterruptibleStdout::new());
    let written = write_list(&mut out, steps).and_then(|()| out.flush());
    let interrupted = Interrupts::installed().and_then(Interrupts::received);
    match written {
        Ok(()) => RunEnd::Finished {
            failed: interrupted.is_some(),
            interrupted,
        },
        Err(error) if ReaderNotReading::is(&error) => RunEnd::Finished {
            failed: true,
            interrupted: Some(interrupted.unwrap_or(libc::SIGINT)),
        },
        Err(error) => report_failed("standard output", &error),
    }
}

/// A report could not be written: one line on standard error, unless the reader of a pipe
/// simply left (`--list | head`), which is no error for a filter.
fn report_failed(target: &str, error: &io::Error) -> RunEnd {
    if error.kind() != io::ErrorKind::BrokenPipe {
        let _ = writeln!(
            io::stderr(),
            "error: cannot write the report to {target}: {error}; the run was stopped"
        );
    }
    RunEnd::ReportFailed(error.kind())
}

/// The libtest filters and the `-E` expressions, parsed.
fn filter(args: &RunArgs) -> Result<Filter, FilterError> {
    Ok(Filter {
        filters: args.filter.clone(),
        exact: args.exact,
        skip: args.skip.clone(),
        ignored: args.ignored,
        include_ignored: args.include_ignored,
        expressions: (args.filterset.iter())
            .map(|text| Filterset::parse(text))
            .collect::<Result<_, _>>()?,
    })
}

fn format(args: &RunArgs) -> Format {
    match (args.format, args.quiet) {
        (Some(format), _) => format,
        (None, true) => Format::Terse,
        (None, false) => Format::Human,
    }
}

fn libtest_format(format: Format) -> LibtestFormat {
    match format {
        Format::Terse => LibtestFormat::Terse,
        Format::Json => LibtestFormat::Json,
        Format::Human | Format::Pretty | Format::Tap => LibtestFormat::Pretty,
    }
}
