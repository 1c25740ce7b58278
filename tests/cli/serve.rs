//! `smoke-runner serve`: the monitor driven over HTTP on loopback, as a user's curl would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{StopOnDrop, TestEnv, smoke_runner, stdout};

const TOKEN: &str = "serve-test-token-0123456789";

/// A step that waits until the file `$RELEASE` exists: a run the test holds open.
const HELD_SUITE: &str = r#"
name = "held"
command = ""
timeout = "120s"

[[step]]
name = "waits for release"
run = ["sh", "-c", "echo $$ > \"$RELEASE.pid\"; echo \"started with $SERVE_SECRET\"; while [ ! -e \"$RELEASE\" ]; do sleep 0.02; done"]
"#;

const QUICK_SUITE: &str = r#"
name = "quick"
command = ""

[[step]]
name = "says hello"
run = ["echo", "hello"]
stdout.contains = "hello"
"#;

/// A running monitor, stopped (SIGTERM, then SIGKILL) when dropped.
struct Served {
    process: StopOnDrop,
    addr: String,
}

impl Served {
    /// `smoke-runner serve --listen 127.0.0.1:0 ARGS` in `env`'s folder, with the token.
    fn start(env: &TestEnv, args: &[&str]) -> Self {
        let mut command = env.std_command(smoke_runner());
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--no-env-file"])
            .args(args)
            .env("SMOKE_SERVE_TOKEN", TOKEN)
            .env("RELEASE", env.path().join("release"))
            .env("SERVE_SECRET", "hunter2-very-secret")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start smoke-runner serve");
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let process = StopOnDrop(child);
        let first = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("serve prints where it listens");
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        Self { process, addr }
    }

    fn get(&self, path: &str) -> (u16, String) {
        request(&self.addr, "GET", path, None, b"")
    }

    fn post(&self, path: &str, body: &str) -> (u16, String) {
        request(&self.addr, "POST", path, Some(TOKEN), body.as_bytes())
    }

    fn json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// Polls run `id` until `done` holds for it (at most a minute).
    fn wait_run(&self, id: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let run = self.json(&format!("/api/runs/{id}"));
            if done(&run) {
                return run;
            }
            assert!(Instant::now() < deadline, "run {id} never got there: {run}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until run `id` is over (neither queued nor running): a check of `!= "running"` alone
    /// returned a run still queued behind the scheduler.
    fn wait_finished(&self, id: &str) -> serde_json::Value {
        self.wait_run(id, |run| {
            !matches!(run["status"].as_str(), Some("queued" | "running"))
        })
    }

    /// SIGTERM; the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        let child = &mut self.process.0;
        // SAFETY: signalling the child this test spawned.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One HTTP/1.1 request on a fresh connection; the status and the (de-chunked) body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to serve");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading a large body, and close.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    parse_response(&response)
}

fn parse_response(response: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

fn run_id(body: &str) -> String {
    let value: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(value["status"], "queued", "{body}");
    value["id"].as_str().expect("an id").to_owned()
}

fn release(env: &TestEnv) {
    std::fs::write(env.path().join("release"), "").unwrap();
}

#[test]
fn triggered_run_streams_its_events_live_and_ends_passed_with_masked_output() {
    let env = TestEnv::new()
        .suite("held", HELD_SUITE)
        .suite("quick", QUICK_SUITE);
    let served = Served::start(&env, &["--every", "1h", "--redact", "SERVE_SECRET"]);
    let (status, body) = served.post("/api/runs", r#"{"suites": ["held"], "commit": "abc123"}"#);
    assert_eq!(status, 202, "{body}");
    let id = run_id(&body);
    // Follow the events while the run is held: the step's start arrives before it ends.
    let mut stream = TcpStream::connect(&served.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET /api/runs/{id}/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains("\"step_started\"") {
        let n = stream
            .read(&mut buffer)
            .expect("events arrive while the run runs");
        assert!(n > 0, "the stream ended before the step started");
        received.extend_from_slice(&buffer[..n]);
    }
    let running = served.json(&format!("/api/runs/{id}"));
    assert_eq!(running["status"], "running", "{running}");
    release(&env);
    stream.read_to_end(&mut received).unwrap();
    let (_, events) = parse_response(&received);
    let kinds: Vec<String> = events
        .lines()
        .map(|line| {
            let event: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert_eq!(event["schema"], 1, "{line}");
            event["event"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("run_started"),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("run_finished"),
        "{kinds:?}"
    );
    let run = served.wait_finished(&id);
    assert_eq!(run["status"], "passed", "{run}");
    assert_eq!(run["trigger"], "api");
    assert_eq!(run["commit"], "abc123");
    assert_eq!(run["progress"]["done"], 1);
    assert_eq!(run["progress"]["total"], 1);
    assert_eq!(run["counts"]["passed"], 1);
    let tail = run["steps"][0]["output_tail"].as_str().unwrap();
    assert!(
        tail.contains("started with [redacted:SERVE_SECRET]"),
        "{tail}"
    );
    assert!(!events.contains("hunter2") && !run.to_string().contains("hunter2"));
    let listed = served.json("/api/runs?suite=held&limit=5");
    assert_eq!(listed["runs"][0]["id"], id.as_str(), "{listed}");
    assert!(served.terminate().success());
}

#[test]
fn api_refuses_missing_or_wrong_tokens_large_bodies_and_unknown_suites() {
    let env = TestEnv::new().suite("quick", QUICK_SUITE);
    let served = Served::start(&env, &["--every", "1h"]);
    let (status, body) = request(&served.addr, "POST", "/api/runs", None, b"{}");
    assert_eq!(status, 401, "{body}");
    let (status, _) = request(
        &served.addr,
        "POST",
        "/api/runs",
        Some("wrong-token-0123456789"),
        b"{}",
    );
    assert_eq!(status, 401);
    let (status, _) = request(&served.addr, "DELETE", "/api/runs/x", None, b"");
    assert_eq!(status, 401);
    let huge = vec![b' '; 1024 * 1024];
    let (status, _) = request(&served.addr, "POST", "/api/runs", Some(TOKEN), &huge);
    assert_eq!(status, 413);
    let (status, body) = served.post("/api/runs", r#"{"suites": ["nope"]}"#);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("watched: quick"), "{body}");
    let (status, body) = served.post("/api/runs", r#"{"command": "rm -rf /"}"#);
    assert_eq!(status, 400, "{body}");
    let (status, _) = served.get("/api/runs/unknown-id");
    assert_eq!(status, 404);
}

#[test]
fn a_full_queue_answers_429_and_a_queued_run_can_be_cancelled() {
    let env = TestEnv::new().suite("held", HELD_SUITE);
    let served = Served::start(
        &env,
        &["--every", "1h", "--queue", "1", "--concurrency", "1"],
    );
    let first = run_id(&served.post("/api/runs", "").1);
    served.wait_run(&first, |run| run["status"] == "running");
    let (status, body) = served.post("/api/runs", "");
    assert_eq!(status, 202, "{body}");
    let second = run_id(&body);
    let (status, body) = served.post("/api/runs", "");
    assert_eq!(status, 429, "{body}");
    let (status, body) = request(
        &served.addr,
        "DELETE",
        &format!("/api/runs/{second}"),
        Some(TOKEN),
        b"",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        served.json(&format!("/api/runs/{second}"))["status"],
        "cancelled"
    );
    release(&env);
    let run = served.wait_finished(&first);
    assert_eq!(run["status"], "passed", "{run}");
    assert!(served.terminate().success());
}

#[test]
fn a_client_sending_a_byte_a_second_does_not_hold_up_others() {
    let env = TestEnv::new().suite("quick", QUICK_SUITE);
    let served = Served::start(&env, &["--every", "1h"]);
    let mut slow = TcpStream::connect(&served.addr).unwrap();
    let (stop, stopped) = mpsc::channel::<()>();
    let trickle = std::thread::spawn(move || {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n".iter().cycle() {
            if slow.write_all(&[*byte]).is_err() {
                return;
            }
            if stopped.recv_timeout(Duration::from_secs(1)).is_ok() {
                return;
            }
        }
    });
    for _ in 0..20 {
        let started = Instant::now();
        let (status, _) = served.get("/healthz");
        assert!(status == 200 || status == 503);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a request waited for the slow client"
        );
    }
    let _ = stop.send(());
    trickle.join().unwrap();
}

#[test]
fn scheduled_runs_feed_healthz_and_metrics() {
    let env = TestEnv::new().suite("quick", QUICK_SUITE).file(
        "serve.toml",
        "every = \"1h\"\n[suite.quick]\nevery = \"1s\"\n",
    );
    let served = Served::start(&env, &["--config", "serve.toml"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let health = loop {
        let (status, body) = served.get("/healthz");
        if status == 200 {
            break body;
        }
        assert_eq!(status, 503, "{body}");
        assert!(Instant::now() < deadline, "never healthy: {body}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["suites"]["quick"]["outcome"], "passed", "{health}");
    let (status, metrics) = served.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("smoke_suite_passed{suite=\"quick\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("smoke_runs_total{result=\"passed\"}"),
        "{metrics}"
    );
    let runs = served.json("/api/runs?suite=quick");
    assert_eq!(runs["runs"][0]["trigger"], "schedule", "{runs}");
}

#[test]
fn refuses_to_listen_beyond_loopback_without_a_token_and_bad_configs() {
    let env = TestEnv::new()
        .suite("quick", QUICK_SUITE)
        .file("bad.toml", "evry = \"1m\"\n");
    let output = env
        .command()
        .args(["serve", "--listen", "0.0.0.0:0", "--no-env-file"])
        .env_remove("SMOKE_SERVE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("without a token"));
    let output = env
        .command()
        .args(["serve", "--config", "bad.toml", "--no-env-file"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("evry"),
        "{stderr}"
    );
}

/// `NAME` on PATH.
fn on_path(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn prometheus_scrapes_the_outcome_gauge_and_promtool_accepts_the_metrics() {
    let (Some(prometheus), Some(promtool)) = (on_path("prometheus"), on_path("promtool")) else {
        assert!(
            std::env::var_os("SMOKE_REQUIRE_PROMETHEUS").is_none(),
            "SMOKE_REQUIRE_PROMETHEUS is set but prometheus or promtool is not on PATH"
        );
        eprintln!("note: no prometheus found; the scrape test did not run");
        return;
    };
    let second = QUICK_SUITE.replace("name = \"quick\"", "name = \"second\"");
    let env = TestEnv::new()
        .suite("quick", QUICK_SUITE)
        .suite("second", &second)
        .file("serve.toml", "every = \"1s\"\n");
    let served = Served::start(&env, &["--config", "serve.toml"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let (_, metrics) = served.get("/metrics");
        if metrics.contains("smoke_suite_passed{suite=\"quick\"}")
            && metrics.contains("smoke_suite_passed{suite=\"second\"}")
        {
            break metrics;
        }
        assert!(Instant::now() < deadline, "no outcomes yet: {metrics}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut check = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    check
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let checked = check.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}\n{metrics}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let config = env.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: smoke\n    static_configs:\n      - targets: ['{}']\n",
            served.addr
        ),
    )
    .unwrap();
    let web = format!("127.0.0.1:{}", free_port());
    let _prometheus = StopOnDrop(
        std::process::Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                env.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let answer = TcpStream::connect(&web).ok().map(|_| {
            request(
                &web,
                "GET",
                "/api/v1/query?query=smoke_suite_passed",
                None,
                b"",
            )
        });
        if let Some((200, body)) = &answer {
            let value: serde_json::Value = serde_json::from_str(body).unwrap();
            let series = value["data"]["result"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let suites: Vec<&str> = series
                .iter()
                .filter(|s| s["value"][1] == "1")
                .filter_map(|s| s["metric"]["suite"].as_str())
                .collect();
            if suites.contains(&"quick") && suites.contains(&"second") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "prometheus never returned both suites: {answer:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A watched HTTP server the test takes down and brings back: answers 200 on its port while up.
struct WatchedServer {
    port: u16,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WatchedServer {
    fn up(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the watched server");
        listener.set_nonblocking(true).unwrap();
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            while stopped.try_recv().is_err() {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        let mut buffer = [0u8; 4096];
                        let _ = stream.read(&mut buffer);
                        let _ = stream.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self {
            port,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn down(mut self) -> u16 {
        self.stop.take().map(|stop| stop.send(()));
        self.thread.take().map(std::thread::JoinHandle::join);
        self.port
    }
}

/// A webhook receiver: every request body it got, in order.
fn webhook_receiver() -> (String, mpsc::Receiver<serde_json::Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (sender, received) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut data = Vec::new();
            let mut buffer = [0u8; 4096];
            let body = loop {
                let Ok(n) = stream.read(&mut buffer) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                data.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&data).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break Some(body.to_owned());
                    }
                }
            };
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            if let Some(body) = body {
                let _ = sender.send(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null));
            }
        }
    });
    (url, received)
}

/// Polls `/healthz` until it answers `status` (at most a minute).
fn wait_health(served: &Served, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (answer, body) = served.get("/healthz");
        if answer == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz never answered {status}: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn healthz_follows_a_watched_server_down_and_back_and_the_webhook_hears_it_once_each() {
    let port = free_port();
    let server = WatchedServer::up(port);
    let (webhook, alerts) = webhook_receiver();
    let suite = format!(
        "name = \"web\"\n\n[[step]]\nname = \"answers\"\ntimeout = \"5s\"\nhttp = {{ url = \"http://127.0.0.1:{port}/health\", status = 200 }}\n"
    );
    let env = TestEnv::new().suite("web", &suite).file(
        "serve.toml",
        &format!("every = \"1s\"\n[alerts]\nwebhook = \"{webhook}\"\nafter = 2\n"),
    );
    let served = Served::start(&env, &["--config", "serve.toml"]);
    wait_health(&served, 200);
    let port = server.down();
    wait_health(&served, 503);
    let failing = alerts
        .recv_timeout(Duration::from_secs(60))
        .expect("a failing alert");
    assert_eq!(failing["event"], "failing", "{failing}");
    assert_eq!(failing["suite"], "web");
    assert!(
        failing["consecutive_failures"].as_u64().unwrap() >= 2,
        "{failing}"
    );
    let _server = WatchedServer::up(port);
    wait_health(&served, 200);
    let recovered = alerts
        .recv_timeout(Duration::from_secs(60))
        .expect("a recovered alert");
    assert_eq!(recovered["event"], "recovered", "{recovered}");
    // Passing runs go on (one interval each): no further alert.
    assert!(
        alerts.recv_timeout(Duration::from_secs(3)).is_err(),
        "one alert each"
    );
}

#[test]
fn status_page_renders_in_headless_chromium() {
    let browser = std::env::var_os("CHROMIUM")
        .map(std::path::PathBuf::from)
        .or_else(|| on_path("chromium"))
        .or_else(|| on_path("chromium-browser"));
    let Some(browser) = browser else {
        assert!(
            std::env::var_os("SMOKE_REQUIRE_BROWSER").is_none(),
            "SMOKE_REQUIRE_BROWSER is set but no chromium was found (set CHROMIUM or install it)"
        );
        eprintln!("note: no chromium found; the status page browser test did not run");
        return;
    };
    let env = TestEnv::new().suite("quick", QUICK_SUITE);
    let served = Served::start(&env, &["--every", "1s"]);
    wait_health(&served, 200);
    let (status, page) = served.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("http-equiv=\"refresh\""), "{page}");
    let profile = tempfile::tempdir().unwrap();
    // `smoke-runner exec` bounds the browser and stops every process it starts.
    let output = std::process::Command::new(smoke_runner())
        .args(["exec", "--timeout", "180", "--"])
        .arg(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("http://{}/", served.addr))
        .output()
        .expect("run chromium");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(dom.contains("<table id=\"suites\">"), "{dom}");
    let row = dom
        .split("<tr class=\"suite\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no suite row in {dom}"));
    assert!(
        row.contains("<td>quick</td>") && row.contains(">passed</td>"),
        "{row}"
    );
    // The history's report below it: the last run's steps and the outcome grid.
    assert!(
        dom.contains("<h2 id=\"steps\">") && dom.contains("<h2 id=\"grid\">"),
        "{dom}"
    );
    assert!(dom.contains("quick::says_hello"), "{dom}");
}

/// The test dirs under the scratch folder's `tmp/` (where serve's runs make them).
fn test_dirs(env: &TestEnv) -> Vec<String> {
    std::fs::read_dir(env.path().join("tmp"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("plandex-held"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn cancelling_a_running_run_stops_its_processes_and_removes_its_test_dir() {
    let env = TestEnv::new().suite("held", HELD_SUITE);
    let served = Served::start(&env, &["--every", "1h"]);
    let id = run_id(&served.post("/api/runs", "").1);
    served.wait_run(&id, |run| run["status"] == "running");
    let pid_file = env.path().join("release.pid");
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the step never started");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(test_dirs(&env).len(), 1, "one test dir while the run runs");
    let cancelled_at = Instant::now();
    let (status, body) = request(
        &served.addr,
        "DELETE",
        &format!("/api/runs/{id}"),
        Some(TOKEN),
        b"",
    );
    assert_eq!(status, 202, "{body}");
    // SAFETY: signal 0 only asks whether the step's process still exists.
    while unsafe { libc::kill(pid, 0) } == 0 {
        assert!(
            cancelled_at.elapsed() < Duration::from_secs(10),
            "the step's process outlived the cancel"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!(
        "step process gone {:?} after DELETE",
        cancelled_at.elapsed()
    );
    let run = served.wait_finished(&id);
    assert_eq!(run["status"], "cancelled", "{run}");
    assert!(
        test_dirs(&env).is_empty(),
        "test dir left: {:?}",
        test_dirs(&env)
    );
    let (status, _) = request(
        &served.addr,
        "DELETE",
        &format!("/api/runs/{id}"),
        Some(TOKEN),
        b"",
    );
    assert_eq!(status, 409);
    assert!(served.terminate().success());
}

/// A step that leaves two processes behind (one in a session of its own, one in its group)
/// and then runs long; `$RELEASE.pids` says it got there.
const CRASHY_SUITE: &str = r#"
name = "crashy"
command = ""
timeout = "300s"

[[step]]
name = "leaves processes behind"
run = ["sh", "-c", "\"$FAKE\" daemonize:300 > \"$RELEASE.daemon\"; \"$FAKE\" spawn-grandchild:300 > \"$RELEASE.child\"; echo $$ > \"$RELEASE.pids.tmp\"; cat \"$RELEASE.daemon\" \"$RELEASE.child\" >> \"$RELEASE.pids.tmp\"; mv \"$RELEASE.pids.tmp\" \"$RELEASE.pids\"; exec \"$FAKE\" sleep:300"]
"#;

/// Whether process `pid` runs (a zombie waiting for its parent does not).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
        !(state.starts_with('Z') || state.starts_with('X'))
    })
}

/// Live processes whose environment carries `SMOKE_RUNNER_TAG=<runner>-…`.
fn tagged_by(runner: u32) -> Vec<i32> {
    let prefix = format!("SMOKE_RUNNER_TAG={runner}-");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            alive(pid)
                && std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                    environ
                        .split(|&b| b == 0)
                        .any(|entry| entry.starts_with(prefix.as_bytes()))
                })
        })
        .collect()
}

/// Kills the listed processes when a test ends before its monitor cleaned them up.
struct KillOnDrop(Vec<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &pid in &self.0 {
            if alive(pid) {
                // SAFETY: a process this test's run started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

#[test]
fn after_kill_9_mid_run_a_restart_marks_the_run_interrupted_cleans_up_and_schedules_on() {
    let env = TestEnv::new()
        .suite("crashy", CRASHY_SUITE)
        .suite("quick", QUICK_SUITE)
        .file(
            "serve.toml",
            "every = \"1s\"\nconcurrency = 2\n[suite.crashy]\nscheduled = false\n",
        );
    let first = Served::start(&env, &["--config", "serve.toml"]);
    let old_pid = first.process.0.id();
    let id = run_id(&first.post("/api/runs", r#"{"suites": ["crashy"]}"#).1);
    let pids_file = env.path().join("release.pids");
    let deadline = Instant::now() + Duration::from_secs(60);
    let pids: Vec<i32> = loop {
        if let Ok(text) = std::fs::read_to_string(&pids_file) {
            break text
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect();
        }
        assert!(Instant::now() < deadline, "the step never started");
        std::thread::sleep(Duration::from_millis(10));
    };
    let _guard = KillOnDrop(pids.clone());
    assert_eq!(
        pids.len(),
        3,
        "the step, its daemon and its grandchild: {pids:?}"
    );
    assert!(pids.iter().all(|&pid| alive(pid)), "{pids:?}");
    let before: Vec<String> = test_dirs_named(&env, "plandex-crashy");
    assert_eq!(before.len(), 1, "one test dir while the run runs");
    let mut first = first;
    // SAFETY: killing the monitor this test started.
    unsafe { libc::kill(old_pid as i32, libc::SIGKILL) };
    first.process.0.wait().unwrap();
    assert!(
        pids.iter().all(|&pid| alive(pid)),
        "kill -9 leaves the step's processes"
    );

    let second = Served::start(&env, &["--config", "serve.toml"]);
    let run = second.json(&format!("/api/runs/{id}"));
    assert_eq!(run["status"], "interrupted", "{run}");
    assert_eq!(run["trigger"], "api", "{run}");
    assert!(
        run["note"]
            .as_str()
            .is_some_and(|n| n.contains("cleaned up")),
        "{run}"
    );
    let left: Vec<i32> = pids.iter().copied().filter(|&pid| alive(pid)).collect();
    assert!(left.is_empty(), "processes from before the crash: {left:?}");
    assert!(tagged_by(old_pid).is_empty(), "{:?}", tagged_by(old_pid));
    assert!(
        test_dirs_named(&env, "plandex-crashy").is_empty(),
        "test dirs from before the crash: {:?}",
        test_dirs_named(&env, "plandex-crashy")
    );
    let listed = second.json("/api/runs?suite=crashy");
    assert_eq!(listed["runs"][0]["id"], id.as_str(), "{listed}");
    assert_eq!(listed["runs"][0]["status"], "interrupted", "{listed}");
    // Its events died with the monitor: the events endpoint says so.
    let (status, body) = second.get(&format!("/api/runs/{id}/events"));
    assert_eq!(status, 410, "{body}");
    assert!(body.contains("the run was interrupted"), "{body}");
    // The schedule goes on: a run of `quick` queued by this monitor passes.
    let new_prefix = format!("-{}-", second.process.0.id());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = second.json("/api/runs?suite=quick&limit=5");
        let passed = runs["runs"].as_array().unwrap().iter().any(|run| {
            run["trigger"] == "schedule"
                && run["status"] == "passed"
                && run["id"]
                    .as_str()
                    .is_some_and(|id| id.contains(&new_prefix))
        });
        if passed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no scheduled run after the restart: {runs}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(second.terminate().success());
}

/// Folders under the scratch folder's `tmp/` whose name starts with `prefix`.
fn test_dirs_named(env: &TestEnv, prefix: &str) -> Vec<String> {
    std::fs::read_dir(env.path().join("tmp"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// Regression: only neighbouring duplicates were dropped, so `["quick", "other", "quick"]` ran
/// `quick` twice at once, both copies writing the same step-log files.
#[test]
fn a_suite_named_twice_in_a_trigger_runs_once() {
    let other = QUICK_SUITE.replace("name = \"quick\"", "name = \"other\"");
    let env = TestEnv::new()
        .suite("quick", QUICK_SUITE)
        .suite("other", &other);
    let served = Served::start(&env, &["--every", "1h"]);
    let body = r#"{"suites": ["quick", "other", "quick"]}"#;
    let id = run_id(&served.post("/api/runs", body).1);
    let run = served.wait_finished(&id);
    assert_eq!(run["status"], "passed", "{run}");
    assert_eq!(run["progress"]["total"], 2, "{run}");
    assert_eq!(run["counts"]["passed"], 2, "{run}");
    assert!(served.terminate().success());
}

#[test]
fn the_audit_log_says_who_did_what_without_the_token_and_history_runs_shows_the_trigger() {
    let env = TestEnv::new().suite("quick", QUICK_SUITE);
    // A run from the command line first, on the same (default) history.
    assert_eq!(env.run(&[]).status.code(), Some(0));
    let served = Served::start(&env, &["--every", "1h"]);
    let (status, _) = request(&served.addr, "POST", "/api/runs", None, b"");
    assert_eq!(status, 401);
    let wrong = "not-the-token-but-long-enough-0000";
    let (status, _) = request(&served.addr, "POST", "/api/runs", Some(wrong), b"");
    assert_eq!(status, 401);
    let id = run_id(&served.post("/api/runs", r#"{"suites": ["quick"]}"#).1);
    served.wait_run(&id, |run| run["status"] == "passed");
    let (status, _) = request(
        &served.addr,
        "DELETE",
        &format!("/api/runs/{id}"),
        Some(TOKEN),
        b"",
    );
    assert_eq!(status, 409, "the run is over");
    let (status, _) = served.get("/api/audit");
    assert_eq!(status, 401, "reading the audit log needs the token");

    let (status, body) = request(&served.addr, "GET", "/api/audit?limit=10", Some(TOKEN), b"");
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains(TOKEN) && !body.contains(wrong), "{body}");
    let log: serde_json::Value = serde_json::from_str(&body).unwrap();
    let entries = log["entries"].as_array().unwrap();
    let summary: Vec<(String, String, String, u64)> = entries
        .iter()
        .map(|entry| {
            (
                entry["who"].as_str().unwrap().to_owned(),
                entry["method"].as_str().unwrap().to_owned(),
                entry["path"].as_str().unwrap().to_owned(),
                entry["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let expect = |who: &str, method: &str, path: &str, status: u64| {
        (who.to_owned(), method.to_owned(), path.to_owned(), status)
    };
    assert_eq!(
        summary,
        vec![
            expect("anonymous", "GET", "/api/audit", 401),
            expect("token", "DELETE", &format!("/api/runs/{id}"), 409),
            expect("token", "POST", "/api/runs", 202),
            expect("wrong token", "POST", "/api/runs", 401),
            expect("anonymous", "POST", "/api/runs", 401),
        ],
        "{log:#}"
    );
    let trigger = &entries[2];
    assert_eq!(trigger["run_id"], id.as_str(), "{trigger}");
    assert_eq!(trigger["suites"], serde_json::json!(["quick"]), "{trigger}");
    assert_eq!(trigger["remote"], "127.0.0.1", "{trigger}");
    assert!(served.terminate().success());

    let output = env.run(&["history", "runs", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let triggers: Vec<&str> = (runs.as_array().unwrap().iter())
        .map(|run| run["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(triggers, ["api", "command_line"], "{runs:#}");
    assert_eq!(runs[0]["run_id"], id.as_str(), "{runs:#}");
    let text = stdout(&env.run(&["history", "runs"]));
    assert!(text.lines().next().unwrap().contains("trigger"), "{text}");
    assert!(text.lines().nth(1).unwrap().contains(" api "), "{text}");
}

#[test]
fn a_second_monitor_on_the_same_history_is_refused() {
    let env = TestEnv::new().suite("quick", QUICK_SUITE);
    let first = Served::start(&env, &["--every", "1h"]);
    let output = env
        .command()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-env-file",
            "--every",
            "1h",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("another `smoke-runner serve` is using the history")
            && error.contains("--history"),
        "{error}"
    );
    assert!(first.terminate().success());
}

const FAILING_SUITE: &str = r#"
name = "failing"
command = ""

[[step]]
name = "fails"
run = ["sh", "-c", "exit 3"]
"#;

#[test]
fn sighup_reloads_the_concurrency_and_the_alerts() {
    let (webhook, alerts) = webhook_receiver();
    let unscheduled =
        "every = \"1h\"\n[suite.held]\nscheduled = false\n[suite.failing]\nscheduled = false\n";
    let env = TestEnv::new()
        .suite("held", HELD_SUITE)
        .suite("failing", FAILING_SUITE)
        .file("serve.toml", &format!("concurrency = 1\n{unscheduled}"));
    let served = Served::start(&env, &["--config", "serve.toml"]);
    let failed = run_id(&served.post("/api/runs", r#"{"suites": ["failing"]}"#).1);
    served.wait_run(&failed, |run| run["status"] == "failed");
    let first = run_id(&served.post("/api/runs", r#"{"suites": ["held"]}"#).1);
    let second = run_id(&served.post("/api/runs", r#"{"suites": ["held"]}"#).1);
    served.wait_run(&first, |run| run["status"] == "running");
    assert_eq!(
        served.json(&format!("/api/runs/{second}"))["status"],
        "queued"
    );
    assert!(
        alerts.recv_timeout(Duration::from_millis(200)).is_err(),
        "no webhook is configured yet"
    );

    std::fs::write(
        env.path().join("serve.toml"),
        format!("concurrency = 2\n{unscheduled}[alerts]\nwebhook = \"{webhook}\"\nafter = 1\n"),
    )
    .unwrap();
    // SAFETY: signalling the monitor this test started.
    unsafe { libc::kill(served.process.0.id() as i32, libc::SIGHUP) };
    // The queued run starts beside the running one.
    served.wait_run(&second, |run| run["status"] == "running");
    assert_eq!(
        served.json(&format!("/api/runs/{first}"))["status"],
        "running"
    );
    release(&env);
    served.wait_run(&first, |run| run["status"] == "passed");
    served.wait_run(&second, |run| run["status"] == "passed");
    let again = run_id(&served.post("/api/runs", r#"{"suites": ["failing"]}"#).1);
    served.wait_run(&again, |run| run["status"] == "failed");
    let alert = alerts
        .recv_timeout(Duration::from_secs(60))
        .expect("the reloaded webhook hears the failure");
    assert_eq!(alert["event"], "failing", "{alert}");
    assert_eq!(alert["suite"], "failing", "{alert}");
    assert_eq!(alert["run"], again.as_str(), "{alert}");
    assert!(served.terminate().success());
}

#[test]
fn serve_records_into_a_postgresql_history_and_keeps_its_own_tables_in_a_local_file() {
    let Some(server) = crate::pg_server::start_or_skip("serve with a PostgreSQL history") else {
        return;
    };
    let password = crate::pg_server::PASSWORD;
    // The history from SMOKE_HISTORY, which the steps inherit: one of them prints it.
    let env = TestEnv::new()
        .suite("quick", QUICK_SUITE)
        .suite(
            "leaky",
            r#"
name = "leaky"
command = ""

[[step]]
name = "prints the history"
run = ["sh", "-c", "echo \"history: $SMOKE_HISTORY\""]
"#,
        )
        .env("SMOKE_HISTORY", &server.url());
    let served = Served::start(&env, &["--every", "1h"]);
    let (status, body) = served.post("/api/runs", r#"{"suites": ["leaky", "quick"]}"#);
    assert_eq!(status, 202, "{body}");
    let id = run_id(&body);
    let run = served.wait_finished(&id);
    assert_eq!(run["status"], "passed", "{run}");
    let shown = run.to_string();
    assert!(
        shown.contains("[redacted:SMOKE_HISTORY_PASSWORD]"),
        "{shown}"
    );
    let listed = served.json("/api/runs?limit=5");
    assert_eq!(listed["runs"][0]["id"], id.as_str(), "{listed}");
    // The status page renders the history's report, read from PostgreSQL.
    let (status, page) = served.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("leaky::prints_the_history"), "{page}");
    assert!(served.terminate().success());

    // The run is in PostgreSQL, as `smoke-runner history` reads it…
    let output = env
        .command()
        .args(["history", "runs", "--format", "json"])
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(runs[0]["run_id"], id.as_str(), "{runs}");
    assert_eq!(runs[0]["passed"], 2, "{runs}");
    let tails = server.admin_sql("history", "SELECT output_tail FROM steps");
    assert!(
        tails.contains("[redacted:SMOKE_HISTORY_PASSWORD]"),
        "{tails}"
    );
    // …and the monitor's own tables (queue, audit log, processes) in this machine's file.
    let state = env.path().join("target/smoke-serve-state.sqlite");
    assert!(state.is_file(), "no state file at {}", state.display());
    let audit = server.admin_sql(
        "history",
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'serve%'",
    );
    assert_eq!(audit, "0\n", "no monitor table in the shared history");
    for text in [shown, page, tails, stdout(&output), listed.to_string()] {
        assert!(!text.contains(password), "the password in: {text}");
    }
    let bytes = std::fs::read(&state).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains(password));
}

/// Two scheduled suites whose step waits for `$RELEASE`; `broken` then fails until
/// `$RELEASE.fixed` exists.
const RELEASED_SUITES: [(&str, &str); 2] = [
    (
        "steady",
        r#"
name = "steady"
timeout = "120s"

[[step]]
name = "waits then passes"
sh = 'while [ ! -e "$RELEASE" ]; do sleep 0.02; done'
"#,
    ),
    (
        "broken",
        r#"
name = "broken"
timeout = "120s"

[[step]]
name = "waits then fails"
sh = 'while [ ! -e "$RELEASE" ]; do sleep 0.02; done; test -e "$RELEASE.fixed"'
"#,
    ),
];

/// Polls `GET path` until `done` holds for its JSON body (at most a minute).
fn wait_for(
    served: &Served,
    path: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = served.get(path);
        let value: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"));
        if done(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "GET {path} never got there: {value}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn after_a_restart_healthz_reads_the_stored_results_and_earlier_runs_events_are_served() {
    let mut env = TestEnv::new();
    for (name, suite) in RELEASED_SUITES {
        env = env.suite(name, suite);
    }
    let (webhook, alerts) = webhook_receiver();
    let env = env.file(
        "serve.toml",
        &format!("every = \"1h\"\njitter = \"0s\"\n[alerts]\nwebhook = \"{webhook}\"\nafter = 2\n"),
    );
    let first = Served::start(&env, &["--config", "serve.toml"]);
    release(&env);
    // Both scheduled runs end; a second run of `broken` makes two failures in a row.
    wait_for(&first, "/healthz", |health| {
        health["suites"]["broken"]["outcome"] == "failed"
            && health["suites"]["steady"]["outcome"] == "passed"
    });
    let id = run_id(&first.post("/api/runs", r#"{"suites": ["broken"]}"#).1);
    first.wait_run(&id, |run| run["status"] == "failed");
    let before = wait_for(&first, "/healthz", |health| {
        health["suites"]["broken"]["consecutive_failures"] == 2
    });
    let (status, events_before) = first.get(&format!("/api/runs/{id}/events"));
    assert_eq!(status, 200, "{events_before}");
    let failing = alerts
        .recv_timeout(Duration::from_secs(60))
        .expect("a failing alert");
    assert_eq!(
        (&failing["event"], &failing["suite"]),
        (&"failing".into(), &"broken".into()),
        "{failing}"
    );
    assert!(first.terminate().success());

    // The next monitor's scheduled runs wait for the release: until then its health is the
    // stored one, said to come from an earlier process.
    std::fs::remove_file(env.path().join("release")).unwrap();
    let second = Served::start(&env, &["--config", "serve.toml"]);
    let (status, body) = second.get("/healthz");
    assert_eq!(status, 503, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    for suite in ["steady", "broken"] {
        let (now, then) = (&health["suites"][suite], &before["suites"][suite]);
        assert_eq!(now["from_earlier_process"], true, "{health}");
        assert!(
            now["note"]
                .as_str()
                .unwrap()
                .contains("earlier monitor process"),
            "{health}"
        );
        for field in [
            "outcome",
            "run",
            "finished_at",
            "failing_steps",
            "consecutive_failures",
        ] {
            assert_eq!(
                now[field], then[field],
                "{suite} {field}: {health} / {before}"
            );
        }
    }
    assert_eq!(health["suites"]["broken"]["run"], id.as_str());
    assert_eq!(
        health["suites"]["broken"]["failing_steps"][0],
        "broken::waits_then_fails"
    );
    let (_, metrics) = second.get("/metrics");
    assert!(
        metrics.contains("smoke_suite_passed{suite=\"steady\"} 1"),
        "{metrics}"
    );

    // The earlier process's run: its events as that process streamed them.
    let (status, events_after) = second.get(&format!("/api/runs/{id}/events"));
    assert_eq!(status, 200, "{events_after}");
    assert_eq!(events_after, events_before);
    assert!(
        events_after
            .lines()
            .last()
            .unwrap()
            .contains("\"run_finished\"")
    );
    // A run whose log folder is gone: 410, saying why and where to look; an unknown id: 404.
    let steady_run = health["suites"]["steady"]["run"].as_str().unwrap();
    std::fs::remove_dir_all(env.path().join("target/smoke-logs").join(steady_run)).unwrap();
    let (status, body) = second.get(&format!("/api/runs/{steady_run}/events"));
    assert_eq!(status, 410, "{body}");
    let gone: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(gone["status"], "passed", "{gone}");
    let error = gone["error"].as_str().unwrap();
    assert!(error.contains("is gone"), "{gone}");
    assert!(
        gone["look_at"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!("GET /api/runs/{steady_run}"))
    );
    let (status, body) = second.get("/api/runs/no-such-run/events");
    assert_eq!(
        (status, body.contains("no run has this id")),
        (404, true),
        "{body}"
    );

    // This monitor's own runs replace the stored results, and count on from them: `broken`
    // fails a third time in a row, which was announced already (no second "failing" alert),
    // then passes ("recovered", the next alert).
    release(&env);
    let health = wait_for(&second, "/healthz", |health| {
        health["suites"]["broken"]["from_earlier_process"] == false
            && health["suites"]["steady"]["from_earlier_process"] == false
    });
    assert_eq!(
        health["suites"]["broken"]["consecutive_failures"], 3,
        "{health}"
    );
    assert_eq!(health["suites"]["steady"]["outcome"], "passed", "{health}");
    std::fs::write(env.path().join("release.fixed"), "").unwrap();
    let id = run_id(&second.post("/api/runs", r#"{"suites": ["broken"]}"#).1);
    second.wait_run(&id, |run| run["status"] == "passed");
    let health = wait_for(&second, "/healthz", |health| health["status"] == "healthy");
    assert_eq!(
        health["suites"]["broken"]["consecutive_failures"], 0,
        "{health}"
    );
    let next = alerts
        .recv_timeout(Duration::from_secs(60))
        .expect("a recovered alert");
    assert_eq!(next["event"], "recovered", "{next}");
    assert!(second.terminate().success());
}

#[test]
fn run_folders_beyond_keep_logs_are_deleted_and_each_kept_one_holds_its_events() {
    let env = TestEnv::new()
        .suite("quick", QUICK_SUITE)
        .file("serve.toml", "[suite.quick]\nscheduled = false\n");
    let served = Served::start(&env, &["--config", "serve.toml", "--keep-logs", "2"]);
    let mut ids = Vec::new();
    for _ in 0..4 {
        let id = run_id(&served.post("/api/runs", r#"{"suites": ["quick"]}"#).1);
        served.wait_run(&id, |run| run["status"] == "passed");
        ids.push(id);
    }
    // A run reads `passed` only once its events are saved and old folders deleted.
    let logs = env.path().join("target/smoke-logs");
    assert!(logs.join(&ids[3]).join("events.jsonl").exists());
    let mut kept: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.'))
        .collect();
    kept.sort();
    let mut expected = vec![ids[2].clone(), ids[3].clone()];
    expected.sort();
    assert_eq!(kept, expected);
    for id in &ids[2..] {
        let saved = std::fs::read_to_string(logs.join(id).join("events.jsonl")).unwrap();
        let (_, live) = served.get(&format!("/api/runs/{id}/events"));
        assert_eq!(saved, live, "{id}");
    }
    assert!(served.terminate().success());
}

#[test]
fn runs_beyond_keep_history_are_deleted_from_the_history_after_each_run() {
    let env = TestEnv::new()
        .suite("quick", QUICK_SUITE)
        .file("serve.toml", "[suite.quick]\nscheduled = false\n");
    let served = Served::start(&env, &["--config", "serve.toml", "--keep-history", "2"]);
    let mut ids = Vec::new();
    for _ in 0..4 {
        let id = run_id(&served.post("/api/runs", r#"{"suites": ["quick"]}"#).1);
        // A run reads `passed` only once it is recorded and old runs are deleted.
        served.wait_run(&id, |run| run["status"] == "passed");
        ids.push(id);
    }
    let history = rusqlite::Connection::open(env.path().join("target/smoke-history.sqlite"))
        .expect("the monitor's history");
    let mut kept: Vec<String> = history
        .prepare("SELECT run_uid FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    kept.sort();
    let mut expected = ids[2..].to_vec();
    expected.sort();
    assert_eq!(kept, expected, "recorded: {ids:?}");
    // The monitor's own list still has every run: only the history's steps went.
    let (status, listed) = served.get("/api/runs");
    assert_eq!(status, 200, "{listed}");
    for id in &ids {
        assert!(listed.contains(id.as_str()), "{id} not listed: {listed}");
    }
    assert!(served.terminate().success());
}
