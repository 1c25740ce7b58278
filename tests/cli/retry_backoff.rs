//! `retry` and health checks with back-off: the pauses between tries grow as asked, and bad
//! settings are load errors at their position.
//!
//! Only lower bounds on the pauses are checked: a sleep is never shorter than asked, however
//! busy the machine, while an upper bound would be a timed test. `benches/retry_backoff.sh`
//! measures the pauses themselves.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{TestEnv, stderr, stdout};

/// The times (seconds since the epoch) a script appended to `path`, one per line.
fn stamps(path: &Path) -> Vec<f64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| line.trim().parse().expect("a timestamp"))
        .collect()
}

/// The gaps between consecutive stamps.
fn gaps(stamps: &[f64]) -> Vec<Duration> {
    stamps
        .windows(2)
        .map(|pair| Duration::from_secs_f64(pair[1] - pair[0]))
        .collect()
}

/// A shell line that stamps the time and succeeds on the `n`th call.
fn stamp_until(n: usize) -> String {
    format!("date +%s.%N >> \"$STAMPS\"; [ \"$(wc -l < \"$STAMPS\")\" -ge {n} ]")
}

/// A scratch folder whose runs have `STAMPS` naming a file in it, with one suite; the file.
fn stamping_env(name: &str, suite: &str) -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let file = env.path().join("stamps");
    let env = env.env("STAMPS", file.to_str().unwrap()).suite(name, suite);
    (env, file)
}

#[test]
fn exponential_back_off_doubles_each_pause_from_the_interval() {
    let (env, file) = stamping_env(
        "backoff",
        &format!(
            r#"
name = "backoff"
command = ""

[[step]]
name = "Fourth time lucky"
sh = '{}'
retry = {{ attempts = 5, interval = "150ms", backoff = "exponential" }}
"#,
            stamp_until(4)
        ),
    );
    let output = env.run(&["--no-history"]);
    let report = stdout(&output);
    assert!(output.status.success(), "{report}{}", stderr(&output));
    assert!(report.contains("Flaky: 1 (passed on a retry)"), "{report}");
    let gaps = gaps(&stamps(&file));
    assert_eq!(gaps.len(), 3, "{gaps:?}");
    for (gap, least) in gaps.iter().zip([150, 300, 600]) {
        assert!(*gap >= Duration::from_millis(least), "{gaps:?}");
    }
}

#[test]
fn linear_back_off_with_jitter_waits_at_least_half_of_each_growing_pause() {
    let (env, file) = stamping_env(
        "linear",
        &format!(
            r#"
name = "linear"
command = ""

[[step]]
name = "Third time lucky"
sh = '{}'
retry = {{ attempts = 3, interval = "200ms", backoff = "linear", max_interval = "10s", jitter = true }}
"#,
            stamp_until(3)
        ),
    );
    let output = env.run(&["--no-history"]);
    assert!(output.status.success(), "{}", stdout(&output));
    let gaps = gaps(&stamps(&file));
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    // 200 ms then 400 ms, each drawn between half and all of it.
    assert!(gaps[0] >= Duration::from_millis(100), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(200), "{gaps:?}");
}

#[test]
fn a_health_check_with_back_off_pauses_from_its_interval_up() {
    let (env, file) = stamping_env(
        "health",
        &format!(
            r#"
name = "health"
command = ""

[[service]]
name = "idle"
run = ["${{FAKE}}", "sleep:600"]
healthcheck = {{ sh = '{}', interval = "150ms", retries = 100, backoff = "exponential", max_interval = "30s" }}

[[step]]
name = "after the service"
sh = "true"
"#,
            stamp_until(4)
        ),
    );
    let output = env.run(&["--no-history"]);
    assert!(output.status.success(), "{}", stdout(&output));
    let gaps = gaps(&stamps(&file));
    assert_eq!(gaps.len(), 3, "{gaps:?}");
    for (gap, least) in gaps.iter().zip([150, 300, 600]) {
        assert!(*gap >= Duration::from_millis(least), "{gaps:?}");
    }
}

#[test]
fn retry_attempts_beyond_a_thousand_are_a_load_error_at_the_value() {
    let env = TestEnv::new().suite(
        "forever",
        "name = \"forever\"\ncommand = \"\"\n\n[[step]]\nname = \"a\"\nsh = \"false\"\nretry = { attempts = 4294967295, interval = \"1s\" }\n",
    );
    let output = env.run(&["--no-history"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        "\
error: retry attempts must be from 1 to 1000, not 4294967295
 --> suites/forever.toml:7:22
  |
7 | retry = { attempts = 4294967295, interval = \"1s\" }
  |                      ^^^^^^^^^^
  = help: `attempts` counts every run, the first one included
"
    );
}
