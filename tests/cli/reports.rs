//! Reports from one run: JUnit, JSON events, step logs, GitHub annotations and step summary,
//! secret masking across all of them, skips that fail the run, shards.

use std::path::Path;

use crate::support::{TestEnv, paths_under, stderr, stdout};

const KEY: &str = "sk-test-0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A suite that uses and prints the key: in `run`, on stdout and stderr, split across two
/// writes, in a passing step and in a failing one.
fn leaky_env() -> TestEnv {
    let (head, tail) = KEY.split_at(9);
    let suite = format!(
        r#"
name = "Leaky"
command = "${{FAKE}}"

[[step]]
name = "Prints the key"
run = "out:${{OPENAI_API_KEY}} err:${{OPENAI_API_KEY}}"

[[step]]
name = "Prints the key in two writes"
run = "out-raw:{} sleep:0.1 out-raw:{}"

[[step]]
name = "Fails with the key"
run = "out:key=${{OPENAI_API_KEY}} err:${{OPENAI_API_KEY}} exit:1"
stdout.contains = "${{OPENAI_API_KEY}}-missing"

[[step]]
name = "Never runs"
run = "out:later"
"#,
        hex(head.as_bytes()),
        hex(format!("{tail}\n").as_bytes()),
    );
    let env = TestEnv::new()
        .suite("leaky", &suite)
        .file("keys.env", &format!("OPENAI_API_KEY={KEY}\n"));
    let keys = env.path().join("keys.env");
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    env
}

/// Whether `path` is a step log (not the `.run-sizes` file of the log folder).
fn is_log(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "log")
}

/// Every file under `dir`, with its content.
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let content = std::fs::read(&path).unwrap();
                found.push((path, content));
            }
        }
    }
    found.sort();
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn one_failing_run_writes_every_report_with_the_key_masked_everywhere() {
    let env = leaky_env();
    let summary_file = env.path().join("step-summary.md");
    let output = env
        .command()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .args([
            "--env-file",
            "keys.env",
            "--junit",
            "out/junit.xml",
            "--json",
            "out/events.jsonl",
            "--log-dir",
            "logs",
        ])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}{}", stderr(&output));

    // No byte of any output holds the key; the masked name shows where it was.
    let junit = std::fs::read(env.path().join("out/junit.xml")).unwrap();
    let json = std::fs::read(env.path().join("out/events.jsonl")).unwrap();
    let step_summary = std::fs::read(&summary_file).unwrap();
    // Every file, the retention's `.run-sizes` beside the run folders included.
    let logs = files_under(&env.path().join("logs"));
    let step_logs = logs.iter().filter(|(path, _)| is_log(path)).count();
    assert_eq!(step_logs, 1, "one log for the suite: {logs:?}");
    let mut outputs: Vec<(String, &[u8])> = vec![
        ("stdout".into(), &output.stdout),
        ("stderr".into(), &output.stderr),
        ("junit".into(), &junit),
        ("json".into(), &json),
        ("step summary".into(), &step_summary),
    ];
    for (path, content) in &logs {
        outputs.push((path.display().to_string(), content));
    }
    for (name, content) in &outputs {
        assert!(
            !contains(content, KEY) && !contains(content, &KEY[..12]),
            "{name} holds the key:\n{}",
            String::from_utf8_lossy(content)
        );
    }
    for (name, content) in [
        ("stdout", &output.stdout),
        ("junit", &junit),
        ("json", &json),
        ("step summary", &step_summary),
    ] {
        assert!(
            contains(content, "[redacted:OPENAI_API_KEY]"),
            "{name}:\n{}",
            String::from_utf8_lossy(content)
        );
    }
    for (path, content) in logs.iter().filter(|(path, _)| is_log(path)) {
        assert!(
            contains(content, "[redacted:OPENAI_API_KEY]"),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(content)
        );
    }
    assert!(
        report.contains("→ Running (timeout 300s): ")
            && report.contains(" out:[redacted:OPENAI_API_KEY] err:[redacted:OPENAI_API_KEY]\n"),
        "{report}"
    );

    // The summary's counts, everywhere.
    assert!(
        report.contains("\nPassed: 2\nFailed: 1\nTimeouts: 0\nSkipped: 1\n"),
        "{report}"
    );
    let junit_report =
        quick_junit::Report::deserialize_from_str(std::str::from_utf8(&junit).unwrap())
            .expect("the JUnit report parses as XML");
    assert_eq!(
        (
            junit_report.tests,
            junit_report.failures,
            junit_report.errors
        ),
        (4, 1, 0)
    );
    let suite = &junit_report.test_suites[0];
    assert_eq!(suite.name.as_str(), "Leaky");
    assert_eq!((suite.tests, suite.failures, suite.skipped), (4, 1, 1));

    let events: Vec<serde_json::Value> = std::str::from_utf8(&json)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert!(events.iter().all(|e| e["schema"] == 1), "{events:?}");
    assert_eq!(events[0]["event"], "run_started");
    let last = events.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["success"], false);
    assert_eq!(
        last["counts"],
        serde_json::json!({ "total": 4, "passed": 2, "degraded": 0, "flaky": 0, "failed": 1, "timed_out": 0, "skipped": 1 })
    );
    let failed = events
        .iter()
        .find(|e| e["event"] == "step_finished" && e["outcome"] == "failed")
        .expect("a failed step");
    assert_eq!(failed["step"]["line"], 13, "{failed}");
    assert_eq!(
        failed["status"],
        serde_json::json!({ "kind": "exited", "code": 1 })
    );
    assert_eq!(failed["failures"][0]["check"], "status");
    assert_eq!(failed["failures"][1]["check"], "contains");
    assert_eq!(
        failed["failures"][1]["expected"],
        "[redacted:OPENAI_API_KEY]-missing"
    );
    let skipped = events
        .iter()
        .find(|e| e["event"] == "step_finished" && e["outcome"] == "skipped")
        .expect("a skipped step");
    assert_eq!(skipped["skip"]["kind"], "earlier_failure");

    // The annotation points at the failing step's line in the suite file.
    let annotation = report
        .lines()
        .find(|line| line.starts_with("::error "))
        .unwrap_or_else(|| panic!("no annotation:\n{report}"));
    assert!(
        annotation.starts_with(
            "::error file=suites/leaky.toml,line=13,title=leaky%3A%3Afails_with_the_key failed::"
        ),
        "{annotation}"
    );
    let summary_text = String::from_utf8_lossy(&step_summary);
    assert!(
        summary_text.contains(
            "`smoke-runner --suites suites/leaky.toml --exact leaky::fails_with_the_key`"
        ),
        "{summary_text}"
    );
}

#[test]
fn redact_masks_a_named_variable_and_short_values_are_listed() {
    let env = TestEnv::new()
        .suite(
            "echo",
            "command = \"${FAKE}\"\n[[step]]\nname = \"Shows it\"\nrun = \"out:${MY_VALUE}/${PIN}\"\n",
        )
        .env("MY_VALUE", "not-a-secret-by-name")
        .env("PIN", "1234");
    let output = env.run(&["--redact", "MY_VALUE", "--redact", "PIN", "--show-output"]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(!report.contains("not-a-secret-by-name"), "{report}");
    assert!(report.contains("| [redacted:MY_VALUE]/1234\n"), "{report}");
    assert_eq!(
        stderr(&output),
        "note: not masking PIN: values shorter than 6 characters would hide too much of the report\n"
    );
}

#[test]
fn fail_on_skip_fails_a_run_whose_program_is_missing_and_names_it() {
    let env = TestEnv::new().suite(
        "needs",
        "requires = [\"no-such-program-here\"]\n[[step]]\nname = \"a\"\nsh = \"true\"\n",
    );
    let output = env.run(&[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "a skip alone is not a failure"
    );
    assert!(
        stdout(&output).contains(
            "Skipped: 1\n  suite needs: skipped: requires `no-such-program-here`, not found on PATH\n"
        ),
        "{}",
        stdout(&output)
    );
    for run in [
        env.run(&["--fail-on-skip"]),
        env.command()
            .env("SMOKE_FAIL_ON_SKIP", "1")
            .output()
            .unwrap(),
    ] {
        let report = stdout(&run);
        assert_eq!(run.status.code(), Some(1), "{report}");
        assert!(
            report.contains(
                "Failed by --fail-on-skip: suite `needs` was skipped: it requires `no-such-program-here`, not found on PATH\n"
            ),
            "{report}"
        );
    }
}

#[test]
fn shards_together_run_every_suite_exactly_once() {
    let mut env = TestEnv::new();
    for n in 0..12 {
        env = env.suite(
            &format!("s{n}"),
            &format!("name = \"Suite {n}\"\n[[step]]\nname = \"a\"\nsh = \"true\"\n"),
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let output = env.run(&["--list", "--shard", shard]);
        assert_eq!(output.status.code(), Some(0));
        seen.extend(stdout(&output).lines().map(str::to_owned));
    }
    seen.sort();
    let mut all: Vec<String> = (0..12).map(|n| format!("suite_{n}::a: test")).collect();
    all.sort();
    assert_eq!(seen, all);
    let output = env.run(&["--shard", "0/3"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not K/N"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn count_partitions_together_run_every_suite_exactly_once_in_even_parts() {
    let mut env = TestEnv::new();
    // Names whose file order differs from their name order: the deal follows the names.
    for n in 0..10 {
        env = env.suite(
            &format!("file{}", 9 - n),
            &format!("name = \"Suite {n:02}\"\n[[step]]\nname = \"a\"\nsh = \"true\"\n[[step]]\nname = \"b\"\nsh = \"true\"\n"),
        );
    }
    let list = |partition: &str, extra: &[&str]| -> Vec<String> {
        let output = env.run(&[&["--list", "--partition", partition], extra].concat());
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output).lines().map(str::to_owned).collect()
    };
    let parts: Vec<Vec<String>> = ["count:1/3", "count:2/3", "count:3/3"]
        .iter()
        .map(|partition| {
            let mut listed = list(partition, &[]);
            listed.sort();
            listed
        })
        .collect();
    // Suites dealt out in turn by name: 00, 03, 06, 09 to the first; both steps of each.
    assert_eq!(
        parts[0],
        [
            "suite_00::a: test",
            "suite_00::b: test",
            "suite_03::a: test",
            "suite_03::b: test",
            "suite_06::a: test",
            "suite_06::b: test",
            "suite_09::a: test",
            "suite_09::b: test",
        ]
    );
    assert_eq!(parts[1].len(), 6, "{:?}", parts[1]);
    assert_eq!(parts[2].len(), 6, "{:?}", parts[2]);
    let mut seen: Vec<String> = parts.concat();
    seen.sort();
    let mut all: Vec<String> = (0..10)
        .flat_map(|n| {
            [
                format!("suite_{n:02}::a: test"),
                format!("suite_{n:02}::b: test"),
            ]
        })
        .collect();
    all.sort();
    assert_eq!(seen, all, "every suite in exactly one partition");

    // Suites the filters leave out are not dealt: the parts stay even.
    let even: Vec<Vec<String>> = ["count:1/2", "count:2/2"]
        .iter()
        .map(|partition| {
            let filters = ["suite_00::a", "suite_02::a", "suite_04::a", "suite_06::a"];
            list(partition, &filters)
        })
        .collect();
    assert_eq!(
        even,
        [
            ["suite_04::a: test", "suite_00::a: test"],
            ["suite_06::a: test", "suite_02::a: test"]
        ],
        "in file order, as --list prints them"
    );

    // hash:K/N is --shard K/N.
    for k in ["1/3", "2/3", "3/3"] {
        assert_eq!(
            list(&format!("hash:{k}"), &[]),
            stdout(&env.run(&["--list", "--shard", k]))
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        );
    }

    // It runs, too: the first part, and the run says so in its counts.
    let output = env.run(&["--partition", "count:2/3", "--format", "terse"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains(
            "test result: ok. 6 passed; 0 failed; 0 ignored; 0 measured; 14 filtered out;"
        ),
        "{}",
        stdout(&output)
    );
}

#[test]
fn partition_errors_say_what_is_expected() {
    let env = TestEnv::new().suite("s", "[[step]]\nname = \"a\"\nsh = \"true\"\n");
    for (args, message) in [
        (
            &["--partition", "count:0/3"][..],
            "`count:0/3` is not count:K/N or hash:K/N",
        ),
        (
            &["--partition", "count:4/3"],
            "is not count:K/N or hash:K/N",
        ),
        (
            &["--partition", "2/3"],
            "`2/3` is not count:K/N or hash:K/N",
        ),
        (
            &["--partition", "slice:1/2"],
            "is not count:K/N or hash:K/N",
        ),
        (
            &["--partition", "count:1/2", "--shard", "1/2"],
            "cannot be used with",
        ),
    ] {
        let output = env.run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn rerun_failed_runs_only_the_suites_that_failed() {
    let env = TestEnv::new().suite("good", "[[step]]\nname = \"a\"\nsh = \"true\"\n");
    let fixed = env.path().join("fixed");
    let env = env.suite(
        "bad",
        &format!(
            "[[step]]\nname = \"b\"\nsh = \"test -e {}\"\n",
            fixed.display()
        ),
    );
    let output = env.run(&["--rerun-failed"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("nothing to re-run"),
        "{}",
        stderr(&output)
    );
    assert_eq!(env.run(&[]).status.code(), Some(1));
    std::fs::write(&fixed, "").unwrap();
    let output = env.run(&["--rerun-failed", "--format", "pretty", "--jobs", "1"]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("running 1 test\ntest bad::b ... ok\n"),
        "{report}"
    );
}

#[test]
fn flaky_steps_are_counted_and_fail_the_run_with_flaky_fails() {
    let env = TestEnv::new().suite(
        "flaky",
        "[[step]]\nname = \"Second time lucky\"\nsh = \"if [ -e once ]; then exit 0; fi; touch once; exit 1\"\nretry = { attempts = 2, interval = \"10ms\" }\n",
    );
    let summary_file = env.path().join("step-summary.md");
    let output = env
        .command()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .output()
        .expect("run smoke-runner");
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("\nFlaky: 1 (passed on a retry)\n"),
        "{report}"
    );
    assert!(
        report.contains("0 passed, 1 flaky, 0 failed, 0 skipped"),
        "{report}"
    );
    // The step summary's heading counts as the human report does: a flaky step is not passed.
    let summary = std::fs::read_to_string(&summary_file).expect("the step summary");
    assert!(
        summary.contains("smoke-runner: 0 passed, 1 flaky, 0 failed, 0 skipped"),
        "{summary}"
    );
    let output = env.run(&["--flaky-fails"]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("Failed by --flaky-fails: 1 step(s) passed only on a retry\n"),
        "{report}"
    );
}

#[test]
fn a_suite_can_name_variables_to_redact() {
    let env = TestEnv::new()
        .suite(
            "masked",
            "command = \"${FAKE}\"\nredact = [\"DEPLOY_URL\"]\n[[step]]\nname = \"Shows it\"\nrun = \"out:${DEPLOY_URL} exit:1\"\n",
        )
        .env("DEPLOY_URL", "https://user:pw@example.test");
    let output = env.run(&[]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(!report.contains("user:pw"), "{report}");
    assert!(
        report.contains("      | [redacted:DEPLOY_URL]\n"),
        "{report}"
    );
}

/// Regression: a suite's log (and test dir) was named after its name unmasked, so a secret in
/// the name reached the log folder and every report that shows the path.
#[test]
fn a_secret_in_a_suite_name_never_names_its_files() {
    const TOKEN: &str = "tok3n-value-99";
    const NAME: &str = "deploy tok3n-value-99";
    let env = TestEnv::new()
        .suite(
            "named",
            &format!(
                "name = \"{NAME}\"\ncommand = \"${{FAKE}}\"\n[[step]]\nname = \"fails\"\nrun = \"out:first-line out:${{SMOKE_TEST_TOKEN}} print-bytes:64K out:last-line exit:1\"\n"
            ),
        )
        .env("SMOKE_TEST_TOKEN", TOKEN);
    let output = env.run(&[
        "--no-history",
        "--redact",
        "SMOKE_TEST_TOKEN",
        "--json",
        "out/events.jsonl",
        "--junit",
        "out/junit.xml",
        "--log-dir",
        "logs",
    ]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}{}", stderr(&output));

    // File names are slugs: the secret's `-` become `_`.
    let slugged = TOKEN.replace('-', "_");
    let leaks = |text: &str| text.contains(TOKEN) || text.contains(&slugged);
    let leaked: Vec<_> = (paths_under(env.path()).into_iter())
        .filter(|path| leaks(&path.display().to_string()))
        .collect();
    assert!(leaked.is_empty(), "{leaked:#?}");
    // The suite's name and its test names are shown as the suite file writes them; nothing
    // else may hold the secret (the paths of its log and test dir above all).
    let read = |file: &str| std::fs::read_to_string(env.path().join(file)).unwrap();
    for (name, text) in [
        ("stdout", report.clone()),
        ("stderr", stderr(&output)),
        ("json", read("out/events.jsonl")),
        ("junit", read("out/junit.xml")),
    ] {
        let rest = text
            .replace(NAME, "<name>")
            .replace(&format!("deploy_{slugged}::"), "<suite>::");
        assert!(!leaks(&rest), "{name} holds the secret:\n{rest}");
    }

    // The report names the log, which holds the step's whole output, masked.
    let place = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("log:"))
        .unwrap_or_else(|| panic!("no log line: {report}"))
        .trim();
    let (file, _) = place.rsplit_once(':').unwrap();
    assert!(
        file.ends_with("/deploy_redacted_smoke_test_token_.log"),
        "{place}"
    );
    let log = std::fs::read(env.path().join(file)).unwrap();
    assert!(log.len() > 64 * 1024, "{}", log.len());
    for line in [
        "first-line\n",
        "[redacted:SMOKE_TEST_TOKEN]\n",
        "last-line\n",
    ] {
        assert!(contains(&log, line), "{line} not in {file}");
    }
    let events = read("out/events.jsonl");
    assert!(events.contains(&format!("\"log\":\"{file}\"")), "{events}");
}

#[test]
fn step_logs_keep_every_attempt_in_order_and_long_output_whole() {
    let env = TestEnv::new().suite(
        "logged",
        r#"
command = "${FAKE}"

[[step]]
name = "Third time lucky"
sh = "n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count; echo attempt-$n; [ $n -ge 3 ]"
retry = { attempts = 3, interval = "10ms" }

[[step]]
name = "Long output"
run = "print-bytes:3M marker:END-OF-LONG"
stdout.contains = "END-OF-LONG"

[[step]]
name = "After the long one"
run = "out:short exit:1"
"#,
    );
    let output = env.run(&["--log-dir", "logs"]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let mut logs = files_under(&env.path().join("logs"));
    logs.retain(|(path, _)| is_log(path));
    assert_eq!(logs.len(), 1, "one log for the suite: {logs:?}");
    let (path, log) = &logs[0];
    assert_eq!(path.file_name().unwrap(), "logged.log");
    let text = String::from_utf8_lossy(log);
    let positions: Vec<usize> = ["=== step 1: logged::third_time_lucky ===", "attempt-1"]
        .iter()
        .chain(&[
            "--- attempt 2 ---",
            "attempt-2",
            "--- attempt 3 ---",
            "attempt-3",
        ])
        .chain(&["=== step 2: logged::long_output ===", "END-OF-LONG\n"])
        .chain(&["=== step 3: logged::after_the_long_one ===", "short\n"])
        .map(|part| {
            text.find(part)
                .unwrap_or_else(|| panic!("{part} not in the log"))
        })
        .collect();
    assert!(positions.is_sorted(), "{positions:?}");
    assert!(log.len() > 3 * 1024 * 1024, "{}", log.len());

    // The failed step's report names the line of its heading, after the 3 MiB of output.
    let place = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("log:"))
        .unwrap_or_else(|| panic!("no log line: {report}"))
        .trim();
    let (file, line) = place.rsplit_once(':').unwrap();
    assert_eq!(env.path().join(file), *path, "{place}");
    let line: usize = line.parse().unwrap();
    assert_eq!(
        text.lines().nth(line - 1),
        Some("=== step 3: logged::after_the_long_one ==="),
        "{place}"
    );

    // `smoke-runner log` prints one step's part: every attempt, nothing of the others.
    let shown = env
        .command()
        .args(["log", "--log-dir", "logs", "last", "third_time"])
        .output()
        .unwrap();
    let shown_text = stdout(&shown);
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    assert!(shown_text.starts_with("=== step 1: logged::third_time_lucky ===\n"));
    assert!(shown_text.contains("attempt-1\n") && shown_text.contains("attempt-3\n"));
    assert!(!shown_text.contains("=== step 2"), "{shown_text}");
    let long = env
        .command()
        .args(["log", "--log-dir", "logs", "last", "logged::long_output"])
        .output()
        .unwrap();
    assert!(long.stdout.len() > 3 * 1024 * 1024);
    assert!(contains(&long.stdout, "END-OF-LONG\n"));
    assert!(!contains(&long.stdout, "=== step 3"));
}

#[test]
fn the_log_command_says_what_it_cannot_find() {
    let env = TestEnv::new().suite(
        "logged",
        "command = \"${FAKE}\"\n[[step]]\nname = \"One\"\nrun = \"out:1\"\n[[step]]\nname = \"Other\"\nrun = \"out:2\"\n",
    );
    let output = env.run(&["--log-dir", "logs"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let log = |args: &[&str]| {
        let output = env
            .command()
            .args(["log", "--log-dir", "logs"])
            .args(args)
            .output()
            .unwrap();
        (output.status.code(), stderr(&output))
    };
    let (code, said) = log(&["last", "o"]);
    assert_eq!(code, Some(1));
    assert!(
        said.contains("`o` matches 2 steps: logged::one, logged::other"),
        "{said}"
    );
    let (code, said) = log(&["last", "nothing"]);
    assert_eq!(code, Some(1));
    assert!(said.contains("no step of run "), "{said}");
    let (code, said) = log(&["20200101-000000-1", "one"]);
    assert_eq!(code, Some(2));
    assert!(
        said.contains("no step logs for run 20200101-000000-1"),
        "{said}"
    );
    let (code, said) = log(&["../etc", "one"]);
    assert_eq!(code, Some(2));
    assert!(said.contains("`../etc` is not a run id"), "{said}");
}

#[test]
fn step_logs_that_cannot_be_written_are_named_in_a_warning() {
    let env = TestEnv::new()
        .suite(
            "unlogged",
            "command = \"${FAKE}\"\n[[step]]\nname = \"Says hi\"\nrun = \"out:hi\"\n",
        )
        .file("not-a-folder", "a file where the log folder should be\n");
    let output = env.run(&["--log-dir", "not-a-folder"]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("warning: cannot write the step logs in not-a-folder/"),
        "{report}"
    );
}

#[test]
fn fail_on_skip_masks_a_secret_in_the_requirement_it_names() {
    // A `requires` check whose last line (the reason the suite is skipped) holds the key.
    let env = TestEnv::new()
        .suite(
            "needs",
            r#"
name = "needs"
command = ""
requires = [{ sh = "echo \"auth failed for $OPENAI_API_KEY\"; exit 1" }]

[[step]]
name = "ran"
sh = "true"
"#,
        )
        .file("keys.env", &format!("OPENAI_API_KEY={KEY}\n"));
    let keys = env.path().join("keys.env");
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    for format in ["human", "json"] {
        let output = env.run(&[
            "--env-file",
            "keys.env",
            "--fail-on-skip",
            "--format",
            format,
            "--json",
            "out/events.jsonl",
            "--junit",
            "out/junit.xml",
        ]);
        assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
        let json = std::fs::read(env.path().join("out/events.jsonl")).unwrap();
        let junit = std::fs::read(env.path().join("out/junit.xml")).unwrap();
        for (name, content) in [
            ("stdout", &output.stdout),
            ("stderr", &output.stderr),
            ("json", &json),
            ("junit", &junit),
        ] {
            assert!(
                !contains(content, KEY),
                "{format}: {name} holds the key:\n{}",
                String::from_utf8_lossy(content)
            );
        }
        assert!(
            contains(&output.stdout, "auth failed for [redacted:OPENAI_API_KEY]"),
            "{format}:\n{}",
            stdout(&output)
        );
    }
}
