//! `smoke-runner history import FILE…`: the JSON event files that `--json` writes (one per CI
//! shard) read back into one [`RunRecord`], so a matrix of shards is one run in the history.
//!
//! The files are read line by line; each line is one event object carrying its `schema`
//! version. Events this version does not use are skipped; a newer schema is refused.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::fnv1a::Fnv1a;
use crate::regular_file::{self, ReadError};
use crate::report::{EVENTS_SCHEMA, ExitStatus};

use super::record::{CheckRecord, Outcome, RunRecord, StepRecord, SuiteRecord};

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

#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum RawEvent {
    RunStarted {
        started_at: String,
        #[serde(default)]
        shard: Option<String>,
    },
    StepFinished(Box<RawStepFinished>),
    SuiteFinished {
        suite: RawSuite,
        duration_secs: f64,
        #[serde(default)]
        kept_test_dir: Option<String>,
    },
    RunFinished {
        success: bool,
        #[serde(default)]
        interrupted: bool,
        finished_at: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct RawStepFinished {
    suite: RawSuite,
    step: RawStep,
    #[serde(default)]
    setup: bool,
    outcome: String,
    status: RawStatus,
    duration_secs: f64,
    attempts: u32,
    #[serde(default)]
    failures: Vec<RawFailure>,
    #[serde(default)]
    output_tail: String,
    #[serde(default)]
    leaked_processes: u64,
    #[serde(default)]
    log: Option<String>,
    #[serde(default)]
    skip: Option<RawSkip>,
}

#[derive(Deserialize)]
struct RawSuite {
    name: String,
    file: Option<String>,
}

#[derive(Deserialize)]
struct RawStep {
    test_name: String,
    line: Option<u32>,
}

#[derive(Deserialize)]
struct RawStatus {
    kind: String,
    code: Option<i32>,
    signal: Option<i32>,
    after_secs: Option<f64>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct RawFailure {
    check: Option<String>,
    expected: Option<String>,
    actual: Option<String>,
    actual_bytes: Option<u64>,
    message: String,
}

#[derive(Deserialize)]
struct RawSkip {
    reason: String,
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
        let value: serde_json::Value =
            serde_json::from_slice(&line).map_err(|e| event_error(format!("not JSON: {e}")))?;
        match value.get("schema").and_then(serde_json::Value::as_u64) {
            Some(schema) if schema <= u64::from(EVENTS_SCHEMA) => {}
            Some(schema) => {
                return Err(event_error(format!(
                    "event schema {schema} is newer than this smoke-runner reads ({EVENTS_SCHEMA}); upgrade smoke-runner"
                )));
            }
            None => return Err(event_error("no `schema` field: not a --json event".into())),
        }
        let event: RawEvent =
            serde_json::from_value(value).map_err(|e| event_error(e.to_string()))?;
        match event {
            RawEvent::RunStarted { started_at, shard } => {
                started = true;
                let time = parse_time(&started_at).map_err(event_error)?;
                run.started_at = run.started_at.min(time);
                shards.extend(shard);
            }
            RawEvent::Other => {}
            RawEvent::StepFinished(finished) if finished.setup => {}
            RawEvent::StepFinished(finished) => {
                let RawStepFinished {
                    suite,
                    step,
                    outcome,
                    status,
                    duration_secs,
                    attempts,
                    failures,
                    output_tail,
                    leaked_processes,
                    log,
                    skip,
                    setup: _,
                } = *finished;
                let outcome = Outcome::from_name(&outcome)
                    .ok_or_else(|| event_error(format!("unknown outcome `{outcome}`")))?;
                let record = StepRecord {
                    test_name: step.test_name,
                    file: suite.file.clone(),
                    line: step.line,
                    outcome,
                    status: status_text(&status),
                    duration: seconds(duration_secs),
                    attempts,
                    leftovers: u32::try_from(leaked_processes).unwrap_or(u32::MAX),
                    log_path: log,
                    skip_reason: skip.map(|s| s.reason),
                    checks: failures
                        .into_iter()
                        .map(|f| CheckRecord {
                            kind: f.check,
                            expected: f.expected,
                            actual: f.actual.or(f.actual_bytes.map(|n| format!("{n} bytes"))),
                            message: f.message,
                        })
                        .collect(),
                    output_tail,
                };
                suite_record(run, suite).steps.push(record);
            }
            RawEvent::SuiteFinished {
                suite,
                duration_secs,
                kept_test_dir,
            } => {
                let record = suite_record(run, suite);
                record.duration = seconds(duration_secs);
                record.kept_test_dir = kept_test_dir;
            }
            RawEvent::RunFinished {
                success,
                interrupted,
                finished_at,
            } => {
                let time = parse_time(&finished_at).map_err(event_error)?;
                run.finished_at = run.finished_at.max(time);
                run.interrupted |= interrupted;
                *failed |= !success;
            }
        }
    }
    match started {
        true => Ok(()),
        false => Err(ImportError::NotARun(path.to_owned())),
    }
}

/// The record of `suite` in `run`; the same suite in two shards is one suite.
fn suite_record(run: &mut RunRecord, suite: RawSuite) -> &mut SuiteRecord {
    let index = match run
        .suites
        .iter()
        .position(|s| s.name == suite.name && s.file == suite.file)
    {
        Some(index) => index,
        None => {
            run.suites.push(SuiteRecord {
                name: suite.name,
                file: suite.file,
                duration: Duration::ZERO,
                kept_test_dir: None,
                steps: Vec::new(),
            });
            run.suites.len() - 1
        }
    };
    &mut run.suites[index]
}

/// The words a live run records for the same status.
fn status_text(status: &RawStatus) -> String {
    if let Some(text) = &status.text {
        return text.clone();
    }
    let signal = status.signal.unwrap_or(0);
    let exit = match status.kind.as_str() {
        "not_run" => ExitStatus::NotRun,
        "not_started" => ExitStatus::NotStarted,
        "exited" => ExitStatus::Exited(status.code.unwrap_or(0)),
        "signaled" => ExitStatus::Signaled(signal),
        "timed_out" => ExitStatus::TimedOut {
            after: seconds(status.after_secs.unwrap_or(0.0)),
            signal,
        },
        "interrupted" => ExitStatus::Interrupted { signal },
        other => return other.replace('_', " "),
    };
    exit.to_string()
}

fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or_default()
}

fn parse_time(text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339_weak(text).map_err(|e| format!("bad time `{text}`: {e}"))
}
