//! Gate evaluation over a long history: 10,000 runs × 200 steps, in SQLite and in PostgreSQL,
//! and a `--gate` over the 200 steps of a run against `last:20` (opening the history, reading
//! the baseline and judging every step). Target: at most 200 ms on each.
//!
//!     cargo bench --bench gate
//!
//! Prints the median of 15 evaluations (after 2 warm-ups), and the medians of their parts
//! (opening the history: for PostgreSQL connecting, authenticating and checking the schema;
//! reading the baseline), for the usual case (every step in every run) and for the worst (a
//! step the history never saw: the whole window, 10·K runs between 200 and 500, is read), for
//! `last:20` and `last:100`, each also for `branch:main` (one run in ten is on main: its
//! window is 10·K runs of main, read along the runs' index on (branch, id)), and exits 1 when
//! a median misses the target. PostgreSQL is
//! measured twice: right after the bulk load, before autovacuum has analyzed the tables (the
//! planner has no statistics), and after an `ANALYZE`. `GATE_BENCH_RUNS=N` builds a smaller history, to check the plumbing.
//!
//! PostgreSQL: the bench starts a server of its own on loopback (`tests/pg_server`, as the
//! tests do: `/usr/lib/postgresql/*/bin`, run as the `postgres` user when root) and connects
//! over TCP with a password, as a machine reaching a shared history does. With
//! `GATE_BENCH_POSTGRES_URL=postgres://…` it uses that database instead (which must hold no
//! runs, or exactly the ones an earlier run of the bench recorded). Without PostgreSQL it
//! prints a note and measures SQLite only.

use std::time::{Duration, Instant, SystemTime};

use smoke_runner::history::{
    HistoryStore, HistoryTarget, Outcome, RunFilter, RunRecord, StepRecord, SuiteRecord, median,
    p95,
};

#[path = "../tests/pg_server/mod.rs"]
#[expect(dead_code, reason = "shared with the tests, which use more of it")]
mod pg_server;

const STEPS: usize = 200;
const TARGET: Duration = Duration::from_millis(200);

fn main() {
    let runs: usize = std::env::var("GATE_BENCH_RUNS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(10_000);
    let names: Vec<String> = (0..STEPS).map(|i| format!("suite::step {i:03}")).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = HistoryTarget::File(dir.path().join("history.sqlite"));
    let mut missed = bench("SQLite", &sqlite, runs, &names);
    // The server (when the bench starts one) lives until the end of its measurements.
    let (server, url) = match std::env::var("GATE_BENCH_POSTGRES_URL") {
        Ok(url) => (None, Some(url)),
        Err(_) => match pg_server::postgres_bin() {
            Some(bin) => {
                let server = pg_server::PgServer::start(&bin);
                let url = server.url();
                (Some(server), Some(url))
            }
            None => {
                println!(
                    "note: PostgreSQL is not installed (/usr/lib/postgresql/*/bin): SQLite only"
                );
                (None, None)
            }
        },
    };
    if let Some(url) = url {
        let target = HistoryTarget::parse(&url).expect("a postgres:// URL");
        missed |= bench("PostgreSQL", &target, runs, &names);
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        client.batch_execute("ANALYZE").expect("ANALYZE");
        drop(client);
        missed |= bench("PostgreSQL, analyzed", &target, runs, &names);
    }
    drop(server);
    std::process::exit(i32::from(missed));
}

/// Builds the history at `target` (unless it holds the runs already) and measures the gates
/// on it; whether a median missed the target.
fn bench(label: &str, target: &HistoryTarget, runs: usize, names: &[String]) -> bool {
    let built = Instant::now();
    let mut store = HistoryStore::open(target).expect("history");
    let already = store.run_count().expect("count runs");
    assert!(
        already == 0 || already == runs,
        "{target} holds {already} runs: give the bench an empty database"
    );
    if already == 0 {
        for n in 0..runs {
            store.record(&run(n, names)).expect("record");
        }
    }
    drop(store);
    println!(
        "{label} history ({target}): {runs} runs x {STEPS} steps, built in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    let mut missed = false;
    let usual: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut worst = usual.clone();
    worst.push("suite::a step never recorded");
    let main = RunFilter {
        branch: Some("main".into()),
        label: None,
    };
    for k in [20, 100] {
        let every = RunFilter::default();
        missed |= measure(&format!("200 steps, last:{k}"), target, &usual, k, &every);
        let label = format!("the same and a new step, last:{k}");
        missed |= measure(&label, target, &worst, k, &every);
        let label = format!("200 steps, last:{k},branch:main");
        missed |= measure(&label, target, &usual, k, &main);
        let label = format!("and a new step, last:{k},branch:main");
        missed |= measure(&label, target, &worst, k, &main);
    }
    missed
}

/// Times opening the history, reading the baseline of `names` and judging each against it,
/// and each part alone; whether the median of the whole missed the target.
fn measure(
    label: &str,
    target: &HistoryTarget,
    names: &[&str],
    k: usize,
    filter: &RunFilter,
) -> bool {
    let (mut whole, mut opening, mut reading) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..17 {
        let start = Instant::now();
        let store = HistoryStore::open_existing(target).expect("open");
        let opened = start.elapsed();
        let baseline = store
            .passing_durations_of(names.iter().copied(), k, filter)
            .expect("baseline");
        let read = start.elapsed() - opened;
        let now = Duration::from_millis(150);
        let broken = baseline
            .values()
            .filter(|past| p95(past).is_some_and(|base| now > base * 3 / 2))
            .count();
        let elapsed = start.elapsed();
        assert!(baseline.values().filter(|past| past.len() == k).count() >= STEPS);
        std::hint::black_box(broken);
        if round >= 2 {
            whole.push(elapsed);
            opening.push(opened);
            reading.push(read);
        }
    }
    let ms = |times: &[Duration]| median(times).unwrap_or_default().as_secs_f64() * 1000.0;
    let median = median(&whole).unwrap_or_default();
    let verdict = if median <= TARGET { "ok" } else { "MISSED" };
    println!(
        "{label:<36} median {:>8.2} ms   target <= {} ms   {verdict}   \
         (open {:.2} ms, baseline read {:.2} ms)",
        median.as_secs_f64() * 1000.0,
        TARGET.as_millis(),
        ms(&opening),
        ms(&reading),
    );
    median > TARGET
}

/// Run `n`: every step passes in about 100 ms, a little different each run.
fn run(n: usize, names: &[String]) -> RunRecord {
    let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + n as u64 * 60);
    let steps = names
        .iter()
        .enumerate()
        .map(|(i, name)| StepRecord {
            test_name: name.clone(),
            file: Some("suites/suite.toml".into()),
            line: Some(i as u32 + 1),
            outcome: Outcome::Passed,
            status: "exit status 0".into(),
            duration: Duration::from_micros(100_000 + ((n * 7919 + i * 104_729) % 20_000) as u64),
            attempts: 1,
            leftovers: 0,
            log_path: None,
            skip_reason: None,
            checks: Vec::new(),
            output_tail: String::new(),
        })
        .collect();
    RunRecord {
        run_id: format!("run-{n}"),
        started_at,
        finished_at: started_at + Duration::from_secs(20),
        git_commit: None,
        // One run in ten on main, the others on feature branches; a label in four.
        git_branch: Some(match n % 10 {
            0 => "main".into(),
            other => format!("feature-{other}"),
        }),
        label: Some(
            if n.is_multiple_of(4) {
                "staging"
            } else {
                "prod"
            }
            .into(),
        ),
        host: Some("bench".into()),
        shard: None,
        exit_status: 0,
        interrupted: false,
        suites: vec![SuiteRecord {
            name: "suite".into(),
            file: Some("suites/suite.toml".into()),
            duration: Duration::from_secs(20),
            kept_test_dir: None,
            setup: Vec::new(),
            steps,
        }],
    }
}
