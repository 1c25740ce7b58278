//! The `smoke-runner` binary: parse, run, map to an exit code.

use clap::Parser;
use smoke_runner::config::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Some(Command::Exec(args)) => smoke_runner::app::exec_main(args),
        None => smoke_runner::app::run_main(&cli.run),
    };
    std::process::exit(code);
}
