//! `cargo test --test smoke`: the suites in `suites/` as libtest tests.
//!
//! Accepts libtest's arguments (FILTER, `--exact`, `--list`, `--format json`…). Settings come
//! from the environment as for `smoke-runner`: PLANDEX_ENV_FILE, PLANDEX_CMD, PLANDEX_TIMEOUT.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use smoke_runner::app::run_libtest;
use smoke_runner::config::{Cli, Settings};
use smoke_runner::exec::{Executor, Interrupts};
use smoke_runner::suite::load_paths;

fn main() -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut run_args = Cli::parse_from(["smoke-runner"]).run;
    run_args.fixtures = Some(root.join("fixtures"));
    run_args.jobs = args.test_threads;
    let settings = match Settings::from_args(&run_args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let suites = match load_paths(&[root.join("suites")]) {
        Ok(suites) => suites,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(2);
        }
    };
    let executor =
        Interrupts::install().map_or_else(|_| Executor::new(), Executor::with_interrupts);
    let run = run_libtest(&suites, &settings, &args, executor);
    match run.interrupted {
        Some(signal) => ExitCode::from(128 + signal as u8),
        None => run.conclusion.exit_code(),
    }
}
