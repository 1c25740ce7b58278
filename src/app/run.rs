//! `smoke-runner [OPTIONS] [FILTER]`: load settings and suites, run, report, exit status.

use std::io::Write;
use std::sync::Mutex;

use libtest_mimic::Arguments;

use crate::config::{ColorWhen, Format, RunArgs, Settings};
use crate::exec::{Executor, Interrupts};
use crate::report::{ColorChoice, HumanOptions, HumanReporter};
use crate::scheduler::{self, Filter, Selection};
use crate::suite::{Suite, load_suites};

use super::libtest::run_libtest;

/// Exit status: every selected step passed.
pub const EXIT_OK: i32 = 0;
/// Exit status: a step failed or timed out.
pub const EXIT_FAILED: i32 = 1;
/// Exit status: bad usage, bad settings, or a bad suite file.
pub const EXIT_USAGE: i32 = 2;

/// Runs suites as the command line asks and returns the exit status.
pub fn run_main(args: &RunArgs) -> i32 {
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
    let settings = match Settings::from_args(args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_USAGE;
        }
    };
    for warning in &settings.warnings {
        eprintln!("warning: {warning}");
    }
    let suites = match load_suites(&args.suites, args.fixtures.as_deref()) {
        Ok(suites) => suites,
        Err(errors) => {
            eprintln!("{errors}");
            return executor
                .interrupted()
                .map_or(EXIT_USAGE, |signal| 128 + signal);
        }
    };
    if let Some(signal) = executor.interrupted() {
        return 128 + signal;
    }
    let format = match (args.format, args.quiet) {
        (Some(format), _) => format,
        (None, true) => Format::Terse,
        (None, false) => Format::Human,
    };
    if args.list {
        // Listing runs no command: a closed pipe (`--list | head`) may end the process quietly,
        // like any Unix filter, instead of failing a write.
        // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    if format == Format::Human && !args.list {
        run_human(&suites, &settings, args, &executor)
    } else {
        let outcome = run_libtest(
            &suites,
            &settings,
            &libtest_arguments(args, format, &settings),
            executor,
        );
        exit_status(outcome.interrupted, outcome.conclusion.has_failed())
    }
}

fn exit_status(interrupted: Option<i32>, failed: bool) -> i32 {
    match (interrupted, failed) {
        (Some(signal), _) => 128 + signal,
        (None, true) => EXIT_FAILED,
        (None, false) => EXIT_OK,
    }
}

fn run_human(suites: &[Suite], settings: &Settings, args: &RunArgs, executor: &Executor) -> i32 {
    let filter = Filter {
        filter: args.filter.clone(),
        exact: args.exact,
        skip: args.skip.clone(),
        ignored: args.ignored,
        include_ignored: args.include_ignored,
    };
    let selection = Selection::new(suites, &filter);
    let stdout = std::io::stdout();
    let color = color_choice(args.color).resolve(&stdout);
    let reporter = Mutex::new(HumanReporter::new(
        stdout,
        HumanOptions {
            color,
            ..HumanOptions::default()
        },
    ));
    let failed_write = Mutex::new(None);
    let sink = |event: &crate::report::Event<'_>| {
        let mut reporter = reporter.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(error) = reporter.report(event) {
            failed_write
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(error);
        }
    };
    let summary = scheduler::run(suites, &selection, settings, executor, &sink);
    drop(reporter);
    let _ = std::io::stdout().flush();
    if let Some(error) = failed_write.into_inner().unwrap_or_else(|p| p.into_inner())
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("warning: could not write the report: {error}");
    }
    let interrupted = summary
        .interrupted
        .then(|| executor.interrupted().unwrap_or(libc::SIGINT));
    exit_status(interrupted, !summary.counts.success())
}

fn color_choice(when: ColorWhen) -> ColorChoice {
    match when {
        ColorWhen::Auto => ColorChoice::Auto,
        ColorWhen::Always => ColorChoice::Always,
        ColorWhen::Never => ColorChoice::Never,
    }
}

/// libtest-mimic's arguments from ours.
fn libtest_arguments(args: &RunArgs, format: Format, settings: &Settings) -> Arguments {
    Arguments {
        filter: args.filter.clone(),
        exact: args.exact,
        skip: args.skip.clone(),
        ignored: args.ignored,
        include_ignored: args.include_ignored,
        list: args.list,
        quiet: format == Format::Terse,
        nocapture: args.nocapture,
        show_output: args.show_output,
        test_threads: Some(settings.jobs),
        format: Some(match format {
            Format::Terse => libtest_mimic::FormatSetting::Terse,
            Format::Json => libtest_mimic::FormatSetting::Json,
            Format::Human | Format::Pretty => libtest_mimic::FormatSetting::Pretty,
        }),
        color: Some(match args.color {
            ColorWhen::Auto => libtest_mimic::ColorSetting::Auto,
            ColorWhen::Always => libtest_mimic::ColorSetting::Always,
            ColorWhen::Never => libtest_mimic::ColorSetting::Never,
        }),
        ..Arguments::default()
    }
}
