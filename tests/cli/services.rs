//! Services: started before the first step, healthy before any step, stopped after the last;
//! health checks that never pass, services that die, ports that never clash, HTTP steps.

use std::time::{Duration, Instant};

use crate::process_checks::{assert_all_gone, is_running, reported_pids};
use crate::support::{StopOnDrop, TestEnv, repo_root, smoke_runner, stderr, stdout};

/// A small HTTP server over the test dir on its own free port, healthy on `/health`.
fn http_suite(name: &str) -> String {
    format!(
        r#"
name = "{name}"
command = ""
timeout = "20s"
requires = ["python3"]

[[service]]
name = "web"
sh = """
echo '{{"status": "ok", "suite": "{name}"}}' > health
exec python3 -m http.server ${{PORT}} --bind 127.0.0.1 --directory ${{TEST_DIR}}
"""
port = "auto"
healthcheck = {{ http = {{ url = "http://127.0.0.1:${{PORT}}/health" }}, interval = "1s", retries = 60 }}

[[step]]
name = "health is ok"
http = {{ url = "http://127.0.0.1:${{WEB_PORT}}/health", status = 200 }}
stdout.json = {{ "/status" = "ok", "/suite" = "{name}" }}
"#
    )
}

#[test]
fn two_suites_each_with_an_auto_port_server_pass_together() {
    let env = TestEnv::new()
        .suite("one", &http_suite("one"))
        .suite("two", &http_suite("two"));
    let output = env.run(&["--jobs", "2"]);
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("2 passed, 0 failed"), "{report}");
    assert_eq!(env.test_dirs(), Vec::<std::path::PathBuf>::new());
}

#[test]
fn a_health_check_that_never_passes_fails_after_start_period_plus_retries_times_interval() {
    let env = TestEnv::new().suite(
        "never",
        r#"
name = "never"
command = ""

[[service]]
name = "stuck"
run = ["${FAKE}", "err:still warming up", "sleep:600"]
healthcheck = { sh = "echo not yet; exit 1", interval = "0.5s", retries = 2, start_period = "0.5s" }

[[step]]
name = "never runs"
sh = "echo ran > ran.txt"
"#,
    );
    let started = Instant::now();
    let output = env.run(&[]);
    let elapsed = started.elapsed();
    let report = stdout(&output);
    assert!(!output.status.success(), "{report}");
    assert!(
        report.contains("service `stuck` was not healthy after 1s 500ms"),
        "{report}"
    );
    assert!(
        report.contains("still warming up"),
        "the log's last lines: {report}"
    );
    assert!(
        report.contains("last health check (echo not yet; exit 1): exit status 1"),
        "{report}"
    );
    assert!(report.contains("not yet"), "the check's output: {report}");
    // Not earlier than the patience; the upper bound is generous for a loaded machine (the
    // benchmark holds the tight one).
    assert!(elapsed >= Duration::from_millis(1500), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    let kept = env.test_dirs();
    assert_eq!(kept.len(), 1, "the failed suite's test dir is kept");
    assert!(!kept[0].join("ran.txt").exists(), "no step ran");
}

#[test]
fn a_service_that_dies_at_start_fails_the_suite_at_once() {
    let env = TestEnv::new().suite(
        "dies",
        r#"
name = "dies"
command = ""

[[service]]
name = "broken"
run = ["${FAKE}", "err:cannot bind 127.0.0.1", "exit:3"]
healthcheck = { tcp = "127.0.0.1:9", interval = "1s", retries = 600 }

[[step]]
name = "never runs"
sh = "true"
"#,
    );
    let started = Instant::now();
    let output = env.run(&[]);
    let elapsed = started.elapsed();
    let report = stdout(&output);
    assert!(!output.status.success(), "{report}");
    assert!(
        report.contains("service `broken` exited before it was healthy (exit status 3)"),
        "{report}"
    );
    assert!(report.contains("cannot bind 127.0.0.1"), "{report}");
    // Its patience is 10 minutes: failing well before shows the exit was noticed.
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
}

#[test]
fn services_and_what_they_start_are_stopped_after_the_last_step() {
    let env = TestEnv::new().suite(
        "stopped",
        r#"
name = "stopped"
command = ""

[[service]]
name = "daemon"
run = ["${FAKE}", "pid", "spawn-grandchild:600", "env:SERVICE_SECRET", "out:ready", "sleep:600"]
healthcheck = { sh = "grep -q ready daemon.service.log" }

[[step]]
name = "the service is up and its log is in the test dir"
sh = "cat daemon.service.log"
stdout.contains = ["pid:", "grandchild-pid:", "ready"]
"#,
    );
    let output = env
        .command()
        .args([
            "--keep-temp",
            "--log-dir",
            "logs",
            "--redact",
            "SERVICE_SECRET",
        ])
        .env("SERVICE_SECRET", "hunter2-very-secret")
        .output()
        .expect("run smoke-runner");
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    let dirs = env.test_dirs();
    assert_eq!(dirs.len(), 1);
    let log = std::fs::read(dirs[0].join("daemon.service.log")).unwrap();
    let pids = [
        reported_pids(&log, "pid"),
        reported_pids(&log, "grandchild-pid"),
    ]
    .concat();
    assert_eq!(pids.len(), 2, "{}", String::from_utf8_lossy(&log));
    assert_all_gone(&pids, "after the suite");
    assert!(
        !report.contains("Leftover"),
        "a service's processes are not leftovers: {report}"
    );
    // Its log is also kept beside the steps' logs, masked.
    let saved = service_logs(&env.path().join("logs"));
    assert_eq!(saved.len(), 1, "{saved:?}");
    let text = std::fs::read_to_string(&saved[0]).unwrap();
    assert!(text.contains("ready"), "{text}");
    assert!(
        text.contains("SERVICE_SECRET=[redacted:SERVICE_SECRET]"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn an_http_step_against_a_closed_port_fails_with_a_connection_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let env = TestEnv::new().suite(
        "closed",
        &format!(
            r#"
name = "closed"
command = ""

[[step]]
name = "nobody listens"
http = {{ url = "http://127.0.0.1:{port}/health" }}
timeout = "10s"
"#
        ),
    );
    let started = Instant::now();
    let output = env.run(&[]);
    let report = stdout(&output);
    assert!(!output.status.success(), "{report}");
    assert!(
        report.contains(&format!(
            "connection refused: nothing listens at http://127.0.0.1:{port}/health"
        )),
        "{report}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "within its timeout"
    );
}

/// Every `service-*.log` under `dir` (any depth).
fn service_logs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(service_logs(&path));
        } else if path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("service-"))
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn ctrl_c_during_a_step_stops_the_services_too() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let env = TestEnv::new().suite(
        "interrupted",
        r#"
name = "interrupted"
command = ""

[[service]]
name = "daemon"
run = ["${FAKE}", "pid", "out:ready", "sleep:600"]
healthcheck = { sh = "grep -q ready daemon.service.log" }

[[step]]
name = "long step"
sh = "sleep 600"
"#,
    );
    let mut child = StopOnDrop(
        env.std_command(smoke_runner())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start smoke-runner"),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut report = String::new();
    // Handshake: the step is running, so the service is healthy and its pid is in its log.
    for line in lines.by_ref() {
        let line = line.unwrap();
        report.push_str(&line);
        report.push('\n');
        if line.starts_with("→ Running (timeout") {
            break;
        }
    }
    let dirs = env.test_dirs();
    assert_eq!(dirs.len(), 1, "{report}");
    let log = std::fs::read(dirs[0].join("daemon.service.log")).unwrap();
    let pids = reported_pids(&log, "pid");
    assert_eq!(pids.len(), 1, "{report}");

    // SAFETY: signalling the runner this test started.
    unsafe { libc::kill(child.0.id() as i32, libc::SIGINT) };
    for line in lines {
        report.push_str(&line.unwrap());
        report.push('\n');
    }
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{report}");
    assert_all_gone(&pids, "the service after Ctrl-C");
    assert!(env.test_dirs().is_empty(), "test dir removed: {report}");
}

#[test]
fn a_service_that_exits_while_steps_run_is_named_by_the_next_failing_step() {
    // The service crashes when `crash` appears; the first step makes it crash and waits
    // until it is a zombie (exited, not yet reaped by the runner): the handshake.
    let env = TestEnv::new().suite(
        "crash",
        r#"
name = "crash"
command = ""
on_failure = "continue"

[[service]]
name = "api"
sh = """
echo $$ > api.pid
echo serving
while [ ! -e crash ]; do sleep 0.02; done
echo 'panic: out of memory' >&2
exit 3
"""
healthcheck = { sh = "test -s api.pid" }

[[step]]
name = "crash the service"
sh = """
touch crash
pid=$(cat api.pid)
until [ "$(cut -d ' ' -f 3 /proc/$pid/stat)" = Z ]; do sleep 0.02; done
"""

[[step]]
name = "needs the service"
sh = "echo asking; exit 1"

[[step]]
name = "needs it too"
sh = "exit 1"
"#,
    );
    let output = env.run(&["--color", "never"]);
    let report = stdout(&output);
    assert!(!output.status.success(), "{report}");
    assert!(report.contains("1 passed, 2 failed"), "{report}");
    let first = report
        .find("service `api` exited while the steps ran (exit status 3)")
        .unwrap_or_else(|| panic!("the first failing step names the exit: {report}"));
    assert!(
        report[first..].contains("panic: out of memory"),
        "with the log's last lines: {report}"
    );
    assert!(
        report.contains("service `api` is not running: it exited earlier (exit status 3)"),
        "the next failing step points back: {report}"
    );
    assert_eq!(
        report.matches("exited while the steps ran").count(),
        1,
        "{report}"
    );
}

#[test]
fn a_service_stopped_by_a_passing_step_fails_nothing() {
    let env = TestEnv::new().suite(
        "shutdown",
        r#"
name = "shutdown"
command = ""

[[service]]
name = "daemon"
sh = "echo $$ > daemon.pid; exec sleep 600"
healthcheck = { sh = "test -s daemon.pid" }

[[step]]
name = "graceful shutdown"
sh = "kill -TERM $(cat daemon.pid)"

[[step]]
name = "after it"
sh = "true"
"#,
    );
    let output = env.run(&["--color", "never"]);
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    assert!(!report.contains("service `daemon`"), "{report}");
}

#[test]
fn a_requires_check_that_fails_skips_the_suite_with_its_last_line() {
    let suite = |check: &str| {
        format!(
            r#"
name = "needs"
command = ""
requires = ["sh", {{ sh = "{check}" }}]

[[step]]
name = "ran"
sh = "true"
"#
        )
    };
    let env = TestEnv::new()
        .suite(
            "unmet",
            &suite("echo checking; echo no frobnicator here; exit 1"),
        )
        .suite("silent", &suite("exit 4").replace("needs", "silent"))
        .suite(
            "met",
            &suite("test -d \\\"$TEST_DIR\\\"").replace("needs", "met"),
        );
    let output = env.run(&["--color", "never"]);
    let report = stdout(&output);
    assert!(output.status.success(), "a skip is not a failure: {report}");
    assert!(report.contains("1 passed, 0 failed, 2 skipped"), "{report}");
    assert!(
        report.contains("- ran (skipped: no frobnicator here)"),
        "{report}"
    );
    assert!(
        report.contains("- ran (skipped: `exit 4` failed (exit status 4))"),
        "{report}"
    );

    env.run(&["--json", "events.jsonl"]);
    let events = std::fs::read_to_string(env.path().join("events.jsonl")).unwrap();
    let skip = events
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|event| event["event"] == "step_finished" && event["suite"]["name"] == "needs")
        .unwrap_or_else(|| panic!("{events}"));
    assert_eq!(skip["skip"]["kind"], "requirement_not_met", "{skip:#}");
    assert_eq!(
        skip["skip"]["reason"], "requirement not met: no frobnicator here",
        "{skip:#}"
    );

    let strict = env.run(&["--fail-on-skip", "--color", "never"]);
    assert!(!strict.status.success());
    assert!(
        stdout(&strict).contains(
            "--fail-on-skip: suite `needs` was skipped: requirement not met: no frobnicator here"
        ),
        "{}",
        stdout(&strict)
    );
}

#[test]
fn postgres_local_is_skipped_with_the_reason_as_root_without_a_postgres_user() {
    // A stand-in `id` says we are root and that there is no `postgres` user.
    let env = TestEnv::new().file(
        "bin/id",
        "#!/bin/sh\ncase \"$1\" in -u) echo 0 ;; *) echo \"id: '$1': no such user\" >&2; exit 1 ;; esac\n",
    );
    let id = env.path().join("bin/id");
    std::fs::set_permissions(&id, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        env.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let suite = repo_root().join("suites/postgres_local.toml");
    let output = env
        .command()
        .args(["--color", "never", "--suites"])
        .arg(&suite)
        .env("PATH", &path)
        .output()
        .expect("run smoke-runner");
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("0 passed, 0 failed, 5 skipped"), "{report}");
    let installed = report.contains("no postgres user");
    assert!(
        installed || report.contains("requires `initdb`, not found on PATH"),
        "{report}"
    );
    if installed {
        assert!(
            report.contains(
                "suite postgres_local: skipped: running as root, and there is no postgres user to run PostgreSQL as (it refuses to run as root)"
            ),
            "{report}"
        );
    }
    assert!(env.test_dirs().is_empty(), "{report}");
}

#[test]
fn the_shipped_service_suites_leave_no_process_and_no_test_dir() {
    let env = TestEnv::new();
    let suites = repo_root().join("suites");
    let output = env
        .command()
        .args(["--color", "never", "--jobs", "2", "--suites"])
        .arg(suites.join("postgres_local.toml"))
        .arg("--suites")
        .arg(suites.join("http_health.toml"))
        .output()
        .expect("run smoke-runner");
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    // http_health always runs (python3); postgres_local runs or is skipped with a reason.
    assert!(
        report.contains("10 passed, 0 failed") || report.contains("5 passed, 0 failed, 5 skipped"),
        "{report}"
    );
    // Every process a service started has its working folder or its command line in the
    // test dirs, under this test's TMPDIR (PostgreSQL's children rename themselves but keep
    // the data folder as their working folder).
    let tmp = env.path().join("tmp");
    let mut left = processes_under(&tmp);
    let until = Instant::now() + Duration::from_secs(2);
    while !left.is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        left = processes_under(&tmp);
    }
    for (pid, _) in &left {
        // SAFETY: kill(2) on a process the run under test left behind.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    assert!(left.is_empty(), "still running: {left:?}\n{report}");
    let dirs = env.test_dirs();
    assert!(
        dirs.is_empty(),
        "test dirs left: {dirs:?}\n{report}\n{}",
        stderr(&output)
    );
}

/// Running processes whose working folder or command line is inside `dir`.
fn processes_under(dir: &std::path::Path) -> Vec<(i32, String)> {
    let dir = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let cwd = std::fs::read_link(entry.path().join("cwd"))
            .map(|path| path.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cmdline = std::fs::read(entry.path().join("cmdline"))
            .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
            .unwrap_or_default();
        if (cwd.starts_with(&dir) || cmdline.contains(&dir)) && is_running(pid) {
            found.push((pid, format!("{cmdline} (in {cwd})")));
        }
    }
    found
}
