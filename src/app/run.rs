//! `smoke-runner [OPTIONS] [FILTER]`: load settings and suites, run, report, exit status.
//!
//! One run, one event stream: the chosen report on standard output (the human report or a
//! libtest format) is one consumer of the scheduler's [`Fanout`], which masks secrets first.

use std::io::{self, Write};

use crate::config::{ColorWhen, Format, RunArgs, Settings};
use crate::exec::{Executor, Interrupts};
use crate::report::{
    ColorChoice, HumanOptions, HumanReporter, LibtestFormat, LibtestReporter, Masker, write_list,
};
use crate::scheduler::{self, Fanout, Filter, Selection};
use crate::suite::{Suite, load_suites};

use super::exit::RunEnd;
use super::history::RunHistory;
use crate::history::{HISTORY_ENV, HistoryLocation};

/// Runs suites as the command line asks and returns the exit status.
pub fn run_main(args: &RunArgs) -> i32 {
    run_suites(args).code()
}

/// Runs suites as `args` ask: settings, suites, selection, the run and its reports. Errors are
/// printed on standard error (one line each, suite errors with their positions).
pub fn run_suites(args: &RunArgs) -> RunEnd {
    run_suites_with(args, |_| {})
}

/// [`run_suites`], with a last word on the settings before anything runs (the smoke harness
/// points `PLANDEX_CMD` at its stand-in this way).
pub fn run_suites_with(args: &RunArgs, adjust: impl FnOnce(&mut Settings)) -> RunEnd {
    // Installed before anything is read, so that an interrupt during loading is seen too.
    let executor = match Interrupts::install() {
        Ok(interrupts) => Executor::with_interrupts(interrupts),
        Err(error) => {
            eprintln!(
                "warning: cannot install signal handlers ({error}); Ctrl-C will not clean up"
            );
            Executor::new()
        }
    };
    let interrupted = |executor: &Executor| {
        executor.interrupted().map(|signal| RunEnd::Finished {
            failed: true,
            interrupted: Some(signal),
        })
    };
    let mut settings = match Settings::from_args(args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return RunEnd::Usage;
        }
    };
    adjust(&mut settings);
    for warning in &settings.warnings {
        eprintln!("warning: {warning}");
    }
    let suites = match load_suites(&args.suites, args.fixtures.as_deref()) {
        Ok(suites) => suites,
        Err(errors) => {
            eprintln!("{errors}");
            return interrupted(&executor).unwrap_or(RunEnd::Usage);
        }
    };
    if let Some(end) = interrupted(&executor) {
        return end;
    }
    let selection = Selection::new(&suites, &filter(args));
    if args.list {
        return list(&suites, &selection);
    }
    let history = RunHistory::open(&history_location(args), None);
    let masker = Masker::none();
    // A report that cannot be written stops the run: commands are stopped, test dirs removed.
    let mut fanout = Fanout::new(&masker, || executor.stop(libc::SIGPIPE));
    let stdout = io::stdout();
    let color = color_choice(args.color).resolve(&stdout);
    match format(args) {
        Format::Human => fanout.add(
            "standard output",
            HumanReporter::new(
                stdout,
                HumanOptions {
                    color,
                    ..HumanOptions::default()
                },
            )
            .with_hints(history.baselines().clone()),
        ),
        libtest => fanout.add(
            "standard output",
            LibtestReporter::new(stdout, libtest_format(libtest), color),
        ),
    }
    fanout.add("the run history", history.consumer());
    let summary = scheduler::run(&suites, &selection, &settings, &executor, &fanout);
    let end = match fanout.into_failure() {
        Some(failure) => report_failed(&failure.target, &failure.error),
        None => RunEnd::Finished {
            failed: !summary.counts.success() || summary.interrupted,
            interrupted: summary
                .interrupted
                .then(|| executor.interrupted().unwrap_or(libc::SIGINT)),
        },
    };
    history.finish(end.code());
    end
}

/// `--history`, `SMOKE_HISTORY`, `--no-history`.
fn history_location(args: &RunArgs) -> HistoryLocation {
    let env = std::env::var(HISTORY_ENV).ok();
    HistoryLocation::resolve(args.history.as_deref(), env.as_deref(), args.no_history)
}

/// `--list`: the selected steps' names, nothing run.
fn list(suites: &[Suite], selection: &Selection) -> RunEnd {
    let steps = suites
        .iter()
        .zip(&selection.steps)
        .flat_map(|(suite, on)| {
            suite
                .steps
                .iter()
                .zip(on)
                .map(move |(s, on)| (suite, s, on))
        })
        .filter(|(_, _, on)| **on)
        .map(|(suite, step, _)| (suite, step));
    match write_list(&mut io::stdout().lock(), steps) {
        Ok(()) => RunEnd::Finished {
            failed: false,
            interrupted: None,
        },
        Err(error) => report_failed("standard output", &error),
    }
}

/// A report could not be written: one line on standard error, unless the reader of a pipe
/// simply left (`--list | head`), which is no error for a filter.
fn report_failed(target: &str, error: &io::Error) -> RunEnd {
    if error.kind() != io::ErrorKind::BrokenPipe {
        let _ = writeln!(
            io::stderr(),
            "error: cannot write the report to {target}: {error}; the run was stopped"
        );
    }
    RunEnd::ReportFailed(error.kind())
}

fn filter(args: &RunArgs) -> Filter {
    Filter {
        filters: args.filter.clone(),
        exact: args.exact,
        skip: args.skip.clone(),
        ignored: args.ignored,
        include_ignored: args.include_ignored,
    }
}

fn format(args: &RunArgs) -> Format {
    match (args.format, args.quiet) {
        (Some(format), _) => format,
        (None, true) => Format::Terse,
        (None, false) => Format::Human,
    }
}

fn libtest_format(format: Format) -> LibtestFormat {
    match format {
        Format::Terse => LibtestFormat::Terse,
        Format::Json => LibtestFormat::Json,
        Format::Human | Format::Pretty => LibtestFormat::Pretty,
    }
}

fn color_choice(when: ColorWhen) -> ColorChoice {
    match when {
        ColorWhen::Auto => ColorChoice::Auto,
        ColorWhen::Always => ColorChoice::Always,
        ColorWhen::Never => ColorChoice::Never,
    }
}
