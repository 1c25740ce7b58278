//! Regression tests, each named after what broke, with one line saying what.

use crate::support::{StopOnDrop, TestEnv, smoke_runner, stderr, stdout};

/// Many quick steps, so that the reader of a pipe leaves long before the writer is done.
fn many_steps() -> TestEnv {
    let steps: String = (1..=300)
        .map(|n| format!("[[step]]\nname = \"step {n}\"\nsh = \"true\"\n\n"))
        .collect();
    TestEnv::new().suite("many", &steps)
}

/// `--list | head -1`: the write after `head` exited must not panic.
#[test]
fn list_into_a_closed_pipe_does_not_panic() {
    let env = many_steps();
    let output = env.bash(r#""$SMOKE_RUNNER" --list | head -1"#);
    assert_eq!(stdout(&output), "many::step_1: test\n");
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

/// `--format pretty | head -1` panicked in the libtest printer with a backtrace (exit 101).
#[test]
fn libtest_report_into_a_closed_pipe_does_not_panic() {
    let env = many_steps();
    for format in ["pretty", "terse", "json"] {
        let output = env.bash(&format!(
            r#""$SMOKE_RUNNER" --format {format} | head -1; exit "${{PIPESTATUS[0]}}""#
        ));
        let err = stderr(&output);
        assert!(!err.contains("panicked"), "{format}: {err}");
        assert_eq!(err, "", "{format}");
        assert_eq!(
            output.status.code(),
            Some(128 + 13),
            "{format}: as if killed by SIGPIPE"
        );
    }
}

/// The summary never counted leftover processes: the per-step warning appeared, but
/// `Summary::leaked_processes` was not added up from the suites.
#[test]
fn leftover_processes_are_counted_in_the_summary() {
    let env = TestEnv::new().suite(
        "leaky",
        "[[step]]\nname = \"Leaves a sleeper\"\nsh = \"sleep 30 & echo started\"\nstdout.equals = \"started\"\n",
    );
    let output = env.run(&[]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("⚠ killed 1 leftover process after Leaves a sleeper\n"),
        "{report}"
    );
    assert!(
        report.contains("Leftover processes killed: 1\n"),
        "{report}"
    );
}

/// A suite whose second step would run for a minute if nothing stopped it.
fn slow_suite() -> TestEnv {
    TestEnv::new().suite(
        "slow",
        "[[step]]\nname = \"quick\"\nsh = \"true\"\n\n[[step]]\nname = \"slow\"\nsh = \"sleep 60\"\n",
    )
}

/// `--list > /dev/full` and `--format json|pretty|terse > /dev/full` panicked inside the libtest
/// printer; the human report went on running with nowhere to write. Any write error on the report
/// now stops the run: one line on stderr, exit 74, no test dir left, no minute-long wait.
#[test]
fn report_to_a_full_disk_stops_the_run_with_one_error_line() {
    let env = slow_suite();
    for args in [
        "--list",
        "--format json",
        "--format pretty",
        "--format terse",
        "",
    ] {
        let started = std::time::Instant::now();
        let output = env.bash(&format!(r#""$SMOKE_RUNNER" {args} > /dev/full"#));
        let err = stderr(&output);
        assert_eq!(
            err,
            "error: cannot write the report to standard output: No space left on device (os error 28); the run was stopped\n",
            "{args}"
        );
        assert_eq!(output.status.code(), Some(74), "{args}: {err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{args}: the sleeping step was not stopped"
        );
        assert_eq!(env.test_dirs(), Vec::<std::path::PathBuf>::new(), "{args}");
    }
}

/// The human report into a closed pipe went on running every step; it now stops like the
/// libtest formats, quietly, as if killed by SIGPIPE.
#[test]
fn human_report_into_a_closed_pipe_stops_the_run() {
    let env = many_steps();
    let output = env.bash(r#""$SMOKE_RUNNER" | head -1; exit "${PIPESTATUS[0]}""#);
    assert_eq!(stderr(&output), "");
    assert_eq!(output.status.code(), Some(128 + 13));
    assert_eq!(env.test_dirs(), Vec::<std::path::PathBuf>::new());
}

/// Durations that overflow the clock (`timeout = 1e19`, `"500000000000y"`, a huge retry
/// interval) were accepted by `--list` and the run panicked adding them to an `Instant`.
#[test]
fn durations_that_overflow_the_clock_are_refused_at_load() {
    let cases = [
        ("timeout = 1e19", "1:11", "1e19"),
        (
            "timeout = 9223372036854775807",
            "1:11",
            "9.223372036854776e18",
        ),
        ("timeout = \"500000000000y\"", "1:11", "500000000000y"),
        (
            "[[step]]\nname = \"a\"\nsh = \"true\"\nretry = { attempts = 2, interval = \"9223372036854775808s\" }",
            "4:36",
            "9223372036854775808s",
        ),
    ];
    for (toml, position, shown) in cases {
        let toml = if toml.contains("[[step]]") {
            toml.to_owned()
        } else {
            format!("{toml}\n[[step]]\nname = \"a\"\nsh = \"true\"\n")
        };
        let env = TestEnv::new().suite("huge", &toml);
        for args in [&["--list"][..], &[]] {
            let output = env.run(args);
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{toml}: {err}");
            assert!(
                err.contains(&format!(
                    "invalid duration `{shown}`: it is longer than the limit of 365 days"
                )),
                "{toml}: {err}"
            );
            assert!(
                err.contains(&format!("suites/huge.toml:{position}")),
                "{toml}: {err}"
            );
        }
    }
}

/// `--timeout`, `--kill-after` and `PLANDEX_TIMEOUT` of `500000000000y` panicked in the run.
#[test]
fn duration_flags_and_variables_that_overflow_the_clock_are_refused() {
    let env = TestEnv::new().suite("ok", "[[step]]\nname = \"a\"\nsh = \"true\"\n");
    let flag_cases = [
        (vec!["--timeout", "500000000000y"], "--timeout: "),
        (vec!["--kill-after", "500000000000y"], "--kill-after: "),
    ];
    for (args, prefix) in flag_cases {
        let output = env.run(&args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("{prefix}invalid duration `500000000000y`")),
            "{err}"
        );
        assert!(err.contains("365 days"), "{err}");
    }
    let output = env
        .command()
        .env("PLANDEX_TIMEOUT", "500000000000y")
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("PLANDEX_TIMEOUT: invalid duration"), "{err}");

    // The same value from an env file.
    let env = env.file("keys.env", "PLANDEX_TIMEOUT=500000000000y\n");
    let output = env.run(&["--env-file", "keys.env"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("PLANDEX_TIMEOUT: invalid duration"), "{err}");
}

/// `smoke-runner exec --timeout 500000000000y true` panicked; it is now refused like any bad
/// option of `exec` (125, as `timeout` does).
#[test]
fn exec_timeout_that_overflows_the_clock_is_refused() {
    for option in ["--timeout", "--kill-after"] {
        let output = TestEnv::new().run(&["exec", option, "500000000000y", "true"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(125), "{option}: {err}");
        assert!(err.contains("365 days"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `smoke-runner exec --timeout 0` killed the command at once; GNU `timeout 0` means no limit.
#[test]
fn exec_timeout_zero_means_no_limit() {
    let output = TestEnv::new().run(&["exec", "--timeout", "0", "sh", "-c", "sleep 0.5; exit 7"]);
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let output = TestEnv::new()
        .command()
        .env("PLANDEX_TIMEOUT", "0")
        .args(["exec", "sh", "-c", "sleep 0.5; exit 7"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success());
}

/// Runs `smoke-runner ARGS` with stdin from `/dev/zero`, bounded in time by a watchdog so that a
/// regression fails instead of hanging the test suite.
fn run_bounded(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let zero = std::fs::File::open("/dev/zero").expect("open /dev/zero");
    let mut child = env
        .std_command(smoke_runner())
        .args(args)
        .stdin(zero)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run smoke-runner");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().ok();
            panic!("smoke-runner {args:?} still runs after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect output")
}

/// A suite file that is a FIFO blocked forever (Ctrl-C ignored), and `--suites /dev/zero` ate
/// memory until the allocation failed: both are refused as not regular files.
#[test]
fn suite_file_that_is_a_fifo_or_device_is_refused() {
    let env = TestEnv::new();
    mkfifo(&env.path().join("suites/fifo.toml"));
    for (args, shown, what) in [
        (
            vec!["--suites", "suites/fifo.toml"],
            "suites/fifo.toml",
            "a FIFO (named pipe)",
        ),
        (
            vec!["--suites", "suites"],
            "suites/fifo.toml",
            "a FIFO (named pipe)",
        ),
        (
            vec!["--suites", "/dev/zero"],
            "/dev/zero",
            "a character device",
        ),
    ] {
        let output = run_bounded(&env, &args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(&format!(
                "error: cannot read suite file: it is {what}, not a regular file\n"
            )),
            "{args:?}: {err}"
        );
        assert!(err.contains(shown), "{err}");
    }
}

/// `PLANDEX_ENV_FILE=/dev/zero` and `--env-file /dev/stdin < /dev/zero` ran out of memory, and an
/// env file that is a FIFO blocked forever.
#[test]
fn env_file_that_is_a_fifo_or_device_is_refused() {
    let env = TestEnv::new().suite("ok", "[[step]]\nname = \"a\"\nsh = \"true\"\n");
    mkfifo(&env.path().join("fifo.env"));
    for file in ["/dev/zero", "/dev/stdin", "fifo.env"] {
        let output = run_bounded(&env, &["--env-file", file]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{file}: {err}");
        assert!(
            err.starts_with(&format!(
                "error: cannot load environment file {file}: it is a "
            )),
            "{file}: {err}"
        );
        assert!(err.trim_end().ends_with(", not a regular file"), "{err}");
    }
    let output = env
        .command()
        .env("PLANDEX_ENV_FILE", "/dev/zero")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

/// A symbolic link loop as a suite file said "does not exist", in a folder "no suite files";
/// as an env file it said the file does not exist.
#[test]
fn symlink_loop_is_reported_as_a_loop() {
    let env = TestEnv::new();
    let suites = env.path().join("suites");
    std::os::unix::fs::symlink(suites.join("b.toml"), suites.join("a.toml")).unwrap();
    std::os::unix::fs::symlink(suites.join("a.toml"), suites.join("b.toml")).unwrap();
    for args in [&["--suites", "suites/a.toml"][..], &["--suites", "suites"]] {
        let output = env.run(args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with("error: cannot read suite file: it is a symbolic link loop"),
            "{args:?}: {err}"
        );
    }
    let env = env.suite("ok", "[[step]]\nname = \"a\"\nsh = \"true\"\n");
    std::os::unix::fs::symlink(env.path().join("loop.env"), env.path().join("loop.env")).unwrap();
    let output = env.run(&["--suites", "suites/ok.toml", "--env-file", "loop.env"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error: cannot load environment file loop.env: it is a symbolic link loop"),
        "{err}"
    );
}

/// The same loop reached through `PLANDEX_ENV_FILE` or as the default `../.env.client-keys`
/// (which is skipped when missing, so a loop must not pass for "missing").
#[test]
fn symlink_loop_as_the_default_or_variable_env_file_is_reported_as_a_loop() {
    let env = TestEnv::new().suite("ok", "[[step]]\nname = \"a\"\nsh = \"true\"\n");
    let work = env.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::os::unix::fs::symlink(".env.client-keys", env.path().join(".env.client-keys")).unwrap();
    let suite = env.path().join("suites/ok.toml");
    let output = env
        .command()
        .current_dir(&work)
        .env_remove("PLANDEX_ENV_FILE")
        .arg("--suites")
        .arg(&suite)
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "error: cannot load environment file ../.env.client-keys: it is a symbolic link loop (too many levels of symbolic links)\n"
    );
    let output = env
        .command()
        .env("PLANDEX_ENV_FILE", ".env.client-keys")
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "error: cannot load environment file .env.client-keys: it is a symbolic link loop (too many levels of symbolic links)\n"
    );
}

/// A suite file far larger than any real one was read whole into memory.
#[test]
fn oversized_suite_file_is_refused() {
    let env = TestEnv::new();
    let file = std::fs::File::create(env.path().join("suites/huge.toml")).unwrap();
    file.set_len(smoke_runner::suite::MAX_SUITE_FILE_SIZE + 1)
        .unwrap();
    let output = env.run(&[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error: cannot read suite file: it is larger than the limit of 8 MiB"),
        "{err}"
    );
}

fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// An env file planted by another user (or writable by others) was loaded: `BASH_ENV` in it ran
/// code in every `sh` step as whoever started smoke-runner.
#[test]
fn env_file_writable_by_others_is_refused_and_one_readable_by_others_is_warned_about() {
    let env = TestEnv::new()
        .suite("ok", "[[step]]\nname = \"a\"\nsh = \"true\"\n")
        .file("keys.env", "KEY=1\n");
    let path = env.path().join("keys.env");
    for (mode, who) in [
        (0o666, "its group and others"),
        (0o620, "its group"),
        (0o602, "others"),
    ] {
        chmod(&path, mode);
        let output = env.run(&["--env-file", "keys.env"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert_eq!(
            err,
            format!(
                "error: cannot load environment file keys.env: it is writable by {who} (mode {mode:04o}): \
                 whoever can write it runs code in every step. Fix it with `chmod go-w keys.env`, \
                 or pass --no-env-file\n"
            )
        );
    }
    chmod(&path, 0o644);
    let output = env.run(&["--env-file", "keys.env"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "warning: environment file keys.env is readable by others (mode 0644); it usually holds \
         secrets: `chmod go-r keys.env`\n"
    );
    chmod(&path, 0o600);
    let output = env.run(&["--env-file", "keys.env"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");

    // Owned by another user: only root can make such a file here.
    if rustix::process::geteuid().is_root() {
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
        let output = env.run(&["--env-file", "keys.env"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with(
                "error: cannot load environment file keys.env: it is owned by user id 65534, not by you (user id 0) or root"
            ),
            "{err}"
        );
    }
}

/// An unterminated quote in an env file printed the rest of the file (secrets included), and
/// the "line index" dotenvy gave was a column.
#[test]
fn env_file_errors_give_the_line_and_never_the_rest_of_the_file() {
    let env = TestEnv::new()
        .suite("ok", "[[step]]\nname = \"a\"\nsh = \"true\"\n")
        .file("keys.env", "A=1\nB=\"open\nSECRET=hunter2\n");
    chmod(&env.path().join("keys.env"), 0o600);
    let output = env.run(&["--env-file", "keys.env"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: cannot load environment file keys.env: line 2, column 3: the double quote that \
         starts the value of `B` is never closed\n"
    );
}

/// A non-UTF-8 `PLANDEX_TIMEOUT` or `PLANDEX_CMD` was silently replaced by the default.
#[test]
fn non_utf8_settings_variables_are_errors() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new().suite("ok", "[[step]]\nname = \"a\"\nsh = \"true\"\n");
    let bad = std::ffi::OsStr::from_bytes(b"3\xff");
    for name in ["PLANDEX_TIMEOUT", "PLANDEX_CMD"] {
        let output = env.command().env(name, bad).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert_eq!(
            stderr(&output),
            format!("error: {name} is not valid UTF-8: set it to a UTF-8 value, or unset it\n")
        );
    }
    let output = env
        .command()
        .env("PLANDEX_TIMEOUT", bad)
        .args(["exec", "true"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(125));
    assert_eq!(
        stderr(&output),
        "smoke-runner: PLANDEX_TIMEOUT is not valid UTF-8: set it to a UTF-8 value, or unset it\n"
    );
}

/// Keeps every CPU busy while alive, as on a loaded CI machine.
struct BusyCpus {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BusyCpus {
    fn start() -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let threads = (0..cpus * 2)
            .map(|_| {
                let stop = std::sync::Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for BusyCpus {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A bash CLI whose output loop reads `done < <(tac "$file")` was reported as leaving a process
/// behind on a busy machine: the process substitution's child was still exiting.
#[test]
fn process_substitution_child_still_exiting_is_not_a_leftover() {
    use smoke_runner::exec::{ExecRequest, Executor};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lines.txt");
    std::fs::write(&data, "one\ntwo\nthree\n").unwrap();
    let script = dir.path().join("cli.sh");
    std::fs::write(
        &script,
        "file=$1\nwhile IFS= read -r line; do\n  echo \"> $line\"\ndone < <(tac \"$file\")\n",
    )
    .unwrap();
    let executor = Executor::new();
    let _busy = BusyCpus::start();
    let mut leaked = Vec::new();
    for run in 0..200 {
        let request = ExecRequest::new("bash")
            .args([&script, &data])
            .timeout(std::time::Duration::from_secs(60));
        let outcome = executor.run(&request).expect("bash runs");
        assert_eq!(
            outcome
                .output
                .text_lossy(smoke_runner::exec::StreamSelector::Stdout)
                .unwrap(),
            "> three\n> two\n> one\n"
        );
        if outcome.leaked_processes > 0 {
            leaked.push(run);
        }
    }
    assert!(leaked.is_empty(), "runs reporting leftovers: {leaked:?}");
}

/// The grace given to exiting processes must not hide a real leftover: `sleep 30 &` is found
/// every time, on a busy machine too.
#[test]
fn a_real_background_sleep_is_found_every_time() {
    use smoke_runner::exec::{ExecRequest, Executor};
    let executor = Executor::new();
    let _busy = BusyCpus::start();
    for run in 0..10 {
        let request = ExecRequest::new("bash")
            .args(["-c", "sleep 30 & echo started"])
            .timeout(std::time::Duration::from_secs(60));
        let outcome = executor.run(&request).expect("bash runs");
        assert_eq!(outcome.leaked_processes, 1, "run {run}");
    }
}

/// A suite `env` table of 41 lines `Vn = "${Vn-1}${Vn-1}"` ran out of memory (SIGABRT).
#[test]
fn expansion_bomb_in_a_suite_env_table_stops_at_the_limit() {
    let mut toml = "[env]\nV0 = \"xxxxxxxxxxxxxxxx\"\n".to_owned();
    for n in 1..=41 {
        toml.push_str(&format!("V{n} = \"${{V{}}}${{V{}}}\"\n", n - 1, n - 1));
    }
    toml.push_str("\n[[step]]\nname = \"a\"\nsh = \"true\"\n");
    let env = TestEnv::new().suite("bomb", &toml);
    let output = env.run(&[]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}{}", stderr(&output));
    assert!(
        report.contains("env `V17`: `${V16}${V16}` expands to more than the limit of 1 MiB"),
        "{report}"
    );
}

/// The same bomb in an env file.
#[test]
fn expansion_bomb_in_an_env_file_stops_at_the_limit() {
    let mut text = "V0=xxxxxxxxxxxxxxxx\n".to_owned();
    for n in 1..=41 {
        text.push_str(&format!("V{n}=${{V{}}}${{V{}}}\n", n - 1, n - 1));
    }
    let env = TestEnv::new()
        .suite("ok", "[[step]]\nname = \"a\"\nsh = \"true\"\n")
        .file("bomb.env", &text);
    chmod(&env.path().join("bomb.env"), 0o600);
    let output = env.run(&["--env-file", "bomb.env"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: cannot load environment file bomb.env: line 18, column 11: the value of `V17` is \
         larger than the limit of 1 MiB after expansion\n"
    );
}

/// `${A:-${B}}` gave the literal text `${B}`.
#[test]
fn nested_defaults_are_expanded() {
    let env = TestEnv::new().suite(
        "nested",
        "[env]\nB = \"from-b\"\n\n[[step]]\nname = \"a\"\nsh = \"echo ${A:-${B}} ${A:-${C:-plain}}\"\nstdout.equals = \"from-b plain\"\n",
    );
    let output = env.run(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

/// 100,000 steps with one name: `--list` restarted the unique-name count for each step (over
/// 20 s for 20,000). Not a timed test: it must simply finish, with every name distinct.
#[test]
fn many_steps_with_the_same_name_are_listed() {
    let steps = "[[step]]\nname = \"same\"\nsh = \"true\"\n".repeat(100_000);
    let env = TestEnv::new().suite("same", &steps);
    let output = env.run(&["--list"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let listed = stdout(&output);
    let names: Vec<&str> = listed.lines().filter(|l| l.ends_with(": test")).collect();
    assert_eq!(names.len(), 100_000);
    assert_eq!(names[0], "same::same: test");
    assert_eq!(names[99_999], "same::same_100000: test");
}

/// A relative `PATH` entry passed `requires` (looked up from the invocation dir) and then the
/// step failed in the test dir with "command not found".
#[test]
fn relative_path_entry_means_the_same_folder_for_requires_and_steps() {
    let env = TestEnv::new()
        .suite(
            "tools",
            r#"
requires = ["mytool"]

[[step]]
name = "run from PATH"
sh = "mytool"
stdout.equals = "my tool ran"

[[step]]
name = "run as the command"
run = []
stdout.equals = "my tool ran"
"#,
        )
        .file("tools/mytool", "#!/bin/sh\necho 'my tool ran'\n");
    let tool = env.path().join("tools/mytool");
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("tools:{}", std::env::var("PATH").unwrap_or_default());
    let output = env
        .command()
        .env("PATH", path)
        .env("PLANDEX_CMD", "mytool")
        .output()
        .unwrap();
    assert!(
        stdout(&output).contains("Passed: 2\n"),
        "{}",
        stdout(&output)
    );
    assert_eq!(output.status.code(), Some(0));
}

/// `files.path = "/etc/passwd"`, `"../../../../etc/shadow"` and a link out of the test dir were
/// read; a FIFO left by a step blocked the check forever.
#[test]
fn file_checks_stay_inside_the_test_dir_and_refuse_fifos() {
    let env = TestEnv::new().suite(
        "escape",
        r#"
[[step]]
name = "absolute"
sh = "true"
files = [{ path = "/etc/passwd", contains = "root" }]

[[step]]
name = "dotdot"
always = true
sh = "true"
files = [{ path = "../../../../etc/passwd", contains = "root" }]

[[step]]
name = "link"
always = true
sh = "ln -s /etc/passwd out"
files = [{ path = "out", contains = "root" }]

[[step]]
name = "fifo"
always = true
sh = "mkfifo p"
files = [{ path = "p", contains = "x" }]
"#,
    );
    let output = env.run(&[]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    for path in ["/etc/passwd", "../../../../etc/passwd", "out"] {
        assert!(
            report.contains(&format!(
                "file check path {path} leads outside the test dir"
            )),
            "{path}: {report}"
        );
    }
    assert!(
        report.contains("cannot read file p: it is a FIFO (named pipe), not a regular file"),
        "{report}"
    );
    assert!(report.contains("Failed: 4"), "{report}");
}

/// The peak resident memory of process `pid` so far, in KiB (`VmHWM`: its own, since it
/// started its program; `wait4`'s figure would include the test binary's, through `vfork`).
fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// A file check read the whole file into memory (a 3 GB file took 3 GB), and files over 64 MiB
/// were refused. It now reads in blocks: a file larger than the old limit is checked to its
/// last byte in flat memory.
#[test]
fn file_checks_read_large_files_in_flat_memory() {
    // A sparse file: 80 MiB to read, no disk used. The last step waits for the test to have
    // measured the runner's peak memory.
    let env = TestEnv::new().suite(
        "large",
        r#"
[[step]]
name = "large file"
sh = "truncate -s 80M big && printf END-MARKER >> big"
files = [{ path = "big", contains = "END-MARKER", not_contains = "NOT-THERE" }]

[[step]]
name = "large file without the text"
always = true
sh = "true"
files = [{ path = "big", contains = "NOT-THERE-EITHER" }]

[[step]]
name = "wait for the measure"
always = true
sh = "touch waiting; while [ ! -e measured ]; do sleep 0.02; done"
timeout = "120s"
"#,
    );
    let report_path = env.path().join("report.txt");
    let mut child = StopOnDrop(
        env.std_command(smoke_runner())
            .stdout(std::fs::File::create(&report_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let test_dir = loop {
        let waiting = env
            .test_dirs()
            .into_iter()
            .find(|dir| dir.join("waiting").exists());
        if let Some(dir) = waiting {
            break dir;
        }
        assert!(
            std::time::Instant::now() < deadline && matches!(child.0.try_wait(), Ok(None)),
            "the last step never ran: {}",
            std::fs::read_to_string(&report_path).unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let peak_kib = peak_memory_kib(child.0.id());
    std::fs::write(test_dir.join("measured"), "").unwrap();
    let status = child.0.wait().unwrap();
    let report = std::fs::read_to_string(report_path).unwrap();
    assert_eq!(status.code(), Some(1), "{report}");
    assert!(report.contains("✓ large file\n"), "{report}");
    assert!(
        report.contains("file big does not contain \"NOT-THERE-EITHER\""),
        "{report}"
    );
    // The runner itself takes about 15 MiB; reading the file whole took over 80 MiB more.
    assert!(
        peak_kib < 48 * 1024,
        "peak memory {peak_kib} KiB:\n{report}"
    );
}

/// Runs smoke-runner with standard output and standard error on a pipe whose reader is
/// already gone, so that every write fails with `EPIPE`.
fn run_into_a_closed_pipe(env: &TestEnv, args: &[&str]) -> std::process::ExitStatus {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut command = env.std_command(smoke_runner());
    command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer);
    let status = command.status().unwrap();
    drop(command);
    status
}

/// `smoke-runner 2>&1 | head -1` on a broken suite panicked in `eprintln!` (exit 101) once
/// `head` had left; a message to a closed stderr is now lost, not fatal. `import` to a closed
/// stdout exits as a filter killed by SIGPIPE would.
#[test]
fn errors_and_imports_into_a_closed_pipe_do_not_panic() {
    let env = TestEnv::new()
        .suite("broken", "[[step]]\nname = 1\nsh = \"true\"\n")
        .file("script.sh", "run_plandex_cmd \"plans\" \"List plans\"\n");
    assert_eq!(run_into_a_closed_pipe(&env, &[]).code(), Some(2));
    assert_eq!(
        run_into_a_closed_pipe(&env, &["--env-file", "missing.env"]).code(),
        Some(2)
    );
    assert_eq!(
        run_into_a_closed_pipe(&env, &["import", "script.sh"]).code(),
        Some(128 + 13)
    );
}

/// `history import FIFO` opened the FIFO with a blocking `open` and waited forever for a writer;
/// it is refused as not a regular file, like every other file a user names.
#[test]
fn history_import_of_a_fifo_is_refused_without_waiting() {
    let env = TestEnv::new();
    mkfifo(&env.path().join("events.jsonl"));
    let output = run_bounded(&env, &["history", "import", "events.jsonl"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "error: cannot read events.jsonl: it is a FIFO (named pipe), not a regular file\n"
    );
}
