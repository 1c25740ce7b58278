//! A test harness for any crate: suite files run as `cargo test` tests.
//!
//! Another project declares a test target with `harness = false` and makes its `main` one
//! expression:
//!
//! ```no_run
//! // tests/smoke.rs
//! smoke_runner::Harness::new()
//!     .suites("tests/suites")
//!     .fixtures("tests/fixtures")
//!     .run_main()
//! ```
//!
//! Every step is one test, named `suite::section::step`. The command line is libtest's (FILTER…,
//! `--exact`, `--skip`, `--list`, `--format`, `--ignored`, `--include-ignored`,
//! `--test-threads`, `-q`, `--nocapture`…) plus smoke-runner's own options; the report is
//! libtest's pretty format unless `--format` says otherwise. A test filtered alone runs after
//! its suite's earlier steps (as setup), which is what makes one process per test work, as
//! `cargo nextest` runs them. This module only gathers settings; the run is `app`'s.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::app::{EXIT_USAGE, run_suites_with};
use crate::config::{Format, RunArgs, Settings};

/// The suites, fixtures and settings of a test target; [`Harness::run_main`] runs it.
#[must_use = "a harness does nothing until `run_main` or `run`"]
pub struct Harness {
    suites: Vec<PathBuf>,
    fixtures: Option<PathBuf>,
    command: Option<String>,
    env: Vec<(OsString, OsString)>,
    adjust: Vec<SettingsHook>,
}

/// A change to the settings, made once they are read.
type SettingsHook = Box<dyn FnOnce(&mut Settings)>;

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("suites", &self.suites)
            .field("fixtures", &self.fixtures)
            .field("command", &self.command)
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

/// The harness's command line: smoke-runner's run options, and libtest flags that cargo or
/// test runners may pass and that change nothing here.
#[derive(Debug, Parser)]
#[command(name = "smoke", about = "Suite files as libtest tests")]
struct HarnessCli {
    #[command(flatten)]
    run: RunArgs,

    /// Accepted for libtest compatibility (`-Z unstable-options`).
    #[arg(short = 'Z', hide = true, value_name = "FLAG")]
    unstable: Vec<String>,

    /// Accepted for libtest compatibility.
    #[arg(long, hide = true)]
    report_time: bool,

    /// Accepted for libtest compatibility (what cargo passes to a test binary).
    #[arg(long, hide = true)]
    test: bool,
}

impl Harness {
    /// A harness with no suites yet: `tests/suites` is used when none is given.
    pub fn new() -> Self {
        Self {
            suites: Vec::new(),
            fixtures: None,
            command: None,
            env: Vec::new(),
            adjust: Vec::new(),
        }
    }

    /// A suite file, or a folder whose `*.toml` files are suites; repeatable. A relative path
    /// is relative to the crate's root (`CARGO_MANIFEST_DIR`), whatever the working directory.
    pub fn suites(mut self, path: impl Into<PathBuf>) -> Self {
        self.suites.push(path.into());
        self
    }

    /// The fixtures folder (relative to the crate's root). Without it, each suite uses the
    /// `fixtures` folder nearest above its file.
    pub fn fixtures(mut self, dir: impl Into<PathBuf>) -> Self {
        self.fixtures = Some(dir.into());
        self
    }

    /// What `run` steps invoke when their suite has no `command`, split like a shell line, for
    /// example `env!("CARGO_BIN_EXE_mytool")`. Overrides `PLANDEX_CMD`; `--cmd` overrides it.
    pub fn command(mut self, command: impl Into<String>) -> Self {
        self.command = Some(command.into());
        self
    }

    /// Sets a variable in every step's environment (and for `${NAME}` in suite files), over
    /// the process environment.
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// A last word on the settings, after the command line and the environment are read.
    pub fn settings(mut self, adjust: impl FnOnce(&mut Settings) + 'static) -> Self {
        self.adjust.push(Box::new(adjust));
        self
    }

    /// Runs with the process's arguments and exits with the run's status: the `main` of a test
    /// target with `harness = false`.
    pub fn run_main(self) -> ! {
        let code = self.run(std::env::args_os().skip(1));
        std::process::exit(code)
    }

    /// Runs with `args` (the arguments after the program name) and returns the exit status:
    /// 0 when every test passed, 1 when one failed, 2 for bad arguments or suite files.
    pub fn run<I, A>(self, args: I) -> i32
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        let argv = std::iter::once(OsString::from("smoke")).chain(args.into_iter().map(Into::into));
        let cli = match HarnessCli::try_parse_from(argv) {
            Ok(cli) => cli,
            Err(error) => {
                let _ = error.print();
                return if error.use_stderr() { EXIT_USAGE } else { 0 };
            }
        };
        let root = crate_root();
        let mut args = cli.run;
        let suites = if self.suites.is_empty() {
            vec![PathBuf::from("tests/suites")]
        } else {
            self.suites
        };
        args.suites = suites.iter().map(|path| root.join(path)).collect();
        if args.fixtures.is_none() {
            args.fixtures = self.fixtures.map(|dir| root.join(dir));
        }
        if args.format.is_none() && !args.quiet {
            args.format = Some(Format::Pretty);
        }
        let command = self.command.filter(|_| args.cmd.is_none());
        let env = self.env;
        let adjust = self.adjust;
        run_suites_with(&args, move |settings| {
            if let Some(command) = command {
                settings.env.set("PLANDEX_CMD", &command);
                settings.command = command;
            }
            for (name, value) in env {
                settings.env.set(name, value);
            }
            for adjust in adjust {
                adjust(settings);
            }
        })
        .code()
    }
}

/// The crate under test's root: cargo and cargo-nextest set `CARGO_MANIFEST_DIR` for test
/// binaries; without it, the working directory.
fn crate_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .unwrap_or_else(|| Path::new(".").to_path_buf())
}
