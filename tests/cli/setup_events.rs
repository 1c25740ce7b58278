//! Typed setup events: each `requires` entry looked at, each service started, healthy, failed
//! and stopped, with their times, in the event stream, JUnit and the human report; a secret in
//! a service's name, command or log, or in a requirement's output, masked in every one of them.

use crate::support::{TestEnv, paths_under, stderr, stdout};

const TOKEN: &str = "tok3n-value-99";

/// A suite whose requirements are met and whose service (named after the secret, which its
/// command prints) is ready at once.
const READY: &str = r#"
requires = ["sh", { sh = "echo checking ${SMOKE_TEST_TOKEN}" }]

[[service]]
name = "api-tok3n-value-99"
sh = "echo serving ${SMOKE_TEST_TOKEN}; exec sleep 30"

[[step]]
name = "runs"
sh = "true"
"#;

/// A service that prints the secret and exits before it is healthy.
const BROKEN_SERVICE: &str = r#"
[[service]]
name = "leaky"
sh = "echo the token is ${SMOKE_TEST_TOKEN}; exit 3"
healthcheck = { sh = "false", interval = "50ms", retries = 100 }

[[step]]
name = "never runs"
sh = "true"
"#;

/// A requirement check that fails printing the secret.
const UNMET: &str = r#"
requires = [{ sh = "echo no access with ${SMOKE_TEST_TOKEN}; exit 1" }]

[[step]]
name = "skipped"
sh = "true"
"#;

fn events_of(env: &TestEnv) -> Vec<serde_json::Value> {
    std::fs::read_to_string(env.path().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The setup events of `suite`, as `(event, the rest)`.
fn setup_events<'e>(
    events: &'e [serde_json::Value],
    suite: &str,
) -> Vec<(&'e str, &'e serde_json::Value)> {
    let setup = [
        "requirement_checked",
        "service_started",
        "service_healthy",
        "service_failed",
        "service_stopped",
    ];
    events
        .iter()
        .filter(|event| event["suite"]["name"] == suite)
        .filter_map(|event| {
            let kind = event["event"].as_str()?;
            setup.contains(&kind).then_some((kind, event))
        })
        .collect()
}

#[test]
fn setup_events_are_reported_with_their_times_and_secrets_masked() {
    let env = TestEnv::new()
        .suite("ready", READY)
        .suite("broken", BROKEN_SERVICE)
        .suite("unmet", UNMET)
        .env("SMOKE_TEST_TOKEN", TOKEN);
    let output = env.run(&[
        "--no-history",
        "--color",
        "never",
        "-j",
        "1",
        "--redact",
        "SMOKE_TEST_TOKEN",
        "--json",
        "events.jsonl",
        "--junit",
        "junit.xml",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let human = stdout(&output);
    let junit = std::fs::read_to_string(env.path().join("junit.xml")).unwrap();
    let json = std::fs::read_to_string(env.path().join("events.jsonl")).unwrap();
    for (what, text) in [("human", &human), ("junit", &junit), ("json", &json)] {
        assert!(
            !text.contains(TOKEN),
            "the {what} report shows the secret:\n{text}"
        );
    }
    let masked = "[redacted:SMOKE_TEST_TOKEN]";
    let events = events_of(&env);

    let ready = setup_events(&events, "ready");
    let kinds: Vec<&str> = ready.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(
        kinds,
        [
            "requirement_checked",
            "requirement_checked",
            "service_started",
            "service_healthy",
            "service_stopped"
        ]
    );
    let program = ready[0].1;
    assert_eq!(
        (&program["kind"], &program["requirement"], &program["met"]),
        (&"program".into(), &"sh".into(), &true.into())
    );
    let check = ready[1].1;
    assert_eq!(check["kind"], "check");
    assert_eq!(check["met"], true);
    assert!(check["duration_secs"].as_f64().is_some(), "{check}");
    let service = format!("api-{masked}");
    let started = ready[2].1;
    assert_eq!(started["service"], service.as_str());
    assert_eq!(
        started["command"],
        format!("echo serving {masked}; exec sleep 30").as_str()
    );
    let healthy = ready[3].1;
    assert_eq!(healthy["service"], service.as_str());
    assert!(healthy["after_secs"].as_f64().is_some(), "{healthy}");
    let stopped = ready[4].1;
    assert_eq!(stopped["status"], "killed by SIGTERM", "{stopped}");
    assert!(
        stopped["ran_for_secs"].as_f64() >= healthy["after_secs"].as_f64(),
        "{stopped} {healthy}"
    );

    let broken = setup_events(&events, "broken");
    let kinds: Vec<&str> = broken.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(kinds, ["service_started", "service_failed"]);
    let failed = broken[1].1;
    let message = failed["message"].as_str().unwrap();
    assert!(
        message.starts_with("service `leaky` exited before it was healthy (exit status 3)"),
        "{message}"
    );
    assert!(
        message.contains(&format!("the token is {masked}")),
        "{message}"
    );

    let unmet = setup_events(&events, "unmet");
    assert_eq!(unmet.len(), 1, "{unmet:?}");
    let unmet = unmet[0].1;
    assert_eq!(unmet["met"], false);
    assert_eq!(
        unmet["reason"],
        format!("no access with {masked}").as_str(),
        "{unmet}"
    );

    assert!(human.contains("\n→ Requirement met: sh\n"), "{human}");
    assert!(
        human.contains(&format!(
            "\n→ Starting service api-{masked}: echo serving {masked}; exec sleep 30\n"
        )),
        "{human}"
    );
    assert!(
        human.contains(&format!("\n→ Service api-{masked} ready in ")),
        "{human}"
    );
    assert!(human.contains("\n✗ Service leaky failed after "), "{human}");
    assert!(
        human.contains(&format!(": no access with {masked}\n")),
        "{human}"
    );
    assert!(
        junit.contains(&format!(
            r#"<property name="service api-{masked} healthy" value="after "#
        )),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<property name="service leaky failed" value="after "#),
        "{junit}"
    );
}

#[test]
fn the_history_keeps_each_suites_setup_live_and_imported() {
    let env = TestEnv::new()
        .suite("ready", READY)
        .suite("broken", BROKEN_SERVICE)
        .env("SMOKE_TEST_TOKEN", TOKEN);
    let run = env.run(&[
        "-j",
        "1",
        "--redact",
        "SMOKE_TEST_TOKEN",
        "--history",
        "live.sqlite",
        "--json",
        "events.jsonl",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let import = env.run(&[
        "history",
        "import",
        "events.jsonl",
        "--history",
        "imported.sqlite",
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));

    let setup_of = |history: &str| {
        let output = env.run(&["history", "setup", "--format", "json", "--history", history]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        assert!(!text.contains(TOKEN), "{text}");
        let entries: serde_json::Value = serde_json::from_str(&text).unwrap();
        entries
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let detail = e["detail"].as_str().and_then(|d| d.lines().next());
                (
                    e["suite"].as_str().unwrap().to_owned(),
                    e["event"].as_str().unwrap().to_owned(),
                    e["name"].as_str().unwrap().to_owned(),
                    e["ok"].as_bool().unwrap(),
                    detail.map(str::to_owned),
                )
            })
            .collect::<Vec<_>>()
    };
    let live = setup_of("live.sqlite");
    let masked = "[redacted:SMOKE_TEST_TOKEN]";
    let service = format!("api-{masked}");
    let own = |suite: &str, event: &str, name: &str, ok: bool, detail: Option<&str>| {
        (
            suite.to_owned(),
            event.to_owned(),
            name.to_owned(),
            ok,
            detail.map(str::to_owned),
        )
    };
    let expected = [
        own(
            "broken",
            "service_started",
            "leaky",
            true,
            Some(&format!("echo the token is {masked}; exit 3")),
        ),
        own(
            "broken",
            "service_failed",
            "leaky",
            false,
            Some("service `leaky` exited before it was healthy (exit status 3)"),
        ),
        own("ready", "requirement_checked", "sh", true, None),
        own(
            "ready",
            "requirement_checked",
            &format!("echo checking {masked}"),
            true,
            None,
        ),
        own(
            "ready",
            "service_started",
            &service,
            true,
            Some(&format!("echo serving {masked}; exec sleep 30")),
        ),
        own("ready", "service_healthy", &service, true, None),
        own(
            "ready",
            "service_stopped",
            &service,
            true,
            Some("killed by SIGTERM"),
        ),
    ];
    let mut sorted = live.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(sorted, expected);
    let mut imported = setup_of("imported.sqlite");
    imported.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(imported, expected, "history import keeps the same setup");

    let text = env.run(&["history", "setup", "--history", "live.sqlite"]);
    let text = stdout(&text);
    assert!(
        text.lines()
            .any(|line| line.contains(" ready ") && line.contains(" service_healthy ")),
        "{text}"
    );
}

/// Regression: a service's log files were named after its name unmasked, so a secret in the
/// name reached the kept test dir, the log folder and the failure messages that show the path.
#[test]
fn a_secret_in_a_service_name_never_names_its_log_files() {
    // Healthy once its line is written: without the handshake the step could finish and the
    // service be stopped before it printed anything.
    let suite = READY.replace(
        "exec sleep 30\"",
        "touch printed; exec sleep 30\"\nhealthcheck = { sh = \"test -e printed\", interval = \"20ms\", retries = 1500 }",
    );
    assert_ne!(suite, READY);
    let env = TestEnv::new()
        .suite("ready", &suite)
        .env("SMOKE_TEST_TOKEN", TOKEN);
    let output = env.run(&[
        "--no-history",
        "--keep-temp",
        "--log-dir",
        "logs",
        "--redact",
        "SMOKE_TEST_TOKEN",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let paths: Vec<String> = paths_under(env.path())
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    // File names are slugs: the secret's `-` become `_`.
    let slugged = TOKEN.replace('-', "_");
    let leaked: Vec<&String> = (paths.iter())
        .filter(|p| p.contains(TOKEN) || p.contains(&slugged))
        .collect();
    assert!(leaked.is_empty(), "{leaked:#?}");
    // Both logs are there, named after the masked name.
    let named = |suffix: &str| {
        paths
            .iter()
            .filter(|path| path.ends_with(suffix))
            .collect::<Vec<_>>()
    };
    let raw = named("/api_redacted_smoke_test_token_.service.log");
    let saved = named("/service-api_redacted_smoke_test_token_.log");
    assert_eq!((raw.len(), saved.len()), (1, 1), "{paths:#?}");
    assert!(raw[0].contains("/tmp/plandex-ready-"), "{raw:?}");
    let saved_text = std::fs::read_to_string(saved[0]).unwrap();
    assert!(
        saved_text.contains("serving [redacted:SMOKE_TEST_TOKEN]"),
        "{saved_text}"
    );
}
