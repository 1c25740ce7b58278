//! `cargo test --test smoke`: the suites in `suites/` as libtest tests.
//!
//! Accepts libtest's arguments (FILTER, `--exact`, `--list`, `--format json`…) and every
//! `smoke-runner` option; the report is libtest's pretty format unless `--format` says
//! otherwise. Settings come from the environment as for `smoke-runner`: PLANDEX_ENV_FILE,
//! PLANDEX_CMD, PLANDEX_TIMEOUT.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use smoke_runner::app::run_suites;
use smoke_runner::config::{Cli, Format};

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(
        std::iter::once("smoke".into()).chain(std::env::args_os().skip(1)),
    ) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = cli.run;
    args.suites = vec![root.join("suites")];
    args.fixtures = Some(root.join("fixtures"));
    if args.format.is_none() && !args.quiet {
        args.format = Some(Format::Pretty);
    }
    let code = run_suites(&args).code();
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
