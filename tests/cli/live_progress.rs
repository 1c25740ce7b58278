//! The elapsed-time line of a long step: shown on a terminal (a pseudo-terminal here), never in
//! a pipe, never between another suite's lines.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::pty::{OpenptFlags, ioctl_tiocgptpeer, openpt, unlockpt};

use crate::support::{TestEnv, smoke_runner, stdout, stop_runner};

/// How long the tests wait for what a busy machine may take a while to show.
const PATIENCE: Duration = Duration::from_secs(120);

/// A suite named `name` whose one step runs until the file `go` appears.
fn waiting_suite(name: &str, go: &Path) -> String {
    format!(
        r#"
name = "{name}"

[[step]]
name = "Waits for go"
sh = "while [ ! -e '{}' ]; do sleep 0.05; done; echo released"
timeout = "4m"
"#,
        go.display()
    )
}

/// `smoke-runner` running with its standard output on a pseudo-terminal, and everything it
/// wrote there so far.
struct OnTerminal {
    child: Child,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl OnTerminal {
    fn start(env: &TestEnv, args: &[&str]) -> Self {
        Self::start_with_term(env, "xterm", args)
    }

    fn start_with_term(env: &TestEnv, term: &str, args: &[&str]) -> Self {
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
            .expect("open a pseudo-terminal");
        unlockpt(&master).expect("unlock the pseudo-terminal");
        let terminal: OwnedFd = ioctl_tiocgptpeer(&master, OpenptFlags::RDWR | OpenptFlags::NOCTTY)
            .expect("open the terminal side");
        let child = env
            .std_command(smoke_runner())
            .args(args)
            .env("TERM", term)
            .env_remove("GITHUB_ACTIONS")
            .stdin(Stdio::null())
            .stdout(Stdio::from(terminal))
            .stderr(Stdio::piped())
            .spawn()
            .expect("start smoke-runner");
        // The command's copy of the terminal side is closed now: once smoke-runner exits,
        // reading the other side ends.
        let screen = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::clone(&screen);
        let reader = std::thread::spawn(move || {
            let mut master = std::fs::File::from(master);
            let mut buf = [0u8; 4096];
            // Linux answers EIO once no process holds the terminal side.
            while let Ok(n @ 1..) = master.read(&mut buf) {
                written.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Self {
            child,
            screen,
            reader: Some(reader),
        }
    }

    /// What was written so far, with the terminal's `\r\n` line ends back to `\n`.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).replace("\r\n", "\n")
    }

    /// Waits until the text satisfies `done`; panics with the text after [`PATIENCE`].
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if done(&text) {
                return text;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "no {what} after {PATIENCE:?}:\n{text:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for smoke-runner to exit; its exit code and everything written.
    fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().expect("wait for smoke-runner");
        self.reader.take().unwrap().join().unwrap();
        (status.code(), self.text())
    }
}

impl Drop for OnTerminal {
    fn drop(&mut self) {
        // A failed test must not leave its step waiting for `go` (SIGKILL would: the step's
        // process group outlives its runner).
        stop_runner(&mut self.child);
    }
}

/// The lines a terminal would show for `text`: each `\r` goes back to the start of the line
/// and what follows overwrites it.
fn shown_lines(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|line| {
            let mut shown: Vec<char> = Vec::new();
            let mut column = 0;
            for c in line.chars() {
                if c == '\r' {
                    column = 0;
                } else {
                    if column < shown.len() {
                        shown[column] = c;
                    } else {
                        shown.push(c);
                    }
                    column += 1;
                }
            }
            shown.into_iter().collect::<String>().trim_end().to_owned()
        })
        .collect()
}

/// The elapsed seconds of every timer drawn in `text`, in order.
fn timers(text: &str) -> Vec<String> {
    regex::Regex::new(r"… running for (\S+) \(timeout 240s\)")
        .unwrap()
        .captures_iter(text)
        .map(|c| c[1].to_owned())
        .collect()
}

#[test]
fn a_long_step_shows_an_updating_timer_on_a_terminal_that_its_result_replaces() {
    let env = TestEnv::new();
    let go = env.path().join("go");
    let env = env.suite("slow", &waiting_suite("Slow", &go));
    let run = OnTerminal::start(&env, &["--color", "never", "--no-history"]);
    run.wait_for("timer", |text| !timers(text).is_empty());
    // The same line, redrawn with a later time.
    run.wait_for("updated timer", |text| {
        let drawn = timers(text);
        drawn.len() >= 2 && drawn.first() != drawn.last()
    });
    std::fs::write(&go, "").unwrap();
    let (code, text) = run.finish();
    assert_eq!(code, Some(0), "{text}");
    let drawn = timers(&text);
    assert!(
        drawn.iter().all(|t| t.ends_with('s') && !t.contains('.')),
        "whole seconds from 2 s on: {drawn:?}"
    );
    assert!(
        !text.contains('\x1b'),
        "no escape codes without colour: {text:?}"
    );
    let lines = shown_lines(&text);
    let running = lines
        .iter()
        .position(|line| line.starts_with("→ Running (timeout 240s): while"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(
        lines[running + 1],
        "✓ Waits for go",
        "the result takes the timer's place: {lines:#?}"
    );
    assert!(
        !lines.iter().any(|line| line.contains("running for")),
        "no timer left on the screen: {lines:#?}"
    );
}

#[test]
fn a_long_step_shows_no_timer_in_a_pipe() {
    let env = TestEnv::new().suite(
        "slow",
        "name = \"Slow\"\ncommand = \"${FAKE}\"\n[[step]]\nname = \"Sleeps\"\nrun = \"sleep:3 out:done\"\n",
    );
    let output = env
        .command()
        .env("TERM", "xterm")
        .args(["--no-history"])
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("✓ Sleeps\n"), "{report}");
    assert!(!report.contains("running for"), "{report}");
    assert!(!report.contains('\r'), "{report:?}");
}

#[test]
fn a_dumb_terminal_gets_no_timer() {
    let env = TestEnv::new();
    let go = env.path().join("go");
    let env = env.suite("slow", &waiting_suite("Slow", &go));
    let run = OnTerminal::start_with_term(&env, "dumb", &["--color", "never", "--no-history"]);
    run.wait_for("the step to start", |text| text.contains("→ Running"));
    // Nothing to wait for when nothing must happen: long enough for a timer to show twice.
    std::thread::sleep(Duration::from_secs(4));
    std::fs::write(&go, "").unwrap();
    let (code, text) = run.finish();
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("✓ Waits for go\n"), "{text:?}");
    assert!(!text.contains("running for"), "{text:?}");
    assert!(!text.replace("\r\n", "").contains('\r'), "{text:?}");
}

#[test]
fn parallel_suites_keep_their_lines_together_around_a_timer() {
    let env = TestEnv::new();
    // Two suites alike: a waiting suite with a second step that leaves a `done` file. Which of
    // them is in the foreground depends on whose first event arrives first, so the test finds
    // out, then runs the background suite to its end while the foreground's timer is drawn,
    // and only then releases the foreground.
    let suite = |name: &str| {
        let go = env.path().join(format!("{name}-go"));
        let done = env.path().join(format!("{name}-done"));
        let toml = format!(
            "{}\n[[step]]\nname = \"Leaves a mark\"\nsh = \": > '{}'\"\n",
            waiting_suite(name, &go),
            done.display()
        );
        (toml, go, done)
    };
    let (left, left_go, left_done) = suite("Left");
    let (right, right_go, right_done) = suite("Right");
    let env = env.suite("left", &left).suite("right", &right);
    let run = OnTerminal::start(&env, &["--color", "never", "--no-history", "--jobs", "2"]);
    let text = run.wait_for("timer", |text| !timers(text).is_empty());
    let (background_go, background_done, foreground_go) = match (
        text.find("=== Suite Left ==="),
        text.find("=== Suite Right ==="),
    ) {
        (Some(_), None) => (&right_go, &right_done, &left_go),
        (None, Some(_)) => (&left_go, &left_done, &right_go),
        _ => panic!("one suite's text should be live, the other's held: {text:?}"),
    };
    std::fs::write(background_go, "").unwrap();
    let start = Instant::now();
    while !background_done.exists() {
        assert!(
            start.elapsed() < PATIENCE,
            "the background suite never reached its last step"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The background suite has finished; its text is still held behind the live timer.
    let text = run.text();
    assert_eq!(text.matches("=== Suite").count(), 1, "{text:?}");
    std::fs::write(foreground_go, "").unwrap();
    let (code, text) = run.finish();
    assert_eq!(code, Some(0), "{text}");
    let lines = shown_lines(&text);
    for name in ["Left", "Right"] {
        let header = lines
            .iter()
            .position(|line| line == &format!("=== Suite {name} ==="))
            .unwrap_or_else(|| panic!("no suite {name}: {lines:#?}"));
        let block: Vec<&str> = lines[header + 1..]
            .iter()
            .map(String::as_str)
            .take_while(|line| !line.is_empty())
            .collect();
        assert_eq!(block.len(), 5, "{name}: {lines:#?}");
        assert!(block[0].starts_with("→ Test dir"), "{block:#?}");
        assert!(block[1].starts_with("→ Running"), "{block:#?}");
        assert_eq!(block[2], "✓ Waits for go", "{lines:#?}");
        assert!(block[3].starts_with("→ Running"), "{block:#?}");
        assert_eq!(block[4], "✓ Leaves a mark", "{lines:#?}");
    }
}
