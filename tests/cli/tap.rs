//! `--format tap` and `--tap FILE`: the whole TAP text, and Perl's own TAP harness (`prove`,
//! `TAP::Parser`) reading it and agreeing on the counts.

use std::process::Command;

use crate::support::{TestEnv, normalize_report, stderr, stdout};

const KEY: &str = "sk-tap-0123456789abcdef";

/// Every kind of test point: a pass, a failure with two failed checks and a secret in its
/// output, a flaky step, an ignored step, a timeout, a setup step (not a test point).
fn tap_env() -> TestEnv {
    let env = TestEnv::new()
        .suite(
            "mixed",
            r#"
name = "Mixed"
command = "${FAKE}"

[[step]]
name = "Passes"
run = "out:hello"

[[step]]
name = "Fails # with a hash"
run = "out:key=${TAP_KEY} out-raw:1b5b306d0a err:oops exit:1"
stdout.contains = "goodbye"
env = { GREETING = "hello" }

[[step]]
name = "Second time lucky"
sh = "if [ -e once ]; then exit 0; fi; touch once; exit 1"
retry = { attempts = 2, interval = "10ms" }
always = true

[[step]]
name = "Not today"
run = "out:never"
ignore = "waiting for a fix"

[[step]]
name = "Too slow"
run = "sleep:30"
timeout = "300ms"
always = true
"#,
        )
        .file("keys.env", &format!("TAP_KEY={KEY}\n"));
    let keys = env.path().join("keys.env");
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    env
}

/// The TAP text with durations, paths and the log folder fixed.
fn normalize_tap(text: &str, env: &TestEnv) -> String {
    normalize_report(text, env)
}

#[test]
fn format_tap_writes_tap_14_with_yaml_diagnostics_and_a_trailing_plan() {
    let env = tap_env();
    let output = env.run(&["--env-file", "keys.env", "--format", "tap", "--no-history"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let tap = normalize_tap(&stdout(&output), &env);
    let expected = r#"TAP version 14
ok 1 - mixed::passes
not ok 2 - mixed::fails_with_a_hash
  ---
  message: "expected exit status 0, got exit status 1"
  severity: fail
  at:
    file: "suites/mixed.toml"
    line: 9
  command: "$FAKE 'out:key=[redacted:TAP_KEY]' out-raw:1b5b306d0a err:oops exit:1"
  status: "exit status 1"
  duration: "[TIME]"
  failures:
    - check: status
      subject: "status"
      message: "expected exit status 0, got exit status 1"
      expected: "exit status 0"
      actual: "exit status 1"
    - check: contains
      subject: "stdout"
      message: "stdout does not contain \"goodbye\""
      expected: "goodbye"
  env: "GREETING"
  test_dir: "[SCRATCH]/tmp/plandex-mixed-[PID]-[RAND]"
  log: "target/smoke-logs/[RUN]/mixed.log:6"
  output:
    - "key=[redacted:TAP_KEY]"
    - "\x1b[0m"
    - "oops"
  reproduce: "smoke-runner --suites suites/mixed.toml --exact mixed::fails_with_a_hash"
  ...
ok 3 - mixed::second_time_lucky
  ---
  message: "flaky: passed on attempt 2"
  attempts: 2
  ...
ok 4 - mixed::not_today # SKIP waiting for a fix
not ok 5 - mixed::too_slow
  ---
  message: "timed out after [TIME] (stopped with SIGTERM)"
  severity: fail
  at:
    file: "suites/mixed.toml"
    line: 26
  command: "$FAKE sleep:30"
  status: "timed out after [TIME] (stopped with SIGTERM)"
  duration: "[TIME]"
  failures:
    - check: status
      subject: "status"
      message: "expected exit status 0, got timed out (stopped with SIGTERM)"
      expected: "exit status 0"
      actual: "timed out (stopped with SIGTERM)"
  test_dir: "[SCRATCH]/tmp/plandex-mixed-[PID]-[RAND]"
  log: "target/smoke-logs/[RUN]/mixed.log:22"
  reproduce: "smoke-runner --suites suites/mixed.toml --exact mixed::too_slow"
  ...
1..5
"#;
    assert_eq!(tap, expected, "\n{tap}");
}

/// Runs `prove` over a TAP file (read with `cat`) and returns its output and exit code.
fn prove(tap: &std::path::Path) -> (String, Option<i32>) {
    let output = Command::new("prove")
        .args(["--exec", "cat", "--verbose"])
        .arg(tap)
        .output()
        .expect("run prove (Perl's TAP harness; .ci/run installs it)");
    (
        format!("{}{}", stdout(&output), stderr(&output)),
        output.status.code(),
    )
}

/// `TAP::Parser` older than 3.48 (Debian 12 has 3.44) knows TAP up to version 13 and says so
/// as its one parse error; it reads the rest of a TAP 14 stream as version 13.
fn tap_parser_knows_tap_14() -> bool {
    let output = Command::new("perl")
        .args(["-MTAP::Parser", "-e", "print $TAP::Parser::VERSION"])
        .output()
        .expect("run perl");
    let version: f64 = stdout(&output).trim().parse().expect("a version number");
    version >= 3.48
}

#[test]
fn prove_reads_the_tap_file_beside_the_human_report_and_agrees_on_the_counts() {
    let env = tap_env();
    let output = env.run(&[
        "--env-file",
        "keys.env",
        "--tap",
        "out/run.tap",
        "--no-log-dir",
        "--no-history",
    ]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        report.contains(
            "\nPassed: 1\nFlaky: 1 (passed on a retry)\nFailed: 2\nTimeouts: 1\nSkipped: 1\n"
        ),
        "{report}"
    );
    let tap_path = env.path().join("out/run.tap");
    let tap = std::fs::read_to_string(&tap_path).unwrap();
    assert!(!tap.contains(KEY), "{tap}");

    let (proved, code) = prove(&tap_path);
    assert_eq!(code, Some(1), "prove fails a run with failures:\n{proved}");
    assert!(proved.contains("Tests=5"), "{proved}");
    assert!(
        proved.contains("Failed 2/5 subtests") && proved.contains("Failed tests:  2, 5"),
        "{proved}"
    );
    assert!(proved.contains("1 skipped subtest"), "{proved}");
    let parse_errors: Vec<&str> = proved
        .lines()
        .filter(|line| line.contains("Parse errors"))
        .collect();
    if tap_parser_knows_tap_14() {
        assert!(parse_errors.is_empty(), "{proved}");
    } else {
        assert_eq!(
            parse_errors,
            [
                "  Parse errors: TAP specified version 14 but we don't know about versions later than 13"
            ],
            "{proved}"
        );
    }
}

#[test]
fn tap_parser_reads_every_yaml_diagnostic_back() {
    let env = tap_env();
    let output = env.run(&[
        "--env-file",
        "keys.env",
        "--format",
        "tap",
        "--no-log-dir",
        "--no-history",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let tap = env.path().join("run.tap");
    std::fs::write(&tap, &output.stdout).unwrap();
    // Each test point with its YAML block's message, check kinds, output lines as parsed.
    let script = r#"
        use TAP::Parser;
        open my $f, '<', $ARGV[0] or die; local $/; my $text = <$f>;
        my $parser = TAP::Parser->new({ tap => $text });
        while (my $r = $parser->next) {
            if ($r->is_test) { print 'test ', $r->number, ' ', ($r->is_ok ? 'ok' : 'not ok'), "\n" }
            if ($r->is_yaml) {
                my $d = $r->data;
                print ' message=', $d->{message}, "\n";
                print ' checks=', join(',', map { $_->{check} } @{ $d->{failures} || [] }), "\n";
                print ' output=', join('|', @{ $d->{output} || [] }), "\n";
                print ' at=', ($d->{at} ? "$d->{at}{file}:$d->{at}{line}" : '-'), "\n";
            }
        }
        print 'passed=', scalar($parser->passed), ' failed=', scalar($parser->failed),
            ' skipped=', scalar($parser->skipped), ' plan=', $parser->plan, "\n";
    "#;
    let parsed = Command::new("perl")
        .args(["-e", script])
        .arg(&tap)
        .output()
        .expect("run perl");
    assert!(parsed.status.success(), "{}", stderr(&parsed));
    let expected = "test 1 ok
test 2 not ok
 message=expected exit status 0, got exit status 1
 checks=status,contains
 output=key=[redacted:TAP_KEY]|\u{1b}[0m|oops
 at=suites/mixed.toml:9
test 3 ok
 message=flaky: passed on attempt 2
 checks=
 output=
 at=-
test 4 ok
test 5 not ok
 message=timed out after 300ms (stopped with SIGTERM)
 checks=status
 output=
 at=suites/mixed.toml:26
passed=3 failed=2 skipped=1 plan=1..5
";
    assert_eq!(stdout(&parsed), expected);
}
