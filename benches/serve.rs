//! The monitor (`smoke-runner serve`) on loopback, as its users load it. Targets (issue 20):
//!
//! - `/healthz` p99 at most 5 ms with 100 concurrent clients (100 keep-alive connections, 100
//!   requests each);
//! - trigger → first step started at most 50 ms (`POST /api/runs` sent → the step's
//!   `sh -c 'date +%s%N > FILE'` writes the wall clock, so the figure includes starting `sh`
//!   and `date`; median and p99 of 100 runs, one at a time);
//! - memory flat (±10 %) over 10,000 requests and 1,000 scheduled runs (resident set after a
//!   warm-up of 250 runs and 1,000 requests, against after 1,000 more runs and 10,000 more
//!   requests of every read endpoint);
//! - idle CPU under 1 % (user + system time of the idle monitor over 10 s).
//!
//!     cargo bench --bench serve
//!
//! Every loop is bounded and stops by itself; the monitors are stopped with SIGTERM at the end
//! (SIGKILL if the bench panics). Prints each figure with the load average at the time, and
//! exits 1 when a target is missed. `SERVE_BENCH_RUNS=N` runs N scheduled runs instead of
//! 1,000, to check the plumbing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TOKEN: &str = "bench-token-0123456789abcdef";
const CLIENTS: usize = 100;
const REQUESTS_PER_CLIENT: usize = 100;

fn main() {
    let runs: u64 = std::env::var("SERVE_BENCH_RUNS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut missed = false;
    {
        let stamp = dir.path().join("a").join("stamp.ns");
        let monitor = Monitor::start(dir.path(), "a", &quiet_config(&stamp));
        monitor.wait_healthy();
        missed |= healthz_latency(&monitor, None);
        missed |= healthz_latency(&monitor, Some(Duration::from_millis(20)));
        missed |= trigger_latency(&monitor, &stamp);
        missed |= idle_cpu(&monitor);
    }
    {
        let monitor = Monitor::start(dir.path(), "b", &busy_config());
        missed |= memory_flat(&monitor, runs);
    }
    std::process::exit(i32::from(missed));
}

/// One scheduled suite (hourly, first run at once) and one run on request that stamps the
/// time its step starts.
fn quiet_config(stamp: &Path) -> Vec<(String, String)> {
    vec![
        (
            "serve.toml".into(),
            "every = \"1h\"\njitter = \"10ms\"\n[suite.stamp]\nscheduled = false\n".into(),
        ),
        (
            "quick.toml".into(),
            "name = \"quick\"\ncommand = \"\"\n[[step]]\nname = \"ok\"\nrun = [\"true\"]\n".into(),
        ),
        (
            "stamp.toml".into(),
            format!(
                "name = \"stamp\"\ncommand = \"\"\n[[step]]\nname = \"stamps\"\nrun = [\"sh\", \"-c\", \"date +%s%N > '{}'\"]\n",
                stamp.display()
            ),
        ),
    ]
}

/// Twenty suites every second (two runs at once): scheduled runs as fast as the machine
/// takes them.
fn busy_config() -> Vec<(String, String)> {
    let mut files = vec![(
        "serve.toml".to_owned(),
        "every = \"1s\"\njitter = \"100ms\"\nconcurrency = 2\nqueue = 64\n".to_owned(),
    )];
    for n in 0..20 {
        files.push((
            format!("s{n:02}.toml"),
            format!(
                "name = \"s{n:02}\"\ncommand = \"\"\n[[step]]\nname = \"ok\"\nrun = [\"true\"]\n"
            ),
        ));
    }
    files
}

/// A `smoke-runner serve` on 127.0.0.1, in a folder of its own.
struct Monitor {
    child: Child,
    addr: String,
}

impl Monitor {
    fn start(root: &Path, name: &str, files: &[(String, String)]) -> Self {
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join("suites")).expect("folder");
        std::fs::create_dir_all(dir.join("tmp")).expect("folder");
        for (file, text) in files {
            let path = match file.as_str() {
                "serve.toml" => dir.join(file),
                _ => dir.join("suites").join(file),
            };
            std::fs::write(path, text).expect("write");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_smoke-runner"))
            .args(["serve", "--listen", "127.0.0.1:0", "--no-env-file"])
            .args(["--config", "serve.toml", "--suites", "suites"])
            .current_dir(&dir)
            .env("SMOKE_SERVE_TOKEN", TOKEN)
            .env("TMPDIR", dir.join("tmp"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start smoke-runner serve");
        let mut first = String::new();
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout);
        lines
            .read_line(&mut first)
            .expect("serve says where it listens");
        // Keep reading its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        Self { child, addr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn client(&self) -> Client {
        Client::connect(&self.addr)
    }

    /// Waits (at most a minute) for `/healthz` to answer 200.
    fn wait_healthy(&self) {
        let mut client = self.client();
        let deadline = Instant::now() + Duration::from_secs(60);
        while client.get("/healthz").0 != 200 {
            assert!(Instant::now() < deadline, "the monitor never got healthy");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        // SAFETY: signalling the monitor this bench started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    reader: BufReader<TcpStream>,
    addr: String,
}

impl Client {
    fn connect(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        Self {
            reader: BufReader::new(stream),
            addr: addr.to_owned(),
        }
    }

    fn get(&mut self, path: &str) -> (u16, String) {
        self.send("GET", path, "")
    }

    fn send(&mut self, method: &str, path: &str, body: &str) -> (u16, String) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        self.reader
            .get_mut()
            .write_all(head.as_bytes())
            .expect("send");
        self.read_response()
    }

    fn read_response(&mut self) -> (u16, String) {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let (mut length, mut chunked) = (0usize, false);
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header");
            let header = line.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(value) = header.strip_prefix("content-length:") {
                length = value.trim().parse().expect("length");
            }
            chunked |= header == "transfer-encoding: chunked";
        }
        let body = if chunked {
            self.read_chunks()
        } else {
            let mut body = vec![0; length];
            self.reader.read_exact(&mut body).expect("body");
            body
        };
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn read_chunks(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("chunk size");
            let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
            let mut chunk = vec![0; size + 2];
            self.reader.read_exact(&mut chunk).expect("chunk");
            if size == 0 {
                return body;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
}

/// `/healthz` from 100 connections at once, 100 requests each: back to back (`pace` `None`:
/// each client sends its next request as soon as it has the answer, so the figure is mostly
/// queueing behind the 99 others), or each client every `pace` (clients polling a health
/// endpoint). The clients are one thread polling 100 non-blocking sockets, so that the load
/// generator takes as little of the two CPUs from the monitor as it can.
fn healthz_latency(monitor: &Monitor, pace: Option<Duration>) -> bool {
    let load = load_average();
    let mut clients: Vec<Polled> = (0..CLIENTS)
        .map(|_| Polled::connect(&monitor.addr))
        .collect();
    let ticks = cpu_ticks(monitor.pid());
    let start = Instant::now();
    for (n, client) in clients.iter_mut().enumerate() {
        // Paced clients start spread over one period, as independent pollers would be.
        let offset = pace.map_or(Duration::ZERO, |pace| pace * n as u32 / CLIENTS as u32);
        client.due = Some(start + offset);
    }
    let latencies = drive(&mut clients, pace);
    let elapsed = start.elapsed();
    // The monitor's own CPU time per request, which the machine's load does not change much.
    let ticks = cpu_ticks(monitor.pid()) - ticks;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu_us = ticks as f64 / per_second * 1e6 / latencies.len() as f64;
    let (median, p99) = (percentile(&latencies, 50), percentile(&latencies, 99));
    let how = pace.map_or("back to back".to_owned(), |pace| {
        format!("each every {} ms", pace.as_millis())
    });
    report(
        &format!(
            "/healthz, {CLIENTS} clients x {REQUESTS_PER_CLIENT} ({how}): median {}, p99 {}, in {:.2} s, monitor CPU {cpu_us:.0} µs a request",
            ms(median),
            ms(p99),
            elapsed.as_secs_f64()
        ),
        p99 <= Duration::from_millis(5),
        "p99 <= 5 ms",
        load,
    )
}

/// Sends each client's requests when due and collects the latencies, sorted.
fn drive(clients: &mut [Polled], pace: Option<Duration>) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(CLIENTS * REQUESTS_PER_CLIENT);
    let mut polls: Vec<libc::pollfd> = (clients.iter())
        .map(|client| libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&client.stream),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(300);
    while latencies.len() < CLIENTS * REQUESTS_PER_CLIENT {
        assert!(
            Instant::now() < deadline,
            "/healthz answers took over 5 minutes"
        );
        let now = Instant::now();
        for client in clients.iter_mut() {
            if client.due.is_some_and(|due| due <= now) {
                client.due = None;
                client.send();
            }
        }
        let next = clients.iter().filter_map(|client| client.due).min();
        let wait = next.map_or(1000, |due| due.saturating_duration_since(now).as_millis());
        // SAFETY: `polls` is a live array of `polls.len()` pollfd structs.
        let ready =
            unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, wait as i32) };
        assert!(ready >= 0, "poll: {}", std::io::Error::last_os_error());
        for (poll, client) in polls.iter_mut().zip(clients.iter_mut()) {
            if std::mem::take(&mut poll.revents) == 0 {
                continue;
            }
            let Some(latency) = client.receive() else {
                continue;
            };
            latencies.push(latency);
            if client.sent_count < REQUESTS_PER_CLIENT {
                client.due = Some(pace.map_or_else(Instant::now, |pace| client.sent_at + pace));
            }
        }
    }
    latencies.sort();
    latencies
}

/// A keep-alive connection driven by `poll`: one `GET /healthz` at a time.
struct Polled {
    stream: TcpStream,
    received: Vec<u8>,
    sent_at: Instant,
    sent_count: usize,
    /// When the next request goes; `None` while one is out or when all have gone.
    due: Option<Instant>,
}

impl Polled {
    fn connect(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream.set_nonblocking(true).expect("non-blocking");
        Self {
            stream,
            received: Vec::new(),
            sent_at: Instant::now(),
            sent_count: 0,
            due: None,
        }
    }

    fn send(&mut self) {
        let request = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n";
        let mut written = 0;
        self.sent_at = Instant::now();
        while written < request.len() {
            match self.stream.write(&request[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("send: {e}"),
            }
        }
        self.sent_count += 1;
    }

    /// Reads what is there; the latency once a whole answer (a 200) has come.
    fn receive(&mut self) -> Option<Duration> {
        let mut buffer = [0u8; 8192];
        loop {
            match self.stream.read(&mut buffer) {
                Ok(0) => panic!("the monitor closed a connection"),
                Ok(n) => self.received.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("receive: {e}"),
            }
        }
        let end = self.received.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let head = String::from_utf8_lossy(&self.received[..end]).to_ascii_lowercase();
        let length: usize = (head.lines())
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse().ok())
            .expect("a content-length");
        if self.received.len() < end + length {
            return None;
        }
        let latency = self.sent_at.elapsed();
        assert!(head.starts_with("http/1.1 200"), "/healthz: {head}");
        self.received.drain(..end + length);
        Some(latency)
    }
}

/// `POST /api/runs` → the first step's process running, 100 runs one after the other.
fn trigger_latency(monitor: &Monitor, stamp: &Path) -> bool {
    let load = load_average();
    let mut client = monitor.client();
    let mut latencies = Vec::new();
    for _ in 0..100 {
        let _ = std::fs::remove_file(stamp);
        let sent = SystemTime::now();
        let (status, body) = client.send("POST", "/api/runs", r#"{"suites": ["stamp"]}"#);
        assert_eq!(status, 202, "{body}");
        let id = body.split('"').nth(3).expect("run id").to_owned();
        wait_finished(&mut client, &id);
        let stamped: u128 = std::fs::read_to_string(stamp)
            .expect("the step stamped")
            .trim()
            .parse()
            .expect("nanoseconds");
        let sent = sent.duration_since(UNIX_EPOCH).expect("clock").as_nanos();
        let nanos = u64::try_from(stamped.saturating_sub(sent)).unwrap_or(u64::MAX);
        latencies.push(Duration::from_nanos(nanos));
    }
    latencies.sort();
    let (median, p99) = (percentile(&latencies, 50), percentile(&latencies, 99));
    report(
        &format!(
            "trigger -> first step started, 100 runs: median {}, p99 {}",
            ms(median),
            ms(p99)
        ),
        median <= Duration::from_millis(50),
        "median <= 50 ms",
        load,
    )
}

/// Polls run `id` (at most a minute) until it is over.
fn wait_finished(client: &mut Client, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = client.get(&format!("/api/runs/{id}"));
        if body.contains("\"status\":\"passed\"") {
            return;
        }
        assert!(
            !body.contains("\"status\":\"failed\""),
            "the run failed: {body}"
        );
        assert!(Instant::now() < deadline, "run {id} never ended: {body}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The idle monitor's CPU time over 10 s (no run due for an hour).
fn idle_cpu(monitor: &Monitor) -> bool {
    let load = load_average();
    let before = cpu_ticks(monitor.pid());
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(10));
    let ticks = cpu_ticks(monitor.pid()) - before;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let share = ticks as f64 / per_second / started.elapsed().as_secs_f64() * 100.0;
    report(
        &format!("idle CPU over 10 s: {share:.2} % ({ticks} ticks)"),
        share < 1.0,
        "under 1 %",
        load,
    )
}

/// Resident memory after a warm-up, then after `runs` more scheduled runs and 10,000 more
/// requests.
fn memory_flat(monitor: &Monitor, runs: u64) -> bool {
    let mut client = monitor.client();
    let warm = runs.min(250);
    wait_runs(&mut client, warm);
    requests(&mut client, 1000);
    let load = load_average();
    let before = rss_kib(monitor.pid());
    let mut sent = 0;
    let deadline = Instant::now() + Duration::from_secs(1800);
    while finished_runs(&mut client) < warm + runs || sent < 10_000 {
        assert!(Instant::now() < deadline, "the runs took over 30 minutes");
        if sent < 10_000 {
            requests(&mut client, 100);
            sent += 100;
        } else {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let after = rss_kib(monitor.pid());
    let change = (after as f64 - before as f64) / before as f64 * 100.0;
    report(
        &format!(
            "resident memory: {before} KiB after {warm} runs and 1,000 requests, {after} KiB after {runs} more runs and {sent} more requests ({change:+.1} %)"
        ),
        change.abs() <= 10.0,
        "within ±10 %",
        load,
    )
}

/// `count` reads spread over every read endpoint (the status page every 50th).
fn requests(client: &mut Client, count: usize) {
    for n in 0..count {
        let path = match n % 50 {
            0 => "/",
            k if k % 3 == 0 => "/metrics",
            k if k % 3 == 1 => "/api/runs?limit=20",
            _ => "/healthz",
        };
        let (status, body) = client.get(path);
        assert!(status == 200 || status == 503, "{path}: {status} {body}");
    }
}

/// Waits (at most 30 minutes) until `count` runs have finished.
fn wait_runs(client: &mut Client, count: u64) {
    let deadline = Instant::now() + Duration::from_secs(1800);
    while finished_runs(client) < count {
        assert!(
            Instant::now() < deadline,
            "{count} runs took over 30 minutes"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `smoke_runs_total`, summed over results.
fn finished_runs(client: &mut Client) -> u64 {
    let (_, metrics) = client.get("/metrics");
    metrics
        .lines()
        .filter(|line| line.starts_with("smoke_runs_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .expect("VmRSS")
}

/// User + system clock ticks of `pid` (all its threads).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after_name = stat.rsplit(')').next().expect("stat");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); the name was field 2, the state is the first here.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "?".into())
}

fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    let index = (sorted.len() * percent).div_ceil(100).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// Prints one figure; whether it missed its target.
fn report(figure: &str, met: bool, target: &str, load: String) -> bool {
    let verdict = if met { "ok" } else { "MISSED" };
    println!("{figure} [target {target}: {verdict}] (load average {load})");
    !met
}
