//! `smoke-runner serve`: settings and suites in, the monitor's threads and HTTP server up,
//! signals handled (SIGTERM/SIGINT drain and stop, SIGHUP reloads), an exit status out.

use std::net::TcpListener as StdListener;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::config::ServeArgs;
use crate::history::{HISTORY_ENV, HistoryLocation, HistoryTarget};
use crate::serve::{
    Api, Catalog, EngineRuns, Monitor, OpenError, Recovered, StateStore, TOKEN_ENV, Token, recover,
    router, serve,
};

use super::exit::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// The monitor's own tables beside a PostgreSQL history, unless `--state` says otherwise.
pub const DEFAULT_STATE_FILE: &str = "target/smoke-serve-state.sqlite";

/// Runs the monitor until SIGTERM or SIGINT; returns the exit status.
pub fn serve_main(args: &ServeArgs) -> i32 {
    let Prepared {
        catalog,
        token,
        listener,
        history,
        state,
    } = match prepare(args) {
        Ok(prepared) => prepared,
        Err((code, message)) => {
            stderr_line!("error: {message}");
            return code;
        }
    };
    let listen = catalog.config.listen;
    let concurrency = catalog.config.concurrency;
    let monitor = Arc::new(Monitor::new(
        catalog,
        Box::new(EngineRuns),
        history,
        id_prefix(),
    ));
    let recovered = state.as_ref().map(|(state, instance)| {
        monitor.runs.record_in(state.clone(), *instance);
        let recovered = recover(state, *instance);
        monitor.seed_health(state);
        recovered
    });
    monitor.start_workers(concurrency);
    let scheduler = {
        let monitor = monitor.clone();
        std::thread::spawn(move || monitor.schedule())
    };
    let bound = listener.local_addr().map_or(listen, |addr| addr);
    announce(&monitor, bound, token.is_some());
    if let Some(recovered) = recovered {
        announce_recovery(recovered);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            stderr_line!("error: cannot start the HTTP server: {error}");
            return EXIT_FAILED;
        }
    };
    let api = Arc::new(Api {
        monitor: monitor.clone(),
        token,
    });
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        serve(listener, router(api), lifecycle(monitor.clone(), args)).await;
        Ok::<_, std::io::Error>(())
    });
    if let Err(error) = served {
        stderr_line!("error: cannot serve on {bound}: {error}");
        monitor.stop();
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    monitor.join_workers();
    let _ = scheduler.join();
    if let Some((state, instance)) = state {
        state.flush(Duration::from_secs(10));
        state.stopped(instance);
        state.close();
    }
    EXIT_OK
}

/// What serve holds before it starts its monitor: the suites and settings, the token, the
/// bound socket, the history and serve's state in it.
struct Prepared {
    catalog: Catalog,
    token: Option<Token>,
    listener: StdListener,
    history: Option<HistoryTarget>,
    state: Option<(Arc<StateStore>, i64)>,
}

/// Loads and checks everything serve needs, binding its socket; an error is the exit status
/// and what to print.
fn prepare(args: &ServeArgs) -> Result<Prepared, (i32, String)> {
    let usage = |error: String| (EXIT_USAGE, error);
    let catalog = Catalog::load(args).map_err(usage)?;
    let token = Token::load(
        catalog.config.token_file.as_deref(),
        std::env::var(TOKEN_ENV).ok(),
    )
    .map_err(usage)?;
    let listen = catalog.config.listen;
    if token.is_none() && !listen.ip().is_loopback() {
        return Err(usage(format!(
            "refusing to listen on {listen} without a token: anyone who can reach it could read the results; set {TOKEN_ENV} or --token-file, or listen on 127.0.0.1"
        )));
    }
    let listener = StdListener::bind(listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|error| (EXIT_FAILED, format!("cannot listen on {listen}: {error}")))?;
    let history = history_location(args).map_err(usage)?;
    let state_file = state_file(args, history.as_ref());
    let state = open_state(state_file.as_deref(), &catalog.settings.temp_root).map_err(usage)?;
    Ok(Prepared {
        catalog,
        token,
        listener,
        history,
        state,
    })
}

/// The monitor's state in its file and this process's row in it; `None` without a history
/// (or with a state file that cannot be written: a warning). Another monitor on the same file
/// is an error.
fn open_state(
    state_file: Option<&std::path::Path>,
    temp_root: &std::path::Path,
) -> Result<Option<(Arc<StateStore>, i64)>, String> {
    let Some(path) = state_file else {
        return Ok(None);
    };
    let opened = StateStore::open(path).and_then(|state| {
        let instance = state.register(temp_root).map_err(OpenError::Failed)?;
        Ok((Arc::new(state), instance))
    });
    match opened {
        Ok(opened) => Ok(Some(opened)),
        Err(OpenError::InUse(message)) => Err(message),
        Err(OpenError::Failed(message)) => {
            stderr_line!(
                "warning: runs, the queue and the audit log are not recorded, and a crash cannot be cleaned up after: {message}"
            );
            Ok(None)
        }
    }
}

/// What cleaning up after a crashed monitor did, when it did anything.
fn announce_recovery(recovered: Result<Recovered, String>) {
    match recovered {
        Ok(recovered) => {
            if recovered.runs + recovered.processes + recovered.test_dirs > 0 {
                stdout_line!(
                    "→ After an unclean stop: {} run(s) marked interrupted, {} process(es) stopped, {} test dir(s) removed",
                    recovered.runs,
                    recovered.processes,
                    recovered.test_dirs
                );
            }
            for warning in recovered.warnings {
                stderr_line!("warning: {warning}");
            }
        }
        Err(error) => stderr_line!("warning: cannot clean up after an unclean stop: {error}"),
    }
}

/// The first line a user (or a test) reads: where the monitor listens.
fn announce(monitor: &Monitor, bound: std::net::SocketAddr, has_token: bool) {
    let catalog = monitor.catalog();
    stdout_line!(
        "→ Monitoring {} suite(s) on http://{bound} (every {})",
        catalog.suites.len(),
        humantime::format_duration(catalog.config.every)
    );
    if !catalog.settings.framed_secrets.is_empty() {
        stderr_line!("{}", crate::history::short_password_note());
    }
    if !has_token {
        stdout_line!(
            "note: no token ({TOKEN_ENV} or --token-file): the API only reads; triggering and cancelling runs are refused"
        );
    }
}

/// Waits for SIGTERM or SIGINT, reloading on SIGHUP meanwhile; then stops the schedule and the
/// queue and lets running runs finish (at most the configuration's `drain_timeout`, as last
/// reloaded).
async fn lifecycle(monitor: Arc<Monitor>, args: &ServeArgs) {
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        stderr_line!("warning: cannot install signal handlers; stop the monitor with SIGKILL");
        return std::future::pending().await;
    };
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => match Catalog::load(args) {
                Ok(catalog) => {
                    stdout_line!("→ Reloaded: {} suite(s)", catalog.suites.len());
                    monitor.reload(catalog);
                }
                Err(error) => stderr_line!("error: reload refused, keeping the running configuration: {error}"),
            },
        }
    }
    monitor.stop();
    let drain_timeout = monitor.catalog().config.drain_timeout;
    let drained = {
        let monitor = monitor.clone();
        tokio::task::spawn_blocking(move || monitor.runs.wait_idle(drain_timeout))
            .await
            .unwrap_or(false)
    };
    if !drained {
        // Cancelled runs stop their commands and remove their test dirs before they end.
        for handle in monitor.runs.running_handles() {
            handle.cancel();
        }
        let monitor = monitor.clone();
        let _ =
            tokio::task::spawn_blocking(move || monitor.runs.wait_idle(Duration::from_secs(60)))
                .await;
    }
}

/// `--history`, `SMOKE_HISTORY`, `--no-history`: where runs are recorded, a SQLite file or a
/// PostgreSQL database.
fn history_location(args: &ServeArgs) -> Result<Option<HistoryTarget>, String> {
    let env = std::env::var(HISTORY_ENV).ok();
    let location = HistoryLocation::resolve(
        args.run.history.as_deref(),
        env.as_deref(),
        args.run.no_history,
    )
    .map_err(|error| error.to_string())?;
    Ok(location.target().cloned())
}

/// Where the monitor keeps its own tables (the runs it queued, the audit log, its processes
/// and their test dirs): `--state`, else the history file; beside a PostgreSQL history, which
/// many machines share, a file of this machine's (what a crashed monitor left is cleaned up
/// on the machine it ran on). `None` without a history.
fn state_file(args: &ServeArgs, history: Option<&HistoryTarget>) -> Option<std::path::PathBuf> {
    match (history?, &args.state) {
        (_, Some(state)) => Some(state.clone()),
        (HistoryTarget::File(path), None) => Some(path.clone()),
        (HistoryTarget::Postgres(_), None) => Some(DEFAULT_STATE_FILE.into()),
    }
}

/// Run ids of this monitor start with its start time and process id: `20261202-031500-4242`.
fn id_prefix() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let digits: String = now.chars().filter(char::is_ascii_digit).take(14).collect();
    let (date, time) = digits.split_at(digits.len().min(8));
    format!("{date}-{time}-{}", std::process::id())
}
