//! The run history from the command line: recording a run (opened before it, written after
//! it), `smoke-runner history …` and `smoke-runner report --html`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crate::config::{HistoryArgs, HistoryCommand, HistoryFileArgs, HistoryFormat, ReportArgs};
use crate::exec::{ExecRequest, Executor, StreamSelector, Termination};
use crate::history::{
    HISTORY_ENV, HistoryConsumer, HistoryError, HistoryLimits, HistoryLocation, HistoryStore,
    HistoryTarget, HtmlOptions, RunMeta, RunRecord, RunRecorder, RunSummary, find_git_dir,
    head_branch, head_commit, import_events, render_html,
};
use crate::report::Baselines;

use super::exit::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// The history the reading commands use: `--history`, else `SMOKE_HISTORY`, else the
/// default file.
fn history_target(args: &HistoryFileArgs) -> Result<HistoryTarget, HistoryError> {
    let env = std::env::var(HISTORY_ENV).ok();
    HistoryTarget::resolve(args.history.as_deref(), env.as_deref())
}

/// [`history_target`], or the exit status of a usage error (said on standard error).
fn history_target_or_exit(args: &HistoryFileArgs) -> Result<HistoryTarget, i32> {
    history_target(args).map_err(|error| {
        stderr_line!("error: {error}");
        EXIT_USAGE
    })
}

/// Runs `smoke-runner history …` and returns the exit status.
pub fn history_main(args: &HistoryArgs) -> i32 {
    let path = match history_target_or_exit(&args.file) {
        Ok(target) => target,
        Err(status) => return status,
    };
    match &args.command {
        HistoryCommand::Import { files } => return import(&path, files),
        HistoryCommand::Prune { log_dir, retention } => {
            return super::retention::prune_main(&path, log_dir, retention);
        }
        _ => {}
    }
    let store = match HistoryStore::open_existing(&path) {
        Ok(store) => store,
        Err(error) => {
            stderr_line!("error: {error}");
            return EXIT_USAGE;
        }
    };
    let json = args.format == HistoryFormat::Json;
    let result = match &args.command {
        HistoryCommand::Runs { last } => store.runs(*last).map(|runs| {
            let runs = with_triggers(&path, runs);
            render(json, &runs, || text::runs(&runs))
        }),
        HistoryCommand::Setup { runs } => store
            .setup(*runs)
            .map(|entries| render(json, &entries, || text::setup(&entries, *runs))),
        HistoryCommand::Flaky { runs } => store
            .flaky(*runs)
            .map(|steps| render(json, &steps, || text::flaky(&steps, *runs))),
        HistoryCommand::Slow { runs } => store
            .slow(*runs)
            .map(|steps| render(json, &steps, || text::slow(&steps, *runs))),
        HistoryCommand::Import { files } => return import(&path, files),
        HistoryCommand::Prune { log_dir, retention } => {
            return super::retention::prune_main(&path, log_dir, retention);
        }
        HistoryCommand::Step { name, runs } => match store.step(name, *runs) {
            Ok((name, entries)) => Ok(render(
                json,
                &serde_json::json!({ "test_name": name, "runs": entries }),
                || text::step(&name, &entries),
            )),
            Err(error) => {
                stderr_line!("error: {error}");
                return EXIT_USAGE;
            }
        },
    };
    match result {
        Ok(output) => print_out(&output),
        Err(error) => {
            stderr_line!("error: {error}");
            EXIT_FAILED
        }
    }
}

/// `history import`: the shards' event files recorded as one run.
fn import(path: &HistoryTarget, files: &[PathBuf]) -> i32 {
    let record = match import_events(files, EXIT_FAILED) {
        Ok(record) => record,
        Err(error) => {
            stderr_line!("error: {error}");
            return EXIT_USAGE;
        }
    };
    let mut store = match HistoryStore::open(path) {
        Ok(store) => store,
        Err(error) => {
            stderr_line!("error: {error}");
            return EXIT_FAILED;
        }
    };
    match store.run_row(&record.run_id) {
        Ok(Some(_)) => {
            stdout_line!(
                "→ Already in {}: these events were imported as run {}",
                path,
                record.run_id
            );
            return EXIT_OK;
        }
        Ok(None) => {}
        Err(error) => {
            stderr_line!("error: {error}");
            return EXIT_FAILED;
        }
    }
    if let Err(error) = store.record(&record) {
        stderr_line!("error: {error}");
        return EXIT_FAILED;
    }
    stdout_line!(
        "→ Imported {} steps from {} file(s) into {} as run {}",
        record.steps().count(),
        files.len(),
        path,
        record.run_id
    );
    EXIT_OK
}

/// Runs `smoke-runner report --html FILE` and returns the exit status.
pub fn report_main(args: &ReportArgs) -> i32 {
    let path = match history_target_or_exit(&args.file) {
        Ok(target) => target,
        Err(status) => return status,
    };
    let rendered = HistoryStore::open_existing(&path).and_then(|store| {
        render_html(
            &store,
            &HtmlOptions {
                runs: args.runs,
                generated_at: SystemTime::now(),
            },
        )
    });
    let html = match rendered {
        Ok(Some(html)) => html,
        Ok(None) => {
            stderr_line!("error: no run is recorded in {path} yet");
            return EXIT_USAGE;
        }
        Err(error) => {
            stderr_line!("error: {error}");
            return EXIT_USAGE;
        }
    };
    if let Err(error) = write_file(&args.html, html.as_bytes()) {
        stderr_line!("error: cannot write {}: {error}", args.html.display());
        return EXIT_FAILED;
    }
    stdout_line!("→ Report written to {}", args.html.display());
    EXIT_OK
}

/// Writes through a temp file in the same folder, so a reader never sees half a report.
fn write_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => std::path::Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(folder)?;
    file.write_all(bytes)?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// A line of `history runs`: the run and what started it.
#[derive(Debug, serde::Serialize)]
struct TriggeredRun {
    #[serde(flatten)]
    run: RunSummary,
    /// `schedule` or `api` (queued by `smoke-runner serve`), else `command_line`.
    trigger: String,
}

/// `runs` with what started each: the monitor's record of it, else the command line. Beside a
/// PostgreSQL history the monitor keeps its record in a file of its machine's (`serve
/// --state`), so the runs of a PostgreSQL history read as from the command line.
fn with_triggers(target: &HistoryTarget, runs: Vec<RunSummary>) -> Vec<TriggeredRun> {
    let ids: Vec<&str> = runs.iter().map(|run| run.run_id.as_str()).collect();
    let known = match target {
        HistoryTarget::File(path) => crate::serve::triggers(path, &ids).unwrap_or_else(|error| {
            stderr_line!("warning: cannot read what triggered the runs: {error}");
            None
        }),
        HistoryTarget::Postgres(_) => None,
    };
    runs.into_iter()
        .map(|run| TriggeredRun {
            trigger: (known.as_ref())
                .and_then(|known| known.get(&run.run_id).cloned())
                .unwrap_or_else(|| "command_line".to_owned()),
            run,
        })
        .collect()
}

fn render<T: serde::Serialize + ?Sized>(
    json: bool,
    value: &T,
    text: impl FnOnce() -> String,
) -> String {
    if json {
        let mut out = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        out.push('\n');
        out
    } else {
        text()
    }
}

fn print_out(output: &str) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => EXIT_OK,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(error) => {
            stderr_line!("error: cannot write the output: {error}");
            EXIT_FAILED
        }
    }
}

/// The text forms of `history` answers: aligned columns.
mod text {
    use std::fmt::Write as _;

    use crate::history::{FlakyStep, SetupEntry, SlowStep, StepHistoryEntry};

    fn seconds(secs: f64) -> String {
        if secs < 1.0 {
            format!("{:.0}ms", secs * 1000.0)
        } else {
            format!("{secs:.2}s")
        }
    }

    /// The width of a column of `values`, at least `least`.
    fn width<'a>(values: impl Iterator<Item = Option<&'a str>>, least: usize) -> usize {
        values
            .map(|value| value.map_or(1, |text| text.chars().count()))
            .max()
            .unwrap_or(0)
            .max(least)
    }

    pub fn runs(runs: &[super::TriggeredRun]) -> String {
        if runs.is_empty() {
            return "no runs recorded yet\n".into();
        }
        let branch = width(runs.iter().map(|r| r.run.git_branch.as_deref()), 6);
        let label = width(runs.iter().map(|r| r.run.label.as_deref()), 5);
        let mut out = format!(
            "{:<28} {:<20} {:>9} {:>6} {:>8} {:>6} {:>6} {:>8} {:>7} {:>4}  {:<12} {:<branch$}  {:<label$}  {}\n",
            "run",
            "started",
            "duration",
            "passed",
            "degraded",
            "flaky",
            "failed",
            "timeouts",
            "skipped",
            "exit",
            "trigger",
            "branch",
            "label",
            "shard"
        );
        for super::TriggeredRun { run, trigger } in runs {
            let _ = writeln!(
                out,
                "{:<28} {:<20} {:>9} {:>6} {:>8} {:>6} {:>6} {:>8} {:>7} {:>4}  {:<12} {:<branch$}  {:<label$}  {}",
                run.run_id,
                run.started_at,
                seconds(run.duration_s),
                run.passed,
                run.degraded,
                run.flaky,
                run.failed,
                run.timed_out,
                run.skipped,
                run.exit_status,
                trigger,
                run.git_branch.as_deref().unwrap_or("-"),
                run.label.as_deref().unwrap_or("-"),
                run.shard.as_deref().unwrap_or("-"),
            );
        }
        out
    }

    pub fn setup(entries: &[SetupEntry], runs: usize) -> String {
        if entries.is_empty() {
            return format!("no requirement or service in the last {runs} runs\n");
        }
        let width = |of: fn(&SetupEntry) -> &str, least: usize| {
            entries
                .iter()
                .map(|e| of(e).chars().count())
                .max()
                .unwrap_or(0)
                .max(least)
        };
        let (suite, name) = (width(|e| &e.suite, 5), width(|e| &e.name, 4));
        let mut out = format!(
            "{:<28} {:<suite$}  {:<19}  {:<name$}  {:>9}  detail\n",
            "run", "suite", "event", "name", "time"
        );
        for entry in entries {
            let time = match entry.event.as_str() {
                "service_started" => "-".to_owned(),
                _ => seconds(entry.duration_s),
            };
            let detail = entry.detail.as_deref().and_then(|d| d.lines().next());
            let _ = writeln!(
                out,
                "{:<28} {:<suite$}  {:<19}  {:<name$}  {:>9}  {}",
                entry.run_id,
                entry.suite,
                entry.event,
                entry.name,
                time,
                detail.unwrap_or_default(),
            );
        }
        out
    }

    pub fn flaky(steps: &[FlakyStep], runs: usize) -> String {
        if steps.is_empty() {
            return format!("no step changed outcome in the last {runs} runs\n");
        }
        let width = steps
            .iter()
            .map(|s| s.test_name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!(
            "{:<width$}  {:>9}  {:>5}  {:>8}  {:>4}  last\n",
            "step", "flip rate", "flips", "failures", "runs"
        );
        for step in steps {
            let _ = writeln!(
                out,
                "{:<width$}  {:>9.2}  {:>5}  {:>8}  {:>4}  {}",
                step.test_name,
                step.flip_rate,
                step.flips,
                step.failures,
                step.runs,
                step.last_outcome.as_str(),
            );
        }
        out
    }

    pub fn slow(steps: &[SlowStep], runs: usize) -> String {
        if steps.is_empty() {
            return format!("no step ran in the last {runs} runs\n");
        }
        let width = steps
            .iter()
            .map(|s| s.test_name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!(
            "{:<width$}  {:>9}  {:>9}  {:>4}  trend\n",
            "step", "median", "p95", "runs"
        );
        for step in steps {
            let _ = writeln!(
                out,
                "{:<width$}  {:>9}  {:>9}  {:>4}  {} ({:+.0}%)",
                step.test_name,
                seconds(step.median_s),
                seconds(step.p95_s),
                step.runs,
                step.trend.as_str(),
                step.trend_change * 100.0,
            );
        }
        out
    }

    pub fn step(name: &str, entries: &[StepHistoryEntry]) -> String {
        let branch = width(entries.iter().map(|e| e.git_branch.as_deref()), 6);
        let label = width(entries.iter().map(|e| e.label.as_deref()), 5);
        let mut out = format!("{name}\n");
        let _ = writeln!(
            out,
            "{:<28} {:<20} {:<branch$}  {:<label$}  {:<10} {:>9} {:>8}  status",
            "run", "started", "branch", "label", "outcome", "duration", "attempts"
        );
        for entry in entries {
            let _ = writeln!(
                out,
                "{:<28} {:<20} {:<branch$}  {:<label$}  {:<10} {:>9} {:>8}  {}",
                entry.run_id,
                entry.started_at,
                entry.git_branch.as_deref().unwrap_or("-"),
                entry.label.as_deref().unwrap_or("-"),
                entry.outcome.as_str(),
                seconds(entry.duration_s),
                entry.attempts,
                entry.status,
            );
        }
        out
    }
}

/// What the history's thread is told once the run is over: the run to record (`None`: the
/// run never started, nothing to record).
type Finish = Option<RunRecord>;

/// The history's side of one run: opened before it (the hints' baselines), fed by the event
/// stream, written after it. Every failure is one line on standard error; the run goes on.
pub(super) struct RunHistory {
    /// The history's thread: while the suites run, it opens the history, reads the hints'
    /// baselines and the commit, and deletes a few of the oldest runs beyond the retention
    /// limits (leaving room for this one); then it waits for the run's record, writes it and
    /// closes the file (its closing checkpoint syncs the disk) while the main thread checks
    /// the step logs. Its work waits until [`RunHistory::start`]; with it, where the run's
    /// record goes once it is over. `None` when nothing is recorded.
    beside: Option<(Beside, mpsc::Sender<Finish>)>,
    recorder: RunRecorder,
    baselines: Baselines,
}

/// The history's thread, before and after it is started.
enum Beside {
    Waiting(Box<dyn FnOnce() + Send>),
    Started(JoinHandle<()>),
}

/// A run's record being written by the history's thread; [`FinishingHistory::wait`] before
/// the process exits.
#[must_use = "the record is written only when waited for"]
pub(super) struct FinishingHistory(Option<JoinHandle<()>>);

impl FinishingHistory {
    /// Waits until the run is recorded (or said not to be).
    pub(super) fn wait(self) {
        if let Some(thread) = self.0
            && thread.join().is_err()
        {
            stderr_line!(
                "warning: this run was not recorded in the run history: its thread failed"
            );
        }
    }
}

impl RunHistory {
    /// Opens the history at `location` (nothing at all with `--no-history`) for the run
    /// `run_id`, which is shard `K/N` when `shard` says so.
    /// The hints' baselines are read for `test_names` (none: no report shows hints), in that
    /// order, beside the run: a hint waits only for its own step's. Runs beyond `limits` are
    /// deleted after that, counting this run among those kept.
    pub(super) fn open<'n>(
        location: &HistoryLocation,
        run_id: String,
        shard: Option<String>,
        test_names: impl IntoIterator<Item = &'n str>,
        limits: HistoryLimits,
    ) -> Self {
        let (baselines, feed) = Baselines::loading();
        let beside = location.target().map(|target| {
            let path = target.clone();
            let names: Vec<String> = test_names.into_iter().map(str::to_owned).collect();
            let (finish, finished) = mpsc::channel::<Finish>();
            // Opening (and, once, migrating) the file is done here too, beside the first steps.
            let work = move || {
                let store = match HistoryStore::open(&path) {
                    Ok(store) => store,
                    Err(error) => {
                        stderr_line!("warning: run history off for this run: {error}");
                        return;
                    }
                };
                let found = store.feed_baselines(names.iter().map(String::as_str), &feed);
                if let Err(error) = found {
                    stderr_line!("warning: no hints from the run history: {error}");
                }
                // Hints stop waiting; the commit is needed only at the end.
                drop(feed);
                let mut store = store;
                super::retention::prune_history_before_run(&mut store, limits);
                let git_commit = git_commit();
                // A closed channel: the run ended without a word (its main thread failed).
                if let Ok(Some(mut record)) = finished.recv() {
                    record.git_commit = git_commit;
                    if let Err(error) = store.record(&record) {
                        stderr_line!(
                            "warning: this run was not recorded in the run history: {error}"
                        );
                    }
                }
            };
            (Beside::Waiting(Box::new(work)), finish)
        });
        let host = beside.as_ref().and_then(|_| host_name());
        let recorder = RunRecorder::new(RunMeta {
            run_id,
            git_commit: None,
            host,
            shard,
        });
        Self {
            beside,
            recorder,
            baselines,
        }
    }

    /// Starts the history's thread (once the steps have theirs: it is not needed before).
    pub(super) fn start(&mut self) {
        self.beside = match self.beside.take() {
            Some((Beside::Waiting(work), finish)) => {
                match std::thread::Builder::new()
                    .name("history".into())
                    .spawn(work)
                {
                    Ok(thread) => Some((Beside::Started(thread), finish)),
                    Err(error) => {
                        stderr_line!(
                            "warning: run history off for this run: cannot start its thread: {error}"
                        );
                        None
                    }
                }
            }
            other => other,
        };
    }

    /// Each step's recent runs, for the live report's hints.
    pub(super) fn baselines(&self) -> &Baselines {
        &self.baselines
    }

    /// The consumer to add to the run's event stream; none when nothing will be recorded.
    pub(super) fn consumer(&self) -> Option<HistoryConsumer> {
        self.beside.as_ref().map(|_| self.recorder.consumer())
    }

    /// Hands the run, which ended with `exit_status`, to the history's thread, which records
    /// it and closes the history. The caller does its own closing work meanwhile and then
    /// waits.
    pub(super) fn finish(mut self, exit_status: i32) -> FinishingHistory {
        self.start();
        let Some((Beside::Started(thread), finish)) = self.beside else {
            return FinishingHistory(None);
        };
        // The thread is gone only when the history could not be opened: said then.
        let _ = finish.send(self.recorder.into_record(exit_status));
        FinishingHistory(Some(thread))
    }
}

/// `--rerun-failed`: the suites (file, else name) that failed in the last run in the history
/// at `path`; `None` when it holds no run. A history that cannot be read is a warning.
pub(super) fn last_failed_suites(path: &HistoryTarget) -> Option<Vec<String>> {
    let found = HistoryStore::open_existing(path).and_then(|store| store.last_failed_suites());
    match found {
        Ok(suites) => suites,
        Err(HistoryError::Missing(_)) => None,
        Err(error) => {
            stderr_line!("warning: --rerun-failed cannot read the run history: {error}");
            None
        }
    }
}

/// The commit checked out in the current folder, when it is in a git repository: read from
/// the repository's files, else (a ref storage they do not cover) from `git` itself.
fn git_commit() -> Option<String> {
    let here = std::env::current_dir().ok()?;
    let git_dir = find_git_dir(&here, std::env::var_os("GIT_DIR").as_deref())?;
    head_commit(&git_dir).or_else(git_rev_parse)
}

/// The branch checked out in the current folder, when it is in a git repository and `HEAD`
/// names one (a file read; no `git` process).
pub(super) fn git_branch() -> Option<String> {
    let here = std::env::current_dir().ok()?;
    let git_dir = find_git_dir(&here, std::env::var_os("GIT_DIR").as_deref())?;
    head_branch(&git_dir)
}

/// `git rev-parse HEAD` in the current folder.
fn git_rev_parse() -> Option<String> {
    let request = ExecRequest::new("git")
        .args(["rev-parse", "--verify", "--quiet", "HEAD"])
        .timeout(Duration::from_secs(5))
        .kill_grace(Duration::from_millis(500));
    let outcome = Executor::new().run(&request).ok()?;
    if outcome.termination != Termination::Exited(0) {
        return None;
    }
    let stdout = outcome.output.bytes(StreamSelector::Stdout).ok()?;
    let commit = std::str::from_utf8(&stdout).ok()?.trim();
    (!commit.is_empty() && commit.bytes().all(|b| b.is_ascii_hexdigit())).then(|| commit.to_owned())
}

/// This machine's host name.
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}
