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

use super::script::statements;

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
    /// It printed a line that reads like a check's report (passed or failed).
    pub reported: bool,
}

/// The script's run, line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptVerdicts {
    /// Each line that ran, by line number.
    pub lines: BTreeMap<usize, LineRecord>,
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

    /// Why the check at `line` failed, for the report.
    pub fn why(&self, line: usize) -> Option<&str> {
        (self.lines.get(&line)?.failures.first()).map(String::as_str)
    }
}

/// The start of each record the instrument writes.
const RECORD: &str = "\u{1e}smoke ";

/// Reads the output of the instrumented run (records and what the script printed between
/// them). A line still running when the output ends (the script was killed) is not judged.
pub fn script_verdicts(output: &str) -> ScriptVerdicts {
    let mut verdicts = ScriptVerdicts::default();
    // The line running now, the counter when it started, and what it printed so far.
    let mut current: Option<(usize, u64)> = None;
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
        let (Some(status), Some(count), Some(flags)) = (number(2), number(3), fields.get(4)) else {
            printed.push_str(&chunk);
            continue;
        };
        if let Some((line, counted)) = current {
            let left = Left {
                status,
                counted: count > counted,
                ended: fields[0] == "end",
                // A helper's own status says nothing where the script counts its failures
                // (assert.sh's `assert` returns 1 after a check that held).
                status_judges: !(flags.contains('f') && flags.contains('c')),
            };
            close_line(&mut verdicts, line, &printed, left);
        }
        current = match (fields[0], number(5)) {
            ("line", Some(next)) => usize::try_from(next).ok().map(|n| (n, count)),
            _ => None,
        };
        printed = after.to_owned();
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

/// Records one run of `line`: what it printed and how it was left.
fn close_line(verdicts: &mut ScriptVerdicts, line: usize, printed: &str, left: Left) {
    if line == 0 {
        return;
    }
    let record = verdicts.lines.entry(line).or_default();
    for report in printed.lines().map(str::trim_start) {
        let report = report.trim_start_matches('[');
        // TAP: a test marked TODO (a known breakage) or SKIP fails nothing.
        let excused = report.contains("# TODO") || report.contains("# SKIP");
        if excused {
            continue;
        } else if FAILURE_REPORTS.iter().any(|p| report.starts_with(p)) {
            record.reported = true;
            record
                .failures
                .push(format!("printed `{}`", shorten(report)));
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
        (record.failures).push(format!("exit status {}", left.status));
    }
}

impl ScriptVerdicts {
    /// The records of the lines of one statement (a command over several lines, a block)
    /// merged into its first line, which the suite's steps are named after: bash reports a
    /// line inside it.
    pub fn by_statement(self, source: &str) -> Self {
        let spans: Vec<(usize, usize)> = statements(source, 1)
            .iter()
            .map(|s| (s.line, s.line + s.text.lines().count().max(1) - 1))
            .collect();
        let mut merged = Self::default();
        for (line, record) in self.lines {
            let start = spans
                .iter()
                .find(|(first, last)| (*first..=*last).contains(&line))
                .map_or(line, |(first, _)| *first);
            let into = merged.lines.entry(start).or_default();
            into.failures.extend(record.failures);
            into.reported |= record.reported;
        }
        merged
    }
}

/// How a line that reports a failed check starts.
const FAILURE_REPORTS: [&str; 4] = ["FAIL", "not ok", "\u{2717}", "\u{2718}"];
/// How a line that reports a passed check starts.
const PASS_REPORTS: [&str; 4] = ["PASS", "ok ", "\u{2713}", "\u{2714}"];

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
            why: script.why(check.line).map(str::to_owned),
        });
        row.suite = match (row.suite, check.verdict) {
            (Some(Verdict::Fail), _) | (_, Verdict::Fail) => Some(Verdict::Fail),
            (Some(Verdict::NotRun), _) | (_, Verdict::NotRun) => Some(Verdict::NotRun),
            _ => Some(Verdict::Pass),
        };
    }
    for (line, record) in &script.lines {
        if record.reported && !by_line.contains_key(line) {
            by_line.insert(
                *line,
                Row {
                    line: *line,
                    name: "(no step of the suite stands for this line)".to_owned(),
                    script: script.verdict(*line),
                    suite: None,
                    why: script.why(*line).map(str::to_owned),
                },
            );
        }
    }
    by_line.into_values().collect()
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
        assert_eq!(verdicts.why(4), Some("printed `FAIL greets (line 4)`"));
        assert_eq!(verdicts.verdict(5), Verdict::Fail);
        assert_eq!(verdicts.why(5), Some("exit status 1"));
        assert_eq!(verdicts.why(6), Some("a failure counter went up"));
        assert_eq!(verdicts.why(7), Some("the script ended here with status 2"));
        assert_eq!(verdicts.verdict(8), Verdict::NotRun);
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
        assert_eq!(verdicts.why(3), Some("exit status 1"));
        assert_eq!(verdicts.why(4), Some("a failure counter went up"));
    }

    #[test]
    fn lines_inside_a_statement_count_for_its_first_line() {
        let output =
            [record(0, 0, 0, 3), record(3, 1, 0, 5)].concat() + "\u{1e}smoke end 5 0 0 -\n";
        let source = "x\ny\nassert \"echo 1;\necho 2\" \"1\\n2\"\nz\n";
        let verdicts = script_verdicts(&output).by_statement(source);
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
