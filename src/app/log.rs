//! `smoke-runner log RUN STEP`: one step's part of its suite's log, as the run saved it
//! (masked), found through the log's index (`scheduler::step_log`).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::LogArgs;
use crate::scheduler::{INDEX_SUFFIX, IndexEntry, is_run_id, read_index, read_part, run_folders};

use super::exit::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// An index is read up to this size (a line is about 100 bytes).
const INDEX_LIMIT: u64 = 16 * 1024 * 1024;

/// A step found in a run's logs.
struct Found {
    log: PathBuf,
    entry: IndexEntry,
}

/// Runs `smoke-runner log`.
pub fn log_main(args: &LogArgs) -> i32 {
    let run = match run_folder(&args.log_dir, &args.run) {
        Ok(run) => run,
        Err(message) => {
            stderr_line!("error: {message}");
            return EXIT_USAGE;
        }
    };
    let found = match find_step(&run, &args.step) {
        Ok(found) => found,
        Err(message) => {
            stderr_line!("error: {message}");
            return EXIT_FAILED;
        }
    };
    match read_part(&found.log, found.entry.offset, found.entry.length) {
        Ok(bytes) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&bytes).and_then(|()| out.flush());
            EXIT_OK
        }
        Err(error) => {
            stderr_line!("error: cannot read {}: {error}", found.log.display());
            EXIT_FAILED
        }
    }
}

/// The folder of the run `run` (an id or `last`) under `root`.
fn run_folder(root: &Path, run: &str) -> Result<PathBuf, String> {
    if run == "last" {
        let runs = run_folders(root)
            .map_err(|error| format!("cannot read the log folder {}: {error}", root.display()))?;
        let newest = runs.first().ok_or_else(|| {
            format!(
                "no run has step logs in {} (pick another folder with --log-dir)",
                root.display()
            )
        })?;
        return Ok(root.join(newest));
    }
    if !is_run_id(run) {
        return Err(format!(
            "`{run}` is not a run id (like 20260121-143000-4242, a folder of {}) nor `last`",
            root.display()
        ));
    }
    let folder = root.join(run);
    if !folder.is_dir() {
        return Err(format!(
            "no step logs for run {run} in {} (deleted by retention, or another --log-dir)",
            root.display()
        ));
    }
    Ok(folder)
}

/// The step `wanted` names in the run folder `run`: an exact test name, else the one step
/// whose name contains it.
fn find_step(run: &Path, wanted: &str) -> Result<Found, String> {
    let mut steps: Vec<Found> = Vec::new();
    for log in suite_logs(run)? {
        let entries = read_index(&log, INDEX_LIMIT)
            .map_err(|error| format!("cannot read the index of {}: {error}", log.display()))?;
        for entry in entries {
            // A retried step has a line per attempt; the last covers them all.
            match steps
                .iter_mut()
                .find(|found| found.log == log && found.entry.step == entry.step)
            {
                Some(found) => found.entry = entry,
                None => steps.push(Found {
                    log: log.clone(),
                    entry,
                }),
            }
        }
    }
    if let Some(index) = steps.iter().position(|found| found.entry.name == wanted) {
        return Ok(steps.swap_remove(index));
    }
    let mut matching: Vec<Found> = steps
        .into_iter()
        .filter(|found| found.entry.name.contains(wanted))
        .collect();
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => Err(format!(
            "no step of run {} matches `{wanted}` (test names as the report shows them)",
            run.display()
        )),
        _ => {
            let names: Vec<&str> = matching.iter().map(|f| f.entry.name.as_str()).collect();
            Err(format!(
                "`{wanted}` matches {} steps: {}; give the whole test name",
                names.len(),
                names.join(", ")
            ))
        }
    }
}

/// The suite logs of a run folder that have an index, in name order.
fn suite_logs(run: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(run)
        .map_err(|error| format!("cannot read {}: {error}", run.display()))?;
    let mut logs: Vec<PathBuf> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let log = name.strip_suffix(INDEX_SUFFIX)?;
            entry.file_type().ok()?.is_file().then(|| run.join(log))
        })
        .collect();
    logs.sort();
    Ok(logs)
}
