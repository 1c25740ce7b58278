//! The run: suites in parallel (up to `jobs` at a time), each suite's steps in order.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use crate::config::Settings;
use crate::exec::Executor;
use crate::report::{Counts, Event, RunStart, Summary};
use crate::suite::Suite;

use super::selection::Selection;
use super::sink::EventSink;
use super::suite_run::{SuiteContext, run_suite};

/// Runs the selected steps of `suites` and returns the summary (also sent as the last event).
pub fn run(
    suites: &[Suite],
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
    sink.emit(&Event::RunStarted(&RunStart {
        started_at: SystemTime::now(),
        env_file: settings.env_file.clone(),
        suites: order.len(),
        steps,
        filtered_out: all_steps.saturating_sub(steps),
        longest_name,
        jobs,
    }));

    let cx = SuiteContext {
        settings,
        executor,
        sink,
        run_ignored: selection.run_ignored,
    };
    let next = AtomicUsize::new(0);
    let finished = Mutex::new(Vec::with_capacity(order.len()));
    let worker = || {
        while let Some(&index) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let result = run_suite(&suites[index], &selection.steps[index], &cx);
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
    let mut counts = Counts::default();
    let mut kept_test_dirs = Vec::new();
    let mut leaked_processes = 0;
    let mut skipped_suites = Vec::new();
    for (index, result) in &results {
        counts.add(&result.counts);
        leaked_processes += result.leaked_processes;
        kept_test_dirs.extend(result.kept_test_dir.clone());
        if let Some(reason) = &result.skipped_because {
            skipped_suites.push((suites[*index].name.clone(), reason.clone()));
        }
    }
    let summary = Summary {
        counts,
        duration: started.elapsed(),
        finished_at: SystemTime::now(),
        interrupted: executor.interrupted().is_some(),
        kept_test_dirs,
        filtered_out: all_steps.saturating_sub(steps),
        leaked_processes,
        skipped_suites,
    };
    sink.emit(&Event::RunFinished(&summary));
    summary
}
