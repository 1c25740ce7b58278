//! The `smoke-runner` binary: parse, run, map to an exit code.

use clap::Parser;
use smoke_runner::app::EXEC_RUNNER_FAILED;
use smoke_runner::config::{Cli, Command};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let is_exec = std::env::args_os().nth(1).is_some_and(|arg| arg == "exec");
            let _ = error.print();
            let code = match error.use_stderr() {
                false => 0, // --help, --version
                true if is_exec => EXEC_RUNNER_FAILED,
                true => error.exit_code(),
            };
            std::process::exit(code);
        }
    };
    let code = match &cli.command {
        Some(Command::Exec(args)) => smoke_runner::app::exec_main(args),
        Some(Command::History(args)) => smoke_runner::app::history_main(args),
        Some(Command::Report(args)) => smoke_runner::app::report_main(args),
        Some(Command::Import(args)) => smoke_runner::app::import_main(args),
        Some(Command::Serve(args)) => smoke_runner::app::serve_main(args),
        Some(Command::Log(args)) => smoke_runner::app::log_main(args),
        None => smoke_runner::app::run_main(&cli.run),
    };
    std::process::exit(code);
}
