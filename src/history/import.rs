//! `smoke-runner history import FILE…`: the JSON event files that `--json` writes (one per CI
//! shard) read back into one [`RunRecord`], so a matrix of shards is one run in the history.
//!
//! The files are read line by line; each line is one event object carrying its `schema`
//! version. Events this version does not use are skipped; a newer schema is refused.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::fnv1a::Fnv1a;
use crate::regular_file::{self, ReadError};
use crate::report::{
    EVENTS_SCHEMA, JsonEvent, JsonFailure, JsonRequirementChecked, JsonRunFinished, JsonRunStarted,
    JsonServiceFailed, JsonServiceHealthy, JsonServiceStarted, JsonServiceStopped, JsonStatus,
    JsonStepFinished, JsonSuite, JsonSuiteFinished,
};

use super::record::{CheckRecord, Outcome, RunRecord, SetupRecord, StepRecord, SuiteRecord};

/// The longest event line read (a step's output tail is bounded well below this).
const MAX_LINE: usize = 16 * 1024 * 1024;

/// An event file that cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be opened (missing, not a regular file, …).
    #[error("cannot read {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ReadError,
    },
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not an event this version understands.
    #[error("{}:{line}: {message}", path.display())]
    Event {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A file holds no `run_started` event: it is not a `--json` event file.
    #[error("{}: no run_started event; is it a file written by --json?", .0.display())]
    NotARun(PathBuf),
}

/// Reads `files` (the shards of one run) into one run record. Its exit status is
/// `failed_exit` when any shard failed, else 0. Its id, `import-` and a hash of the files'
/// events, is the same each time the same files are imported, so they are recorded once.
pub fn import_events(files: &[PathBuf], failed_exit: i32) -> Result<RunRecord, ImportError> {
    let mut run = RunRecord {
        run_id: String::new(),
        started_at: SystemTime::now(),
        finished_at: SystemTime::UNIX_EPOCH,
        git_commit: None,
        git_branch: None,
        label: None,
        host: None,
        shard: None,
        exit_status: 0,
        interrupted: false,
        suites: Vec::new(),
    };
    let mut shards = Vec::new();
    let mut failed = false;
    let mut hash = Fnv1a::default();
    let mut sorted: Vec<&PathBuf> = files.iter().collect();
    sorted.sort();
    sorted.dedup();
    for path in sorted {
        read_file(path, &mut run, &mut shards, &mut failed, &mut hash)?;
    }
    run.run_id = format!("import-{:016x}", hash.value());
    if failed {
        run.exit_status = failed_exit;
    }
    if !shards.is_empty() {
        run.shard = Some(shards.join(","));
    }
    run.finished_at = run.finished_at.max(run.started_at);
    Ok(run)
}

fn read_file(
    path: &Path,
    run: &mut RunRecord,
    shards: &mut Vec<String>,
    failed: &mut bool,
    hash: &mut Fnv1a,
) -> Result<(), ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.to_owned(),
        source,
    };
    // A FIFO or a device named by mistake is refused, never waited on.
    let file = regular_file::open(path).map_err(|source| ImportError::Open {
        path: path.to_owned(),
        source,
    })?;
    let mut reader = BufReader::new(file);
    let mut started = false;
    let mut ids = FileSuites::default();
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(read_error)?;
        if read == 0 {
            break;
        }
        number += 1;
        let event_error = |message: String| ImportError::Event {
            path: path.to_owned(),
            line: number,
            message,
        };
        if line.len() > MAX_LINE {
            return Err(event_error(format!("line longer than {MAX_LINE} bytes")));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        hash.add(&line);
        let event = parse_event(&line).map_err(event_error)?;
        started |= add_event(event, (run, &mut ids), shards, failed).map_err(event_error)?;
    }
    match started {
        true => Ok(()),
        false => Err(ImportError::NotARun(path.to_owned())),
    }
}

/// One line of an events file as an event, refusing a schema newer than this build reads.
fn parse_event(line: &[u8]) -> Result<JsonEvent, String> {
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    match value.get("schema").and_then(serde_json::Value::as_u64) {
        Some(schema) if schema <= u64::from(EVENTS_SCHEMA) => {}
        Some(schema) => {
            return Err(format!(
                "event schema {schema} is newer than this smoke-runner reads ({EVENTS_SCHEMA}); upgrade smoke-runner"
            ));
        }
        None => return Err("no `schema` field: not a --json event".into()),
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Adds what `event` says to `run` (shards, and whether a run failed, beside it); whether the
/// event was a run's start.
fn add_event(
    event: JsonEvent,
    (run, ids): (&mut RunRecord, &mut FileSuites),
    shards: &mut Vec<String>,
    failed: &mut bool,
) -> Result<bool, String> {
    match event {
        JsonEvent::RunStarted(JsonRunStarted {
            started_at,
            shard,
            label,
            git_branch,
            ..
        }) => {
            let time = parse_time(&started_at)?;
            run.started_at = run.started_at.min(time);
            shards.extend(shard);
            // Shards of one run share them; the first file's (in name order) is kept.
            run.label = run.label.take().or(label);
            run.git_branch = run.git_branch.take().or(git_branch);
            return Ok(true);
        }
        JsonEvent::RequirementChecked(JsonRequirementChecked { ref suite, .. })
        | JsonEvent::ServiceStarted(JsonServiceStarted { ref suite, .. })
        | JsonEvent::ServiceHealthy(JsonServiceHealthy { ref suite, .. })
        | JsonEvent::ServiceFailed(JsonServiceFailed { ref suite, .. })
        | JsonEvent::ServiceStopped(JsonServiceStopped { ref suite, .. }) => {
            let record = SetupRecord::of(&event);
            suite_record(run, ids, suite.clone()).setup.extend(record);
        }
        JsonEvent::StepFinished(finished) if finished.setup => {}
        JsonEvent::StepFinished(finished) => {
            let (suite, record) = step_record(*finished)?;
            suite_record(run, ids, suite).steps.push(record);
        }
        JsonEvent::SuiteFinished(JsonSuiteFinished {
            suite,
            duration_secs,
            kept_test_dir,
            ..
        }) => {
            let record = suite_record(run, ids, suite);
            record.duration = seconds(duration_secs);
            record.kept_test_dir = kept_test_dir;
        }
        JsonEvent::RunFinished(JsonRunFinished {
            success,
            interrupted,
            finished_at,
            ..
        }) => {
            let time = parse_time(&finished_at)?;
            run.finished_at = run.finished_at.max(time);
            run.interrupted |= interrupted;
            *failed |= !success;
        }
        _ => {}
    }
    Ok(false)
}

/// A finished step as the history records it, with its suite.
fn step_record(finished: JsonStepFinished) -> Result<(JsonSuite, StepRecord), String> {
    let JsonStepFinished {
        suite,
        step,
        outcome,
        skip,
        status,
        duration_secs,
        attempts,
        failures,
        output_tail,
        leaked_processes,
        log,
        log_span,
        ..
    } = finished;
    // Recorded as the run recorded it: the step's place in its suite's log.
    let log = match (log, log_span) {
        (Some(log), Some(span)) => Some(format!("{log}:{}", span.line)),
        (log, _) => log,
    };
    let outcome =
        Outcome::from_name(&outcome).ok_or_else(|| format!("unknown outcome `{outcome}`"))?;
    let record = StepRecord {
        test_name: step.test_name,
        file: suite.file.clone(),
        line: step.line.and_then(|line| u32::try_from(line).ok()),
        outcome,
        status: status_text(&status),
        duration: seconds(duration_secs),
        attempts,
        leftovers: u32::try_from(leaked_processes).unwrap_or(u32::MAX),
        log_path: log,
        skip_reason: skip.map(|s| s.reason),
        checks: failures.into_iter().map(check_record).collect(),
        output_tail,
    };
    Ok((suite, record))
}

fn check_record(failure: JsonFailure) -> CheckRecord {
    CheckRecord {
        kind: failure.check,
        expected: failure.expected,
        actual: (failure.actual).or(failure.actual_bytes.map(|n| format!("{n} bytes"))),
        message: failure.message,
    }
}

/// The suites one file's events name by id, and the record each one's events go to.
#[derive(Default)]
struct FileSuites(HashMap<usize, usize>);

/// The record of `suite` in `run`. Within one file, suites are told apart by their id in the
/// run (two suites of one run may share a file and a name); across files, a suite with the
/// same file and name is the same suite (each shard runs a share of the suites, so one suite
/// appears in one shard's file only). Files written before suites had ids tell them apart by
/// file and name alone.
fn suite_record<'r>(
    run: &'r mut RunRecord,
    ids: &mut FileSuites,
    suite: JsonSuite,
) -> &'r mut SuiteRecord {
    if let Some(&index) = suite.id.and_then(|id| ids.0.get(&id)) {
        return &mut run.suites[index];
    }
    let same = |(index, s): &(usize, &SuiteRecord)| {
        s.name == suite.name
            && s.file == suite.file
            && (suite.id.is_none() || !ids.0.values().any(|taken| taken == index))
    };
    let index = match run.suites.iter().enumerate().find(same) {
        Some((index, _)) => index,
        None => {
            run.suites.push(SuiteRecord {
                name: suite.name,
                file: suite.file,
                duration: Duration::ZERO,
                kept_test_dir: None,
                steps: Vec::new(),
                setup: Vec::new(),
            });
            run.suites.len() - 1
        }
    };
    if let Some(id) = suite.id {
        ids.0.insert(id, index);
    }
    &mut run.suites[index]
}

/// The words a live run records for the same status.
fn status_text(status: &JsonStatus) -> String {
    match (status, status.to_exit_status()) {
        (JsonStatus::FailedToStart { text }, _) => text.clone(),
        (_, Some(exit)) => exit.to_string(),
        (_, None) => "unknown".to_owned(),
    }
}

fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or_default()
}

fn parse_time(text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339_weak(text).map_err(|e| format!("bad time `{text}`: {e}"))
}
