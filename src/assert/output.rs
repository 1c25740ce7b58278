//! Checks on captured output.

use std::ops::ControlFlow;

use std::path::Path;

use super::golden::{MAX_GOLDEN_SIZE, compare, normalize_actual, write_golden};
use crate::exec::{CapturedOutput, Environment, StreamSelector};
use crate::mask::Masker;
use crate::report::{Actual, CheckFailure, CheckKind, CheckSubject};
use crate::suite::{OutputCheck, Template};

/// Regex matching over spilled output works on windows of this size...
const REGEX_WINDOW: usize = 8 * 1024 * 1024;
/// ...overlapping by this much, so a match up to this long is never split.
const REGEX_OVERLAP: usize = 1024 * 1024;

/// The largest output a `json` check parses: 64 MiB.
pub const MAX_JSON_SIZE: u64 = 64 * 1024 * 1024;

/// Runs `checks` against one view of `output`; returns each failed check. Scans of output
/// spilled to disk ask `interrupted` between blocks and stop when it says so.
pub fn check_output(
    which: StreamSelector,
    checks: &[OutputCheck],
    output: &CapturedOutput,
    env: &Environment,
    interrupted: &dyn Fn() -> bool,
    bless: Option<&Masker>,
) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    for check in checks {
        if let Err(message) = check_one(which, check, output, (env, interrupted, bless)) {
            failures.push(message);
        }
    }
    failures
}

fn subject(which: StreamSelector) -> CheckSubject {
    match which {
        StreamSelector::Stdout => CheckSubject::Stdout,
        StreamSelector::Stderr => CheckSubject::Stderr,
        StreamSelector::Combined => CheckSubject::Output,
    }
}

fn stream_name(which: StreamSelector) -> &'static str {
    match which {
        StreamSelector::Stdout => "stdout",
        StreamSelector::Stderr => "stderr",
        StreamSelector::Combined => "output",
    }
}

pub(super) fn expand<'t>(
    template: &'t Template,
    env: &Environment,
) -> Result<std::borrow::Cow<'t, str>, CheckFailure> {
    template
        .expand(|name| env.get_str(name))
        .map_err(|e| CheckFailure::error(e.to_string()))
}

/// A failed check with nothing to show of the actual value.
pub(super) fn failure(
    subject: CheckSubject,
    kind: CheckKind,
    expected: impl Into<String>,
) -> CheckFailure {
    CheckFailure {
        subject,
        kind,
        expected: expected.into(),
        actual: Actual::Unknown,
    }
}

fn check_one(
    which: StreamSelector,
    check: &OutputCheck,
    output: &CapturedOutput,
    (env, interrupted, bless): (&Environment, &dyn Fn() -> bool, Option<&Masker>),
) -> Result<(), CheckFailure> {
    let io = |e| read_error(which, e);
    let subject = || subject(which);
    match check {
        OutputCheck::Contains(template) => {
            let needle = expand(template, env)?;
            if output
                .contains_unless(which, needle.as_bytes(), interrupted)
                .map_err(io)?
            {
                Ok(())
            } else {
                Err(failure(subject(), CheckKind::Contains, needle))
            }
        }
        OutputCheck::NotContains(template) => {
            let needle = expand(template, env)?;
            if output
                .contains_unless(which, needle.as_bytes(), interrupted)
                .map_err(io)?
            {
                Err(failure(subject(), CheckKind::NotContains, needle))
            } else {
                Ok(())
            }
        }
        OutputCheck::Equals(template) => equals_check(which, template, output, env),
        OutputCheck::EqualsFile { path, shown, root } => {
            golden_check(which, output, env, (path, shown, root), bless)
        }
        OutputCheck::Matches(regex) => {
            if regex_matches(which, regex, output, interrupted).map_err(io)? {
                Ok(())
            } else {
                Err(failure(subject(), CheckKind::Matches, regex.as_str()))
            }
        }
        OutputCheck::Json { pointer, expected } => json_check(which, pointer, expected, output),
        OutputCheck::Predicate(custom) => {
            let bytes = output.bytes(which).map_err(io)?;
            if custom.0.eval(&bytes) {
                Ok(())
            } else {
                Err(failure(
                    subject(),
                    CheckKind::Predicate,
                    custom.0.to_string(),
                ))
            }
        }
    }
}

/// `equals`: the stream, without one trailing newline, is the expanded text.
fn equals_check(
    which: StreamSelector,
    template: &Template,
    output: &CapturedOutput,
    env: &Environment,
) -> Result<(), CheckFailure> {
    let expected = expand(template, env)?;
    let expected = strip_newline(expected.as_bytes());
    let failed = |actual| CheckFailure {
        actual,
        ..failure(
            subject(which),
            CheckKind::Equals,
            String::from_utf8_lossy(expected),
        )
    };
    // Longer than the expected text plus a newline cannot be equal: no need to read it.
    if output.len(which) > expected.len() as u64 + 2 {
        return Err(failed(Actual::Size(output.len(which))));
    }
    let actual = output.bytes(which).map_err(|e| read_error(which, e))?;
    if strip_newline(&actual) == expected {
        Ok(())
    } else {
        Err(failed(Actual::Text(
            String::from_utf8_lossy(&actual).into_owned(),
        )))
    }
}

/// `json`: the stream parses as JSON (up to `MAX_JSON_SIZE`) and holds `expected` at `pointer`.
fn json_check(
    which: StreamSelector,
    pointer: &str,
    expected: &serde_json::Value,
    output: &CapturedOutput,
) -> Result<(), CheckFailure> {
    let name = stream_name(which);
    // The parsed document takes several times the text's size: refuse a huge one rather than
    // exhaust memory.
    if output.len(which) > MAX_JSON_SIZE {
        return Err(CheckFailure::error(format!(
            "{name} is {} bytes, more than the {} a `json` check parses",
            output.len(which),
            crate::regular_file::human_size(MAX_JSON_SIZE)
        )));
    }
    let bytes = output.bytes(which).map_err(|e| read_error(which, e))?;
    let document: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        CheckFailure::error(format!(
            "{name} is not JSON ({e}), so `{pointer}` cannot be checked"
        ))
    })?;
    let wanted = format!("`{pointer}` = {expected}");
    match document.pointer(pointer) {
        None => Err(failure(subject(which), CheckKind::Json, wanted)),
        Some(actual) if json_equal(actual, expected) => Ok(()),
        Some(actual) => Err(CheckFailure {
            actual: Actual::Text(actual.to_string()),
            ..failure(subject(which), CheckKind::Json, wanted)
        }),
    }
}

/// A captured stream that could not be read back.
fn read_error(which: StreamSelector, e: std::io::Error) -> CheckFailure {
    CheckFailure::error(format!("cannot read captured {}: {e}", stream_name(which)))
}

/// JSON equality where `1` and `1.0` are the same number.
/// `equals_file`: the stream, paths as placeholders, against the golden file; with
/// `--bless` (a masker given), a missing or differing file is rewritten from the stream.
fn golden_check(
    which: StreamSelector,
    output: &CapturedOutput,
    env: &Environment,
    (path, shown, root): (&Path, &str, &Path),
    bless: Option<&Masker>,
) -> Result<(), CheckFailure> {
    let name = stream_name(which);
    if output.len(which) > MAX_GOLDEN_SIZE {
        return Err(CheckFailure::error(format!(
            "{name} is longer than the {} MiB a golden file may hold",
            MAX_GOLDEN_SIZE >> 20
        )));
    }
    let actual = output
        .bytes(which)
        .map_err(|e| CheckFailure::error(format!("cannot read captured {name}: {e}")))?;
    let test_dir = env.get_str("TEST_DIR").map(Path::new);
    let actual = normalize_actual(&String::from_utf8_lossy(&actual), test_dir, root);
    let expected = match crate::regular_file::read(path, MAX_GOLDEN_SIZE) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(error) if error.is_not_found() && bless.is_some() => {
            let masked = bless.map_or(actual.clone(), |masker| masker.mask(&actual).into_owned());
            let done = bless_file(root, shown, &masked, "created");
            return Err(CheckFailure::error(format!("{name}.equals_file {done}")));
        }
        Err(error) => {
            let hint = if error.is_not_found() {
                " (--bless creates it)"
            } else {
                ""
            };
            return Err(CheckFailure::error(format!(
                "{name}.equals_file {shown}: {error}{hint}"
            )));
        }
    };
    let Err(mismatch) = compare(&expected, &actual, shown) else {
        return Ok(());
    };
    let mut failure = CheckFailure {
        subject: subject(which),
        kind: CheckKind::EqualsFile,
        expected: shown.to_owned(),
        actual: Actual::Text(mismatch.diff),
    };
    if let Some(masker) = bless {
        failure.expected = bless_file(root, shown, &masker.mask(&mismatch.blessed), "rewrote");
    }
    Err(failure)
}

/// Writes a golden file for `--bless`: what was done, for the check's message.
fn bless_file(root: &Path, shown: &str, text: &str, done: &str) -> String {
    match write_golden(root, shown, text.as_bytes()) {
        Ok(()) => format!("{shown} (--bless {done} it)"),
        Err(error) => format!("{shown} (--bless could not write it: {error})"),
    }
}

fn json_equal(actual: &serde_json::Value, expected: &serde_json::Value) -> bool {
    match (actual, expected) {
        (serde_json::Value::Number(a), serde_json::Value::Number(b)) => {
            a == b || a.as_f64().zip(b.as_f64()).is_some_and(|(a, b)| a == b)
        }
        _ => actual == expected,
    }
}

/// Strips one trailing `\n` (or `\r\n`).
fn strip_newline(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

fn regex_matches(
    which: StreamSelector,
    regex: &regex::bytes::Regex,
    output: &CapturedOutput,
    interrupted: &dyn Fn() -> bool,
) -> std::io::Result<bool> {
    if !output.is_spilled() {
        return Ok(regex.is_match(&output.bytes(which)?));
    }
    let mut window: Vec<u8> = Vec::with_capacity(REGEX_WINDOW + REGEX_OVERLAP);
    let mut found = false;
    output.for_each_chunk_unless(which, interrupted, |piece| {
        window.extend_from_slice(piece);
        if window.len() >= REGEX_WINDOW {
            if regex.is_match(&window) {
                found = true;
                return ControlFlow::Break(());
            }
            window.drain(..window.len() - REGEX_OVERLAP);
        }
        ControlFlow::Continue(())
    })?;
    Ok(found || regex.is_match(&window))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::Stream;
    use std::sync::Arc;

    fn checks(output: &CapturedOutput, which: StreamSelector, list: &[OutputCheck]) -> Vec<String> {
        check_output(which, list, output, &Environment::empty(), &|| false, None)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn contains_equals_and_matches_pass_and_fail_with_messages() {
        let output = CapturedOutput::from_parts(b"hi\n", b"warn\n").unwrap();
        let lit = |s: &str| Template::literal(s);
        let passing = [
            OutputCheck::Contains(lit("hi")),
            OutputCheck::NotContains(lit("warn")),
            OutputCheck::Equals(lit("hi")),
            OutputCheck::Matches(Arc::new(regex::bytes::Regex::new(r"^h.\n$").unwrap())),
        ];
        assert!(checks(&output, StreamSelector::Stdout, &passing).is_empty());
        let failing = [
            OutputCheck::Contains(lit("bye")),
            OutputCheck::NotContains(lit("hi")),
            OutputCheck::Equals(lit("hello")),
            OutputCheck::Matches(Arc::new(regex::bytes::Regex::new("^x").unwrap())),
        ];
        assert_eq!(
            checks(&output, StreamSelector::Stdout, &failing),
            [
                "stdout does not contain \"bye\"",
                "stdout contains \"hi\", which it must not",
                "stdout is not equal to \"hello\": it is \"hi\\n\"",
                "stdout does not match /^x/",
            ]
        );
        assert_eq!(
            checks(
                &output,
                StreamSelector::Combined,
                &[OutputCheck::Equals(lit("hi\nwarn"))]
            ),
            Vec::<String>::new()
        );
    }

    /// A `json` check on gigabytes of output parsed all of it into memory.
    #[test]
    fn json_checks_refuse_output_larger_than_the_limit() {
        let mut output = CapturedOutput::new(1024);
        output.push(Stream::Stdout, b"[").unwrap();
        let block = vec![b' '; 1024 * 1024];
        for _ in 0..64 {
            output.push(Stream::Stdout, &block).unwrap();
        }
        output.push(Stream::Stdout, b"]").unwrap();
        let check = OutputCheck::Json {
            pointer: String::new(),
            expected: serde_json::json!([]),
        };
        assert_eq!(
            checks(
                &output,
                StreamSelector::Stdout,
                std::slice::from_ref(&check)
            ),
            ["stdout is 67108866 bytes, more than the 64 MiB a `json` check parses"]
        );
        let small = CapturedOutput::from_parts(b"[ ]", b"").unwrap();
        assert!(checks(&small, StreamSelector::Stdout, &[check]).is_empty());
    }

    #[test]
    fn regex_and_contains_reach_the_end_of_spilled_output() {
        let mut output = CapturedOutput::new(1024);
        let filler = vec![b'x'; 1024 * 1024];
        for _ in 0..20 {
            output.push(Stream::Stdout, &filler).unwrap();
        }
        output.push(Stream::Stdout, b"\nEND-MARKER-42\n").unwrap();
        assert!(output.is_spilled());
        let list = [
            OutputCheck::Contains(Template::literal("END-MARKER-42")),
            OutputCheck::Matches(Arc::new(
                regex::bytes::Regex::new(r"(?m)^END-MARKER-\d+$").unwrap(),
            )),
        ];
        assert!(checks(&output, StreamSelector::Stdout, &list).is_empty());
        let missing = [OutputCheck::Matches(Arc::new(
            regex::bytes::Regex::new("NOPE").unwrap(),
        ))];
        assert_eq!(checks(&output, StreamSelector::Stdout, &missing).len(), 1);
    }
}
