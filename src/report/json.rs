//! `--json PATH`: the run's events as JSON lines, one object per event, for machines (CI
//! dashboards, `smoke-runner history import`). The schema is versioned and documented in
//! `docs/events.md`; every object carries `"schema": 1`.

use std::io::{self, BufWriter, Write};
use std::time::SystemTime;

use serde_json::{Value, json};

use super::{
    Actual, CheckFailure, CheckSubject, Counts, EnvFileStatus, Event, ExitStatus, SkipReason,
    StepResult, Verdict,
};
use crate::suite::{Step, Suite};

/// The version of the event schema; bumped when a field changes meaning or goes away.
pub const EVENTS_SCHEMA: u32 = 1;

/// Writes every event as one JSON line.
pub struct JsonReporter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> JsonReporter<W> {
    /// A reporter writing JSON lines to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: BufWriter::new(out),
        }
    }
}

impl<W: Write> super::Reporter for JsonReporter<W> {
    fn report(&mut self, event: &Event<'_>) -> io::Result<()> {
        let value = event_json(event);
        serde_json::to_writer(&mut self.out, &value)?;
        self.out.write_all(b"\n")?;
        if matches!(event, Event::RunFinished(_)) {
            self.out.flush()?;
        }
        Ok(())
    }
}

/// One event as a JSON object.
pub fn event_json(event: &Event<'_>) -> Value {
    let mut value = match *event {
        Event::RunStarted(start) => json!({
            "event": "run_started",
            "started_at": timestamp(start.started_at),
            "env_file": env_file(&start.env_file),
            "suites": start.suites,
            "steps": start.steps,
            "filtered_out": start.filtered_out,
            "jobs": start.jobs,
        }),
        Event::SuiteStarted { suite, test_dir } => json!({
            "event": "suite_started",
            "suite": suite_json(suite),
            "test_dir": test_dir.display().to_string(),
        }),
        Event::SectionStarted { suite, section } => json!({
            "event": "section_started",
            "suite": suite_json(suite),
            "section": section,
        }),
        Event::Note { suite, text } => json!({
            "event": "note",
            "suite": suite_json(suite),
            "text": text,
        }),
        Event::StepStarted {
            suite,
            index,
            step,
            setup,
            command_line,
            timeout,
            attempt,
        } => json!({
            "event": "step_started",
            "suite": suite_json(suite),
            "step": step_json(step, index),
            "setup": setup,
            "attempt": attempt,
            "timeout_secs": timeout.as_secs_f64(),
            "command": command_line,
        }),
        Event::StepFinished {
            suite,
            index,
            step,
            setup,
            result,
        } => {
            let mut value = json!({
                "event": "step_finished",
                "suite": suite_json(suite),
                "step": step_json(step, index),
                "setup": setup,
            });
            merge(&mut value, result_json(result));
            value
        }
        Event::SuiteFinished { suite, result } => json!({
            "event": "suite_finished",
            "suite": suite_json(suite),
            "counts": counts_json(&result.counts),
            "duration_secs": result.duration.as_secs_f64(),
            "kept_test_dir": result.kept_test_dir.as_ref().map(|d| d.display().to_string()),
            "leaked_processes": result.leaked_processes,
            "skipped_because": result.skipped_because.as_ref().map(skip_json),
        }),
        Event::RunFinished(summary) => json!({
            "event": "run_finished",
            "success": summary.success(),
            "interrupted": summary.interrupted,
            "counts": counts_json(&summary.counts),
            "duration_secs": summary.duration.as_secs_f64(),
            "finished_at": timestamp(summary.finished_at),
            "filtered_out": summary.filtered_out,
            "kept_test_dirs": summary.kept_test_dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>(),
            "leaked_processes": summary.leaked_processes,
            "skipped_suites": summary.skipped_suites.iter().map(|(suite, reason)| {
                let mut value = json!({ "suite": suite });
                merge(&mut value, skip_json(reason));
                value
            }).collect::<Vec<_>>(),
            "broken_rules": summary.broken_rules.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }),
    };
    merge(&mut value, json!({ "schema": EVENTS_SCHEMA }));
    value
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

fn timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time.max(SystemTime::UNIX_EPOCH)).to_string()
}

fn env_file(status: &EnvFileStatus) -> Value {
    match status {
        EnvFileStatus::Loaded(path) => {
            json!({ "status": "loaded", "path": path.display().to_string() })
        }
        EnvFileStatus::DefaultMissing(path) => {
            json!({ "status": "default_missing", "path": path.display().to_string() })
        }
        EnvFileStatus::Disabled => json!({ "status": "disabled" }),
    }
}

fn suite_json(suite: &Suite) -> Value {
    json!({
        "name": suite.name,
        "file": suite.source.as_ref().map(|f| f.display().to_string()),
    })
}

fn step_json(step: &Step, index: usize) -> Value {
    json!({
        "name": step.name,
        "test_name": step.test_name,
        "section": step.section,
        "index": index,
        "line": step.location.as_ref().map(|l| l.line),
    })
}

fn counts_json(counts: &Counts) -> Value {
    json!({
        "total": counts.total(),
        "passed": counts.passed,
        "flaky": counts.flaky,
        "failed": counts.failed,
        "timed_out": counts.timed_out,
        "skipped": counts.skipped,
    })
}

fn skip_json(reason: &SkipReason) -> Value {
    json!({ "kind": reason.kind(), "reason": reason.to_string() })
}

fn outcome_name(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "passed",
        Verdict::Flaky => "flaky",
        Verdict::Failed => "failed",
        Verdict::TimedOut => "timed_out",
        Verdict::Skipped(_) => "skipped",
    }
}

fn status_json(status: &ExitStatus) -> Value {
    match *status {
        ExitStatus::NotRun => json!({ "kind": "not_run" }),
        ExitStatus::NotStarted => json!({ "kind": "not_started" }),
        ExitStatus::FailedToStart(_) => {
            json!({ "kind": "failed_to_start", "text": status.to_string() })
        }
        ExitStatus::Exited(code) => json!({ "kind": "exited", "code": code }),
        ExitStatus::Signaled(signal) => json!({ "kind": "signaled", "signal": signal }),
        ExitStatus::TimedOut { after, signal } => {
            json!({ "kind": "timed_out", "after_secs": after.as_secs_f64(), "signal": signal })
        }
        ExitStatus::Interrupted { signal } => json!({ "kind": "interrupted", "signal": signal }),
        ExitStatus::Http(code) => json!({ "kind": "http", "code": code }),
        ExitStatus::NoResponse => json!({ "kind": "no_response" }),
    }
}

fn failure_json(failure: &CheckFailure) -> Value {
    let (subject, file) = match &failure.subject {
        CheckSubject::Status => ("status", None),
        CheckSubject::Stdout => ("stdout", None),
        CheckSubject::Stderr => ("stderr", None),
        CheckSubject::Output => ("output", None),
        CheckSubject::File(path) => ("file", Some(path.as_str())),
        CheckSubject::Step => ("step", None),
    };
    let mut value = json!({
        "subject": subject,
        "check": failure.kind.name(),
        "expected": failure.expected,
        "message": failure.to_string(),
    });
    if let Some(file) = file {
        merge(&mut value, json!({ "file": file }));
    }
    match &failure.actual {
        Actual::Unknown => {}
        Actual::Text(text) => merge(&mut value, json!({ "actual": text })),
        Actual::Size(size) => merge(&mut value, json!({ "actual_bytes": size })),
    }
    value
}

fn result_json(result: &StepResult) -> Value {
    let mut value = json!({
        "outcome": outcome_name(&result.verdict),
        "status": status_json(&result.status),
        "duration_secs": result.duration.as_secs_f64(),
        "attempts": result.attempts,
        "command": result.command_line,
        "failures": result.failures.iter().map(failure_json).collect::<Vec<_>>(),
        "output_tail": result.output_tail,
        "leaked_processes": result.leaked_processes,
        "test_dir": result.test_dir.as_ref().map(|d| d.display().to_string()),
        "log": result.log_path.as_ref().map(|d| d.display().to_string()),
    });
    if let Verdict::Skipped(reason) = &result.verdict {
        merge(&mut value, json!({ "skip": skip_json(reason) }));
    }
    value
}
