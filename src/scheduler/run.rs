//! The run: suites in parallel (up to `jobs` at a time), each suite's steps in order.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex};
use std::time::{Instant, SystemTime};

use crate::config::Settings;
use crate::exec::Executor;
use crate::report::{
    BrokenRule, Counts, Event, PlannedSuite, RunStart, SkipReason, SuiteResult, Summary,
};

use super::exclusive::lock_resource;
use super::selection::Selection;
use super::sink::EventSink;
use super::step_log::file_names;
use super::suite_run::{SuiteContext, run_suite};

/// Runs the selected steps of `suites` and returns the summary (also sent as the last event).
pub fn run(
    suites: &[PlannedSuite],
    selection: &Selection,
    settings: &Settings,
    executor: &Executor,
    sink: &dyn EventSink,
) -> Summary {
    let started = Instant::now();
    let order: Vec<usize> = (0..suites.len())
        .filter(|&i| {
            selection
                .steps
                .get(i)
                .is_some_and(|s| s.iter().any(|on| *on))
        })
        .collect();
    let jobs = settings.jobs.max(1).min(order.len().max(1));
    let start = run_start(suites, selection, settings, order.len(), jobs);
    let filtered_out = start.filtered_out;
    sink.emit(Event::RunStarted(start));

    let cx = SuiteContext {
        settings,
        executor,
        sink,
        run_ignored: selection.run_ignored,
    };
    let file_names = file_names(suites, &settings.masker);
    let results = run_suites((suites, &file_names), selection, &cx, order, jobs);
    let summary = summarize(
        suites,
        &results,
        settings,
        Ended {
            duration: started.elapsed(),
            filtered_out,
            interrupted: executor.interrupted().is_some(),
        },
    );
    sink.emit(Event::RunFinished(summary.clone()));
    summary
}

/// The `RunStarted` event: how many suites and steps will run, and the widest test name.
fn run_start(
    suites: &[PlannedSuite],
    selection: &Selection,
    settings: &Settings,
    suites_to_run: usize,
    jobs: usize,
) -> RunStart {
    let steps = selection.count();
    let all_steps: usize = suites.iter().map(|suite| suite.steps.len()).sum();
    let longest_name = suites
        .iter()
        .zip(&selection.steps)
        .flat_map(|(suite, on)| suite.steps.iter().zip(on))
        .filter(|(_, on)| **on)
        .map(|(step, _)| step.test_name.chars().count())
        .max()
        .unwrap_or(0);
    RunStart {
        started_at: SystemTime::now(),
        env_file: settings.env_file.clone(),
        suites: suites_to_run,
        steps,
        filtered_out: all_steps.saturating_sub(steps),
        longest_name,
        jobs,
        shard: selection.shard.clone(),
        label: settings.label.clone(),
        git_branch: settings.git_branch.clone(),
    }
}

/// Runs the suites in `order` on `jobs` workers (suites sharing an `exclusive` resource one at
/// a time), each with its file name, and hands back each suite's result with its index, in
/// run order.
fn run_suites(
    (suites, file_names): (&[PlannedSuite], &[String]),
    selection: &Selection,
    cx: &SuiteContext<'_>,
    order: Vec<usize>,
    jobs: usize,
) -> Vec<(usize, SuiteResult)> {
    let capacity = order.len();
    let queue = SuiteQueue::new(suites, order);
    let finished = Mutex::new(Vec::with_capacity(capacity));
    let worker = || {
        while let Some(index) = queue.take() {
            // Released even if the suite's run panics, so that no worker waits forever.
            let _release = Release(&queue, index);
            let _held = suites[index]
                .exclusive
                .as_deref()
                .and_then(|resource| lock_resource(&cx.settings.temp_root, resource, cx.executor));
            let suite = (&suites[index], file_names[index].as_str());
            let result = run_suite(suite, &selection.steps[index], cx);
            finished
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((index, result));
        }
    };
    if jobs == 1 {
        worker();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(worker);
            }
        });
    }
    let mut results = finished.into_inner().unwrap_or_else(|p| p.into_inner());
    // Suites finish in any order; the summary lists them in run order.
    results.sort_by_key(|(index, _)| *index);
    results
}

/// What the run knows about its own end, beside its suites' results.
struct Ended {
    duration: std::time::Duration,
    filtered_out: usize,
    interrupted: bool,
}

/// The run's summary: the suites' counts added up, and the rules the run broke.
fn summarize(
    suites: &[PlannedSuite],
    results: &[(usize, SuiteResult)],
    settings: &Settings,
    ended: Ended,
) -> Summary {
    let mut counts = Counts::default();
    let mut kept_test_dirs = Vec::new();
    let mut leaked_processes = 0;
    let mut skipped_suites = Vec::new();
    for (index, result) in results {
        counts.add(&result.counts);
        leaked_processes += result.leaked_processes;
        kept_test_dirs.extend(result.kept_test_dir.clone());
        if let Some(reason) = &result.skipped_because {
            skipped_suites.push((suites[*index].name.clone(), reason.clone()));
        }
    }
    let broken_rules = broken_rules(settings, &counts, &skipped_suites);
    Summary {
        counts,
        duration: ended.duration,
        finished_at: SystemTime::now(),
        interrupted: ended.interrupted,
        kept_test_dirs,
        filtered_out: ended.filtered_out,
        leaked_processes,
        skipped_suites,
        broken_rules,
        gates: None,
    }
}

/// The rules the settings make of skips, flaky and degraded steps (`--fail-on-skip`,
/// `--flaky-fails`, `--degraded-fails`).
fn broken_rules(
    settings: &Settings,
    counts: &Counts,
    skipped_suites: &[(String, SkipReason)],
) -> Vec<BrokenRule> {
    let mut broken_rules = Vec::new();
    if settings.fail_on_skip {
        for (suite, reason) in skipped_suites {
            match reason {
                SkipReason::MissingRequirement(program) => {
                    broken_rules.push(BrokenRule::SkippedForMissingProgram {
                        suite: suite.clone(),
                        program: program.clone(),
                    });
                }
                SkipReason::RequirementNotMet { reason, .. } => {
                    broken_rules.push(BrokenRule::SkippedForUnmetRequirement {
                        suite: suite.clone(),
                        reason: reason.clone(),
                    });
                }
                _ => {}
            }
        }
    }
    if settings.flaky_fails && counts.flaky > 0 {
        broken_rules.push(BrokenRule::FlakySteps(counts.flaky));
    }
    if settings.degraded_fails && counts.degraded > 0 {
        broken_rules.push(BrokenRule::DegradedSteps(counts.degraded));
    }
    broken_rules
}

/// Frees a suite's resource when dropped.
struct Release<'q, 'a>(&'q SuiteQueue<'a>, usize);

impl Drop for Release<'_, '_> {
    fn drop(&mut self) {
        self.0.done(self.1);
    }
}

/// The suites waiting to run, handed out in order, except that a suite whose `exclusive`
/// resource is held by a running suite waits for it while later suites go ahead.
struct SuiteQueue<'a> {
    suites: &'a [PlannedSuite],
    state: Mutex<QueueState<'a>>,
    released: Condvar,
}

struct QueueState<'a> {
    waiting: Vec<usize>,
    held: HashSet<&'a str>,
}

impl<'a> SuiteQueue<'a> {
    fn new(suites: &'a [PlannedSuite], order: Vec<usize>) -> Self {
        Self {
            suites,
            state: Mutex::new(QueueState {
                waiting: order,
                held: HashSet::new(),
            }),
            released: Condvar::new(),
        }
    }

    /// The next suite to run, waiting while every waiting suite's resource is held; `None`
    /// once nothing is left.
    fn take(&self) -> Option<usize> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if state.waiting.is_empty() {
                return None;
            }
            let free = state.waiting.iter().position(|&index| {
                self.suites[index]
                    .exclusive
                    .as_deref()
                    .is_none_or(|resource| !state.held.contains(resource))
            });
            if let Some(position) = free {
                let index = state.waiting.remove(position);
                if let Some(resource) = self.suites[index].exclusive.as_deref() {
                    state.held.insert(resource);
                }
                return Some(index);
            }
            state = self.released.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Suite `index` has finished: its resource is free again.
    fn done(&self, index: usize) {
        if let Some(resource) = self.suites[index].exclusive.as_deref() {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.held.remove(resource);
            drop(state);
            self.released.notify_all();
        }
    }
}
