//! The history in a real PostgreSQL server (`--history postgres://…`): started by each test on
//! loopback (`tests/pg_server`), reached over TCP with a password. Skipped with a note when
//! PostgreSQL is not installed; `SMOKE_REQUIRE_POSTGRES=1` (set by `.ci/run`) makes that a
//! failure.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::history::drifting_suite;
use crate::pg_server::{self, PASSWORD};
use crate::support::{TestEnv, stderr, stdout};

/// A suite whose `flip` step fails in odd runs (`RUN`), whose `sleeper` sleeps `SLEEP`, and
/// a steady suite beside it.
fn drifting_env() -> TestEnv {
    drifting_suite().suite(
        "steady",
        r#"[[step]]
name = "always"
sh = "true"
"#,
    )
}

fn run_with(env: &TestEnv, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = env.command();
    command.args(["--color", "never"]);
    for (key, value) in vars {
        command.env(key, value);
    }
    command.args(args).output().expect("run smoke-runner")
}

fn history(env: &TestEnv, at: &str, args: &[&str]) -> Output {
    env.command()
        .arg("history")
        .args(args)
        .args(["--history", at])
        .output()
        .expect("run smoke-runner history")
}

#[test]
fn eight_processes_recording_into_one_postgres_history_at_once_lose_no_run() {
    let Some(server) = pg_server::start_or_skip("eight processes into PostgreSQL") else {
        return;
    };
    // Each run waits at its first step until all eight are there, so they all open the empty
    // database (and migrate it) and record at about the same time.
    let env = TestEnv::new().suite(
        "meet",
        r#"[[step]]
name = "meet"
sh = """
mkdir -p "$MEET"; touch "$MEET/$RUN"
tries=0
while [ "$(ls "$MEET" | wc -l)" -lt 8 ]; do
  tries=$((tries + 1)); [ "$tries" -lt 2400 ] || exit 1; sleep 0.05
done
"""

[[step]]
name = "after"
sh = "true"
"#,
    );
    let meet = env.path().join("meet");
    let url = server.url();
    let children: Vec<_> = (0..8)
        .map(|run| {
            env.std_command(crate::support::smoke_runner())
                .args(["--color", "never", "--no-log-dir", "--history", &url])
                .env("MEET", &meet)
                .env("RUN", run.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start smoke-runner")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
        assert_eq!(stderr(&output), "", "no warning from the history");
    }
    let output = history(&env, &url, &["runs", "-n", "100", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let runs: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let runs = runs.as_array().expect("a list of runs");
    assert_eq!(runs.len(), 8, "{runs:#?}");
    let mut ids: Vec<&str> = runs.iter().map(|r| r["run_id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8, "{ids:?}");
    assert!(runs.iter().all(|r| r["passed"] == 2), "{runs:#?}");
    assert_eq!(
        server.admin_sql("history", "SELECT count(*) FROM steps"),
        "16\n"
    );
    assert_eq!(
        server.admin_sql("history", "SELECT version FROM smoke_history_schema"),
        format!("{}\n", smoke_runner::history::POSTGRES_SCHEMA_VERSION)
    );
}

#[test]
fn history_answers_from_postgres_are_those_from_sqlite_for_the_same_runs() {
    let Some(server) = pg_server::start_or_skip("PostgreSQL against SQLite") else {
        return;
    };
    let env = drifting_env();
    let url = server.url();
    for run in 0..6 {
        let events = format!("events-{run}.jsonl");
        let sleep = format!("0.0{}", run + 1);
        let run_text = run.to_string();
        let vars = [("RUN", run_text.as_str()), ("SLEEP", sleep.as_str())];
        let label = if run % 2 == 0 { "nightly" } else { "prod-eu" };
        run_with(
            &env,
            &vars,
            &[
                "--no-history",
                "--no-log-dir",
                "--json",
                &events,
                "--label",
                label,
            ],
        );
        for at in [url.as_str(), "h.sqlite"] {
            let output = history(&env, at, &["import", &events]);
            assert_eq!(output.status.code(), Some(0), "{at}: {}", stderr(&output));
        }
    }
    let again = history(&env, &url, &["import", "events-0.jsonl"]);
    assert!(
        stdout(&again).contains("Already in postgres://smoke:***@"),
        "{}",
        stdout(&again)
    );
    let asks: [&[&str]; 8] = [
        &["flaky"],
        &["flaky", "--format", "json"],
        &["slow"],
        &["slow", "--format", "json"],
        &["runs"],
        &["runs", "--format", "json"],
        &["step", "flip"],
        &["step", "sleep", "--format", "json"],
    ];
    for ask in asks {
        let from_postgres = history(&env, &url, ask);
        let from_sqlite = history(&env, "h.sqlite", ask);
        assert_eq!(
            from_postgres.status.code(),
            Some(0),
            "{ask:?}: {}",
            stderr(&from_postgres)
        );
        assert_eq!(stdout(&from_postgres), stdout(&from_sqlite), "{ask:?}");
    }
    let flaky = stdout(&history(&env, &url, &["flaky"]));
    assert!(flaky.contains("drift::flip"), "{flaky}");
    let runs = stdout(&history(&env, &url, &["runs"]));
    assert_eq!(runs.matches(" nightly ").count(), 3, "{runs}");

    // The HTML report: the same page from both.
    for (at, file) in [(url.as_str(), "pg.html"), ("h.sqlite", "lite.html")] {
        let output = env.run(&["report", "--html", file, "--history", at]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let page = |file: &str| std::fs::read_to_string(env.path().join(file)).unwrap();
    assert_eq!(
        without_generated_time(&page("pg.html")),
        without_generated_time(&page("lite.html"))
    );

    // --rerun-failed reads the newest run (flip failed in run 5) from PostgreSQL.
    let output = run_with(
        &env,
        &[("RUN", "6"), ("SLEEP", "0")],
        &["--rerun-failed", "--history", &url],
    );
    let report = stdout(&output);
    assert!(report.contains("flip"), "{report}");
    assert!(
        !report.contains("always"),
        "only the failed suite runs: {report}"
    );

    // Pruning keeps the newest runs.
    let output = history(&env, &url, &["prune", "--keep-history", "3"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("deleted 4 run(s), kept 3"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        server.admin_sql("history", "SELECT count(*) FROM runs"),
        "3\n"
    );
}

/// The page without the footer that says when it was made.
fn without_generated_time(html: &str) -> String {
    assert!(html.contains("<footer>Made by smoke-runner"), "{html}");
    html.lines()
        .filter(|line| !line.starts_with("<footer>Made by smoke-runner"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn gates_read_their_baseline_from_postgres() {
    let Some(server) = pg_server::start_or_skip("gates on PostgreSQL") else {
        return;
    };
    let env = drifting_env();
    let url = server.url();
    let base = [
        "--no-log-dir",
        "--history",
        url.as_str(),
        "-E",
        "test(sleeper)",
    ];
    for _ in 0..3 {
        let output = run_with(&env, &[("RUN", "0"), ("SLEEP", "0.05")], &base);
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    }
    let mut args = base.to_vec();
    args.extend(["--gate", "p95 <= 1.5x baseline", "--baseline", "last:3"]);
    let output = run_with(&env, &[("RUN", "0"), ("SLEEP", "1.5")], &args);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}{}", stderr(&output));
    assert!(
        report.contains("Gate `p95 <= 1.5x baseline` against baseline last:3:"),
        "{report}"
    );
    let row = report
        .lines()
        .find(|line| line.trim_start().starts_with("drift::sleeper"))
        .unwrap_or_else(|| panic!("no table row: {report}"));
    assert!(row.ends_with(" BROKEN"), "{row}");
}

/// The gate's baseline column, by step, from a report's table.
fn gate_baselines(report: &str) -> Vec<(String, String)> {
    report
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let step = words.next()?;
            (step.starts_with("drift::") || step.starts_with("steady::"))
                .then(|| (step.to_owned(), words.next().unwrap_or_default().to_owned()))
        })
        .filter(|(_, baseline)| baseline.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect()
}

#[test]
fn gate_baselines_from_postgres_are_those_from_sqlite_for_the_same_runs() {
    let Some(server) = pg_server::start_or_skip("gate baselines, PostgreSQL against SQLite") else {
        return;
    };
    let env = drifting_env();
    let url = server.url();
    // Odd runs fail (`flip`), so they are no baseline; the newest two passing ones are 4 and 2.
    for run in 0..6 {
        let events = format!("events-{run}.jsonl");
        let sleep = match run % 2 {
            0 => format!("0.{}", run + 1),
            _ => "1.2".to_owned(),
        };
        let run_text = run.to_string();
        let vars = [("RUN", run_text.as_str()), ("SLEEP", sleep.as_str())];
        run_with(
            &env,
            &vars,
            &["--no-history", "--no-log-dir", "--json", &events],
        );
        for at in [url.as_str(), "h.sqlite"] {
            let output = history(&env, at, &["import", &events]);
            assert_eq!(output.status.code(), Some(0), "{at}: {}", stderr(&output));
        }
    }
    let mut tables = Vec::new();
    for at in [url.as_str(), "h.sqlite"] {
        let args = [
            "--no-log-dir",
            "--history",
            at,
            "--gate",
            "max <= 1000x baseline",
            "--baseline",
            "last:2",
        ];
        let output = run_with(&env, &[("RUN", "0"), ("SLEEP", "0")], &args);
        assert_eq!(output.status.code(), Some(0), "{at}: {}", stdout(&output));
        // Suites run in parallel: the table's order is theirs.
        let mut table = gate_baselines(&stdout(&output));
        table.sort();
        tables.push(table);
    }
    assert_eq!(tables[0], tables[1]);
    let sleeper = tables[0].iter().find(|(step, _)| step == "drift::sleeper");
    // The newest passing runs slept 0.5 s and 0.3 s: the baseline's max is run 4's. With the
    // failed runs (1.2 s) it would be over a second; with the oldest passing ones, 0.3 s.
    let millis = sleeper.and_then(|(_, baseline)| match baseline.strip_suffix("ms") {
        Some(ms) => ms.parse::<f64>().ok(),
        None => Some(baseline.strip_suffix('s')?.parse::<f64>().ok()? * 1000.0),
    });
    assert!(
        millis.is_some_and(|ms| (500.0..1100.0).contains(&ms)),
        "{:?}",
        tables[0]
    );
    assert_eq!(tables[0].len(), 4, "{:?}", tables[0]);
}

#[test]
fn a_gate_against_branch_main_in_postgres_ignores_slow_runs_from_another_branch() {
    let Some(server) = pg_server::start_or_skip("baselines of one branch on PostgreSQL") else {
        return;
    };
    let env = drifting_env();
    crate::baselines::make_repository(env.path());
    let url = server.url();
    let base = [
        "--no-log-dir",
        "--history",
        url.as_str(),
        "-E",
        "test(sleeper)",
        "--label",
        "staging",
    ];
    let run_at = |sleep: &str, extra: &[&str]| {
        let args = [&base[..], extra].concat();
        run_with(&env, &[("RUN", "0"), ("SLEEP", sleep)], &args)
    };
    for _ in 0..3 {
        let output = run_at("0.05", &[]);
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    }
    crate::baselines::git(env.path(), &["checkout", "--quiet", "-b", "feature"]);
    for _ in 0..3 {
        let output = run_at("0.6", &[]);
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    }
    crate::baselines::git(env.path(), &["checkout", "--quiet", "main"]);
    // The median: one run slowed by a busy machine does not move it.
    let gate = ["--gate", "p50 <= 1.5x baseline", "--baseline"];
    let output = run_at(
        "0.3",
        &[&gate[..], &["last:3,branch:main,label:staging"]].concat(),
    );
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}{}", stderr(&output));
    assert!(
        report.contains("against baseline last:3,branch:main,label:staging:"),
        "{report}"
    );
    let output = run_at("0.3", &[&gate[..], &["last:3"]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));

    let output = history(&env, &url, &["runs", "--format", "json"]);
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("JSON");
    let seen: Vec<(&str, &str)> = runs
        .iter()
        .map(|run| {
            (
                run["git_branch"].as_str().unwrap(),
                run["label"].as_str().unwrap(),
            )
        })
        .collect();
    let mut expected = vec![("main", "staging"); 2];
    expected.extend([("feature", "staging"); 3]);
    expected.extend([("main", "staging"); 3]);
    assert_eq!(seen, expected);
}

#[test]
fn a_short_password_is_masked_where_it_reads_as_a_password_and_words_holding_it_stay() {
    let Some(server) = pg_server::start_or_skip("a short password masked") else {
        return;
    };
    // Three characters: masked wherever they appear, they would hide `Q7xylophone` too.
    server.admin_sql("postgres", "ALTER ROLE smoke PASSWORD 'Q7x'");
    let url = server.url_with_password("Q7x");
    let env = TestEnv::new()
        .suite(
            "leaky",
            r#"[[step]]
name = "prints the url"
sh = 'echo "history: $SMOKE_HISTORY"; echo "conninfo: user=smoke password=${SMOKE_HISTORY#*smoke:}"'

[[step]]
name = "prints a word"
sh = 'echo "a word: Q7xylophone"'
"#,
        )
        .env("SMOKE_HISTORY", &url);
    let output = env.run(&[
        "--color",
        "never",
        "--show-output",
        "--json",
        "events.jsonl",
    ]);
    let (report, notes) = (stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(0), "{report}{notes}");
    assert!(
        report.contains("history: postgres://smoke:[redacted:SMOKE_HISTORY_PASSWORD]@127.0.0.1:"),
        "{report}"
    );
    assert!(
        report.contains("conninfo: user=smoke password=[redacted:SMOKE_HISTORY_PASSWORD]@"),
        "{report}"
    );
    assert!(report.contains("a word: Q7xylophone"), "{report}");
    assert!(
        notes.contains("SMOKE_HISTORY_PASSWORD is shorter than 6 characters: it is masked where it reads as a password"),
        "{notes}"
    );
    let listed = history(&env, &url, &["runs"]);
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    let wrong = history(&env, &server.url_with_password("Q7y"), &["runs"]);
    assert!(
        stderr(&wrong).contains("postgres://smoke:***@127.0.0.1:"),
        "{}",
        stderr(&wrong)
    );
    let mut texts = vec![report, notes, stdout(&listed), stderr(&wrong)];
    for file in files_under(env.path()) {
        texts.push(String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned());
    }
    texts.push(server.admin_sql("history", "SELECT t::text FROM steps t"));
    texts.push(server.admin_sql("history", "SELECT t::text FROM runs t"));
    for text in &texts {
        for form in [":Q7x@", "password=Q7x@", "password=Q7x "] {
            assert!(!text.contains(form), "{form} in:\n{text}");
        }
    }
}

#[test]
fn the_password_reaches_no_output_log_report_or_history_row() {
    let Some(server) = pg_server::start_or_skip("the password masked") else {
        return;
    };
    let url = server.url();
    // Steps that print the history's URL (it is in their environment) and fail with it.
    let env = TestEnv::new()
        .suite(
            "leaky",
            r#"[[step]]
name = "prints the url"
sh = 'echo "history: $SMOKE_HISTORY"'

[[step]]
name = "fails with the url"
sh = 'echo "history: $SMOKE_HISTORY"; echo "$SMOKE_HISTORY" >&2'
stdout.contains = "never printed"
"#,
        )
        .env("SMOKE_HISTORY", &url);
    let mut outputs = vec![
        env.run(&[
            "--color",
            "never",
            "--json",
            "events.jsonl",
            "--junit",
            "junit.xml",
        ]),
        env.run(&["--format", "json", "--history", &url, "--show-output"]),
        env.run(&["--format", "tap", "--history", &url]),
        env.run(&["--list", "--history", &url]),
        env.run(&["--help"]),
        env.run(&["history", "runs"]),
        env.run(&["history", "flaky", "--format", "json"]),
        env.run(&["history", "slow"]),
        env.run(&["history", "step", "fails with the url"]),
        env.run(&["report", "--html", "report.html"]),
        env.run(&["history", "import", "events.jsonl"]),
    ];
    let report = stdout(&outputs[0]);
    assert_eq!(outputs[0].status.code(), Some(1), "{report}");
    assert!(
        report.contains("[redacted:SMOKE_HISTORY_PASSWORD]"),
        "{report}"
    );
    assert!(
        stdout(&outputs[5]).lines().count() >= 3,
        "the runs were recorded: {}",
        stdout(&outputs[5])
    );
    // Errors name the server with the password hidden: a wrong one, an unknown scheme.
    let wrong = server.url_with_password("Wrong-Pass-9876");
    let output = history(&env, &wrong, &["runs"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
    assert!(
        message.contains("postgres://smoke:***@127.0.0.1:"),
        "{message}"
    );
    assert!(!message.contains("Wrong-Pass-9876"), "{message}");
    outputs.push(output);
    let output = env.run(&["--history", &wrong]);
    assert!(
        stderr(&output).contains("run history off for this run"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains("Wrong-Pass-9876"),
        "{}",
        stderr(&output)
    );
    outputs.push(output);
    outputs.push(env.run(&["--history", &url.replace("postgres://", "pgsql://")]));

    for output in &outputs {
        let text = format!("{}{}", stdout(output), stderr(output));
        assert!(
            !text.contains(PASSWORD),
            "the password in an output:\n{text}"
        );
    }
    for file in files_under(env.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(PASSWORD),
            "the password in {}",
            file.display()
        );
    }
    for table in ["runs", "suites", "steps", "checks"] {
        let rows = server.admin_sql("history", &format!("SELECT t::text FROM {table} t"));
        assert!(!rows.is_empty(), "{table} holds rows");
        assert!(!rows.contains(PASSWORD), "the password in {table}: {rows}");
    }
    let steps = server.admin_sql("history", "SELECT output_tail FROM steps");
    assert!(
        steps.contains("[redacted:SMOKE_HISTORY_PASSWORD]"),
        "{steps}"
    );
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                folders.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    assert!(files.len() > 3, "{files:?}");
    files
}

#[test]
fn an_unreachable_silent_or_newer_postgres_history_is_a_clear_error_and_runs_still_report() {
    let Some(server) = pg_server::start_or_skip("bad PostgreSQL histories") else {
        return;
    };
    let env = drifting_env();
    let vars = [("RUN", "0"), ("SLEEP", "0")];

    // Nobody listens: `history` fails, a run warns and reports.
    let nobody = format!(
        "postgres://smoke:{PASSWORD}@127.0.0.1:{}/history",
        pg_server::free_port()
    );
    let output = history(&env, &nobody, &["runs"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot connect to the history at postgres://smoke:***@"));
    let output = run_with(&env, &vars, &["--history", &nobody]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("Passed"), "{}", stdout(&output));
    assert!(stderr(&output).contains("warning: run history off for this run: cannot connect"));

    // A server that accepts and never answers: the connect timeout ends the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(120));
        drop(held);
    });
    let quiet = format!("postgres://smoke:{PASSWORD}@127.0.0.1:{port}/history?connect_timeout=2");
    let mut command = env.std_command(crate::support::smoke_runner());
    command.args(["history", "runs", "--history", &quiet]);
    let output = output_within(command, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no answer within 2 s"),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains(PASSWORD));

    // A database of a newer smoke-runner.
    let url = server.url();
    assert_eq!(
        run_with(&env, &vars, &["--history", &url]).status.code(),
        Some(0)
    );
    server.admin_sql("history", "UPDATE smoke_history_schema SET version = 99");
    let output = history(&env, &url, &["runs"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("postgres://smoke:***@") && message.contains("has schema version 99"),
        "{message}"
    );
    let output = run_with(&env, &vars, &["--history", &url]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("schema version 99"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        server.admin_sql("history", "SELECT count(*) FROM runs"),
        "1\n"
    );
}

/// Runs `command`, failing the test if it has not ended within `limit`.
fn output_within(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still waiting after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}
