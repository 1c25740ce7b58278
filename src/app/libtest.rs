//! The libtest front end: every step is one libtest test, printed by libtest-mimic.
//!
//! The scheduler runs in a background thread exactly as for the human report; each libtest
//! trial waits for its step's result and turns it into libtest's outcome. Filtering uses
//! libtest-mimic's own rules, so `--list`, FILTER, `--exact` and `--skip` agree with what runs.

use std::sync::{Arc, Condvar, Mutex};

use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};

use crate::config::Settings;
use crate::exec::Executor;
use crate::report::{Event, StepResult, Verdict};
use crate::scheduler::{self, Selection};
use crate::suite::Suite;

/// One step's result, filled in by the scheduler thread, awaited by its trial.
#[derive(Default)]
struct Slot {
    result: Mutex<Option<StepResult>>,
    ready: Condvar,
}

impl Slot {
    fn fill(&self, result: StepResult) {
        *self.result.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        self.ready.notify_all();
    }

    fn wait(&self) -> StepResult {
        let mut guard = self.result.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(result) = guard.take() {
                return result;
            }
            guard = self.ready.wait(guard).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// What a libtest run ended with.
#[derive(Debug)]
pub struct LibtestRun {
    /// libtest-mimic's counts.
    pub conclusion: Conclusion,
    /// The signal that interrupted the run, if any.
    pub interrupted: Option<i32>,
}

/// Runs `suites` as libtest tests with libtest's arguments.
pub fn run_libtest(
    suites: &[Suite],
    settings: &Settings,
    args: &Arguments,
    executor: Executor,
) -> LibtestRun {
    let slots: Arc<Vec<Vec<Slot>>> = Arc::new(
        suites
            .iter()
            .map(|suite| suite.steps.iter().map(|_| Slot::default()).collect())
            .collect(),
    );
    // Every step with its position, in suite order: the order of trials and of selection.
    let steps: Vec<(usize, usize, &crate::suite::Step)> = suites
        .iter()
        .enumerate()
        .flat_map(|(s, suite)| {
            suite
                .steps
                .iter()
                .enumerate()
                .map(move |(i, step)| (s, i, step))
        })
        .collect();
    let trials: Vec<Trial> = steps
        .iter()
        .copied()
        .map(|(s, i, step)| {
            let slots = Arc::clone(&slots);
            Trial::ignorable_test(step.test_name.clone(), move || {
                to_libtest(slots[s][i].wait())
            })
            .with_ignored_flag(step.ignore.is_some())
        })
        .collect();

    if args.list {
        return LibtestRun {
            conclusion: libtest_mimic::run(args, trials),
            interrupted: None,
        };
    }

    // Select with libtest-mimic's own rules, trial by trial, in the same order.
    let mut flags = trials.iter().map(|trial| !args.is_filtered_out(trial));
    let selection = Selection {
        steps: suites
            .iter()
            .map(|suite| {
                suite
                    .steps
                    .iter()
                    .map(|_| flags.next().unwrap_or(false))
                    .collect()
            })
            .collect(),
        run_ignored: args.ignored || args.include_ignored,
    };

    // Events carry `&Step` borrowed from `suites`; its address identifies the slot.
    let address = |step: &crate::suite::Step| step as *const crate::suite::Step as usize;
    let index: std::collections::HashMap<usize, (usize, usize)> = steps
        .iter()
        .map(|&(s, i, step)| (address(step), (s, i)))
        .collect();
    let fill_slots = {
        let slots = Arc::clone(&slots);
        move |event: &Event<'_>| match event {
            Event::StepFinished { step, result, .. } => {
                if let Some(&(s, i)) = index.get(&address(step)) {
                    slots[s][i].fill((*result).clone());
                }
            }
            Event::SuiteFinished { suite, result } => {
                if let Some(dir) = &result.kept_test_dir {
                    eprintln!(
                        "note: kept the test dir of suite `{}` for inspection: {}",
                        suite.name,
                        dir.display()
                    );
                }
            }
            _ => {}
        }
    };

    let printed = std::thread::scope(|scope| {
        let executor = &executor;
        let selection = &selection;
        scope.spawn(move || scheduler::run(suites, selection, settings, executor, &fill_slots));
        run_printer(args, trials)
    });
    match printed {
        Ok(conclusion) => LibtestRun {
            conclusion,
            interrupted: executor.interrupted(),
        },
        Err(ReaderGone) => LibtestRun {
            conclusion: Conclusion {
                num_filtered_out: 0,
                num_passed: 0,
                num_failed: 0,
                num_ignored: 0,
                num_measured: 0,
            },
            interrupted: Some(libc::SIGPIPE),
        },
    }
}

/// The reader of standard output went away (`--format pretty | head -1`).
struct ReaderGone;

thread_local! {
    /// Set while this thread runs libtest-mimic's printer, whose broken-pipe panics are ours
    /// to catch and keep quiet.
    static PRINTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs libtest-mimic, which unwraps every write to standard output: when the reader of a pipe
/// has gone, that is a panic. It is caught here, without its message, and reported as the run
/// of a process killed by SIGPIPE, like any Unix filter whose reader left. The scheduler still
/// finishes the steps it started, so test dirs are cleaned up as usual.
fn run_printer(args: &Arguments, trials: Vec<Trial>) -> Result<Conclusion, ReaderGone> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !(PRINTING.get() && is_broken_pipe(info.payload())) {
                previous(info);
            }
        }));
    });
    PRINTING.set(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        libtest_mimic::run(args, trials)
    }));
    PRINTING.set(false);
    match result {
        Ok(conclusion) => Ok(conclusion),
        Err(payload) if is_broken_pipe(payload.as_ref()) => Err(ReaderGone),
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Whether a panic is libtest-mimic's `unwrap()` of a write that failed with `BrokenPipe`:
/// its message is the only trace of the error it dropped.
fn is_broken_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    message.contains("kind: BrokenPipe")
}

/// A step result as libtest sees it: ok, FAILED with a message, or ignored with the reason.
fn to_libtest(result: StepResult) -> Result<Completion, Failed> {
    match &result.verdict {
        Verdict::Passed => Ok(Completion::Completed),
        Verdict::Skipped(reason) => Ok(Completion::ignored_with(reason)),
        Verdict::Failed | Verdict::TimedOut => Err(Failed::from(failure_message(&result))),
    }
}

fn failure_message(result: &StepResult) -> String {
    let mut message = String::new();
    if !result.command_line.is_empty() {
        message.push_str(&format!("command:  {}\n", result.command_line));
    }
    message.push_str(&format!("status:   {}\n", result.status));
    message.push_str(&format!(
        "duration: {:.2}s\n",
        result.duration.as_secs_f64()
    ));
    for failure in &result.failures {
        message.push_str(&format!("check:    {failure}\n"));
    }
    if result.leaked_processes > 0 {
        message.push_str(&format!(
            "leaked:   {} process(es) killed after the command\n",
            result.leaked_processes
        ));
    }
    if !result.output_tail.is_empty() {
        message.push_str("output (last lines):\n");
        for line in result.output_tail.lines() {
            message.push_str(&format!("  | {line}\n"));
        }
    }
    message
}
