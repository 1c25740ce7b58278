//! Builders shared by every test module.

#![allow(dead_code, reason = "each test module uses a different part")]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

/// The `smoke-runner` binary under test.
pub fn smoke_runner() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_smoke-runner"))
}

/// The fake program fixture (built on first use when `cargo test` did not build examples,
/// as with `cargo test --test cli`).
pub fn fake_program() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| example("fake-program")).clone()
}

/// The offline Plandex stand-in (`tests/plandex_standin/`), built on first use like
/// [`fake_program`].
pub fn plandex_standin() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| example("plandex-standin")).clone()
}

/// `target/<profile>/examples/NAME`, built with cargo if it is not there.
fn example(name: &str) -> PathBuf {
    let deps = std::env::current_exe().expect("test binary path");
    let target = deps
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = target.join("examples").join(name);
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "--example", name]);
        // Built for the profile this test binary was built for (`target/release/…` under
        // `cargo test --release`), so that the path below is the one that gets built.
        if target
            .file_name()
            .is_some_and(|profile| profile == "release")
        {
            build.arg("--release");
        }
        let status = build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap_or_else(|e| panic!("run cargo build --example {name}: {e}"));
        assert!(status.success(), "cargo build --example {name} failed");
        assert!(
            path.exists(),
            "cargo build --example {name} did not make {}",
            path.display()
        );
    }
    path
}

/// The repository root (where `suites/` and `fixtures/` are).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch folder with suite files, and a way to run `smoke-runner` in it.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    envs: Vec<(String, String)>,
}

impl TestEnv {
    /// An empty folder with `suites/` and `fixtures/`.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("suites")).unwrap();
        std::fs::create_dir_all(dir.path().join("fixtures")).unwrap();
        Self {
            dir,
            envs: Vec::new(),
        }
    }

    /// Writes `suites/<name>.toml`.
    pub fn suite(self, name: &str, toml: &str) -> Self {
        std::fs::write(
            self.dir.path().join("suites").join(format!("{name}.toml")),
            toml,
        )
        .unwrap();
        self
    }

    /// Writes a file under the scratch folder (parents created).
    pub fn file(self, relative: &str, content: &str) -> Self {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self
    }

    /// Sets an environment variable for runs.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The scratch folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `smoke-runner` command in the scratch folder: no env file, no colors, test dirs
    /// under the scratch folder, `FAKE` pointing at the fake program.
    pub fn command(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.std_command(smoke_runner()))
    }

    /// `program` in the scratch folder with the environment described at [`TestEnv::command`].
    pub fn std_command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let tmp = self.dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let mut command = std::process::Command::new(program);
        command
            .current_dir(self.dir.path())
            .env_remove("PLANDEX_CMD")
            .env_remove("PLANDEX_TIMEOUT")
            .env("PLANDEX_ENV_FILE", "/dev/null")
            .env("TMPDIR", &tmp)
            .env("FAKE", fake_program())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("FORCE_COLOR");
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        command
    }

    /// Runs `smoke-runner ARGS` and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .expect("run smoke-runner")
    }
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Replaces run-specific parts of a report (durations, dates, temp paths, pids) with fixed
/// tokens, so whole reports can be compared.
pub fn normalize(text: &str, scratch: &Path) -> String {
    let text = text.replace(&scratch.display().to_string(), "[SCRATCH]");
    let rules: [(&str, &str); 5] = [
        (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "[DATE]"),
        (r"smoke-logs/\d{8}-\d{6}-\d+/", "smoke-logs/[RUN]/"),
        (
            r"plandex-([a-z0-9_]+)-\d+-[A-Za-z0-9]+",
            "plandex-$1-[PID]-[RAND]",
        ),
        (r"\b\d+(\.\d+)?(ms|s)\b", "[TIME]"),
        (r"\b\d+m \d+s\b", "[TIME]"),
    ];
    let mut text = text;
    for (pattern, replacement) in rules {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, replacement)
            .into_owned();
    }
    text
}

/// [`normalize`], and the fake program's path shown as `$FAKE`, as a suite writes it.
pub fn normalize_report(text: &str, env: &TestEnv) -> String {
    let text = text.replace(&fake_program().display().to_string(), "$FAKE");
    normalize(&text, env.path())
}

/// Every path under `dir`, files and folders, recursively.
pub fn paths_under(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            paths.extend(paths_under(&path));
        }
        paths.push(path);
    }
    paths
}

impl TestEnv {
    /// The test dirs left in the scratch `tmp/` folder (the runs' `TMPDIR`), sorted.
    pub fn test_dirs(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.path().join("tmp")) else {
            return Vec::new();
        };
        let mut dirs: Vec<PathBuf> = entries
            .map(|entry| entry.expect("read tmp entry").path())
            .filter(|path| path.is_dir())
            .collect();
        dirs.sort();
        dirs
    }
}

impl TestEnv {
    /// Runs `bash -c SCRIPT` in the scratch folder with the environment of [`TestEnv::command`]
    /// and `SMOKE_RUNNER` set to the binary under test, for pipelines such as `--list | head`.
    pub fn bash(&self, script: &str) -> Output {
        self.std_command("bash")
            .arg("-c")
            .arg(script)
            .env("SMOKE_RUNNER", smoke_runner())
            .output()
            .expect("run bash")
    }
}

/// Stops a smoke-runner a test started and has not waited for (a failing assertion): SIGTERM,
/// so that the runner stops its steps' process groups and removes its test dirs, which SIGKILL
/// would leave behind; SIGKILL after 10 s for a runner that ignores it.
pub fn stop_runner(child: &mut std::process::Child) {
    if let Ok(None) = child.try_wait() {
        // SAFETY: signalling the child this test spawned.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A smoke-runner a test started: stopped with [`stop_runner`] if the test ends (a failing
/// assertion) before waiting for it, so a failing test leaves nothing running.
pub struct StopOnDrop(pub std::process::Child);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        stop_runner(&mut self.0);
    }
}
