//! The monitor: the watched suites and their settings (the catalog, reloaded on SIGHUP), the
//! workers that take queued runs to the engine, and the schedule that queues them.
//!
//! Runs happen on the engine's threads; the workers and the schedule are plain threads that
//! wait on the queue and the clock. The HTTP side only reads, enqueues and cancels.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use crate::config::{ServeArgs, Settings};
use crate::history::{
    HistoryLimits, HistoryStore, HistoryTarget, RunMeta, RunRecorder, history_password_masks,
};
use crate::scheduler::{Filter, LogLimits, Selection, prune_step_logs};
use crate::suite::{Suite, load_suites};

use super::alerts::Alerts;
use super::config::ServeConfig;
use super::engine::RunEngine;
use super::health::Health;
use super::runs::{RunRequest, RunStatus, Runs, Trigger};
use super::tracker::RunTracker;
use crate::engine::RunPlan;

/// The watched suites and how to run them: what `--config`, the flags and the suite files say.
pub struct Catalog {
    /// The monitor's settings.
    pub config: ServeConfig,
    /// The watched suites, each name once.
    pub suites: Vec<Suite>,
    /// The runs' settings.
    pub settings: Arc<Settings>,
    /// Where each run's step logs go (a folder per run), unless logs are off.
    pub log_root: Option<PathBuf>,
    /// How many run folders (and bytes) the log root keeps: `--keep-logs`, `--max-log-size`.
    pub log_limits: LogLimits,
    /// How many runs (and how old) the history keeps: `--keep-history`, `--keep-history-days`.
    pub history_limits: HistoryLimits,
}

impl Catalog {
    /// Reads the settings, the configuration file and the suites.
    pub fn load(args: &ServeArgs) -> Result<Self, String> {
        let config = ServeConfig::resolve(args).map_err(|error| error.to_string())?;
        for (flag, given) in [
            ("--list", args.run.list),
            ("--rerun-failed", args.run.rerun_failed),
            ("--junit", args.run.junit.is_some()),
            ("--json", args.run.json.is_some()),
            ("--shard", args.run.shard.is_some()),
            ("--partition", args.run.partition.is_some()),
        ] {
            if given {
                return Err(format!(
                    "{flag} does not apply to `serve`: runs are read through the API (GET /api/runs/ID/events gives the --json events)"
                ));
            }
        }
        let mut settings = Settings::from_args(&args.run).map_err(|error| error.to_string())?;
        let suites = load_suites(&args.run.suites, args.run.fixtures.as_deref())
            .map_err(|errors| settings.masker.mask(&errors.to_string()).into_owned())?;
        let mut seen = std::collections::HashSet::new();
        for suite in &suites {
            if !seen.insert(suite.name.as_str()) {
                return Err(format!(
                    "two watched suites are named `{}`: the API and the schedule name suites, so each name must be unique",
                    suite.name
                ));
            }
        }
        let mut names: Vec<String> = args.run.redact.clone();
        names.extend(suites.iter().flat_map(|suite| suite.redact.iter().cloned()));
        names.push(super::token::TOKEN_ENV.to_owned());
        // The history URL's password: the runs' steps inherit SMOKE_HISTORY.
        (settings.extra_secrets, settings.framed_secrets) =
            history_password_masks(args.run.history.as_deref());
        settings = settings.with_masker(&names);
        // The API shows every step's output tail, not only failing ones'.
        settings.show_output = true;
        let log_root = (!args.run.no_log_dir).then(|| args.run.log_dir.clone());
        let retention = &args.run.retention;
        let log_limits = LogLimits {
            max_runs: retention.keep_logs as usize,
            max_bytes: retention.max_log_size,
        };
        let history_limits =
            HistoryLimits::keeping(retention.keep_history, retention.keep_history_days);
        Ok(Self {
            config,
            suites,
            settings: Arc::new(settings),
            log_root,
            log_limits,
            history_limits,
        })
    }

    /// The suite named `name`.
    pub fn suite(&self, name: &str) -> Option<&Suite> {
        self.suites.iter().find(|suite| suite.name == name)
    }

    /// The suites the schedule runs.
    pub fn scheduled(&self) -> impl Iterator<Item = &Suite> {
        (self.suites.iter()).filter(|suite| !self.config.unscheduled.contains(&suite.name))
    }
}

/// Old run folders deleted after each run at most (a backlog shrinks over the next runs, as
/// after runs from the command line).
const LOG_PRUNE_BUDGET: usize = 2;

/// Old runs deleted from the history after each run at most, likewise.
const HISTORY_PRUNE_BUDGET: usize = 2;

/// The stored runs read per suite at start-up: the newest finished one sets its state, and
/// failures in a row are counted among them.
const SEEDED_RUNS: usize = 50;

/// Everything the monitor's threads and handlers share.
pub struct Monitor {
    /// The runs and the queue.
    pub runs: Arc<Runs>,
    /// Each watched suite's latest results.
    pub health: Health,
    catalog: RwLock<Arc<Catalog>>,
    engine: Box<dyn RunEngine>,
    history: Option<HistoryTarget>,
    alerts: RwLock<Option<Arc<Alerts>>>,
    /// Worker threads started (they never end before the monitor stops; beyond the
    /// configured concurrency they wait).
    workers: Mutex<Vec<std::thread::JoinHandle<()>>>,
    stopping: Mutex<bool>,
    stop_signal: Condvar,
}

impl Monitor {
    /// A monitor for `catalog`, running through `engine`, recording in `history`.
    pub fn new(
        catalog: Catalog,
        engine: Box<dyn RunEngine>,
        history: Option<HistoryTarget>,
        id_prefix: String,
    ) -> Self {
        let alerts = start_alerts(&catalog, None);
        let runs = Runs::new(catalog.config.queue, id_prefix);
        runs.set_concurrency(catalog.config.concurrency);
        Self {
            alerts: RwLock::new(alerts),
            workers: Mutex::new(Vec::new()),
            runs: Arc::new(runs),
            health: Health::default(),
            catalog: RwLock::new(Arc::new(catalog)),
            engine,
            history,
            stopping: Mutex::new(false),
            stop_signal: Condvar::new(),
        }
    }

    /// Seeds each watched suite's health from the newest runs an earlier monitor stored in
    /// `state`, so `/healthz` and `/metrics` answer from them until the suite runs again. A
    /// history that cannot be read is a warning: the suites then read `unknown` as before.
    pub fn seed_health(&self, state: &super::state::StateStore) {
        for suite in &self.catalog().suites {
            match state.list_runs(Some(&suite.name), SEEDED_RUNS) {
                Ok(views) => self.health.seed(&suite.name, &views),
                Err(error) => {
                    stderr_warning(&format!(
                        "cannot read suite `{}`'s last results from the history: {error}",
                        suite.name
                    ));
                    break;
                }
            }
        }
        let alerts = self.current_alerts();
        if let Some(alerts) = alerts {
            let (states, _) = self.health.snapshot();
            for (suite, state) in states.iter().filter(|(_, s)| s.from_earlier_process) {
                alerts.carry_over(suite, state);
            }
        }
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The alerts in force now (those of the latest configuration), if any.
    fn current_alerts(&self) -> Option<Arc<Alerts>> {
        self.alerts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the catalog (SIGHUP): later runs and the schedule use the new one, the queue
    /// its new size, the workers its new concurrency (running runs go on), and alerts its new
    /// `[alerts]` (what was already announced carries over).
    pub fn reload(self: &Arc<Self>, catalog: Catalog) {
        self.runs.set_capacity(catalog.config.queue);
        self.runs.set_concurrency(catalog.config.concurrency);
        self.start_workers(catalog.config.concurrency);
        let previous = self.current_alerts();
        let alerts = start_alerts(&catalog, previous.as_deref());
        *self.alerts.write().unwrap_or_else(|p| p.into_inner()) = alerts;
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(catalog);
        self.stop_signal.notify_all();
    }

    /// Starts workers until there are `count`.
    pub fn start_workers(self: &Arc<Self>, count: usize) {
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        while workers.len() < count {
            let monitor = self.clone();
            match std::thread::Builder::new()
                .name("serve-worker".into())
                .spawn(move || monitor.work())
            {
                Ok(worker) => workers.push(worker),
                Err(error) => {
                    stderr_warning(&format!("cannot start a worker: {error}"));
                    break;
                }
            }
        }
    }

    /// Waits for the workers to end (after [`Monitor::stop`] and the drain).
    pub fn join_workers(&self) {
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|p| p.into_inner()));
        for worker in workers {
            let _ = worker.join();
        }
    }

    /// The history (a SQLite file or a PostgreSQL database), when runs are recorded.
    pub fn history(&self) -> Option<&HistoryTarget> {
        self.history.as_ref()
    }

    /// Stops the schedule and the queue; running runs go on.
    pub fn stop(&self) {
        *self.stopping.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.stop_signal.notify_all();
        self.runs.stop_accepting();
    }

    /// A worker: takes queued runs until the monitor stops.
    pub fn work(self: &Arc<Self>) {
        while let Some((id, request)) = self.runs.next_to_run() {
            let (status, note) = self.execute(&id, &request);
            self.runs.finish(&id, status, note);
        }
    }

    /// Runs one queued run to its end.
    fn execute(&self, id: &str, request: &RunRequest) -> (RunStatus, Option<String>) {
        let catalog = self.catalog();
        let mut suites = Vec::new();
        for name in &request.suites {
            match catalog.suite(name) {
                Some(suite) => suites.push(suite.clone()),
                None => {
                    return (
                        RunStatus::Failed,
                        Some(format!(
                            "suite `{name}` is no longer watched (configuration reloaded)"
                        )),
                    );
                }
            }
        }
        let filter = Filter {
            filters: request.filter.iter().cloned().collect(),
            ..Filter::default()
        };
        let selection = Selection::new(&suites, &filter);
        let mut settings = (*catalog.settings).clone();
        settings.log_dir = catalog.log_root.as_ref().map(|root| root.join(id));
        let plan = RunPlan::new(suites, selection, settings);
        let recorder = Arc::new(RunRecorder::new(RunMeta {
            run_id: id.to_owned(),
            git_commit: request.commit.clone(),
            host: None,
            shard: None,
        }));
        let tracker = RunTracker::new(self.runs.clone(), id.to_owned(), recorder.clone());
        let handle: Arc<dyn super::engine::RunHandle> =
            match self.engine.start(plan, Box::new(tracker)) {
                Ok(handle) => handle.into(),
                Err(error) => {
                    return (
                        RunStatus::Failed,
                        Some(format!("cannot start the run: {error}")),
                    );
                }
            };
        self.runs.set_handle(id, handle.clone());
        let started = Instant::now();
        let outcome = handle.wait();
        self.save_events(&catalog, id);
        let (status, note) = match &outcome {
            None => (
                RunStatus::Failed,
                Some("the run was waited for twice".to_owned()),
            ),
            Some(_) if self.runs.cancel_requested(id) => (RunStatus::Cancelled, None),
            Some(outcome) if outcome.cancelled.is_some() => (
                RunStatus::Interrupted,
                Some("the monitor stopped it (--drain-timeout passed)".to_owned()),
            ),
            Some(outcome) if outcome.summary.success() => (RunStatus::Passed, None),
            Some(_) => (RunStatus::Failed, None),
        };
        if let Some(view) = self.runs.view(id) {
            let changed = self.health.record(&view, status, started.elapsed());
            let alerts = self.current_alerts();
            if let Some(alerts) = alerts {
                for (suite, state) in &changed {
                    alerts.observe(suite, state);
                }
            }
        }
        self.record_history(recorder, status, catalog.history_limits);
        (status, note)
    }

    /// Saves the ended run's events in its log folder, where the events endpoint finds them
    /// once this process no longer holds the run; a folder that cannot be written is a warning.
    /// Then the oldest run folders beyond `--keep-logs` / `--max-log-size` go, at most
    /// [`LOG_PRUNE_BUDGET`] a run, as after a run from the command line.
    fn save_events(&self, catalog: &Catalog, id: &str) {
        let Some(root) = catalog.log_root.as_deref() else {
            return;
        };
        if let Some(path) = super::stored_events::events_path(root, id) {
            let lines = self.runs.events_from(id, 0).map(|batch| batch.lines);
            if let Err(error) = super::stored_events::save(&path, &lines.unwrap_or_default()) {
                stderr_warning(&format!(
                    "cannot save the events of run {id} in {}: {error}",
                    path.display()
                ));
            }
        }
        match prune_step_logs(root, Some(id), catalog.log_limits, Some(LOG_PRUNE_BUDGET)) {
            Ok(pruned) => {
                for (run, error) in pruned.errors {
                    stderr_warning(&format!(
                        "cannot delete old run folder {}: {error}",
                        root.join(run).display()
                    ));
                }
            }
            Err(error) => stderr_warning(&format!(
                "cannot delete old run folders in {}: {error}",
                root.display()
            )),
        }
    }

    /// Writes the run into the history, then deletes the oldest runs beyond `limits` (at most
    /// [`HISTORY_PRUNE_BUDGET`], this run counted), as a run from the command line does: a
    /// monitor that runs for months keeps the history bounded. A history that cannot be written
    /// is a warning.
    fn record_history(&self, recorder: Arc<RunRecorder>, status: RunStatus, limits: HistoryLimits) {
        let (Some(history), Ok(recorder)) = (&self.history, Arc::try_unwrap(recorder)) else {
            return;
        };
        let exit = i32::from(status != RunStatus::Passed);
        let Some(record) = recorder.into_record(exit) else {
            return;
        };
        let recorded =
            HistoryStore::open(history).and_then(|mut store| store.record(&record).map(|_| store));
        let mut store = match recorded {
            Ok(store) => store,
            Err(error) => {
                stderr_warning(&format!(
                    "cannot record run {} in the history: {error}",
                    record.run_id
                ));
                return;
            }
        };
        let pruned = store.prune(limits, SystemTime::now(), Some(HISTORY_PRUNE_BUDGET), false);
        if let Err(error) = pruned {
            stderr_warning(&format!("cannot delete old runs from the history: {error}"));
        }
    }

    /// The schedule: queues a run of each scheduled suite when its interval comes round (never
    /// a second one while one is queued or running), until the monitor stops.
    pub fn schedule(&self) {
        let random = RandomState::new();
        let jitter = |name: &str, round: u64, max: Duration| {
            let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
            Duration::from_nanos(random.hash_one((name, round)) % nanos.max(1))
        };
        let mut due: BTreeMap<String, Instant> = BTreeMap::new();
        let mut round = 0u64;
        let mut stopping = self.stopping.lock().unwrap_or_else(|p| p.into_inner());
        while !*stopping {
            drop(stopping);
            let catalog = self.catalog();
            let now = Instant::now();
            due.retain(|name, _| catalog.scheduled().any(|suite| &suite.name == name));
            for suite in catalog.scheduled() {
                let every = catalog.config.every_for(&suite.name);
                let first = jitter(&suite.name, round, catalog.config.jitter_for(every));
                due.entry(suite.name.clone()).or_insert(now + first);
            }
            for (name, at) in &mut due {
                if *at > now {
                    continue;
                }
                round += 1;
                if !self.runs.has_pending_scheduled(name) {
                    let request = RunRequest {
                        suites: vec![name.clone()],
                        ..RunRequest::default()
                    };
                    let _ = self.runs.enqueue(Trigger::Schedule, request);
                }
                let every = catalog.config.every_for(name);
                *at = now + every + jitter(name, round, catalog.config.jitter_for(every));
            }
            let next = due.values().min().copied();
            stopping = self.stopping.lock().unwrap_or_else(|p| p.into_inner());
            if *stopping {
                break;
            }
            let wait = next.map_or(Duration::from_secs(3600), |at| {
                at.saturating_duration_since(Instant::now())
            });
            stopping = (self.stop_signal.wait_timeout(stopping, wait))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// The alerts `catalog` configures, carrying over what `previous` announced; `None` when it
/// configures none or they cannot start (a warning).
fn start_alerts(catalog: &Catalog, previous: Option<&Alerts>) -> Option<Arc<Alerts>> {
    let config = catalog.config.alerts.clone()?;
    Alerts::start(config, catalog.settings.masker.clone(), previous)
        .map(Arc::new)
        .map_err(|error| stderr_warning(&format!("alerts are off: {error}")))
        .ok()
}

/// One warning line on standard error.
pub fn stderr_warning(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "warning: {text}");
}
