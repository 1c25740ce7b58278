//! `cargo test --test smoke`: the suites in `suites/` as libtest tests.
//!
//! Accepts libtest's arguments (FILTER, `--exact`, `--list`, `--format json`…). Settings come
//! from the environment as for `smoke-runner`: PLANDEX_ENV_FILE, PLANDEX_CMD, PLANDEX_TIMEOUT.
//!
//! When PLANDEX_CMD is not set, the Plandex suites run against the offline stand-in
//! (`tests/plandex_standin/`, built here if needed), with a placeholder API key when none is set:
//! this is how CI runs them without a Plandex server or an AI account.

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
    let mut settings = match Settings::from_args(&run_args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    if settings.env.get("PLANDEX_CMD").is_none() {
        use_plandex_standin(&mut settings);
    }
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

/// Points `PLANDEX_CMD` at the offline stand-in and gives it a placeholder key if none is set.
fn use_plandex_standin(settings: &mut Settings) {
    let standin = plandex_standin();
    settings.command = standin.display().to_string();
    settings.env.set("PLANDEX_CMD", &standin);
    let has_key = ["OPENROUTER_API_KEY", "OPENAI_API_KEY"]
        .iter()
        .any(|key| settings.env.get(key).is_some());
    if !has_key {
        settings
            .env
            .set("OPENROUTER_API_KEY", "offline-standin-placeholder-key");
    }
}

/// `target/<profile>/examples/plandex-standin`, built when `cargo test` did not build it.
fn plandex_standin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps");
    let path = target.join("examples").join("plandex-standin");
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--example", "plandex-standin"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --example plandex-standin");
        assert!(
            status.success(),
            "cargo build --example plandex-standin failed"
        );
    }
    path
}
