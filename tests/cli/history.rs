//! `smoke-runner history` and `smoke-runner report --html` on real history files; the HTML
//! report opened in a real headless Chromium.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use smoke_runner::history::{
    CheckRecord, HistoryStore, Outcome, RunRecord, StepRecord, SuiteRecord,
};

use crate::support::{TestEnv, smoke_runner, stderr, stdout};

fn step(name: &str, outcome: Outcome, ms: u64) -> StepRecord {
    StepRecord {
        test_name: name.to_owned(),
        file: Some("suites/demo.toml".to_owned()),
        line: Some(4),
        outcome,
        status: "exit status 0".to_owned(),
        duration: Duration::from_millis(ms),
        attempts: 1,
        leftovers: 0,
        log_path: None,
        skip_reason: None,
        checks: Vec::new(),
        output_tail: String::new(),
    }
}

/// Six runs of `demo`: `flip` alternates, `sleeper` grows, the last run fails `flip`.
fn write_history(path: &Path) {
    let mut store = HistoryStore::open(path).expect("open history");
    for n in 0..6u64 {
        let mut flip = step(
            "demo::flip",
            if n % 2 == 0 {
                Outcome::Passed
            } else {
                Outcome::Failed
            },
            30,
        );
        if flip.outcome == Outcome::Failed {
            flip.status = "exit status 1".into();
            flip.checks.push(CheckRecord {
                kind: Some("stdout".into()),
                expected: Some("contains `ready`".into()),
                actual: Some("`starting`".into()),
                message: "stdout does not contain `ready`".into(),
            });
            flip.output_tail = "starting\n<not ready>\n".into();
            flip.log_path = Some(format!("target/smoke-logs/run-{n}/demo/02-flip.log"));
        }
        let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + n * 60);
        store
            .record(&RunRecord {
                run_id: format!("run-{n}"),
                started_at,
                finished_at: started_at + Duration::from_secs(3),
                git_commit: None,
                git_branch: None,
                label: None,
                host: Some("ci".into()),
                shard: None,
                exit_status: i32::from(n % 2 == 1),
                interrupted: false,
                suites: vec![SuiteRecord {
                    name: "demo".into(),
                    file: Some("suites/demo.toml".into()),
                    duration: Duration::from_secs(1),
                    kept_test_dir: None,
                    setup: Vec::new(),
                    steps: vec![
                        step("demo::quick", Outcome::Passed, 5),
                        flip,
                        step("demo::sleeper", Outcome::Passed, 200 * (n + 1)),
                    ],
                }],
            })
            .expect("record");
    }
}

fn env_with_history() -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let path = env.path().join("h.sqlite");
    write_history(&path);
    (env, path)
}

#[test]
fn history_flaky_and_slow_as_text_and_json() {
    let (env, path) = env_with_history();
    let history = path.to_str().unwrap();
    let flaky = env.run(&["history", "flaky", "--history", history]);
    assert_eq!(flaky.status.code(), Some(0), "{}", stderr(&flaky));
    let text = stdout(&flaky);
    let first = text.lines().nth(1).expect("a row");
    assert!(first.starts_with("demo::flip "), "{text}");
    assert!(first.contains(" 1.00 "), "{text}");

    let slow = env.run(&["history", "slow", "--format", "json", "--history", history]);
    let json: serde_json::Value = serde_json::from_slice(&slow.stdout).expect("JSON");
    assert_eq!(json[0]["test_name"], "demo::sleeper");
    assert_eq!(json[0]["trend"], "rising");
    assert_eq!(json[0]["runs"], 6);

    let step = env
        .command()
        .args(["history", "step", "sleeper", "--format", "json"])
        .env("SMOKE_HISTORY", history)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&step.stdout).expect("JSON");
    assert_eq!(json["test_name"], "demo::sleeper");
    assert_eq!(json["runs"].as_array().unwrap().len(), 6);

    let runs = env.run(&["history", "runs", "-n", "2", "--history", history]);
    let text = stdout(&runs);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().nth(1).unwrap().starts_with("run-5 "), "{text}");
}

#[test]
fn history_without_a_file_says_where_it_looked() {
    let env = TestEnv::new();
    let output = env.run(&["history", "runs"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: no history at target/smoke-history.sqlite yet: runs record it there (or pass --history PATH / set SMOKE_HISTORY)\n"
    );
}

#[test]
fn history_step_with_an_unknown_name_is_a_usage_error() {
    let (env, path) = env_with_history();
    let output = env.run(&[
        "history",
        "step",
        "nope",
        "--history",
        path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no step named `nope`"),
        "{}",
        stderr(&output)
    );
}

/// A headless Chromium: `CHROMIUM`, else `chromium` or `chromium-browser` on PATH. Without
/// one, the browser test fails when `SMOKE_REQUIRE_BROWSER` is set (as `.ci/run` does) and is
/// skipped with a note otherwise.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| [dir.join("chromium"), dir.join("chromium-browser")])
        .find(|candidate| candidate.is_file())
}

/// What Chromium did with a page: the DOM after load, the screenshot, and the URLs the page
/// itself asked for (from the network log; the browser's own background requests are left
/// out).
struct BrowserVisit {
    dom: String,
    screenshot: Vec<u8>,
    page_requests: Vec<String>,
}

fn visit(browser: &Path, page: &Path) -> BrowserVisit {
    let scratch = tempfile::tempdir().unwrap();
    let screenshot = scratch.path().join("shot.png");
    let net_log = scratch.path().join("net.json");
    // `smoke-runner exec` bounds the browser and stops every process it starts.
    let output = std::process::Command::new(smoke_runner())
        .args(["exec", "--timeout", "180", "--"])
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1600",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert_eq!(
        output.status.code(),
        Some(0),
        "chromium failed: {}",
        stderr(&output)
    );
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&net_log).expect("net log written"))
            .expect("net log is JSON");
    let start_job = &log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
    let page_requests = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| &event["type"] == start_job)
        .filter(|event| {
            // Requests made on behalf of the file:// page carry it as their site.
            event["params"]["site_for_cookies"]
                .as_str()
                .is_some_and(|site| site.contains("site=file://"))
        })
        .filter_map(|event| event["params"]["url"].as_str())
        .filter(|url| !url.starts_with("file:"))
        .map(str::to_owned)
        .collect();
    BrowserVisit {
        dom: stdout(&output),
        screenshot: std::fs::read(&screenshot).expect("screenshot written"),
        page_requests,
    }
}

#[test]
fn html_report_opens_in_headless_chromium_without_network() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("SMOKE_REQUIRE_BROWSER").is_none(),
            "SMOKE_REQUIRE_BROWSER is set but no chromium was found (set CHROMIUM or install it)"
        );
        eprintln!("note: no chromium found; the HTML report browser test did not run");
        return;
    };
    // Four real runs; `flip` fails in the last one.
    let env = drifting_suite();
    for run in 0..4 {
        run_numbered(&env, run, "0.1");
    }
    let report = env.path().join("report.html");
    let output = env.run(&["report", "--html", report.to_str().unwrap(), "--runs", "10"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let html = std::fs::read_to_string(&report).unwrap();
    for external in [
        "http:", "https:", "src=", "href=", "<script", "url(", "@import",
    ] {
        assert!(!html.contains(external), "the report holds `{external}`");
    }

    let seen = visit(&browser, &report);
    let failures = seen.dom.find("id=\"failures\"").expect("failures section");
    let steps = seen.dom.find("id=\"steps\"").expect("steps section");
    let shown = &seen.dom[failures..steps];
    assert!(
        shown.contains("drift::flip"),
        "the failing step is shown first: {shown}"
    );
    assert!(!shown.contains("drift::sleeper"), "only failures: {shown}");
    assert!(
        shown.contains("expected exit status 0, got exit status 1"),
        "with its failed check: {shown}"
    );
    assert_eq!(
        &seen.screenshot[..8],
        b"\x89PNG\r\n\x1a\n",
        "a PNG screenshot"
    );
    let width = u32::from_be_bytes(seen.screenshot[16..20].try_into().unwrap());
    assert_eq!(width, 1280, "the screenshot has the window's width");
    assert_eq!(
        seen.page_requests,
        Vec::<String>::new(),
        "the report fetched nothing"
    );

    // The same check sees a page that does fetch something, so its silence above means
    // something.
    let control = env.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><title>c</title><img src=\"http://203.0.113.7/probe.png\">",
    )
    .unwrap();
    let seen = visit(&browser, &control);
    assert_eq!(seen.page_requests, ["http://203.0.113.7/probe.png"]);
}

/// A suite whose `flip` step passes on even `RUN`s and fails on odd ones, and whose `sleeper`
/// sleeps `SLEEP` seconds.
pub(crate) fn drifting_suite() -> TestEnv {
    TestEnv::new().suite(
        "drift",
        r#"on_failure = "continue"

[[step]]
name = "quick"
sh = "true"

[[step]]
name = "flip"
sh = "test $(( ${RUN} % 2 )) -eq 0"

[[step]]
name = "sleeper"
sh = "sleep ${SLEEP}"
"#,
    )
}

fn run_numbered(env: &TestEnv, run: u32, sleep: &str) -> std::process::Output {
    env.command()
        .args(["--color", "never"])
        .env("RUN", run.to_string())
        .env("SLEEP", sleep)
        .output()
        .expect("run smoke-runner")
}

#[test]
fn five_runs_find_the_flaky_and_the_slowing_step_and_the_sixth_is_marked() {
    let env = drifting_suite();
    for run in 0..5u32 {
        let sleep = format!("0.{}", run + 1);
        let output = run_numbered(&env, run, &sleep);
        assert_eq!(
            output.status.code(),
            Some(if run % 2 == 0 { 0 } else { 1 }),
            "{}{}",
            stdout(&output),
            stderr(&output)
        );
        assert_eq!(stderr(&output), "", "no warning from the history");
    }
    assert!(env.path().join("target/smoke-history.sqlite").is_file());

    let flaky = env.run(&["history", "flaky", "--format", "json"]);
    let flaky: serde_json::Value = serde_json::from_slice(&flaky.stdout).expect("JSON");
    assert_eq!(flaky.as_array().unwrap().len(), 1, "{flaky:#}");
    assert_eq!(flaky[0]["test_name"], "drift::flip");
    assert_eq!(flaky[0]["flip_rate"], 1.0);

    let slow = env.run(&["history", "slow", "--format", "json"]);
    let slow: serde_json::Value = serde_json::from_slice(&slow.stdout).expect("JSON");
    assert_eq!(slow[0]["test_name"], "drift::sleeper", "{slow:#}");
    assert_eq!(slow[0]["trend"], "rising", "{slow:#}");

    // The sixth run: the sleeper takes far longer than its median (about 0.3 s; more on a busy
    // machine, so the hint is compared with the median the history recorded), flip fails again.
    let recorded_median = slow[0]["median_s"].as_f64().expect("a median");
    let output = run_numbered(&env, 5, "3");
    let report = stdout(&output);
    let sleeper = report
        .lines()
        .find(|line| line.starts_with("✓ sleeper"))
        .expect("sleeper line");
    let hinted_median: f64 = sleeper
        .split_once("slower than usual (median ")
        .and_then(|(_, rest)| rest.strip_suffix("s)"))
        .and_then(|median| median.parse().ok())
        .unwrap_or_else(|| panic!("no median in the sleeper's hint:\n{report}"));
    assert!(
        (0.3..0.9).contains(&recorded_median) && (hinted_median - recorded_median).abs() <= 0.0051,
        "hint {hinted_median} s, recorded median {recorded_median} s\n{report}"
    );
    let flip = report
        .lines()
        .find(|line| line.starts_with("✗ flip"))
        .expect("flip line");
    assert!(flip.contains("known flaky (2 of last 5)"), "{report}");
    let quick = report
        .lines()
        .find(|line| line.starts_with("✓ quick"))
        .unwrap();
    assert_eq!(quick, "✓ quick", "no hint for a steady step");
}

#[test]
fn two_runs_started_together_are_both_recorded() {
    let env = drifting_suite();
    let history = env.path().join("shared.sqlite");
    // Both start at once and write the same new file: creation, migration and the runs race.
    let output = env.bash(
        r#"export SLEEP=0.2
        RUN=0 "$SMOKE_RUNNER" --history shared.sqlite >a.out 2>a.err & a=$!
        RUN=2 "$SMOKE_RUNNER" --history shared.sqlite >b.out 2>b.err & b=$!
        wait "$a"; first=$?; wait "$b"; second=$?
        cat a.err b.err; echo "exit $first $second""#,
    );
    assert_eq!(stdout(&output), "exit 0 0\n", "no warning, both passed");
    let runs = env.run(&[
        "history",
        "runs",
        "--format",
        "json",
        "--history",
        history.to_str().unwrap(),
    ]);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).expect("JSON");
    assert_eq!(runs.as_array().unwrap().len(), 2, "{runs:#}");
    for run in runs.as_array().unwrap() {
        assert_eq!(run["passed"], 3, "{run:#}");
    }
}

/// Regression: a run lost its record when another held the history's write lock for more than
/// 2 s (creating the file with four fsyncs on a disk busy with other writes). It waits now.
#[test]
fn a_run_waits_for_another_writer_holding_the_history_for_seconds() {
    use std::io::{BufRead, BufReader, Read};

    let env = drifting_suite();
    let history = env.path().join("held.sqlite");
    let first = run_numbered_with_history(&env, 0, &history);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));

    // Another writer holds the write lock from before the run until well after the run has
    // printed its summary (and so is writing its record).
    let holder = rusqlite::Connection::open(&history).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut run = env
        .std_command(smoke_runner())
        .args(["--color", "never", "--history"])
        .arg(&history)
        .env("RUN", "2")
        .env("SLEEP", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut report = String::new();
    for line in BufReader::new(run.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        report.push_str(&line);
        report.push('\n');
        if line.starts_with("3 passed") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(2500));
    holder.execute_batch("COMMIT").unwrap();
    let mut warnings = String::new();
    run.stderr
        .take()
        .unwrap()
        .read_to_string(&mut warnings)
        .unwrap();
    let status = run.wait().unwrap();
    assert_eq!(warnings, "", "no warning: {report}");
    assert_eq!(status.code(), Some(0), "{report}");
    let store = HistoryStore::open_existing(&history).unwrap();
    assert_eq!(store.runs(10).unwrap().len(), 2, "both runs recorded");
}

fn run_numbered_with_history(env: &TestEnv, run: u32, history: &Path) -> std::process::Output {
    env.command()
        .args(["--color", "never", "--history"])
        .arg(history)
        .env("RUN", run.to_string())
        .env("SLEEP", "0")
        .output()
        .expect("run smoke-runner")
}

#[test]
fn a_garbage_history_file_gives_a_warning_and_a_normal_run() {
    let env = drifting_suite().file("target/smoke-history.sqlite", &"garbage\n".repeat(2000));
    let output = run_numbered(&env, 0, "0");
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let warning = stderr(&output);
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert!(
        warning.starts_with("warning: run history off for this run: target/smoke-history.sqlite is not a usable history database"),
        "{warning}"
    );
    assert!(stdout(&output).contains("3 passed"), "{}", stdout(&output));
    let kept = std::fs::read_to_string(env.path().join("target/smoke-history.sqlite")).unwrap();
    assert!(kept.starts_with("garbage\n"), "the file is left as it was");
}

#[test]
fn no_history_writes_nothing() {
    let env = drifting_suite();
    let output = env
        .command()
        .args(["--no-history"])
        .env("RUN", "0")
        .env("SLEEP", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    // Step logs and the rerun state still go under target/; no history file does.
    let target = env.path().join("target");
    let history_files: Vec<_> = std::fs::read_dir(&target)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name())
                .filter(|name| name.to_string_lossy().contains("history"))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(history_files, Vec::<std::ffi::OsString>::new());
}

/// Four suites; `echo` falls in shard 1 of 2, the others in shard 2.
fn four_suites() -> TestEnv {
    let mut env = TestEnv::new();
    for name in ["alpha", "bravo", "charlie", "echo"] {
        env = env.suite(
            name,
            "[[step]]\nname = \"first\"\nsh = \"true\"\n\n[[step]]\nname = \"second\"\nsh = \"echo done\"\n",
        );
    }
    env
}

#[test]
fn shard_event_files_import_as_one_run_with_every_step() {
    let env = four_suites();
    for shard in ["1/2", "2/2"] {
        let file = format!("shard-{}.jsonl", &shard[..1]);
        let output = env.run(&["--shard", shard, "--json", &file, "--no-history"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let first = std::fs::read_to_string(env.path().join("shard-1.jsonl")).unwrap();
    let second = std::fs::read_to_string(env.path().join("shard-2.jsonl")).unwrap();
    assert!(
        first.contains("step_finished") && second.contains("step_finished"),
        "both shards ran steps"
    );
    let run_started = |events: &str| -> serde_json::Value {
        serde_json::from_str(events.lines().next().expect("a first event")).unwrap()
    };
    assert_eq!(run_started(&first)["shard"], "1/2");
    assert_eq!(run_started(&second)["shard"], "2/2");

    let output = env.run(&["history", "import", "shard-1.jsonl", "shard-2.jsonl"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("→ Imported 8 steps from 2 file(s)"),
        "{}",
        stdout(&output)
    );
    let runs = env.run(&["history", "runs", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).expect("JSON");
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs:#}");
    assert_eq!(runs[0]["passed"], 8, "{runs:#}");
    assert_eq!(runs[0]["shard"], "1/2,2/2", "{runs:#}");
    let slow = env.run(&["history", "slow", "--format", "json"]);
    let slow: serde_json::Value = serde_json::from_slice(&slow.stdout).expect("JSON");
    let mut names: Vec<&str> = slow
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["test_name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alpha::first",
            "alpha::second",
            "bravo::first",
            "bravo::second",
            "charlie::first",
            "charlie::second",
            "echo::first",
            "echo::second"
        ]
    );

    // The same files again: nothing new.
    let again = env.run(&["history", "import", "shard-2.jsonl", "shard-1.jsonl"]);
    assert!(
        stdout(&again).starts_with("→ Already in"),
        "{}",
        stdout(&again)
    );
    let runs = env.run(&["history", "runs", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1);
}

#[test]
fn rerun_failed_takes_the_failed_suites_of_the_last_run_in_the_history() {
    let env = TestEnv::new()
        .suite("good", "[[step]]\nname = \"fine\"\nsh = \"true\"\n")
        .suite(
            "bad",
            "[[step]]\nname = \"broken\"\nsh = \"test -e marker\"\n",
        );
    let first = env.run(&["--color", "never"]);
    assert_eq!(first.status.code(), Some(1));
    // The state file is gone; the history still knows.
    std::fs::remove_dir_all(env.path().join("target/smoke-runner")).ok();
    let rerun = env.run(&["--rerun-failed", "--color", "never"]);
    let report = stdout(&rerun);
    assert!(report.contains("✗ broken"), "{report}");
    assert!(!report.contains("fine"), "only the failed suite: {report}");
}

#[test]
fn the_env_files_secret_reaches_neither_the_history_nor_the_html_report() {
    const SECRET: &str = "sk-test-4f9a8b7c6d5e4f3a2b1c";
    let env = TestEnv::new()
        .file(".env.test", &format!("OPENAI_API_KEY={SECRET}\n"))
        .suite(
            "leaky",
            r#"[[step]]
name = "prints the key and passes"
sh = "echo key=${OPENAI_API_KEY}"

[[step]]
name = "prints the key and fails"
sh = "echo key=${OPENAI_API_KEY}; echo ${OPENAI_API_KEY} >&2; exit 3"
stdout.contains = "${OPENAI_API_KEY}-never"
"#,
        );
    for _ in 0..2 {
        let output = env.run(&["--env-file", ".env.test", "--color", "never"]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    }
    let report = env.path().join("report.html");
    let output = env.run(&["report", "--html", report.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains(SECRET), "the secret is in the HTML report");
    assert!(
        html.contains("[redacted:OPENAI_API_KEY]"),
        "the masked value is: {html}"
    );
    let mut checked = 0;
    for entry in std::fs::read_dir(env.path().join("target")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("smoke-history.sqlite") && path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "the secret is in {name}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 1, "the history database was checked");
}

#[test]
fn a_run_in_a_git_checkout_records_its_commit_and_one_outside_records_none() {
    let env = TestEnv::new().suite(
        "echo",
        "name = \"echo\"\ncommand = \"echo\"\n\n[[step]]\nname = \"hi\"\nrun = \"hi\"\n",
    );
    let commit = |env: &TestEnv| -> serde_json::Value {
        assert_eq!(env.run(&[]).status.code(), Some(0));
        let runs = env.run(&["history", "runs", "--format", "json", "-n", "1"]);
        let runs: serde_json::Value = serde_json::from_str(&stdout(&runs)).unwrap();
        runs[0]["git_commit"].clone()
    };
    let git = |args: &[&str]| crate::baselines::git(env.path(), args);
    // The scratch folder is in the temp folder, outside any checkout (unless TMPDIR is in one).
    let outside = env
        .std_command("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .output()
        .is_ok_and(|output| !output.status.success());
    if outside {
        assert_eq!(commit(&env), serde_json::Value::Null);
    }
    git(&["init", "--quiet"]);
    git(&["add", "suites"]);
    git(&["commit", "--quiet", "-m", "suites"]);
    let head = git(&["rev-parse", "HEAD"]);
    assert_eq!(commit(&env), serde_json::Value::String(head));
}

/// Eight runs of 1,000 steps: ten suites of 100, one of them (`needs_docker`) skipped whole
/// for one reason, and in the last run two failures.
fn write_big_history(path: &Path) {
    let mut store = HistoryStore::open(path).expect("open history");
    for n in 0..8u64 {
        let suites = (0..10)
            .map(|s| {
                let name = if s == 3 {
                    "needs_docker".to_owned()
                } else {
                    format!("suite_{s}")
                };
                let steps = (0..100)
                    .map(|i| {
                        let test_name = format!("{name}::step_{i:03}");
                        let mut record = step(&test_name, Outcome::Passed, 5 + (i * 7 + s) % 90);
                        if s == 3 {
                            record.outcome = Outcome::Skipped;
                            record.skip_reason = Some("program `docker` not found".into());
                        } else if n == 7 && s == 5 && i < 2 {
                            record.outcome = Outcome::Failed;
                            record.status = "exit status 1".into();
                        }
                        record
                    })
                    .collect();
                SuiteRecord {
                    name,
                    file: Some(format!("suites/suite_{s}.toml")),
                    duration: Duration::from_secs(2),
                    kept_test_dir: None,
                    setup: Vec::new(),
                    steps,
                }
            })
            .collect();
        let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + n * 600);
        store
            .record(&RunRecord {
                run_id: format!("big-{n}"),
                started_at,
                finished_at: started_at + Duration::from_secs(20 + n),
                git_commit: None,
                git_branch: None,
                label: None,
                host: None,
                shard: None,
                exit_status: i32::from(n == 7),
                interrupted: false,
                suites,
            })
            .expect("record");
    }
}

#[test]
fn html_report_of_a_thousand_steps_opens_with_the_run_trend_and_folds_the_rest() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("SMOKE_REQUIRE_BROWSER").is_none(),
            "SMOKE_REQUIRE_BROWSER is set but no chromium was found (set CHROMIUM or install it)"
        );
        eprintln!("note: no chromium found; the HTML report browser test did not run");
        return;
    };
    let env = TestEnv::new();
    let history = env.path().join("big.sqlite");
    write_big_history(&history);
    let report = env.path().join("big.html");
    let output = env.run(&[
        "report",
        "--html",
        report.to_str().unwrap(),
        "--history",
        history.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let seen = visit(&browser, &report);
    let dom = &seen.dom;
    // The run-level trend comes first: before the failures and before any table.
    let trend = dom.find("id=\"trend\"").expect("the trend section");
    let chart = dom.find("<svg class=\"trend\"").expect("the trend chart");
    let failures = dom.find("id=\"failures\"").expect("failures section");
    let first_table = dom.find("<table").expect("a table");
    assert!(trend < chart && chart < first_table && chart < failures);
    for n in 0..8 {
        let passed = if n == 7 { 898 } else { 900 };
        let failed = if n == 7 { 2 } else { 0 };
        let title = format!(
            "<title>big-{n}: {passed} passed, {failed} failed (0 timed out), 100 skipped, "
        );
        assert!(dom.contains(&title), "run {n}'s bar: {title}");
    }
    // The suite skipped for one reason is one line, not 100 rows.
    assert_eq!(dom.matches("<tr class=\"group\">").count(), 1);
    assert!(dom.contains(
        "100 steps of needs_docker (from needs_docker::step_000)</td><td class=\"skipped\" \
         colspan=\"4\">skipped (program `docker` not found)</td>"
    ));
    // The long parts are folded: every step's table, the steps that always passed in the
    // grid, the durations past the 25 slowest (the only ones with a chart).
    assert!(
        dom.contains("<details><summary>901 row(s)</summary>"),
        "closed, 1,000 steps in 901 rows"
    );
    assert!(dom.contains("<details><summary>898 step(s) passed in every run shown</summary>"));
    assert!(dom.contains("<details><summary>875 quicker step(s)</summary>"));
    assert_eq!(dom.matches("aria-label=\"durations of ").count(), 25);
    assert_eq!(&seen.screenshot[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(seen.page_requests, Vec::<String>::new());
}
