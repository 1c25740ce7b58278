//! The engine: reports on their own thread (a slow reader never holds up a step), runs as
//! values (several in one process, each with its own cancellation).

use std::io::Read;
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::sync::mpsc::Receiver;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smoke_runner::engine::{self, RunPlan};
use smoke_runner::exec::Interrupts;
use smoke_runner::report::{Event, HumanOptions, HumanReporter, JsonReporter, JunitReporter};
use smoke_runner::scheduler::{Fanout, Subscriber};

use crate::support::{StopOnDrop, TestEnv, smoke_runner};

/// Steps in the slow-reader suite, each printing this many bytes.
const STEPS: usize = 20;
const STEP_OUTPUT: &str = "10K";
/// How long nobody reads the report.
const READER_ASLEEP: Duration = Duration::from_secs(6);
/// Every step starts this soon after the run did, long before the reader wakes. (20 steps take
/// up to 1.8 s on a 2-core machine with a load of 15; a step waiting for the reader would start
/// after `READER_ASLEEP`.)
const STARTED_WITHIN: Duration = Duration::from_secs(3);

/// A suite whose every step first writes the time it started (nanoseconds since the epoch)
/// to `started-N` in the scratch folder, then prints 10 KiB.
fn timestamped_suite(scratch: &std::path::Path) -> String {
    let mut suite = String::from("name = \"Chatty\"\ncommand = \"${FAKE}\"\n");
    for n in 0..STEPS {
        suite.push_str(&format!(
            "\n[[step]]\nname = \"Step {n}\"\nrun = \"stamp:{}/started-{n} print-bytes:{STEP_OUTPUT}\"\n",
            scratch.display()
        ));
    }
    suite
}

/// Regression: the reports were written on the suite's own thread, so a full pipe on standard
/// output held up every step until somebody read it.
#[test]
fn a_reader_that_does_not_read_never_holds_up_a_step() {
    let env = TestEnv::new();
    let suite = timestamped_suite(env.path());
    let env = env.suite("chatty", &suite);
    // The report goes into a pipe of one page that nobody reads for a while: the report (each
    // step's output tail, 20 lines) is several times what it holds.
    let (mut reader, writer) = std::io::pipe().unwrap();
    // SAFETY: F_SETPIPE_SZ on a pipe this test owns.
    let capacity = unsafe { libc::fcntl(writer.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
    assert!(
        capacity > 0,
        "F_SETPIPE_SZ: {}",
        std::io::Error::last_os_error()
    );
    let started = SystemTime::now();
    let mut runner = StopOnDrop(
        env.std_command(smoke_runner())
            .args([
                "--show-output",
                "--no-history",
                "--no-log-dir",
                "--color",
                "never",
            ])
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(READER_ASLEEP);
    let mut report = String::new();
    reader.read_to_string(&mut report).unwrap();
    let status = runner.0.wait().unwrap();
    let mut errors = String::new();
    runner
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut errors)
        .unwrap();
    assert!(status.success(), "{status}\n{errors}\n{report}");

    let run_start = started.duration_since(UNIX_EPOCH).unwrap();
    let after_start: Vec<Duration> = (0..STEPS)
        .map(|n| {
            let stamp = std::fs::read_to_string(env.path().join(format!("started-{n}"))).unwrap();
            Duration::from_nanos(stamp.trim().parse().unwrap()).saturating_sub(run_start)
        })
        .collect();
    assert!(
        after_start.iter().all(|after| *after < STARTED_WITHIN),
        "steps started this long after the run (did they wait for the report's reader?): \
         {after_start:?}"
    );
    // The whole report arrived once the reader woke: every step's output and the summary.
    for n in 0..STEPS {
        assert!(report.contains(&format!("✓ Step {n} (")), "{report}");
    }
    assert!(
        report.len() > 4 * capacity as usize,
        "{} bytes of report",
        report.len()
    );
    assert!(report.contains("Passed: 20\n"), "{report}");
}

/// A suite with a service on a free port; its first step writes the port and prints both
/// secrets, its second waits for `release` (or sleeps, in the run that is cancelled).
fn concurrent_suite(name: &str, scratch: &std::path::Path, second: &str) -> String {
    format!(
        r#"
name = "{name}"

[[service]]
name = "web"
sh = "exec python3 -m http.server ${{PORT}} --bind 127.0.0.1"
port = "auto"
healthcheck = {{ tcp = "127.0.0.1:${{PORT}}", interval = "0.2s", retries = 300 }}

[[step]]
name = "port"
sh = "echo ${{WEB_PORT}} > '{scratch}/port-{name}' && echo $SECRET_A $SECRET_B"

[[step]]
name = "second"
sh = "{second}"
timeout = "120s"

[[step]]
name = "last"
sh = "true"
"#,
        scratch = scratch.display()
    )
}

const SECRET_A: &str = "alpha-secret-0123456789";
const SECRET_B: &str = "bravo-secret-0123456789";

/// A plan for `suite_file` with its own log folder, masking only `secret`.
fn plan(suite_file: &std::path::Path, logs: &std::path::Path, secret: &str) -> RunPlan {
    let suites = smoke_runner::suite::load_paths(&[suite_file.to_owned()]).unwrap();
    let selection = smoke_runner::scheduler::Selection::all(&suites);
    let mut settings = smoke_runner::config::Settings::new();
    settings.env.set("SECRET_A", SECRET_A);
    settings.env.set("SECRET_B", SECRET_B);
    settings.masker = smoke_runner::mask::Masker::new([(secret, settings_secret(secret))]);
    settings.log_dir = Some(logs.to_owned());
    settings.temp_root = suite_file.parent().unwrap().join("tmp");
    RunPlan::new(suites, selection, settings)
}

/// The value of the secret named `name`.
fn settings_secret(name: &str) -> &'static str {
    if name == "SECRET_A" {
        SECRET_A
    } else {
        SECRET_B
    }
}

/// Waits for the event `wanted` finds, failing after a minute.
fn next_event(events: &Receiver<Event>, wanted: impl Fn(&Event) -> bool) -> Event {
    loop {
        let event = events
            .recv_timeout(Duration::from_secs(60))
            .expect("the run's events stopped before the one awaited");
        if wanted(&event) {
            return event;
        }
    }
}

fn started(name: &'static str) -> impl Fn(&Event) -> bool {
    move |event| matches!(event, Event::StepStarted { step, .. } if step.name == name)
}

/// Every text file under `dir`, concatenated.
fn logs_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            text.push_str(&logs_text(&path));
        } else {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    text
}

/// Two runs in one process at once: cancelling one stops only its own commands; the other
/// finishes green. Each has its own port, masker and log folder.
#[test]
fn two_runs_in_one_process_each_with_its_own_cancellation() {
    let env = TestEnv::new();
    let release = env.path().join("release");
    let wait = format!(
        "while [ ! -e '{}' ]; do sleep 0.05; done",
        release.display()
    );
    let suite_a = concurrent_suite("alpha", env.path(), "sleep 120");
    let suite_b = concurrent_suite("bravo", env.path(), &wait);
    let env = env.suite("alpha", &suite_a).suite("bravo", &suite_b);
    std::fs::create_dir_all(env.path().join("suites/tmp")).unwrap();
    let (logs_a, logs_b) = (env.path().join("logs-a"), env.path().join("logs-b"));
    let plan_a = plan(&env.path().join("suites/alpha.toml"), &logs_a, "SECRET_A");
    let plan_b = plan(&env.path().join("suites/bravo.toml"), &logs_b, "SECRET_B");

    let (subscriber_a, events_a) = Subscriber::channel();
    let (subscriber_b, events_b) = Subscriber::channel();
    let mut reports_a = Fanout::new();
    reports_a.add("alpha's events", subscriber_a);
    let mut reports_b = Fanout::new();
    reports_b.add("bravo's events", subscriber_b);
    let run_a = engine::start(plan_a, reports_a, Interrupts::new().unwrap()).unwrap();
    let run_b = engine::start(plan_b, reports_b, Interrupts::new().unwrap()).unwrap();

    // Both runs are in their second step at once.
    next_event(&events_a, started("second"));
    next_event(&events_b, started("second"));
    run_a.cancel();
    let a = run_a.wait();
    assert_eq!(a.cancelled, Some(libc::SIGTERM));
    assert!(
        a.summary.interrupted && !a.summary.success(),
        "{:?}",
        a.summary
    );
    assert!(!run_b.is_finished(), "cancelling alpha ended bravo too");
    std::fs::write(&release, "").unwrap();
    let b = run_b.wait();
    assert_eq!(b.cancelled, None);
    assert!(b.summary.success(), "{:?}", b.summary);
    assert_eq!(b.summary.counts.passed, 3);
    let finished_b: Vec<Event> = events_b.try_iter().collect();
    assert!(
        matches!(finished_b.last(), Some(Event::RunFinished(summary)) if summary.success()),
        "{finished_b:?}"
    );

    let port = |name: &str| std::fs::read_to_string(env.path().join(format!("port-{name}")));
    assert_ne!(port("alpha").unwrap(), port("bravo").unwrap());
    // Each run masks its own secret only, in its own log folder.
    let (text_a, text_b) = (logs_text(&logs_a), logs_text(&logs_b));
    assert!(
        text_a.contains("[redacted:SECRET_A]") && text_a.contains(SECRET_B),
        "{text_a}"
    );
    assert!(
        text_b.contains("[redacted:SECRET_B]") && text_b.contains(SECRET_A),
        "{text_b}"
    );
}

/// Regression: events named suites by their file and name, so one suite asked for twice in a
/// run (as `serve` does for `["a", "b", "a"]`) ran twice at once, but JUnit and the history
/// merged the two into one suite and the human report mixed their lines under one heading.
#[test]
fn one_suite_twice_in_a_run_is_two_suites_in_every_report() {
    let env = TestEnv::new();
    let meeting = env.path().join("meeting");
    std::fs::create_dir(&meeting).unwrap();
    // Each copy's first step waits until both copies are in it: they run at once.
    let suite = format!(
        r#"
name = "twice"

[[step]]
name = "meet"
sh = "touch '{meeting}'/$$; until [ $(ls '{meeting}' | wc -l) -ge 2 ]; do sleep 0.05; done"
timeout = "60s"

[[step]]
name = "after"
sh = "true"
"#,
        meeting = meeting.display()
    );
    let env = env.suite("twice", &suite);
    let file = env.path().join("suites/twice.toml");
    let mut suites = smoke_runner::suite::load_paths(&[file]).unwrap();
    suites.push(suites[0].clone());
    let selection = smoke_runner::scheduler::Selection::all(&suites);
    let mut settings = smoke_runner::config::Settings::new();
    settings.jobs = 2;
    settings.log_dir = None;
    let plan = RunPlan::new(suites, selection, settings);
    assert_eq!(
        plan.suites.iter().map(|s| s.id().0).collect::<Vec<_>>(),
        [0, 1]
    );

    let out = |name: &str| std::fs::File::create(env.path().join(name)).unwrap();
    let mut reports = Fanout::new();
    reports.add("JUnit", JunitReporter::new(out("junit.xml")));
    reports.add("JSON", JsonReporter::new(out("events.jsonl")));
    let options = HumanOptions {
        color: false,
        verbose: false,
    };
    reports.add("human", HumanReporter::new(out("human.txt"), options));
    let outcome = engine::start(plan, reports, Interrupts::new().unwrap())
        .unwrap()
        .wait();
    assert!(outcome.summary.success(), "{:?}", outcome.summary);
    assert_eq!(outcome.summary.counts.passed, 4);

    let read = |name: &str| std::fs::read_to_string(env.path().join(name)).unwrap();
    let junit = read("junit.xml");
    assert_eq!(
        junit
            .matches(r#"<testsuite name="twice" tests="2""#)
            .count(),
        2,
        "{junit}"
    );
    // Every suite event names its suite by id; each copy has its own start, steps and end.
    let mut per_id = std::collections::BTreeMap::<u64, Vec<String>>::new();
    for line in read("events.jsonl").lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(suite) = event.get("suite") {
            assert_eq!(suite["name"], "twice");
            let id = suite["id"].as_u64().expect("a suite id");
            let kind = event["event"].as_str().unwrap().to_owned();
            per_id.entry(id).or_default().push(kind);
        }
    }
    let expected = [
        "suite_started",
        "step_started",
        "step_finished",
        "step_started",
        "step_finished",
        "suite_finished",
    ];
    assert_eq!(per_id.keys().copied().collect::<Vec<_>>(), [0, 1]);
    assert!(
        per_id.values().all(|kinds| kinds == &expected),
        "{per_id:?}"
    );
    // The human report shows each copy whole under its own heading.
    let human = read("human.txt");
    let lines: Vec<&str> = human
        .lines()
        .filter(|line| line.starts_with("✓ ") || *line == "=== Suite twice ===")
        .collect();
    assert_eq!(lines.len(), 6, "{human}");
    for copy in lines.chunks(3) {
        assert!(copy[1].starts_with("✓ meet"), "{human}");
        assert!(copy[2].starts_with("✓ after"), "{human}");
    }
}

/// Regression: a suite's log was named after its slug alone, so one suite twice in a run (as
/// `serve` runs `["a", "b", "a"]`) and suites whose names make one slug ("a b", "a/b") wrote
/// one log at once: their parts interleaved, and a failure's place pointed at others' bytes.
#[test]
fn suites_whose_names_make_one_slug_each_write_their_own_log() {
    let env = TestEnv::new();
    let meeting = env.path().join("meeting");
    std::fs::create_dir(&meeting).unwrap();
    // Each suite's first step waits until all three are in it, then prints: they log at once.
    let suite = |name: &str| {
        format!(
            r#"
name = "{name}"

[[step]]
name = "meet"
sh = "touch '{meeting}'/$$; until [ $(ls '{meeting}' | wc -l) -ge 3 ]; do sleep 0.05; done; for i in $(seq 300); do echo \"$TEST_DIR $i\"; done"
timeout = "60s"

[[step]]
name = "fails"
sh = "echo \"$TEST_DIR failed\"; exit 1"
"#,
            meeting = meeting.display()
        )
    };
    let env = env
        .suite("space", &suite("a b"))
        .suite("slash", &suite("a/b"));
    let load = |file: &str| {
        smoke_runner::suite::load_paths(&[env.path().join("suites").join(file)]).unwrap()
    };
    let mut suites = load("space.toml");
    suites.extend(load("slash.toml"));
    suites.push(suites[1].clone());
    let selection = smoke_runner::scheduler::Selection::all(&suites);
    let mut settings = smoke_runner::config::Settings::new();
    settings.jobs = 3;
    let logs = env.path().join("logs");
    settings.log_dir = Some(logs.clone());
    settings.temp_root = env.path().join("tmp");
    std::fs::create_dir_all(&settings.temp_root).unwrap();
    let plan = RunPlan::new(suites, selection, settings);

    let (subscriber, events) = Subscriber::channel();
    let mut reports = Fanout::new();
    reports.add("events", subscriber);
    let options = HumanOptions {
        color: false,
        verbose: false,
    };
    let human_file = std::fs::File::create(env.path().join("human.txt")).unwrap();
    reports.add("human", HumanReporter::new(human_file, options));
    let outcome = engine::start(plan, reports, Interrupts::new().unwrap())
        .unwrap()
        .wait();
    assert_eq!(outcome.summary.counts.failed, 3, "{:?}", outcome.summary);

    let mut test_dirs = [None, None, None];
    let mut failures = [None, None, None];
    for event in events.try_iter() {
        match event {
            Event::SuiteStarted { suite, test_dir } => test_dirs[suite.id().0] = Some(test_dir),
            Event::StepFinished { suite, result, .. } if result.verdict.is_failure() => {
                failures[suite.id().0] = Some(result);
            }
            _ => {}
        }
    }
    // One log each, named in run order; the first suite keeps the plain name.
    let mut names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".log"))
        .collect();
    names.sort();
    assert_eq!(names, ["a_b-2.log", "a_b-3.log", "a_b.log"]);
    let human = std::fs::read_to_string(env.path().join("human.txt")).unwrap();
    for (id, file) in ["a_b.log", "a_b-2.log", "a_b-3.log"]
        .into_iter()
        .enumerate()
    {
        let own = test_dirs[id].as_ref().unwrap().display().to_string();
        let result = failures[id].as_ref().unwrap();
        let log = logs.join(file);
        assert_eq!(
            result.log_path.as_deref(),
            Some(log.as_path()),
            "suite {id}"
        );
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            text.matches("=== step 1: a_b::meet ===").count(),
            1,
            "{text}"
        );
        assert_eq!(
            text.matches("=== step 2: a_b::fails ===").count(),
            1,
            "{text}"
        );
        assert!(text.contains(&format!("\n{own} 300\n")), "{text}");
        for (other, dir) in test_dirs.iter().enumerate().filter(|(o, _)| *o != id) {
            let dir = dir.as_ref().unwrap().display().to_string();
            assert!(
                !text.contains(&dir),
                "suite {other}'s output in {file}:\n{text}"
            );
        }
        // Its failure's place reads its own part, and the human report names that place.
        let span = result.log_span.unwrap();
        let part = smoke_runner::scheduler::read_part(&log, span.offset, span.length).unwrap();
        let part = String::from_utf8(part).unwrap();
        assert!(part.starts_with("=== step 2: a_b::fails ===\n"), "{part}");
        assert!(part.contains(&format!("\n{own} failed\n")), "{part}");
        let place = format!("log:      {}:{}", log.display(), span.line);
        assert_eq!(human.matches(&place).count(), 1, "{place}\n{human}");
    }
}

/// `--repeat` runs the same plan again: each suite keeps its id, so the reports show a suite's
/// repetitions as one suite (JUnit: one testsuite with a test case per repetition).
#[test]
fn repetitions_keep_their_suites_ids() {
    let env = TestEnv::new()
        .suite("alpha", "[[step]]\nname = \"one\"\nsh = \"true\"\n")
        .suite("bravo", "[[step]]\nname = \"two\"\nsh = \"true\"\n");
    let output = env.run(&[
        "--no-history",
        "--no-log-dir",
        "--repeat",
        "3",
        "--json",
        "events.jsonl",
        "--junit",
        "junit.xml",
    ]);
    assert!(
        output.status.success(),
        "{}",
        crate::support::stderr(&output)
    );
    let events = std::fs::read_to_string(env.path().join("events.jsonl")).unwrap();
    let mut started = Vec::new();
    for line in events.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["event"] == "suite_started" {
            let suite = &event["suite"];
            started.push((suite["id"].as_u64().unwrap(), suite["name"].clone()));
        }
    }
    started.sort_by_key(|(id, _)| *id);
    assert_eq!(
        started,
        [
            (0, "alpha".into()),
            (0, "alpha".into()),
            (0, "alpha".into()),
            (1, "bravo".into()),
            (1, "bravo".into()),
            (1, "bravo".into())
        ]
    );
    let junit = std::fs::read_to_string(env.path().join("junit.xml")).unwrap();
    for name in ["alpha", "bravo"] {
        let opening = format!(r#"<testsuite name="{name}" tests="3""#);
        assert_eq!(junit.matches(&opening).count(), 1, "{junit}");
    }
}
