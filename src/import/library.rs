//! What the functions of a script and of the helper libraries it sources do, as far as the
//! import needs to know: which ones are checks, and of which family.
//!
//! Functions are classified by name and, where the name does not say, by what their body
//! reads (`$?`, `"$@"`, an `eval` of their first argument).

use super::status_read::reads_status_first;

/// A sourced helper library, read by the caller (`smoke-runner import` reads files; this
/// module never does).
#[derive(Debug, Clone)]
pub struct Library {
    /// The text of the library.
    pub text: String,
    /// How a step started in the suite's `workdir` sources it.
    pub path_for_steps: String,
    /// The texts of the libraries it sources in turn (and they in turn), in the order bash
    /// reads them: their functions come with it.
    pub included: Vec<String>,
}

/// What a call to a helper means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// `assert CMD EXPECTED`: CMD's standard output equals EXPECTED.
    OutputEquals,
    /// `assert_contains CMD TEXT`.
    OutputContains,
    /// `assert_raises CMD [CODE]`: CMD exits with CODE (0 by default).
    StatusIs,
    /// `assert_fail CMD`: CMD fails.
    Fails,
    /// `succeeds CMD ARGS…`.
    ArgsSucceed,
    /// `fails CMD ARGS…`.
    ArgsFail,
    /// `contains TEXT CMD ARGS…`: the command's output contains TEXT.
    ArgsContain,
    /// `expect_run CODE CMD ARGS…`.
    ArgsExit,
    /// `test_eq A B`: two values are equal.
    ValuesEqual,
    /// `run_test CMD ARGS…`: runs a command for a `check_output` that follows.
    RunForOutput,
    /// `check_output <<EOF`: the last `run_test`'s output equals the here-document.
    OutputIsHereDoc,
    /// Reads `$?` of the command before it (`check NAME`, `end_test`).
    StatusChecker,
    /// `begin_test NAME`: names the block that follows.
    BeginTest,
    /// `fail MESSAGE`, `die`: a failed check when reached.
    Failure,
    /// `assert_end`, `done_testing`: the summary of the counted checks.
    Summary,
    /// `describe TEXT`, `context TEXT`: a group of examples, closed by `end`.
    Describe,
    /// `it TEXT`: names the expectations that follow, until `end`.
    Example,
    /// `end`: closes the last `describe` or `it`.
    End,
    /// `expect ACTUAL to_be EXPECTED`.
    Expect,
    /// A helper of another name that evals its first argument: the command succeeds.
    EvalFirst,
    /// One that evals its second (`expect_pass NAME CMD`, `test_expect_success [PREREQ] NAME
    /// CMD`: the last): the command succeeds.
    EvalSecond,
    /// `test_expect_failure NAME CMD`: a known breakage, run but never a failed check.
    KnownBreakage,
    /// A helper that prints a TAP line, `ok N …` or `not ok N …` as it decides: its call
    /// failed when it printed `not ok`.
    TapReport,
}

/// The family of the function `name` with `body`, if it is a check helper.
pub(crate) fn family(name: &str, body: &str) -> Option<Family> {
    let by_name = match name {
        "assert" | "assert_eq_output" | "assert_output" => Some(Family::OutputEquals),
        "assert_contains" | "assert_output_contains" => Some(Family::OutputContains),
        "assert_raises" | "assert_status" | "assert_exit_code" => Some(Family::StatusIs),
        "assert_fail" | "assert_fails" | "refute" => Some(Family::Fails),
        "succeeds" | "should_succeed" => Some(Family::ArgsSucceed),
        "fails" | "should_fail" => Some(Family::ArgsFail),
        "contains" | "output_contains" => Some(Family::ArgsContain),
        "expect_run" | "expect_exit" => Some(Family::ArgsExit),
        "test_eq" | "assert_eq" | "assert_equal" | "assert_equals" => Some(Family::ValuesEqual),
        "run_test" => Some(Family::RunForOutput),
        "check_output" | "expect_output" => Some(Family::OutputIsHereDoc),
        "begin_test" | "start_test" => Some(Family::BeginTest),
        "fail" | "die" | "bail" | "abort" | "fatal" => Some(Family::Failure),
        // `test_expect_success [PREREQ] NAME BODY`: BODY is evaluated, named by NAME.
        "test_expect_success" | "expect_success" => Some(Family::EvalSecond),
        // A known breakage: its failure is reported, never counted.
        "test_expect_failure" => Some(Family::KnownBreakage),
        "assert_end" | "done_testing" | "end_tests" | "test_summary" | "summary" | "test_done" => {
            Some(Family::Summary)
        }
        "describe" | "context" | "with" => Some(Family::Describe),
        "it" | "example" => Some(Family::Example),
        "end" => Some(Family::End),
        "expect" => Some(Family::Expect),
        _ => None,
    };
    by_name.or_else(|| {
        if reports_failure(body) {
            Some(Family::Failure)
        } else if reads_last_status(body) {
            Some(Family::StatusChecker)
        } else if prints_tap(body) {
            Some(Family::TapReport)
        } else if evals(body, '1') {
            Some(Family::EvalFirst)
        } else if evals(body, '2') {
            Some(Family::EvalSecond)
        } else {
            None
        }
    })
}

/// Whether a body reports a failed check whenever it is called: it prints a failure report
/// (`not ok`, `FAIL`, `[FAIL]`, `✗`, `✖`, `✘`, `ERROR`, after colour variables such as `${RED}`)
/// or adds to a failure count (`TAP_FAIL_COUNT=$((…+1))`, `((failures++))`), and decides
/// nothing (no `if`, `case`, `&&`, `||`, `[`): `tap_fail`, `log_failure`.
fn reports_failure(body: &str) -> bool {
    let code: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let decides = code.iter().any(|line| {
        line.split_whitespace().any(|w| {
            matches!(
                w,
                "if" | "case" | "&&" | "||" | "[" | "[[" | "while" | "for"
            )
        })
    });
    !decides
        && code
            .iter()
            .any(|line| prints_failure(line) || counts_failure(line))
}

/// Whether a body decides between printing a TAP `ok` and `not ok` line (`[ "$out" != "$3" ]
/// && printf "not "` then `echo "ok …"`).
fn prints_tap(body: &str) -> bool {
    let prints = |needle: &str| {
        body.lines().any(|line| {
            let line = line.trim_start();
            (line.contains("echo") || line.contains("printf")) && line.contains(needle)
        })
    };
    (prints("\"not ok") || prints("\"not \"") || prints("'not '")) && prints("\"ok ")
}

/// `echo "not ok …"`, `printf "${RED}✖ %s…"`: a line printing a failure report.
fn prints_failure(line: &str) -> bool {
    let Some(rest) = line
        .strip_prefix("echo ")
        .or_else(|| line.strip_prefix("printf "))
    else {
        return false;
    };
    let mut text = rest.trim_start();
    while let Some(option) = text.strip_prefix('-').filter(|_| !text.starts_with("--")) {
        text = option
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim_start();
    }
    let mut text = text.trim_start_matches(['"', '\'']);
    // Colour variables before the report: `${RED}`, `$BOLD`, or printf's `%s` for one.
    loop {
        if let Some(rest) = text.strip_prefix("%s").or_else(|| text.strip_prefix("%b")) {
            text = rest;
        } else if let Some(rest) = text.strip_prefix("${") {
            text = rest.split_once('}').map_or("", |(_, r)| r);
        } else if let Some(rest) = text
            .strip_prefix('$')
            .filter(|r| r.starts_with(char::is_alphabetic))
        {
            text = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
        } else {
            break;
        }
    }
    let text = text.trim_start_matches(['[', ' ']);
    [
        "not ok", "FAIL", "\u{2717}", "\u{2716}", "\u{2718}", "\u{274c}", "ERROR",
    ]
    .iter()
    .any(|marker| text.starts_with(marker))
}

/// `NAME=$((NAME + 1))`, `((NAME++))`, `let NAME+=1` for a name that counts failures.
fn counts_failure(line: &str) -> bool {
    let name: String = line
        .trim_start_matches(['(', ' '])
        .trim_start_matches("let ")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let upper = name.to_ascii_uppercase();
    let counted =
        line.contains("++") || line.contains("+=") || line.contains("+ 1") || line.contains("+1");
    (upper.contains("FAIL") || upper.contains("ERROR")) && counted
}

/// Whether a body runs its argument `n` as a command string (`eval "$2"`).
fn evals(body: &str, n: char) -> bool {
    [
        format!("eval \"${n}\""),
        format!("eval ${n}"),
        format!("eval \"${{{n}}}\""),
    ]
    .iter()
    .any(|form| body.contains(form.as_str()))
}

/// How a command-string helper treats its other arguments, read from its body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Style {
    /// The expected text goes through `echo -e`/`echo -ne`/`printf %b`: `\n` is a newline.
    pub(crate) escapes: bool,
    /// The third argument is the command's standard input (`<<< "$3"`; a here-string gives a
    /// newline even when the argument is missing).
    pub(crate) stdin_third: bool,
}

/// The style of a helper's body.
pub(crate) fn style(body: &str) -> Style {
    // `printf -v expected "x${2:-}"`: the expected text is printf's format.
    let printf_format = body
        .lines()
        .any(|line| line.contains("printf") && (line.contains("\"$2") || line.contains("${2")));
    Style {
        escapes: body.contains("echo -e")
            || body.contains("echo -ne")
            || body.contains("%b")
            || printf_format,
        stdin_third: body.contains("<<<") && (body.contains("$3") || body.contains("${3")),
    }
}

/// `\n`, `\t` and `\\` as `echo -e` reads them.
pub(crate) fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Whether a function body starts by reading `$?` (the status of the command before the
/// call): its first line of code does, by [`reads_status_first`]'s rule.
fn reads_last_status(body: &str) -> bool {
    let first = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    reads_status_first(first)
}

/// Whether a call's result is judged (a check), as opposed to a helper that only runs things.
pub(crate) fn is_check(family: Family) -> bool {
    !matches!(
        family,
        Family::RunForOutput
            | Family::BeginTest
            | Family::Summary
            | Family::Describe
            | Family::Example
            | Family::End
            | Family::KnownBreakage
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_checkers_are_found_by_their_body() {
        assert_eq!(
            family("check", "  if [ $? -eq 0 ]; then echo ok; fi"),
            Some(Family::StatusChecker)
        );
        assert_eq!(
            family("end_test", "local status=$?\n[ $status = 0 ]"),
            Some(Family::StatusChecker)
        );
        assert_eq!(family("setup", "mkdir x\necho $?"), None);
        assert_eq!(
            family("expect_pass", "ret=0\neval \"$2\" || ret=$?"),
            Some(Family::EvalSecond)
        );
        assert_eq!(family("assert", ""), Some(Family::OutputEquals));
        // Reporters: called, they report a failed check.
        for body in [
            "  TAP_TEST_COUNT=$(( TAP_TEST_COUNT+1 ))\n  echo \"not ok $TAP_TEST_COUNT $1\"",
            "  printf \"${RED}\u{2716} %s${NORMAL}\\n\" \"$@\" >&2",
            "echo -e \"[FAIL] $*\"",
            "((failures++))",
            "printf '%s\u{2716} %s%s\\n' \"$RED\" \"$*\" \"$RESET\" >&2",
        ] {
            assert_eq!(family("report", body), Some(Family::Failure), "{body}");
        }
        assert_eq!(
            family(
                "test_output",
                "\tout=$(tap_ok \"$@\")\n\t[ \"$out\" != \"$3\" ] && printf \"not \"\n\techo \"ok $n $2\""
            ),
            Some(Family::TapReport)
        );
        // Not reporters: they decide (a check), or report passes.
        for body in [
            "if [ \"$1\" = \"$2\" ]; then tap_pass; else echo \"not ok\"; fi",
            "echo \"ok $n $1\"",
            "printf \"${GREEN}\u{2714} %s\\n\" \"$@\"",
        ] {
            assert_eq!(family("report", body), None, "{body}");
        }
        assert_eq!(unescape("a\\nb\\tc\\\\d\\q"), "a\nb\tc\\d\\q");
        let styled = style("expected=$(echo -ne \"$2\")\ngot=$(eval \"$1\" <<< \"$3\")");
        assert!(styled.escapes && styled.stdin_third);
        assert!(style("printf -v expected \"x${2:-}\"").escapes);
    }
}
