//! `smoke-runner [OPTIONS] [FILTER]`: load settings and suites, run, report, exit status.
//!
//! One run, one event stream: the chosen report on standard output (the human report or a
//! libtest format) is one consumer of the scheduler's [`Fanout`], which masks secrets first.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::config::{Format, Partition, RunArgs, Settings, Shard, parse_duration};
use crate::engine::{self, RunOutcome, RunPlan};
use crate::exec::Interrupts;
use crate::gate::{GatePlan, Repetition};
use crate::mask::{MIN_SECRET_LEN, Masker, looks_secret};
use crate::report::{
    Event, GithubReporter, HumanOptions, HumanReporter, JsonReporter, JunitReporter, LibtestFormat,
    LibtestReporter, Reporter, TapReporter, live_progress_wanted, write_list,
};
use crate::scheduler::{Fanout, Filter, FilterError, Filterset, Selection};
use crate::suite::{Suite, load_suites};

use super::exit::RunEnd;
use super::history::{RunHistory, last_failed_suites};
use super::report_output::{InterruptibleStdout, ReaderNotReading, report_stdout};
use super::retention;
use crate::history::{HISTORY_ENV, HistoryLocation, history_password_masks, short_password_note};

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
///
/// Resolve (flags, env file, suites, selection: a [`RunPlan`]), build the reports, run, then
/// render the end (exit status, rerun state, history).
pub fn run_suites_with(args: &RunArgs, adjust: impl FnOnce(&mut Settings)) -> RunEnd {
    // Registered before anything is read, so that an interrupt during loading is seen too.
    let Ok(interrupts) = Interrupts::new() else {
        stderr_line!("error: cannot create the run's interrupt pipe");
        return RunEnd::Usage;
    };
    let _signals = interrupts
        .cancel_on_signals()
        .inspect_err(|error| {
            stderr_line!(
                "warning: cannot install signal handlers ({error}); Ctrl-C will not clean up"
            )
        })
        .ok();
    let resolved = match resolve(args, adjust, &interrupts) {
        Ok(resolved) => resolved,
        Err(end) => return end,
    };
    let mut history = resolved.open_history(args);
    let failed_suites = FailedSuites::default();
    let reports = match build_reports(args, &resolved.plan, &history, &failed_suites, &interrupts) {
        Ok(reports) => reports,
        Err(end) => return end,
    };
    let run = match engine::start(resolved.plan, reports, interrupts) {
        Ok(run) => run,
        Err(error) => return report_failed("the run's threads", &error),
    };
    // The history's thread and the deleting of old step logs go beside the run, once its
    // steps have their threads.
    history.start();
    let log_retention = (!args.no_log_dir)
        .then(|| retention::LogRetention::start(&args.log_dir, &resolved.run_id, &args.retention));
    let outcome = run.wait();
    for warning in &outcome.warnings {
        stderr_line!("warning: {warning}");
    }
    let end = run_end(&outcome);
    if !outcome.summary.interrupted
        && let Err(error) = resolved.state.write(&failed_suites.take())
    {
        stderr_line!(
            "warning: cannot record the failed suites in {} for --rerun-failed: {error}",
            resolved.state.path.display()
        );
    }
    // The history is written on its own thread while the step logs are settled here.
    let recording = history.finish(end.code());
    if let Some(log_retention) = log_retention {
        log_retention.finish();
    }
    recording.wait();
    end
}

/// What the command line asks for, resolved into a plan.
struct Resolved {
    plan: RunPlan,
    run_id: String,
    state: RerunState,
    history_location: HistoryLocation,
}

impl Resolved {
    /// The run's history, with the baselines of the steps it shows hints for.
    fn open_history(&self, args: &RunArgs) -> RunHistory {
        let shard = self.plan.selection.shard.clone();
        // Only the human report shows hints: the others need no baselines read.
        let hinted = format(args) == Format::Human;
        let test_names = (self.plan.suites.iter())
            .filter(|_| hinted)
            .flat_map(|suite| suite.steps.iter().map(|step| step.test_name.as_str()));
        RunHistory::open(
            &self.history_location,
            self.run_id.clone(),
            shard,
            test_names,
            retention::history_limits(&args.retention),
        )
    }
}

/// Settings, suites and the selection; `Err` with the run's end when nothing is to run
/// (an error, `--list`, nothing to re-run, an interrupt while loading).
fn resolve(
    args: &RunArgs,
    adjust: impl FnOnce(&mut Settings),
    interrupts: &Arc<Interrupts>,
) -> Result<Resolved, RunEnd> {
    let interrupted = || {
        interrupts.received().map(|signal| RunEnd::Finished {
            failed: true,
            interrupted: Some(signal),
        })
    };
    let mut settings = Settings::from_args(args).map_err(|error| {
        // The env file could not be used, so its secrets are unknown: mask what the process
        // environment and --redact name.
        let masker = early_masker(args);
        stderr_line!("error: {}", masker.mask(&error.to_string()));
        RunEnd::Usage
    })?;
    adjust(&mut settings);
    let history_location = history_location(args)?;
    let (whole, framed) = history_password_masks(args.history.as_deref());
    if !whole.is_empty() || !framed.is_empty() {
        (settings.extra_secrets, settings.framed_secrets) = (whole, framed);
        settings = settings.with_masker(&args.redact);
    }
    let filter = filter(args).map_err(|error| {
        stderr_line!("error: {}", settings.masker.mask(&error.to_string()));
        RunEnd::Usage
    })?;
    for warning in &settings.warnings {
        stderr_line!("warning: {}", settings.masker.mask(warning));
    }
    let suites = load_suites(&args.suites, args.fixtures.as_deref()).map_err(|errors| {
        stderr_line!("{}", settings.masker.mask(&errors.to_string()));
        interrupted().unwrap_or(RunEnd::Usage)
    })?;
    if let Some(end) = interrupted() {
        return Err(end);
    }
    if suites.iter().any(|suite| !suite.redact.is_empty()) {
        let names: Vec<String> = (args.redact.iter())
            .chain(suites.iter().flat_map(|suite| &suite.redact))
            .cloned()
            .collect();
        settings = settings.with_masker(&names);
    }
    let state = RerunState::new();
    let gates = gate_plan(args, &history_location).map_err(|error| {
        stderr_line!("error: {error}");
        RunEnd::Usage
    })?;
    let selection = select(args, &filter, &suites, &state, &history_location)?;
    if args.list {
        return Err(list(&suites, &selection, interrupts));
    }
    if !settings.framed_secrets.is_empty() {
        stderr_line!("{}", short_password_note());
    }
    if !settings.masker.too_short().is_empty() {
        stderr_line!(
            "note: not masking {}: values shorter than {MIN_SECRET_LEN} characters would hide too much of the report",
            settings.masker.too_short().join(", ")
        );
    }
    if settings.git_branch.is_none() {
        settings.git_branch = super::history::git_branch();
    }
    let run_id = run_id();
    if !args.no_log_dir {
        settings.log_dir = Some(args.log_dir.join(&run_id));
    }
    Ok(Resolved {
        plan: RunPlan::new(suites, selection, settings)
            .with_gates(gates, history_location.target().cloned()),
        run_id,
        state,
        history_location,
    })
}

/// The filters, `--shard`/`--partition` and `--rerun-failed`; `Err` when there is nothing to
/// re-run.
fn select(
    args: &RunArgs,
    filter: &Filter,
    suites: &[Suite],
    state: &RerunState,
    history_location: &HistoryLocation,
) -> Result<Selection, RunEnd> {
    let mut selection = Selection::new(suites, filter);
    let shard = (args.shard).map(|shard| format!("{}/{}", shard.index, shard.count));
    selection.shard = shard.or_else(|| args.partition.map(|partition| partition.to_string()));
    match (args.shard, args.partition) {
        (Some(shard), _) | (None, Some(Partition::Hash(shard))) => {
            keep_shard(suites, &mut selection, shard);
        }
        (None, Some(Partition::Count(part))) => {
            selection.keep_count_partition(suites, part.index, part.count);
        }
        (None, None) => {}
    }
    if args.rerun_failed {
        // The last run in the history, else (no history) the state file.
        let last_failed = match history_location.target() {
            Some(target) => last_failed_suites(target),
            None => state.read(),
        };
        let Some(failed) = last_failed else {
            let source = match history_location.target() {
                Some(target) => target.to_string(),
                None => state.path.display().to_string(),
            };
            stderr_line!(
                "note: no failed suites recorded by a previous run ({source}): nothing to re-run"
            );
            return Err(RunEnd::Finished {
                failed: false,
                interrupted: None,
            });
        };
        keep_failed(suites, &mut selection, &failed);
    }
    Ok(selection)
}

/// Every report of the run: the rerun state, the files, standard output, the history.
fn build_reports(
    args: &RunArgs,
    plan: &RunPlan,
    history: &RunHistory,
    failed_suites: &FailedSuites,
    interrupts: &Arc<Interrupts>,
) -> Result<Fanout, RunEnd> {
    let settings = &plan.settings;
    let mut fanout = Fanout::new();
    fanout.add("the rerun state", failed_suites.clone());
    add_file_reports(&mut fanout, args, settings, interrupts)?;
    let stdout = io::stdout();
    let color = args.color.resolve_for_stdout();
    let out = report_stdout(interrupts);
    match format(args) {
        Format::Human => {
            let options = HumanOptions {
                color,
                verbose: settings.show_output,
            };
            let live = live_progress_wanted(stdout.is_terminal(), |name| std::env::var_os(name));
            let human = if live {
                HumanReporter::on_terminal(out, options)
            } else {
                HumanReporter::new(out, options)
            };
            fanout.add(
                "standard output",
                human.with_hints(history.baselines().clone()),
            )
        }
        Format::Tap => fanout.add("standard output", TapReporter::new(out)),
        libtest => fanout.add(
            "standard output",
            LibtestReporter::new(out, libtest_format(libtest), color)
                .with_show_output(settings.show_output),
        ),
    }
    if let Some(consumer) = history.consumer() {
        fanout.add("the run history", consumer);
    }
    Ok(fanout)
}

/// The run's end as the one exit-code policy sees it.
fn run_end(outcome: &RunOutcome) -> RunEnd {
    match &outcome.report_failure {
        // Interrupted while the reader of standard output was not reading: an interrupt.
        Some(failure) if ReaderNotReading::is(&failure.error) => RunEnd::Finished {
            failed: true,
            interrupted: Some(outcome.cancelled.unwrap_or(libc::SIGINT)),
        },
        Some(failure) => report_failed(&failure.target, &failure.error),
        None => RunEnd::Finished {
            failed: !outcome.summary.success(),
            interrupted: (outcome.summary.interrupted)
                .then(|| outcome.cancelled.unwrap_or(libc::SIGINT)),
        },
    }
}

/// `--gate`, `--baseline`, `--repeat`, `--for`, `--max-failure-rate`.
fn gate_plan(args: &RunArgs, history: &HistoryLocation) -> Result<GatePlan, String> {
    if !args.gate.is_empty() && history.target().is_none() {
        return Err("--gate compares with the run history, which --no-history turns off".into());
    }
    let repetition = match (&args.repeat_for, args.repeat) {
        (Some(text), _) => Repetition::For(
            parse_duration(text).map_err(|error| format!("--for `{text}`: {error}"))?,
        ),
        (None, Some(times)) => Repetition::Times(times),
        (None, None) => Repetition::default(),
    };
    Ok(GatePlan {
        gates: args.gate.clone(),
        baseline: args.baseline.clone().unwrap_or_default(),
        require_baseline: args.require_baseline,
        max_failure_rate: args.max_failure_rate,
        repetition,
    })
}

/// `--history`, `SMOKE_HISTORY`, `--no-history`. A URL of a kind this build does not know is
/// a usage error (its password hidden).
fn history_location(args: &RunArgs) -> Result<HistoryLocation, RunEnd> {
    let env = std::env::var(HISTORY_ENV).ok();
    HistoryLocation::resolve(args.history.as_deref(), env.as_deref(), args.no_history).map_err(
        |error| {
            stderr_line!("error: {error}");
            RunEnd::Usage
        },
    )
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
    interrupts: &Arc<Interrupts>,
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
            GithubReporter::new(report_stdout(interrupts), summary),
        );
    }
    Ok(())
}

/// The run's id, for its log folder: `20260121-143000-<pid>` (UTC), with `-N` after it for the
/// Nth run a process starts after its first (runs of one process never share a folder).
fn run_id() -> String {
    static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let digits: String = now.chars().filter(char::is_ascii_digit).take(14).collect();
    let (date, time) = digits.split_at(digits.len().min(8));
    let id = format!("{date}-{time}-{}", std::process::id());
    match STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
        0 => id,
        n => format!("{id}-{}", n + 1),
    }
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
fn list(suites: &[Suite], selection: &Selection, interrupts: &Arc<Interrupts>) -> RunEnd {
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
    let mut out =
        io::BufWriter::with_capacity(64 * 1024, InterruptibleStdout::new(Some(interrupts)));
    let written = write_list(&mut out, steps).and_then(|()| out.flush());
    let interrupted = interrupts.received();
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
