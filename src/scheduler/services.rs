//! A suite's services: started in file order before the first step, each healthy before the
//! next one starts, stopped (in reverse order) after the last step, on failure and on interrupt.
//!
//! A service runs like any command (own session and process group, its own tag), but through
//! an executor handle that lives until the suite is done, with its output appended to a log
//! file so that nothing has to read its pipes while steps run. Health checks poll quickly at
//! first (every 10 ms) and back off to `interval` (a thirty-second of the time waited so far): a
//! service ready in 50 ms is seen as ready in about 50 ms. A service is given up on `start_period + retries × interval` after
//! its start; one that exits before it is healthy fails at once.
//!
//! Each service's life is reported as it goes: [`Event::ServiceStarted`], then `ServiceHealthy`
//! or `ServiceFailed`, and `ServiceStopped` when it is stopped, with the times.

use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::exec::{
    Environment, ExecRequest, Executor, RunningCommand, StreamSelector, Termination,
};
use crate::http::send;
use crate::mask::{Masker, MaskingWriter};
use crate::report::{CheckFailure, Event, PlannedSuite};
use crate::suite::{Healthcheck, Probe, Service, Shell, Suite, slug};

use super::sink::EventSink;
use super::step_command::{apply, command_request, expand, http_call};

/// The shortest pause between two health checks (the first ones).
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// Later pauses are the time waited so far divided by this, up to `interval`.
const PAUSE_DIVISOR: u32 = 32;
/// A check is never given less time than this, even at the end of the patience.
const SHORTEST_CHECK: Duration = Duration::from_millis(100);
/// Timing of the implicit check of a service with a port and no `healthcheck`.
const IMPLICIT_INTERVAL: Duration = Duration::from_secs(1);
const IMPLICIT_TIMEOUT: Duration = Duration::from_secs(5);
const IMPLICIT_RETRIES: u32 = 30;
/// Log lines and bytes shown when a service fails.
const LOG_TAIL_LINES: usize = 15;
const LOG_TAIL_BYTES: u64 = 4 * 1024;
/// Output of the last check shown when a service fails.
const CHECK_TAIL_LINES: usize = 10;
const CHECK_TAIL_BYTES: usize = 2 * 1024;

/// Ports handed out by this process and not yet released, so that two suites running at
/// once never get the same one (the kernel may hand a just-closed port out again).
static PORTS_IN_USE: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// The free loopback ports of a suite's `port = "auto"` services, released when dropped.
#[derive(Debug, Default)]
pub(super) struct Ports {
    /// `(DB_PORT, 54321)` for each service with a port, in file order.
    pub assigned: Vec<(String, u16)>,
}

impl Ports {
    /// One free port on 127.0.0.1 for every service that asks for one.
    pub fn allocate(suite: &Suite) -> Result<Self, String> {
        let mut ports = Self::default();
        for service in suite.services.iter().filter(|s| s.auto_port) {
            let port = free_port().map_err(|e| {
                format!(
                    "cannot find a free loopback port for service `{}`: {e}",
                    service.name
                )
            })?;
            ports.assigned.push((service.port_variable.clone(), port));
        }
        Ok(ports)
    }

    /// The variables every block sees: `DB_PORT=54321`, …
    pub fn variables(&self) -> Vec<(String, String)> {
        self.assigned
            .iter()
            .map(|(name, port)| (name.clone(), port.to_string()))
            .collect()
    }

    fn of(&self, service: &Service) -> Option<u16> {
        self.assigned
            .iter()
            .find(|(name, _)| *name == service.port_variable)
            .map(|(_, port)| *port)
    }
}

impl Drop for Ports {
    fn drop(&mut self) {
        let mut in_use = PORTS_IN_USE.lock().unwrap_or_else(|e| e.into_inner());
        in_use.retain(|port| !self.assigned.iter().any(|(_, p)| p == port));
    }
}

fn free_port() -> std::io::Result<u16> {
    for _ in 0..64 {
        let port = TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port();
        let mut in_use = PORTS_IN_USE.lock().unwrap_or_else(|e| e.into_inner());
        if !in_use.contains(&port) {
            in_use.push(port);
            return Ok(port);
        }
    }
    Err(std::io::Error::other(
        "the kernel kept handing out ports already in use",
    ))
}

/// A service ready to start: its request, its environment, its log.
pub(super) struct Plan<'a> {
    service: &'a Service,
    shell: Option<&'a Shell>,
    request: ExecRequest,
    command_line: String,
    env: Environment,
    log: PathBuf,
    port: Option<u16>,
}

/// Builds every service's request: the suite's environment, `PORT`, the service's `env`.
pub(super) fn plan<'a>(
    suite: &'a Suite,
    env: &Environment,
    ports: &Ports,
    (log_dir, masker): (&Path, &Masker),
    kill_grace: Duration,
) -> Result<Vec<Plan<'a>>, String> {
    suite
        .services
        .iter()
        .map(|service| {
            let problem = |e: String| format!("service `{}`: {e}", service.name);
            let mut env = env.clone();
            let port = ports.of(service);
            if let Some(port) = port {
                env.set("PORT", port.to_string());
            }
            apply(&mut env, &service.env).map_err(problem)?;
            let (request, command_line) =
                command_request(&service.command, suite.shell.as_ref(), &env, log_dir)
                    .map_err(problem)?;
            let log = log_dir.join(format!("{}.service.log", log_name(service, masker)));
            Ok(Plan {
                service,
                shell: suite.shell.as_ref(),
                request: request
                    .timeout(Duration::MAX)
                    .kill_grace(kill_grace)
                    .log_to(&log),
                command_line,
                env,
                log,
                port,
            })
        })
        .collect()
}

/// Where a suite's service events go.
#[derive(Clone, Copy)]
pub(super) struct ServiceEvents<'a> {
    pub sink: &'a dyn EventSink,
    pub suite: &'a PlannedSuite,
}

/// A service that was started.
pub(super) struct Started<'a> {
    plan: &'a Plan<'a>,
    handle: RunningCommand<'a>,
    /// When it was started.
    since: Instant,
    /// How it ended, once a failed step found it exited.
    exited: Option<Termination>,
}

/// Why the services could not all be made healthy.
pub(super) enum StartError {
    /// The message for the report.
    Failed(String),
    /// The run was interrupted while waiting.
    Interrupted,
}

/// Starts the planned services in order, each healthy before the next. On error, the services
/// already started are in `started`, for [`stop_all`].
pub(super) fn start_all<'a>(
    plans: &'a [Plan<'a>],
    executor: &'a Executor,
    test_dir: &Path,
    started: &mut Vec<Started<'a>>,
    events: ServiceEvents<'_>,
) -> Result<(), StartError> {
    for plan in plans {
        let since = Instant::now();
        let failed = |message: String| {
            events.sink.emit(Event::ServiceFailed {
                suite: events.suite.clone(),
                service: plan.service.name.clone(),
                after: since.elapsed(),
                message: message.clone(),
            });
            StartError::Failed(message)
        };
        start_one(plan, executor, test_dir, started, events, since).map_err(
            |error| match error {
                StartError::Failed(message) => failed(message),
                StartError::Interrupted => StartError::Interrupted,
            },
        )?;
    }
    Ok(())
}

/// Starts one service and waits until it is healthy (or is not).
fn start_one<'a>(
    plan: &'a Plan<'a>,
    executor: &'a Executor,
    test_dir: &Path,
    started: &mut Vec<Started<'a>>,
    events: ServiceEvents<'_>,
    since: Instant,
) -> Result<(), StartError> {
    let name = &plan.service.name;
    let handle = executor
        .start(&plan.request)
        .map_err(|e| StartError::Failed(format!("service `{name}` could not be started: {e}")))?;
    events.sink.emit(Event::ServiceStarted {
        suite: events.suite.clone(),
        service: name.clone(),
        command: plan.command_line.clone(),
        port: plan.port,
    });
    started.push(Started {
        plan,
        handle,
        since,
        exited: None,
    });
    let last = started.last_mut().expect("just pushed");
    match wait_healthy(last, executor, test_dir) {
        Ok(()) => events.sink.emit(Event::ServiceHealthy {
            suite: events.suite.clone(),
            service: name.clone(),
            after: since.elapsed(),
        }),
        Err(Unhealthy::Interrupted) => return Err(StartError::Interrupted),
        Err(Unhealthy::Exited { last_check }) => {
            let service = started.pop().expect("just pushed");
            let never_started = service.handle.pid().is_none();
            let status = match service.handle.stop() {
                Ok(outcome) => outcome.termination.to_string(),
                Err(e) => format!("unknown status ({e})"),
            };
            let what = if never_started {
                format!("service `{name}` could not start: {status}")
            } else {
                format!("service `{name}` exited before it was healthy ({status})")
            };
            return Err(StartError::Failed(report(plan, &what, last_check.as_ref())));
        }
        Err(Unhealthy::GaveUp { after, last_check }) => {
            let what = format!(
                "service `{name}` was not healthy after {}",
                humantime::format_duration(after)
            );
            return Err(StartError::Failed(report(plan, &what, last_check.as_ref())));
        }
        Err(Unhealthy::Runner(e)) => {
            return Err(StartError::Failed(format!(
                "service `{name}`: smoke-runner could not watch it: {e}"
            )));
        }
    }
    Ok(())
}

/// After a failed step: one failure for each service that is no longer running, put first
/// since it is the likely cause. The first step to find a service exited gets how it ended,
/// its command and its log's last lines; later ones a line pointing back. A service exiting
/// does not fail a step by itself: a step may stop it on purpose (a shutdown test).
pub(super) fn exits_behind_failure(started: &mut [Started<'_>]) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    for service in started {
        let name = &service.plan.service.name;
        if let Some(status) = &service.exited {
            failures.push(CheckFailure::error(format!(
                "service `{name}` is not running: it exited earlier ({status})"
            )));
            continue;
        }
        let status = match service.handle.is_running() {
            Ok(true) => continue,
            Ok(false) => service.handle.termination(),
            Err(e) => {
                failures.push(CheckFailure::error(format!(
                    "service `{name}`: smoke-runner could not watch it: {e}"
                )));
                continue;
            }
        };
        let Some(status) = status else { continue };
        let what = format!("service `{name}` exited while the steps ran ({status})");
        failures.push(CheckFailure::error(report(service.plan, &what, None)));
        service.exited = Some(status);
    }
    failures
}

/// Stops the services, last started first, each with everything it started. What a service
/// started is its own, not a leftover: it is stopped with it and not counted.
pub(super) fn stop_all(started: Vec<Started<'_>>, events: ServiceEvents<'_>) {
    for service in started.into_iter().rev() {
        // An error means the runner could not watch the pipes; dropping the handle still
        // kills the group.
        let status = match (&service.exited, service.handle.stop()) {
            (Some(exited), _) => format!("exited earlier ({exited})"),
            (None, Ok(outcome)) => outcome.termination.to_string(),
            (None, Err(e)) => format!("unknown status ({e})"),
        };
        events.sink.emit(Event::ServiceStopped {
            suite: events.suite.clone(),
            service: service.plan.service.name.clone(),
            ran_for: service.since.elapsed(),
            status,
        });
    }
}

/// Copies each service's log, masked, to `<log_dir>/<suite>/service-<name>.log` beside the
/// steps' logs (the raw log stays in the test dir, which is removed after a passing run);
/// `<suite>` is the suite's file name in the run (`step_log::file_names`). A log that cannot
/// be copied is left out: logs never fail a run.
pub(super) fn save_logs(
    plans: &[Plan<'_>],
    log_dir: Option<&Path>,
    suite_file_name: &str,
    masker: &Masker,
) {
    let Some(log_dir) = log_dir else {
        return;
    };
    let dir = log_dir.join(suite_file_name);
    for plan in plans {
        let Ok(mut raw) = std::fs::File::open(&plan.log) else {
            continue;
        };
        let target = dir.join(format!("service-{}.log", log_name(plan.service, masker)));
        let mut copy = || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let file = std::io::BufWriter::new(std::fs::File::create(&target)?);
            let mut out = MaskingWriter::new(masker, file);
            std::io::copy(&mut raw, &mut out)?;
            out.finish()?.flush()
        };
        let _ = copy();
    }
}

/// The part of `service`'s log file names that names it: its name masked, then made a slug.
/// File names reach reports (failure messages, the kept test dir, the log folder), so a
/// secret in a service's name must not become one.
fn log_name(service: &Service, masker: &Masker) -> String {
    slug(&masker.mask(&service.name))
}

/// The failure message: what happened, the command, the log's last lines, the last check.
fn report(plan: &Plan<'_>, what: &str, last_check: Option<&CheckResult>) -> String {
    let mut message = format!("{what}\n  command: {}", plan.command_line);
    match log_tail(&plan.log) {
        Ok(tail) if tail.trim().is_empty() => {
            message.push_str(&format!("\n  its log ({}) is empty", plan.log.display()));
        }
        Ok(tail) => {
            message.push_str(&format!(
                "\n  last lines of its log ({}):",
                plan.log.display()
            ));
            for line in tail.lines() {
                message.push_str("\n    ");
                message.push_str(line);
            }
        }
        Err(e) => message.push_str(&format!("\n  cannot read its log: {e}")),
    }
    if let Some(check) = last_check {
        message.push_str(&format!(
            "\n  last health check ({}): {}",
            check.what, check.status
        ));
        for line in check.output.lines() {
            message.push_str("\n    ");
            message.push_str(line);
        }
    }
    message
}

fn log_tail(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let length = file.metadata()?.len();
    let start = length.saturating_sub(LOG_TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    let skip = lines.len().saturating_sub(LOG_TAIL_LINES);
    Ok(lines[skip..].join("\n"))
}

enum Unhealthy {
    Exited {
        last_check: Option<CheckResult>,
    },
    GaveUp {
        after: Duration,
        last_check: Option<CheckResult>,
    },
    Interrupted,
    Runner(std::io::Error),
}

impl From<std::io::Error> for Unhealthy {
    fn from(error: std::io::Error) -> Self {
        Self::Runner(error)
    }
}

/// The service's health check: its own, or for a service with a port and none of its own, a
/// TCP connection to the port; `None` when there is nothing to check.
fn health_check_of(plan: &Plan<'_>) -> Option<Healthcheck> {
    match (&plan.service.healthcheck, plan.port) {
        (Some(check), _) => Some(check.clone()),
        (None, Some(port)) => Some(Healthcheck {
            probe: Probe::Tcp(crate::suite::Template::literal(format!("127.0.0.1:{port}"))),
            interval: IMPLICIT_INTERVAL,
            timeout: IMPLICIT_TIMEOUT,
            retries: IMPLICIT_RETRIES,
            start_period: Duration::ZERO,
            pacing: None,
        }),
        (None, None) => None,
    }
}

/// Polls the service's health check until it passes, the service exits, the patience runs out,
/// or the run is interrupted.
fn wait_healthy(
    service: &mut Started<'_>,
    executor: &Executor,
    test_dir: &Path,
) -> Result<(), Unhealthy> {
    let started = Instant::now();
    let plan = service.plan;
    let Some(check) = health_check_of(plan) else {
        // Ready once started; a command that could not start says so now.
        return if service.handle.pid().is_none() {
            Err(Unhealthy::Exited { last_check: None })
        } else {
            Ok(())
        };
    };
    let patience = check.patience();
    let give_up = started.checked_add(patience);
    let mut last_check = None;
    let mut failed_tries: u32 = 0;
    loop {
        if service.handle.wait_until(Instant::now())? {
            return Err(Unhealthy::Exited { last_check });
        }
        if executor.interrupted().is_some() {
            return Err(Unhealthy::Interrupted);
        }
        let now = Instant::now();
        if last_check.is_some() && give_up.is_some_and(|at| now >= at) {
            return Err(Unhealthy::GaveUp {
                after: patience,
                last_check,
            });
        }
        let left = give_up.map_or(check.timeout, |at| at.saturating_duration_since(now));
        let timeout = check.timeout.min(left).max(SHORTEST_CHECK);
        let result = probe(
            &check.probe,
            plan.shell,
            &plan.env,
            test_dir,
            executor,
            timeout,
        );
        if result.healthy {
            return Ok(());
        }
        // A try cut short by the patience's end says only that time ran out; the last one
        // that ran its course says why the service is not healthy (on a busy machine the cut
        // try often had no time even to start its command).
        let cut_short = timeout < check.timeout && now.elapsed() >= timeout;
        if !(cut_short && last_check.is_some()) {
            last_check = Some(result);
        }
        failed_tries = failed_tries.saturating_add(1);
        let now = Instant::now();
        // The pause grows with the time waited so far, so a service is seen ready at most
        // about a thirty-second of its start-up time late, and never later than `interval`;
        // unless the check asks for a back-off of its own.
        let pause = match &check.pacing {
            Some(pacing) => pacing.pause(failed_tries),
            None => (now.duration_since(started) / PAUSE_DIVISOR)
                .clamp(FIRST_PAUSE, check.interval.max(FIRST_PAUSE)),
        };
        let next = match give_up {
            Some(at) => (now + pause).min(at),
            None => now + pause,
        };
        if service.handle.wait_until(next)? {
            return Err(Unhealthy::Exited { last_check });
        }
    }
}

/// What one health check try found.
#[derive(Debug)]
struct CheckResult {
    healthy: bool,
    /// The check, as users read it (`pg_isready -h …`, `GET http://…`, `tcp 127.0.0.1:5432`).
    what: String,
    /// How it ended: `exit status 2`, `HTTP 503`, `connection refused`.
    status: String,
    /// The last lines of its output or response body.
    output: String,
}

fn probe(
    probe: &Probe,
    shell: Option<&Shell>,
    env: &Environment,
    test_dir: &Path,
    executor: &Executor,
    timeout: Duration,
) -> CheckResult {
    match probe {
        Probe::Command(command) => probe_command(command, shell, env, test_dir, executor, timeout),
        Probe::Http(check) => probe_http(check, env, timeout),
        Probe::Tcp(address) => probe_tcp(address, env, timeout),
    }
}

/// A check that could not be tried, or whose try broke: unhealthy, with the problem.
fn broken(what: String, problem: String) -> CheckResult {
    CheckResult {
        healthy: false,
        what,
        status: problem,
        output: String::new(),
    }
}

/// A command check: healthy on exit status 0; its output's last lines kept.
fn probe_command(
    command: &crate::suite::Command,
    shell: Option<&Shell>,
    env: &Environment,
    test_dir: &Path,
    executor: &Executor,
    timeout: Duration,
) -> CheckResult {
    let (request, line) = match command_request(command, shell, env, test_dir) {
        Ok(ready) => ready,
        Err(e) => return broken("command".to_owned(), e),
    };
    let request = request.timeout(timeout).kill_grace(SHORTEST_CHECK);
    match executor.run(&request) {
        Ok(outcome) => CheckResult {
            healthy: outcome.termination == Termination::Exited(0),
            what: line,
            status: outcome.termination.to_string(),
            output: outcome
                .output
                .tail_lines(StreamSelector::Combined, CHECK_TAIL_LINES, CHECK_TAIL_BYTES)
                .unwrap_or_default(),
        },
        Err(e) => broken(line, format!("smoke-runner could not run it: {e}")),
    }
}

/// An HTTP check: healthy on the expected status (by default any 2xx); the body's end kept.
fn probe_http(
    check: &crate::suite::HttpCheck,
    env: &Environment,
    timeout: Duration,
) -> CheckResult {
    let (call, line) = match http_call(check, env, timeout) {
        Ok(ready) => ready,
        Err(e) => return broken("http".to_owned(), e),
    };
    match send(&call) {
        Ok(response) => {
            let healthy = match check.status {
                Some(expected) => response.status == expected,
                None => (200..300).contains(&response.status),
            };
            let body = String::from_utf8_lossy(&response.body);
            let start = body.len().saturating_sub(CHECK_TAIL_BYTES);
            let start = (start..body.len())
                .find(|&i| body.is_char_boundary(i))
                .unwrap_or(body.len());
            CheckResult {
                healthy,
                what: line,
                status: format!("HTTP {}", response.status),
                output: body[start..].to_owned(),
            }
        }
        Err(e) => broken(line, e.to_string()),
    }
}

/// A TCP check: healthy when a connection to the address opens.
fn probe_tcp(
    address: &crate::suite::Template,
    env: &Environment,
    timeout: Duration,
) -> CheckResult {
    let address = match expand(address, env) {
        Ok(address) => address,
        Err(e) => return broken("tcp".to_owned(), e),
    };
    let what = format!("tcp {address}");
    let resolved = match address.to_socket_addrs() {
        Ok(mut all) => all.next(),
        Err(e) => return broken(what, format!("not a host:port address: {e}")),
    };
    let Some(target) = resolved else {
        return broken(what, "the address resolves to nothing".to_owned());
    };
    match TcpStream::connect_timeout(&target, timeout) {
        Ok(_) => CheckResult {
            healthy: true,
            what,
            status: "connected".to_owned(),
            output: String::new(),
        },
        Err(e) => broken(what, e.to_string()),
    }
}
