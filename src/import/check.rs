//! `smoke-runner import --check`: the script's verdict on each of its checks, read from what an
//! instrumented run of it left, and the comparison with the imported suite's verdicts.
//!
//! The script runs with bash and [`INSTRUMENT`] loaded first (`BASH_ENV`): a `DEBUG` trap
//! writes a record between the lines of the script's top level, so its output is cut into
//! what each line printed, with the status the line left and the sum of the script's failure
//! counters after it. A line is judged failed when it left a non-zero status, when what it
//! printed has a line that starts like a failure report (`FAIL`, `not ok`, `✗`), when a
//! failure counter went up while it ran, or when the script ended there with a non-zero
//! status. Bats files are run by `bats --tap`, and each test's `ok`/`not ok` is its verdict.
//!
//! This module never runs anything: the caller runs the script and the suite and hands their
//! outputs over.

use std::collections::BTreeMap;
use std::fmt;

use super::script::{Kind, statements};
use super::status_read;

/// The bash file loaded before the script (`BASH_ENV`): see the module docs.
pub const INSTRUMENT: &str = include_str!("check/instrument.bash");

/// What the script or the suite made of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The check held.
    Pass,
    /// The check failed.
    Fail,
    /// The check never ran (an earlier failure stopped the script or the suite).
    NotRun,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::NotRun => "not run",
        })
    }
}

/// What one line of the script did, over all the times it ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineRecord {
    /// Why the line is judged failed (empty: it passed).
    pub failures: Vec<String>,
    /// Of those, the non-zero statuses it left (no verdict when the next statement reads `$?`).
    pub statuses: Vec<String>,
    /// It printed a line that reads like a check's report (passed or failed), or called a
    /// failure reporter.
    pub reported: bool,
}

/// The script's run, line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptVerdicts {
    /// Each line that ran, by line number.
    pub lines: BTreeMap<usize, LineRecord>,
    /// For a line inside one of the script's functions, the lines its function was called
    /// from (and those called from), each time it ran.
    pub callers: BTreeMap<usize, Vec<usize>>,
    /// For a check inside one of the script's functions, the line the function is defined on
    /// (a step named after it, as shUnit2's tests are, judges its lines).
    pub enclosing: BTreeMap<usize, usize>,
}

impl ScriptVerdicts {
    /// The verdict on the check at `line`.
    pub fn verdict(&self, line: usize) -> Verdict {
        match self.lines.get(&line) {
            None => Verdict::NotRun,
            Some(record) if record.failures.is_empty() => Verdict::Pass,
            Some(_) => Verdict::Fail,
        }
    }

    /// Why the check at `line` failed, for the report: the first three reasons.
    pub fn why(&self, line: usize) -> Option<String> {
        let failures = &self.lines.get(&line)?.failures;
        let mut reasons: Vec<&str> = Vec::new();
        for failure in failures {
            if !reasons.contains(&failure.as_str()) && reasons.len() < 3 {
                reasons.push(failure);
            }
        }
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }
}

/// The start of each record the instrument writes.
const RECORD: &str = "\u{1e}smoke ";

/// Reads the output of the instrumented run (records and what the script printed between
/// them). A line still running when the output ends (the script was killed) is not judged.
pub fn script_verdicts(output: &str) -> ScriptVerdicts {
    let mut verdicts = ScriptVerdicts::default();
    // The line running now, the counter when it started, and what it printed so far; the
    // lines of the calls it is inside.
    let mut current: Option<(usize, u64)> = None;
    let mut chain: Vec<usize> = Vec::new();
    let mut chunks = output.split('\u{1e}');
    let mut printed = chunks.next().unwrap_or_default().to_owned();
    for chunk in chunks {
        let chunk = format!("\u{1e}{chunk}");
        let Some(rest) = chunk.strip_prefix(RECORD) else {
            printed.push_str(&chunk);
            continue;
        };
        let (record, after) = rest.split_once('\n').unwrap_or((rest, ""));
        let fields: Vec<&str> = record.split(' ').collect();
        let number = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        if let ("report", Some(line), Some(name)) = (fields[0], number(1), fields.get(2)) {
            // Observed, not read from text: the reporter ran while the line was open.
            if let Some(line) = usize::try_from(line).ok().filter(|l| *l > 0) {
                let entry = verdicts.lines.entry(line).or_default();
                entry.reported = true;
                entry
                    .failures
                    .push(format!("called the failure reporter `{name}`"));
            }
            printed.push_str(after);
            continue;
        }
        let (Some(status), Some(count), Some(flags)) = (number(2), number(3), fields.get(4)) else {
            printed.push_str(&chunk);
            continue;
        };
        // What a line printed after its last newline begins the next line's report.
        let carried = printed
            .rfind('\n')
            .map_or(printed.as_str(), |at| &printed[at + 1..])
            .to_owned();
        if let Some((line, counted)) = current {
            let left = Left {
                status,
                counted: count > counted,
                ended: fields[0] == "end",
                // A helper's own status says nothing where the script counts its failures
                // (assert.sh's `assert` returns 1 after a check that held); nor is it the
                // line's own while a function it called still runs.
                status_judges: !(flags.contains('n') || flags.contains('f') && flags.contains('c')),
            };
            close_line(&mut verdicts, line, &printed, left, &chain);
        }
        current = match (fields[0], number(5)) {
            ("line", Some(next)) => usize::try_from(next).ok().map(|n| (n, count)),
            _ => None,
        };
        chain = (fields.get(6).unwrap_or(&"0").split(','))
            .filter_map(|c| c.parse::<usize>().ok())
            .filter(|c| *c > 0)
            .collect();
        if let Some((next, _)) = current {
            let known = verdicts.callers.entry(next).or_default();
            for caller in &chain {
                if !known.contains(caller) && *caller != next {
                    known.push(*caller);
                }
            }
        }
        printed = if carried.trim().is_empty() {
            after.to_owned()
        } else {
            format!("{carried}\u{1f}{after}")
        };
    }
    verdicts
}

/// How a line of the script was left.
#[derive(Debug, Clone, Copy)]
struct Left {
    status: u64,
    /// A failure counter went up.
    counted: bool,
    /// The script ended there.
    ended: bool,
    /// The status is a verdict (not a helper's status in a script that counts failures).
    status_judges: bool,
}

/// Records one run of `line`: what it printed and how it was left. A failure other than its
/// status, and a report, count for the lines of the calls it ran in (`chain`) too: their steps
/// judge it when the function's lines are not steps of their own.
fn close_line(
    verdicts: &mut ScriptVerdicts,
    line: usize,
    printed: &str,
    left: Left,
    chain: &[usize],
) {
    if line == 0 {
        return;
    }
    let record = verdicts.lines.entry(line).or_default();
    let before = (record.failures.len(), record.reported);
    judge_line(record, printed, left);
    let why = (record.failures[before.0..].iter())
        .find(|f| !record.statuses.contains(f))
        .cloned();
    let reported = record.reported && !before.1;
    for caller in chain.iter().filter(|c| **c != line) {
        let outer = verdicts.lines.entry(*caller).or_default();
        outer.reported |= reported;
        if let Some(why) = &why {
            let inside = format!("line {line} inside: {why}");
            if !outer.failures.contains(&inside) {
                outer.failures.push(inside);
            }
        }
    }
}

/// What one run of a line printed and how it was left, added to its record.
fn judge_line(record: &mut LineRecord, printed: &str, left: Left) {
    // A report written in parts by several commands (`printf "not "` then `echo "ok 1"`) is
    // whole at the line that ends it: `\u{1f}` marks where the part before it ends.
    let joined = printed.split_once('\u{1f}').map(|(before, after)| {
        let first = after.lines().next().unwrap_or_default();
        format!("{before}{first}")
    });
    let printed = printed
        .split_once('\u{1f}')
        .map_or(printed, |(_, after)| after);
    for report in printed.lines().chain(joined.as_deref()) {
        let plain = without_colours(report);
        let report = plain.trim_start().trim_start_matches(['[', ' ']);
        // TAP: a test marked TODO (a known breakage) or SKIP fails nothing.
        let excused = report.contains("# TODO") || report.contains("# SKIP");
        if excused {
            continue;
        } else if FAILURE_REPORTS.iter().any(|p| report.starts_with(p)) {
            record.reported = true;
            record
                .failures
                .push(format!("printed `{}`", shorten(plain.trim())));
        } else if PASS_REPORTS.iter().any(|p| report.starts_with(p)) {
            record.reported = true;
        }
    }
    if left.counted {
        record.reported = true;
        (record.failures).push("a failure counter went up".to_owned());
    }
    if left.status != 0 && left.ended {
        (record.failures).push(format!("the script ended here with status {}", left.status));
    } else if left.status != 0 && left.status_judges {
        let why = format!("exit status {}", left.status);
        record.statuses.push(why.clone());
        record.failures.push(why);
    }
}

impl ScriptVerdicts {
    /// The records of the lines of one statement (a command over several lines, a block)
    /// merged into its first line, which the suite's steps are named after: bash reports a
    /// line inside it. The statements of the script's functions are statements of their own.
    /// A statement whose `$?` the next one reads (by [`status_read`](super::status_read)'s
    /// rule, the translation's too; `status_checkers` names the `$?` checker helpers) is one
    /// check with it, judged by what that one makes of the status. A failure inside a function counts for the line
    /// that called it too (its step, when the function's lines are not steps of their own).
    pub fn by_statement(self, source: &str, status_checkers: &[String]) -> Self {
        let mut spans: Vec<Span> = Vec::new();
        let walk = Walk {
            status_checkers,
            depth: 0,
            function: 0,
        };
        collect_spans(source, 1, &mut spans, walk);
        let find = |line: usize| {
            spans
                .iter()
                .filter(|s| (s.first..=s.last).contains(&line))
                .min_by_key(|s| s.last - s.first)
        };
        let self_callers = self.callers;
        let mut merged = Self::default();
        for span in spans.iter().filter(|s| s.function > 0) {
            merged.enclosing.insert(span.check, span.function);
        }
        for (line, mut record) in self.lines {
            let span = find(line);
            let start = span.map_or(line, |s| s.check);
            // The status of a statement whose next one reads `$?` is that one's to judge.
            if span.is_some_and(|s| s.status_read) {
                record.failures.retain(|f| !record.statuses.contains(f));
                record.statuses.clear();
            }
            let into = merged.lines.entry(start).or_default();
            into.failures.extend(record.failures);
            into.statuses.extend(record.statuses);
            into.reported |= record.reported;
        }
        merged.callers = (self_callers.into_iter())
            .map(|(line, callers)| {
                let at = |l: usize| find(l).map_or(l, |s| s.check);
                (at(line), callers.into_iter().map(at).collect())
            })
            .collect();
        merged
    }

    /// Every line that called, directly or not, the function `line` is in.
    pub fn callers_of(&self, line: usize) -> &[usize] {
        self.callers.get(&line).map_or(&[], Vec::as_slice)
    }
}

/// The lines of one statement, and the line its check is named after.
#[derive(Debug, Clone, Copy)]
struct Span {
    first: usize,
    last: usize,
    /// The first line of the check it belongs to: itself, or the statement reading its `$?`
    /// (`cmd; pass_check $? NAME` is one check, named after the line that judges).
    check: usize,
    /// A later statement reads its `$?`.
    status_read: bool,
    /// The line of the function it is in (0: none).
    function: usize,
}

/// Where [`collect_spans`] is: how deep in function definitions, in which function (its line,
/// 0: none), with which `$?` checkers.
#[derive(Clone, Copy)]
struct Walk<'a> {
    status_checkers: &'a [String],
    depth: usize,
    function: usize,
}

/// The statements of `text` (starting at `first_line`) and of the functions it defines. A
/// statement whose `$?` a later one reads (the rule of [`status_read`](super::status_read))
/// belongs to that one's check, and so down a chain of readers.
fn collect_spans(text: &str, first_line: usize, spans: &mut Vec<Span>, walk: Walk<'_>) {
    let list = statements(text, first_line);
    // The span of each statement of `list` (none for comments and functions).
    let mut span_of: Vec<Option<usize>> = vec![None; list.len()];
    for (index, statement) in list.iter().enumerate() {
        let first = statement.line;
        let last = first + statement.text.lines().count().max(1) - 1;
        if let Kind::Function {
            body, body_line, ..
        } = &statement.kind
        {
            if walk.depth < 8 {
                let inner = Walk {
                    depth: walk.depth + 1,
                    function: first,
                    ..walk
                };
                collect_spans(body, *body_line, spans, inner);
            }
            continue;
        }
        if matches!(statement.kind, Kind::Comment(_)) {
            continue;
        }
        span_of[index] = Some(spans.len());
        spans.push(Span {
            first,
            last,
            check: first,
            status_read: false,
            function: walk.function,
        });
    }
    // From the last, so a chain's first command takes its last reader's line.
    for command in (0..list.len()).rev() {
        let Some(reader) = status_read::reader_of(&list, command, walk.status_checkers) else {
            continue;
        };
        let (Some(span), Some(reader)) = (span_of[command], span_of[reader]) else {
            continue;
        };
        spans[span].status_read = true;
        spans[span].check = spans[reader].check;
    }
}

/// How a line that reports a failed check starts.
/// (A fallback: the failure reporters the import knows are watched for when they run.)
const FAILURE_REPORTS: [&str; 10] = [
    "FAIL",
    "not ok",
    "\u{2717}",
    "\u{2718}",
    "\u{2716}",
    "\u{274c}",
    "ERROR",
    "Assertion failed",
    "assertion failed",
    "ASSERT:",
];
/// How a line that reports a passed check starts.
const PASS_REPORTS: [&str; 5] = ["PASS", "ok ", "\u{2713}", "\u{2714}", "\u{2705}"];

/// A printed line without its terminal colour codes (`ESC [ … m` and the like).
fn without_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, up to the final byte (`@` to `~`).
            for next in chars.by_ref() {
                if ('@'..='~').contains(&next) {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    out
}

/// The verdicts of `bats --tap`: each test's `ok N` / `not ok N`, by its line in the file
/// (`test_lines[N - 1]`). Skipped tests (`# skip`) did not run.
pub fn bats_verdicts(tap: &str, test_lines: &[usize]) -> ScriptVerdicts {
    let mut verdicts = ScriptVerdicts::default();
    for report in tap.lines() {
        let (failed, rest) = match report.strip_prefix("not ok ") {
            Some(rest) => (true, rest),
            None => match report.strip_prefix("ok ") {
                Some(rest) => (false, rest),
                None => continue,
            },
        };
        let number = rest.split(' ').next().and_then(|n| n.parse::<usize>().ok());
        let Some(&line) = number.and_then(|n| test_lines.get(n.checked_sub(1)?)) else {
            continue;
        };
        if rest.contains("# skip") {
            continue;
        }
        let record = verdicts.lines.entry(line).or_default();
        record.reported = true;
        if failed {
            record.failures.push(format!("bats: `{}`", shorten(report)));
        }
    }
    verdicts
}

/// One check of the imported suite: the script line it stands for, and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteCheck {
    /// The script line (`(line N)` at the end of the step's name).
    pub line: usize,
    /// The step's name.
    pub name: String,
    /// How the step went.
    pub verdict: Verdict,
}

/// The script line a step of an imported suite stands for: `(line N)` at the end of its name.
pub fn line_of_step(name: &str) -> Option<usize> {
    let start = name.rfind("(line ")? + "(line ".len();
    name[start..].strip_suffix(')')?.parse().ok()
}

/// One row of the comparison: a check, with both verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The script line.
    pub line: usize,
    /// The suite's step name, or what the script printed there when the suite has no check.
    pub name: String,
    /// The script's verdict.
    pub script: Verdict,
    /// The suite's verdict; `None` when the suite has no check for a line the script judged.
    pub suite: Option<Verdict>,
    /// Why the script's check failed.
    pub why: Option<String>,
}

impl Row {
    /// Whether the two verdicts differ.
    pub fn differs(&self) -> bool {
        self.suite != Some(self.script)
    }
}

/// Check by check, in script order: every check of the suite (several steps for one line
/// count as one check, failed if any failed, else not run if any did not run), and every line
/// the script reported a check on that the suite has no check for.
pub fn compare(script: &ScriptVerdicts, suite: &[SuiteCheck]) -> Vec<Row> {
    let mut by_line: BTreeMap<usize, Row> = BTreeMap::new();
    for check in suite {
        let row = by_line.entry(check.line).or_insert_with(|| Row {
            line: check.line,
            name: check.name.clone(),
            script: script.verdict(check.line),
            suite: Some(Verdict::Pass),
            why: script.why(check.line),
        });
        row.suite = match (row.suite, check.verdict) {
            (Some(Verdict::Fail), _) | (_, Verdict::Fail) => Some(Verdict::Fail),
            (Some(Verdict::NotRun), _) | (_, Verdict::NotRun) => Some(Verdict::NotRun),
            _ => Some(Verdict::Pass),
        };
    }
    let folded = fold_into_functions(script, &mut by_line);
    let mut judged: Vec<usize> = by_line.keys().copied().chain(folded).collect();
    judged.sort_unstable();
    // A call whose function's lines the suite judges is judged there (`. shunit2`).
    for (inner, callers) in &script.callers {
        if judged.binary_search(inner).is_ok() {
            judged.extend(callers.iter().copied());
        }
    }
    judged.sort_unstable();
    let judged = |line: &usize| judged.binary_search(line).is_ok();
    let mut lost = Vec::new();
    for (line, record) in &script.lines {
        // A line inside a helper whose call the suite judges is judged there (so are the
        // lines of `setUp` and `tearDown`, called where shUnit2's tests are).
        let judged_by_caller = || script.callers_of(*line).iter().any(judged);
        if record.reported && !judged(line) && !judged_by_caller() {
            lost.push(Row {
                line: *line,
                name: "(no step of the suite stands for this line)".to_owned(),
                script: script.verdict(*line),
                suite: None,
                why: script.why(*line),
            });
        }
    }
    by_line.extend(lost.into_iter().map(|row| (row.line, row)));
    by_line.into_values().collect()
}

/// The lines inside a function whose definition line the suite has a check for (a shUnit2
/// test), judged there: the check failed if one of them did, ran if one ran.
fn fold_into_functions(script: &ScriptVerdicts, by_line: &mut BTreeMap<usize, Row>) -> Vec<usize> {
    let mut folded = Vec::new();
    let unjudged: Vec<usize> = (script.lines.keys())
        .filter(|l| !by_line.contains_key(l))
        .copied()
        .collect();
    for line in &unjudged {
        let mut at = *line;
        let mut hops = 0;
        while let Some(&function) = script.enclosing.get(&at) {
            hops += 1;
            if let Some(row) = by_line.get_mut(&function) {
                match script.verdict(*line) {
                    Verdict::Fail => {
                        row.script = Verdict::Fail;
                        if row.why.is_none() {
                            row.why = script.why(*line).map(|w| format!("line {line}: {w}"));
                        }
                    }
                    Verdict::Pass if row.script == Verdict::NotRun => row.script = Verdict::Pass,
                    _ => {}
                }
                folded.push(*line);
                break;
            }
            if hops > 16 || function == at {
                break;
            }
            at = function;
        }
    }
    folded
}

/// A long report line, cut.
fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(previous: usize, status: u8, count: u32, next: usize) -> String {
        format!("\u{1e}smoke line {previous} {status} {count} - {next}\n")
    }

    #[test]
    fn each_line_is_judged_by_its_status_reports_and_counters() {
        let output = [
            record(0, 0, 0, 3),
            "PASS adds (line 3)\n".to_owned(),
            record(3, 0, 0, 4),
            "  FAIL greets (line 4)\nnot ok 2 - known # TODO known breakage\n".to_owned(),
            record(4, 0, 0, 5),
            record(5, 1, 0, 6),
            record(6, 0, 1, 7),
            "\u{1e}smoke end 7 2 1 c\n".to_owned(),
        ]
        .concat();
        let verdicts = script_verdicts(&output);
        assert_eq!(verdicts.verdict(3), Verdict::Pass);
        assert_eq!(verdicts.verdict(4), Verdict::Fail);
        assert_eq!(
            verdicts.why(4).as_deref(),
            Some("printed `FAIL greets (line 4)`")
        );
        assert_eq!(verdicts.verdict(5), Verdict::Fail);
        assert_eq!(verdicts.why(5).as_deref(), Some("exit status 1"));
        assert_eq!(
            verdicts.why(6).as_deref(),
            Some("a failure counter went up")
        );
        assert_eq!(
            verdicts.why(7).as_deref(),
            Some("the script ended here with status 2")
        );
        assert_eq!(verdicts.verdict(8), Verdict::NotRun);
    }

    /// Each way a script reports a failed check, one line each: observed (a status, the end
    /// of a `set -e` script, a watched reporter's call, a counter) or read as a fallback from
    /// what it printed (`[FAIL]`, `ERROR:`, `✘`, `Assertion failed`, colours around `✖`).
    #[test]
    fn every_form_of_a_failed_check() {
        let output = [
            record(0, 0, 0, 2),
            record(2, 1, 0, 3),
            "[FAIL] sorts\n".to_owned(),
            record(3, 0, 0, 4),
            "ERROR: expected 3, got 4\n".to_owned(),
            record(4, 0, 0, 5),
            "\u{2718} greets\n".to_owned(),
            record(5, 0, 0, 6),
            "Assertion failed: x == y\n".to_owned(),
            record(6, 0, 0, 7),
            "\u{1b}[31m\u{2716} adds\u{1b}[00m\n".to_owned(),
            record(7, 0, 0, 8),
            "\u{1e}smoke report 8 tap_fail\n".to_owned(),
            "not ok 3 counts\n".to_owned(),
            record(8, 0, 0, 9),
            "--- expected\n+++ actual\n@@ -1 +1 @@\n-a\n+b\n".to_owned(),
            record(9, 1, 0, 10),
            record(10, 0, 1, 11),
            "\u{1b}[32m\u{2714} holds\u{1b}[00m\n".to_owned(),
            record(11, 0, 1, 12),
            "\u{1e}smoke end 12 1 1 -\n".to_owned(),
        ]
        .concat();
        let verdicts = script_verdicts(&output);
        let why = |line| verdicts.why(line).unwrap_or_default();
        assert_eq!(why(2), "exit status 1");
        assert_eq!(why(3), "printed `[FAIL] sorts`");
        assert_eq!(why(4), "printed `ERROR: expected 3, got 4`");
        assert_eq!(why(5), "printed `\u{2718} greets`");
        assert_eq!(why(6), "printed `Assertion failed: x == y`");
        assert_eq!(why(7), "printed `\u{2716} adds`");
        assert_eq!(
            why(8),
            "called the failure reporter `tap_fail`; printed `not ok 3 counts`"
        );
        // A diff on its own is no verdict; `diff`'s status is.
        assert_eq!(why(9), "exit status 1");
        assert_eq!(why(10), "a failure counter went up");
        assert_eq!(verdicts.verdict(11), Verdict::Pass);
        assert!(verdicts.lines[&11].reported);
        assert_eq!(why(12), "the script ended here with status 1");
    }

    /// Lines inside the script's own functions are recorded with the lines that called them:
    /// a helper's report counts for its caller, a status handed to `$?` readers is theirs.
    #[test]
    fn helpers_report_for_their_callers_and_status_readers_judge_the_command_before() {
        let source = "ok() { echo \"PASS $1\"; }\nbad() { echo \"FAIL $1\"; }\n\
                      true\nok one\nfalse\nif [ $? -eq 1 ]; then ok two; else bad two; fi\n\
                      test 1 = 2\nbad three\n";
        let output = [
            "\u{1e}smoke line 0 0 0 - 3 0\n",
            "\u{1e}smoke line 3 0 0 - 4 0\n",
            "\u{1e}smoke line 4 0 0 n 1 4\n",
            "PASS one\n",
            "\u{1e}smoke line 1 0 0 f- 4 0\n",
            "\u{1e}smoke line 4 0 0 f- 5 0\n",
            "\u{1e}smoke line 5 1 0 - 6 0\n",
            "\u{1e}smoke line 6 1 0 n 1 6\n",
            "PASS two\n",
            "\u{1e}smoke line 1 0 0 f- 6 0\n",
            "\u{1e}smoke line 6 0 0 f- 7 0\n",
            "\u{1e}smoke line 7 1 0 - 8 0\n",
            "\u{1e}smoke line 8 1 0 n 2 8\n",
            "FAIL three\n",
            "\u{1e}smoke line 2 0 0 f- 8 0\n",
            "\u{1e}smoke end 8 0 0 f-\n",
        ]
        .concat();
        let verdicts = script_verdicts(&output).by_statement(source, &[]);
        assert_eq!(verdicts.verdict(4), Verdict::Pass);
        assert!(verdicts.lines[&4].reported);
        // `false` then a block reading `$?`: one check, named after the block, that held.
        assert_eq!(verdicts.verdict(6), Verdict::Pass);
        assert!(!verdicts.lines.contains_key(&5));
        assert_eq!(verdicts.callers_of(1), &[4, 6]);
        // `test 1 = 2` left 1, and `bad three` reported a failure from inside `bad`.
        assert_eq!(verdicts.why(7).as_deref(), Some("exit status 1"));
        assert_eq!(
            verdicts.why(8).as_deref(),
            Some("line 2 inside: printed `FAIL three`")
        );
    }

    /// The rule of `status_read`, as the translation pairs them: a `$?` checker's call reads
    /// the command before it (what that printed counts for the call's check), and a reader
    /// reads past a comment.
    #[test]
    fn status_checker_calls_and_readers_past_comments_judge_the_command_before() {
        let source = "check() { if [ $? -eq 0 ]; then echo \"PASS $1\"; else echo \"FAIL $1\"; fi; }\n\
                      printf 'ok 1\\n'\ncheck first\nfalse\n# it fails\n[ $? -eq 1 ] || echo \"FAIL second\"\n";
        let output = [
            "\u{1e}smoke line 0 0 0 - 2 0\n",
            "ok 1\n",
            "\u{1e}smoke line 2 0 0 - 3 0\n",
            "\u{1e}smoke line 3 0 0 n 1 3\n",
            "PASS first\n",
            "\u{1e}smoke line 1 0 0 f- 3 0\n",
            "\u{1e}smoke line 3 0 0 f- 4 0\n",
            "\u{1e}smoke line 4 1 0 - 6 0\n",
            "\u{1e}smoke end 6 0 0 -\n",
        ]
        .concat();
        let verdicts = script_verdicts(&output).by_statement(source, &["check".to_owned()]);
        assert_eq!(verdicts.verdict(3), Verdict::Pass);
        assert!(verdicts.lines[&3].reported);
        assert!(!verdicts.lines.contains_key(&2));
        // `false` left 1 for the line after the comment to judge.
        assert_eq!(verdicts.verdict(6), Verdict::Pass);
        assert!(!verdicts.lines.contains_key(&4));
        // Without knowing `check`, `printf`'s report is a line of its own.
        let unknown = script_verdicts(&output).by_statement(source, &[]);
        assert!(unknown.lines[&2].reported);
    }

    #[test]
    fn a_helper_s_status_is_no_verdict_where_the_script_counts_failures() {
        let output = [
            "\u{1e}smoke line 0 0 0 - 2\n",
            "\u{1e}smoke line 2 1 0 fc 3\n",
            "\u{1e}smoke line 3 1 0 c 4\n",
            "\u{1e}smoke line 4 1 1 fc 5\n",
            "\u{1e}smoke end 5 0 1 c\n",
        ]
        .concat();
        let verdicts = script_verdicts(&output);
        assert_eq!(verdicts.verdict(2), Verdict::Pass);
        assert_eq!(verdicts.why(3).as_deref(), Some("exit status 1"));
        assert_eq!(
            verdicts.why(4).as_deref(),
            Some("a failure counter went up")
        );
    }

    #[test]
    fn lines_inside_a_statement_count_for_its_first_line() {
        let output =
            [record(0, 0, 0, 3), record(3, 1, 0, 5)].concat() + "\u{1e}smoke end 5 0 0 -\n";
        let source = "x\ny\nassert \"echo 1;\necho 2\" \"1\\n2\"\nz\n";
        let verdicts = script_verdicts(&output).by_statement(source, &[]);
        assert_eq!(verdicts.verdict(3), Verdict::Fail);
        assert_eq!(verdicts.verdict(5), Verdict::Pass);
    }

    #[test]
    fn a_record_inside_a_line_of_output_still_cuts_it() {
        let output = format!("no newline{}", record(0, 0, 0, 2)) + "ok 1 - adds\n";
        let verdicts = script_verdicts(&(output + "\u{1e}smoke end 2 0 0 -\n"));
        assert_eq!(verdicts.verdict(2), Verdict::Pass);
        assert!(verdicts.lines[&2].reported);
    }

    #[test]
    fn bats_tests_are_judged_by_their_tap_lines() {
        let tap = "1..3\nok 1 adds\nnot ok 2 greets\n# (in test file x.bats, line 9)\nok 3 later # skip not yet\n";
        let verdicts = bats_verdicts(tap, &[4, 8, 12]);
        assert_eq!(verdicts.verdict(4), Verdict::Pass);
        assert_eq!(verdicts.verdict(8), Verdict::Fail);
        assert_eq!(verdicts.verdict(12), Verdict::NotRun);
    }

    #[test]
    fn rows_merge_steps_of_one_line_and_name_lines_the_suite_lacks() {
        let output = [
            record(0, 0, 0, 2),
            "PASS one\n".to_owned(),
            record(2, 0, 0, 3),
            "FAIL two\n".to_owned(),
            "\u{1e}smoke end 3 0 0 -\n".to_owned(),
        ]
        .concat();
        let check = |line, verdict| SuiteCheck {
            line,
            name: format!("step (line {line})"),
            verdict,
        };
        let rows = compare(
            &script_verdicts(&output),
            &[check(2, Verdict::Pass), check(2, Verdict::Fail)],
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].suite, Some(Verdict::Fail));
        assert!(rows[0].differs());
        assert_eq!((rows[1].line, rows[1].suite), (3, None));
        assert!(rows[1].differs());
        assert_eq!(line_of_step("x (line 12)"), Some(12));
        assert_eq!(line_of_step("x"), None);
    }
}
