//! `cargo test --test smoke`: the suites in `suites/` as libtest tests, through the same
//! [`Harness`] any crate can use (see the README).
//!
//! Accepts libtest's arguments (FILTER…, `--exact`, `--list`, `--format json`…) and every
//! `smoke-runner` option; the report is libtest's pretty format unless `--format` says
//! otherwise. Runs under `cargo nextest` too: each test filtered alone runs after its suite's
//! earlier steps, as setup. Settings come from the environment as for `smoke-runner`:
//! PLANDEX_ENV_FILE, PLANDEX_CMD, PLANDEX_TIMEOUT.
//!
//! When PLANDEX_CMD is not set, the Plandex suites run against the offline stand-in
//! (`tests/plandex_standin/`, built here if needed), with a placeholder API key when none is set:
//! this is how CI runs them without a Plandex server or an AI account.

use std::path::PathBuf;

use smoke_runner::Harness;
use smoke_runner::config::Settings;

fn main() {
    Harness::new()
        .suites("suites")
        .fixtures("fixtures")
        .settings(|settings| {
            if settings.env.get("PLANDEX_CMD").is_none() {
                use_plandex_standin(settings);
            }
        })
        .run_main()
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
