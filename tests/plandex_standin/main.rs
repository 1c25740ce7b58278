//! `plandex-standin`: an offline, deterministic stand-in for the `plandex` command line, used by
//! this project's own tests and CI to run the Plandex suites (`suites/plandex_*.toml`) without
//! a Plandex server or an AI account. It is a test fixture, not Plandex: answers are canned,
//! "AI" changes are fixed edits chosen from words of the prompt.
//!
//! It keeps real state in a state dir (`PLANDEX_STANDIN_HOME`, else `.plandex-standin` in the
//! current directory): plans, the current plan, per-branch context, conversation, pending
//! changes and log, archive, per-plan config and model pack, custom models and packs. Each
//! command checks what the real one would: an unknown plan or branch, a missing API key for AI
//! commands (`OPENROUTER_API_KEY` or `OPENAI_API_KEY`), nothing to apply, build or reject, an
//! unknown config key, a malformed custom models file… each is an error (exit 1, message on
//! stderr). It never prints the value of a variable it reads.
//!
//! The knob: `PLANDEX_STANDIN_BREAK=CMD=MODE[,CMD=MODE…]` makes subcommand CMD misbehave on
//! purpose, so tests can show a suite going red:
//! - `fail`: exit 1 with a message, changing nothing;
//! - `hang`: sleep until killed;
//! - `noop`: exit 0 silently, changing nothing (a step that "passes" but did no work).

mod args;
mod commands;
mod state;

use std::process::ExitCode;
use std::time::Duration;

/// What a command returns: its output on success, a message on failure.
pub type CmdResult = Result<String, String>;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = argv.first().cloned() else {
        print!("{}", commands::USAGE);
        return ExitCode::SUCCESS;
    };
    match broken_mode(&command) {
        Some(Mode::Fail) => {
            eprintln!("error: `{command}` failed (broken on purpose by PLANDEX_STANDIN_BREAK)");
            return ExitCode::FAILURE;
        }
        Some(Mode::Hang) => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        Some(Mode::Noop) => return ExitCode::SUCCESS,
        None => {}
    }
    match commands::dispatch(&command, &argv[1..]) {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// How a subcommand is broken on purpose.
enum Mode {
    Fail,
    Hang,
    Noop,
}

/// The mode `PLANDEX_STANDIN_BREAK` sets for `command`, if any.
fn broken_mode(command: &str) -> Option<Mode> {
    let knob = std::env::var("PLANDEX_STANDIN_BREAK").ok()?;
    knob.split(',').find_map(|entry| {
        let (name, mode) = entry.trim().split_once('=')?;
        if name.trim() != command {
            return None;
        }
        match mode.trim() {
            "fail" => Some(Mode::Fail),
            "hang" => Some(Mode::Hang),
            "noop" => Some(Mode::Noop),
            _ => None,
        }
    })
}
