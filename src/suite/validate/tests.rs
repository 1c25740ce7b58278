//! Validation tests: each suite key, valid and invalid, through `parse_suite`.

use std::path::Path;
use std::time::Duration;

use crate::suite::{
    Action, Backoff, ExpectedStatus, FileCheck, OnFailure, OutputCheck, Pacing, Requirement, Retry,
    Suite, Template, parse_suite,
};

fn parse(source: &str) -> Suite {
    parse_suite(source, Path::new("suites/demo.toml")).unwrap_or_else(|error| panic!("{error}"))
}

/// The whole message a user reads for `source`.
fn error(source: &str) -> String {
    match parse_suite(source, Path::new("suites/demo.toml")) {
        Ok(suite) => panic!("`{}` loaded without error", suite.name),
        Err(error) => error.to_string(),
    }
}

fn sources(templates: &[Template]) -> Vec<&str> {
    templates.iter().map(Template::source).collect()
}

fn env(vars: &[(String, Template)]) -> Vec<(&str, &str)> {
    vars.iter()
        .map(|(name, value)| (name.as_str(), value.source()))
        .collect()
}

fn checks(checks: &[OutputCheck]) -> Vec<String> {
    checks
        .iter()
        .map(|check| match check {
            OutputCheck::Contains(text) => format!("contains {}", text.source()),
            OutputCheck::NotContains(text) => format!("not_contains {}", text.source()),
            OutputCheck::Equals(text) => format!("equals {}", text.source()),
            OutputCheck::Matches(regex) => format!("matches {}", regex.as_str()),
            OutputCheck::Predicate(check) => format!("{check:?}"),
            OutputCheck::Json { pointer, expected } => format!("json {pointer} {expected}"),
            OutputCheck::EqualsFile { path, shown, root } => {
                format!("equals_file {shown} {} {}", path.display(), root.display())
            }
        })
        .collect()
}

fn file(check: &FileCheck) -> (&str, Option<bool>, Vec<&str>, Vec<&str>) {
    (
        check.path.source(),
        check.exists,
        sources(&check.contains),
        sources(&check.not_contains),
    )
}

#[test]
fn every_key_is_read_into_the_model() {
    let suite = parse(
        r#"
name = "Demo Suite"
description = "Every key there is"
command = "${PLANDEX_CMD:-plandex}"
timeout = "2m"
fixtures = ["go-project", "data/small"]
env = { PLANDEX_ENV = "development", API = "${PLANDEX_ENV}/api" }
requires = ["git", "bash"]
on_failure = "continue"

[[step]]
section = "Plan Management"
name = "Create named plan!"
run = "new -n 'smoke test plan' ${FLAG:-}"
stdout.matches = ["^plan", "created$"]
stdout.equals = "plan created"
stdout.not_contains = ["error", "panic"]
stdout.contains = "created"
stderr.contains = ["warn", "${NAME}"]
stderr.equals_file = "expected/err.txt"
output.not_contains = "fatal"
stdin = "y\n"
env = { Z_LAST = "z", A_FIRST = "a" }
env_remove = ["OPENROUTER_API_KEY"]
status = "failure"
files = [
  { path = "main.go", exists = true, contains = "func", not_contains = ["TODO", "FIXME"] },
  { path = "gone.txt", exists = false },
  { path = "notes.md", contains = ["a", "b"] },
]
timeout = 1.5
retry = { attempts = 3, interval = "2s", backoff = "exponential", max_interval = "30s", jitter = true }
ignore = "flaky upstream"
always = true

[[step]]
name = "Edit"
sh = "echo '// edited' >> main.go"
status = 3
retry = { attempts = 2 }
timeout = 30

[[step]]
name = "As an array"
run = ["tell", "two words", "${X:-x}"]
status = "success"

[[step]]
name = "Hang"
sh = "sleep 5"
status = "timeout"

[[step]]
name = "Whatever"
sh = "true"
status = "any"
"#,
    );
    assert_eq!(suite.name, "Demo Suite");
    assert_eq!(suite.slug, "demo_suite");
    assert_eq!(suite.description.as_deref(), Some("Every key there is"));
    assert_eq!(suite.source.as_deref(), Some(Path::new("suites/demo.toml")));
    assert_eq!(
        suite.command.as_ref().map(Template::source),
        Some("${PLANDEX_CMD:-plandex}")
    );
    assert_eq!(suite.timeout, Some(Duration::from_secs(120)));
    assert_eq!(suite.fixtures, ["go-project", "data/small"]);
    assert_eq!(
        env(&suite.env),
        [
            ("PLANDEX_ENV", "development"),
            ("API", "${PLANDEX_ENV}/api")
        ]
    );
    let programs: Vec<&str> = suite
        .requires
        .iter()
        .map(|requirement| match requirement {
            Requirement::Program(program) => program.as_str(),
            Requirement::Check(_) => panic!("a program: {requirement:?}"),
        })
        .collect();
    assert_eq!(programs, ["git", "bash"]);
    assert_eq!(suite.on_failure, OnFailure::Continue);
    assert_eq!(suite.steps.len(), 5);

    let step = &suite.steps[0];
    assert_eq!(step.name, "Create named plan!");
    assert_eq!(step.section.as_deref(), Some("Plan Management"));
    assert_eq!(
        step.test_name,
        "demo_suite::plan_management::create_named_plan_"
    );
    let Action::Run(args) = &step.action else {
        panic!("expected run, got {:?}", step.action);
    };
    assert_eq!(sources(args), ["new", "-n", "smoke test plan", "${FLAG:-}"]);
    assert_eq!(
        checks(&step.stdout),
        [
            "contains created",
            "not_contains error",
            "not_contains panic",
            "equals plan created",
            "matches ^plan",
            "matches created$",
        ]
    );
    assert_eq!(
        checks(&step.stderr),
        [
            "contains warn",
            "contains ${NAME}",
            "equals_file expected/err.txt suites/expected/err.txt suites"
        ]
    );
    assert_eq!(checks(&step.output), ["not_contains fatal"]);
    assert_eq!(step.stdin.as_ref().map(Template::source), Some("y\n"));
    assert_eq!(env(&step.env), [("Z_LAST", "z"), ("A_FIRST", "a")]);
    assert_eq!(step.env_remove, ["OPENROUTER_API_KEY"]);
    assert_eq!(step.status, ExpectedStatus::Failure);
    assert_eq!(
        step.files.iter().map(file).collect::<Vec<_>>(),
        [
            ("main.go", Some(true), vec!["func"], vec!["TODO", "FIXME"]),
            ("gone.txt", Some(false), vec![], vec![]),
            ("notes.md", None, vec!["a", "b"], vec![]),
        ]
    );
    assert_eq!(step.timeout, Some(Duration::from_millis(1500)));
    assert_eq!(
        step.retry,
        Some(Retry {
            attempts: 3,
            pacing: Pacing {
                interval: Duration::from_secs(2),
                backoff: Backoff::Exponential,
                max_interval: Some(Duration::from_secs(30)),
                jitter: true,
            }
        })
    );
    assert_eq!(step.ignore.as_deref(), Some("flaky upstream"));
    assert!(step.always);
    let location = step.location.as_ref().expect("a location");
    assert_eq!(location.to_string(), "suites/demo.toml:11:1");

    let step = &suite.steps[1];
    assert_eq!(step.test_name, "demo_suite::edit");
    assert_eq!(step.section, None);
    let Action::Shell(line) = &step.action else {
        panic!("expected sh, got {:?}", step.action);
    };
    assert_eq!(line.source(), "echo '// edited' >> main.go");
    assert_eq!(step.status, ExpectedStatus::Code(3));
    assert_eq!(
        step.retry,
        Some(Retry {
            attempts: 2,
            pacing: Pacing::fixed(Duration::from_secs(1))
        })
    );
    assert_eq!(step.timeout, Some(Duration::from_secs(30)));
    assert!(!step.always);
    assert_eq!(step.ignore, None);
    assert_eq!(step.location.as_ref().map(|l| l.line), Some(36));

    let Action::Run(args) = &suite.steps[2].action else {
        panic!("expected run, got {:?}", suite.steps[2].action);
    };
    assert_eq!(sources(args), ["tell", "two words", "${X:-x}"]);
    assert_eq!(suite.steps[2].status, ExpectedStatus::Code(0));
    assert_eq!(suite.steps[3].status, ExpectedStatus::Timeout);
    assert_eq!(suite.steps[4].status, ExpectedStatus::Any);
}

#[test]
fn defaults_apply_to_a_minimal_suite() {
    let suite = parse("[[step]]\nname = \"only\"\nsh = \"true\"\n");
    assert_eq!(suite.name, "demo");
    assert_eq!(suite.slug, "demo");
    assert_eq!(suite.description, None);
    assert!(suite.command.is_none());
    assert_eq!(suite.timeout, None);
    assert!(suite.fixtures.is_empty() && suite.env.is_empty() && suite.requires.is_empty());
    assert_eq!(suite.on_failure, OnFailure::Stop);
    let step = &suite.steps[0];
    assert_eq!(step.test_name, "demo::only");
    assert_eq!(step.status, ExpectedStatus::Code(0));
    assert!(step.stdout.is_empty() && step.stderr.is_empty() && step.output.is_empty());
    assert!(step.env.is_empty() && step.env_remove.is_empty() && step.files.is_empty());
    assert!(step.stdin.is_none() && step.timeout.is_none() && step.retry.is_none());
    assert!(!step.always && step.ignore.is_none());
}

#[test]
fn test_names_are_made_unique_within_the_suite() {
    let suite = parse(
        r#"
name = "Plandex: Smoke!"
[[step]]
name = "Build"
sh = "true"
[[step]]
name = "build"
sh = "true"
[[step]]
section = "Plans"
name = "Build"
sh = "true"
[[step]]
section = "plans"
name = "BUILD"
sh = "true"
"#,
    );
    let names: Vec<&str> = suite.steps.iter().map(|s| s.test_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "plandex_smoke_::build",
            "plandex_smoke_::build_2",
            "plandex_smoke_::plans::build",
            "plandex_smoke_::plans::build_2",
        ]
    );
}

#[test]
fn inline_step_arrays_and_dotted_env_keep_their_positions_and_order() {
    let suite = parse(
        "env.B = \"1\"\nenv.A = \"2\"\nstep = [\n  { name = \"a\", sh = \"x\" },\n  { name = \"b\", sh = \"y\" },\n]\n",
    );
    assert_eq!(env(&suite.env), [("B", "1"), ("A", "2")]);
    let at: Vec<String> = suite
        .steps
        .iter()
        .filter_map(|step| step.location.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(at, ["suites/demo.toml:4:3", "suites/demo.toml:5:3"]);
}

#[test]
fn requires_takes_programs_and_check_commands() {
    let suite = parse(
        "requires = [\"git\", { sh = \"id postgres\" }, { run = [\"test\", \"-d\", \"/\"] }]\n[[step]]\nrun = \"x\"\n",
    );
    assert!(matches!(&suite.requires[0], Requirement::Program(p) if p == "git"));
    assert!(matches!(
        &suite.requires[1],
        Requirement::Check(crate::suite::Command::Shell(_))
    ));
    assert!(
        matches!(&suite.requires[2], Requirement::Check(crate::suite::Command::Argv(args)) if args.len() == 3)
    );
}

#[test]
fn a_requires_check_without_a_command_is_an_error() {
    assert_eq!(
        error("requires = [{}]\n[[step]]\nrun = \"x\"\n"),
        "\
error: a `requires` check needs `sh` or `run`
 --> suites/demo.toml:1:13
  |
1 | requires = [{}]
  |             ^^
  = help: for example `{ sh = \"id postgres\" }`: the suite is skipped unless it exits 0"
    );
    let wrong = error("requires = [{ sh = \"true\", shell = \"zsh\" }]\n[[step]]\nrun = \"x\"\n");
    assert!(
        wrong.starts_with(
            "error: unknown key `shell` in a `requires` check, expected one of `run`, `sh`"
        ),
        "{wrong}"
    );
    let number = error("requires = [3]\n[[step]]\nrun = \"x\"\n");
    assert!(
        number.starts_with(
            "error: an item of `requires` must be a program name or a check like `{ sh = \"id postgres\" }`, not the integer 3"
        ),
        "{number}"
    );
}

#[test]
fn syntax_error() {
    assert_eq!(
        error("name = \"demo\nstep = 1\n"),
        r#"error: invalid TOML: invalid basic string, expected `"`
 --> suites/demo.toml:1:13
  |
1 | name = "demo
  |             ^
  = help: suite files are TOML: see https://toml.io"#
    );
}

#[test]
fn unknown_key_at_top_level() {
    assert_eq!(
        error("nme = \"demo\"\n"),
        "\
error: unknown key `nme`, expected one of `name`, `description`, `command`, `timeout`, `max_duration`, `warn_duration`, `fixtures`, `env`, `requires`, `redact`, `on_failure`, `shell`, `exclusive`, `workdir`, `tags`, `step`, `service`
 --> suites/demo.toml:1:1
  |
1 | nme = \"demo\"
  | ^^^
  = help: see the suite reference in docs/suites.md"
    );
}

#[test]
fn unknown_key_in_a_step() {
    let source = "name = \"demo\"\n\n[[step]]\nname = \"a\"\nrun = \"x\"\n\n\n\n\n\n\nstdot.contains = \"x\"\n";
    assert_eq!(
        error(source),
        "\
error: unknown key `stdot` in `[[step]]`, expected one of `section`, `name`, `run`, `sh`, `shell`, `capture`, `workdir`, `note`, `http`, `stdout`, `stderr`, `output`, `stdin`, `env`, `env_remove`, `status`, `files`, `timeout`, `max_duration`, `warn_duration`, `retry`, `ignore`, `tags`, `always`, `pty`, `window`, `interact`
  --> suites/demo.toml:12:1
   |
12 | stdot.contains = \"x\"
   | ^^^^^
   = help: see the suite reference in docs/suites.md"
    );
}

#[test]
fn unknown_key_in_a_file_check() {
    assert_eq!(
        error(
            "[[step]]\nname = \"a\"\nrun = \"b\"\nfiles = [{ path = \"x\", exist = true }]\n"
        ),
        "\
error: unknown key `exist` in a `files` entry, expected one of `path`, `exists`, `contains`, `not_contains`
 --> suites/demo.toml:4:24
  |
4 | files = [{ path = \"x\", exist = true }]
  |                        ^^^^^
  = help: see the suite reference in docs/suites.md"
    );
}

#[test]
fn a_step_without_name_is_named_after_its_command() {
    let long = "x".repeat(80);
    let suite = parse(&format!(
        "[[step]]\nrun = \"log  --format=%s\"\n[[step]]\nrun = [\"say\", \"two words\"]\n\
         [[step]]\nsh = \"\"\"\n\n  cd sub &&\n  make\n\"\"\"\n[[step]]\nsh = \"echo {long}\"\n"
    ));
    let names: Vec<&str> = suite.steps.iter().map(|s| s.name.as_str()).collect();
    let cut = format!("echo {}…", "x".repeat(54));
    assert_eq!(
        names,
        [
            "log --format=%s",
            "say 'two words'",
            "cd sub &&",
            cut.as_str()
        ]
    );
    assert_eq!(cut.chars().count(), 60);
    assert_eq!(suite.steps[0].test_name, "demo::log_format_s");
}

#[test]
fn wrong_types() {
    assert_eq!(
        error("[[step]]\nname = 5\nrun = \"x\"\n"),
        "\
error: `name` must be a string, not the integer 5
 --> suites/demo.toml:2:8
  |
2 | name = 5
  |        ^
  = help: quote it: `name = \"…\"`"
    );
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nstdout.contains = 5\n"),
        "\
error: `stdout.contains` must be a string or an array of strings, not the integer 5
 --> suites/demo.toml:4:19
  |
4 | stdout.contains = 5
  |                   ^
  = help: write `contains = \"…\"` or `contains = [\"…\", \"…\"]`"
    );
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nstdout = 5\n"),
        "\
error: `stdout` must be a table like `{ contains = \"created\" }`, not the integer 5
 --> suites/demo.toml:4:10
  |
4 | stdout = 5
  |          ^
  = help: write `stdout = { contains = \"created\" }`"
    );
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = 5\n"),
        "\
error: `run` must be a command line (a string) or its arguments (an array of strings), not the integer 5
 --> suites/demo.toml:3:7
  |
3 | run = 5
  |       ^
  = help: write `run = \"new --name demo\"` or `run = [\"new\", \"--name\", \"demo\"]`"
    );
    assert_eq!(
        error("[step]\nname = \"a\"\nrun = \"b\"\n"),
        "\
error: `step` must be an array of tables, not a table
 --> suites/demo.toml:1:1
  |
1 | [step]
  | ^^^^^^
  = help: write each one as a `[[step]]` table, with double brackets"
    );
    assert_eq!(
        error("on_failure = \"stp\"\n[[step]]\nname = \"a\"\nrun = \"b\"\n"),
        "\
error: `on_failure` must be \"stop\" or \"continue\", not the string \"stp\"
 --> suites/demo.toml:1:14
  |
1 | on_failure = \"stp\"
  |              ^^^^^
  = help: write `on_failure = \"stop\"` or `on_failure = \"continue\"`"
    );
}

#[test]
fn run_and_sh_together() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"x\"\nsh = \"y\"\n"),
        "\
error: step `a` has both `run` and `sh`
 --> suites/demo.toml:4:6
  |
4 | sh = \"y\"
  |      ^^^
  = help: keep one: `run` gives arguments to the suite's `command`, `sh` is a bash line"
    );
}

#[test]
fn neither_run_nor_sh() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\n"),
        "\
error: step `a` has neither `run` nor `sh`
 --> suites/demo.toml:1:1
  |
1 | [[step]]
  | ^^^^^^^^
  = help: add `run = \"…\"` (arguments to the suite's `command`) or `sh = \"…\"` (a bash line); a note-only step has `note` and at most a `section`"
    );
}

#[test]
fn bad_regex() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"x\"\nstdout.matches = [\"ok\", \"a(\"]\n"),
        "\
error: invalid regular expression: unclosed group
 --> suites/demo.toml:4:25
  |
4 | stdout.matches = [\"ok\", \"a(\"]
  |                         ^^^^
  = help: see https://docs.rs/regex/latest/regex/#syntax"
    );
}

#[test]
fn bad_durations() {
    assert_eq!(
        error("timeout = \"5 parsecs\"\n[[step]]\nname = \"a\"\nrun = \"x\"\n"),
        "\
error: invalid duration `5 parsecs`: unknown time unit \"parsecs\", supported units: ns, us/µs, ms, sec, min, hours, days, weeks, months, years (and few variations)
 --> suites/demo.toml:1:11
  |
1 | timeout = \"5 parsecs\"
  |           ^^^^^^^^^^^
  = help: write seconds like `120` or `1.5`, or with a unit: `500ms`, `30s`, `2m`"
    );
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\ntimeout = -1\n"),
        "\
error: invalid duration `-1`: it is negative
 --> suites/demo.toml:4:11
  |
4 | timeout = -1
  |           ^^
  = help: write seconds like `120` or `1.5`, or with a unit: `500ms`, `30s`, `2m`"
    );
    assert_eq!(
        error(
            "[[step]]\nname = \"a\"\nrun = \"b\"\nretry = { attempts = 2, interval = \"soon\" }\n"
        ),
        "\
error: invalid duration `soon`: expected number at 0
 --> suites/demo.toml:4:36
  |
4 | retry = { attempts = 2, interval = \"soon\" }
  |                                    ^^^^^^
  = help: write seconds like `120` or `1.5`, or with a unit: `500ms`, `30s`, `2m`"
    );
}

#[test]
fn bad_status() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"x\"\nstatus = \"fial\"\n"),
        "\
error: invalid status \"fial\"
 --> suites/demo.toml:4:10
  |
4 | status = \"fial\"
  |          ^^^^^^
  = help: write an exit code from 0 to 255, or one of \"success\", \"failure\", \"timeout\", \"any\""
    );
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"x\"\nstatus = 300\n"),
        "\
error: invalid status 300
 --> suites/demo.toml:4:10
  |
4 | status = 300
  |          ^^^
  = help: write an exit code from 0 to 255, or one of \"success\", \"failure\", \"timeout\", \"any\""
    );
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"x\"\nstatus = true\n"),
        "\
error: `status` must be an exit code or one of \"success\", \"failure\", \"timeout\", \"any\", not the boolean true
 --> suites/demo.toml:4:10
  |
4 | status = true
  |          ^^^^
  = help: write `status = 1` or `status = \"failure\"`"
    );
}

#[test]
fn bad_templates() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"x ${1A} y\"\n"),
        "\
error: `${1A}` is not a variable reference: names are letters, digits and `_`, not starting with a digit
 --> suites/demo.toml:3:10
  |
3 | run = \"x ${1A} y\"
  |          ^^^^^
  = help: write `${NAME}` or `${NAME:-default}`; `$${` is a literal `${`"
    );
    assert_eq!(
        error("[[step]]\nname = \"a\"\nsh = \"echo ${OPEN\"\n"),
        "\
error: unterminated `${`: add the closing `}` (or write `$${` for a literal)
 --> suites/demo.toml:3:12
  |
3 | sh = \"echo ${OPEN\"
  |            ^^^^^^
  = help: write `${NAME}` or `${NAME:-default}`; `$${` is a literal `${`"
    );
    // Multi-line strings: the caret skips the opening quotes and the newline after them;
    // tabs before it are kept so that it lines up.
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nstdin = \"\"\"\n\tx ${ y\"\"\"\n"),
        "\
error: unterminated `${`: add the closing `}` (or write `$${` for a literal)
 --> suites/demo.toml:5:4
  |
5 | \tx ${ y\"\"\"
  | \t  ^^^^
  = help: write `${NAME}` or `${NAME:-default}`; `$${` is a literal `${`"
    );
}

#[test]
fn unclosed_quote_in_run() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"say 'hi\"\n"),
        "\
error: unclosed quote in `run`
 --> suites/demo.toml:3:12
  |
3 | run = \"say 'hi\"
  |            ^
  = help: close the quote, or write the arguments as an array: `run = [\"say\", \"it's\"]`"
    );
}

#[test]
fn reference_split_by_a_space_in_run() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"x ${A:-p q}\"\n"),
        "\
error: this space splits a `${…}` reference into two arguments
 --> suites/demo.toml:3:16
  |
3 | run = \"x ${A:-p q}\"
  |                ^
  = help: quote the reference (`\"${NAME:-two words}\"`), or write `run` as an array of arguments"
    );
}

#[test]
fn no_steps() {
    assert_eq!(
        error("name = \"demo\"\n"),
        "\
error: suite `demo` has no steps
 --> suites/demo.toml
  = help: add a `[[step]]` table with a `name` and a `run` or `sh` key"
    );
}

#[test]
fn fixture_outside_the_fixtures_root() {
    for fixture in ["../x", "/abs", "a/../../b", ""] {
        let message = error(&format!(
            "fixtures = [\"{fixture}\"]\n[[step]]\nname = \"a\"\nrun = \"b\"\n"
        ));
        assert!(message.starts_with(&format!("error: fixture `{fixture}` is not")));
    }
    assert_eq!(
        error("fixtures = [\"ok\", \"../x\"]\n[[step]]\nname = \"a\"\nrun = \"b\"\n"),
        "\
error: fixture `../x` is not a folder under the fixtures root
 --> suites/demo.toml:1:19
  |
1 | fixtures = [\"ok\", \"../x\"]
  |                   ^^^^^^
  = help: name a folder under the fixtures root, without `..` or a leading `/`"
    );
}

#[test]
fn retry_attempts_below_one() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nretry = { attempts = 0 }\n"),
        "\
error: retry attempts must be from 1 to 1000, not 0
 --> suites/demo.toml:4:22
  |
4 | retry = { attempts = 0 }
  |                      ^
  = help: `attempts` counts every run, the first one included"
    );
}

/// `attempts = 4294967295` kept a failing step running for ever; a thousand is the most.
#[test]
fn retry_attempts_above_a_thousand() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nretry = { attempts = 4294967295 }\n"),
        "\
error: retry attempts must be from 1 to 1000, not 4294967295
 --> suites/demo.toml:4:22
  |
4 | retry = { attempts = 4294967295 }
  |                      ^^^^^^^^^^
  = help: `attempts` counts every run, the first one included"
    );
    assert!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nretry = { attempts = 1001 }\n")
            .starts_with("error: retry attempts must be from 1 to 1000, not 1001\n")
    );
}

#[test]
fn retry_back_off_keys() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nretry = { attempts = 3, backoff = \"quadratic\" }\n"),
        "\
error: `retry.backoff` must be \"fixed\", \"linear\" or \"exponential\", not the string \"quadratic\"
 --> suites/demo.toml:4:35
  |
4 | retry = { attempts = 3, backoff = \"quadratic\" }
  |                                   ^^^^^^^^^^^
  = help: write `backoff = \"fixed\"` or `backoff = \"linear\"` or `backoff = \"exponential\"`"
    );
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nretry = { attempts = 3, interval = \"2s\", max_interval = \"1s\" }\n"),
        "\
error: max_interval (1s) is shorter than the first pause, interval (2s)
 --> suites/demo.toml:4:57
  |
4 | retry = { attempts = 3, interval = \"2s\", max_interval = \"1s\" }
  |                                                         ^^^^
  = help: `max_interval` caps the pauses that grow from `interval`: make it longer, or `interval` shorter"
    );
}

#[test]
fn environment_variable_names() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nenv = { \"A=B\" = \"x\" }\n"),
        "\
error: invalid environment variable name `A=B`
 --> suites/demo.toml:4:9
  |
4 | env = { \"A=B\" = \"x\" }
  |         ^^^^^
  = help: variable names are not empty and have no `=` or NUL"
    );
}

#[test]
fn empty_names() {
    assert_eq!(
        error("[[step]]\nname = \" \"\nrun = \"b\"\n"),
        "\
error: step name is empty
 --> suites/demo.toml:2:8
  |
2 | name = \" \"
  |        ^^^
  = help: names make test names: give it at least one character"
    );
    assert!(
        error("name = \"\"\n[[step]]\nname = \"a\"\nrun = \"b\"\n")
            .starts_with("error: suite name is empty\n")
    );
    assert!(
        error("[[step]]\nsection = \"\"\nname = \"a\"\nrun = \"b\"\n")
            .starts_with("error: section name is empty\n")
    );
}

#[test]
fn every_wrong_key_and_step_of_a_file_is_reported_in_file_order() {
    let message = error(
        "[[step]]\nsh = \"a\"\nstatus = \"fial\"\n\
         [[step]]\nsh = \"b\"\n\
         [[step]]\nsh = \"c\"\nstdout.matches = \"a(\"\ntimeout = \"soon\"\n\
         [[step]]\nnote = \"n\"\nstatus = 1\n",
    );
    let headlines: Vec<&str> = message
        .lines()
        .filter(|line| line.starts_with("error: ") || line.contains("-->"))
        .collect();
    assert_eq!(
        headlines,
        [
            "error: invalid status \"fial\"",
            " --> suites/demo.toml:3:10",
            // One error per step: the first one found in it.
            "error: invalid duration `soon`: expected number at 0",
            " --> suites/demo.toml:9:11",
            "error: step has neither `run` nor `sh`",
            "  --> suites/demo.toml:10:1",
        ]
    );
    // Suite keys written after the steps are still reported in file order.
    let message = error("[[step]]\nsh = 5\n");
    assert_eq!(message.matches("error: ").count(), 1, "{message}");
    let message =
        error("timeout = \"soon\"\nexclusive = \"\"\n[[step]]\nname = \"\"\nsh = \"b\"\n");
    let errors: Vec<&str> = message
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    assert_eq!(
        errors,
        [
            "error: invalid duration `soon`: expected number at 0",
            "error: exclusive resource name is empty",
            "error: step name is empty",
        ]
    );
}

#[test]
fn shell_lines_at_suite_and_step_level() {
    let suite = parse(
        "shell = \"bash\"\n[[step]]\nsh = \"a\"\n[[step]]\nsh = \"b\"\nshell = \"python3 -c\"\n",
    );
    assert_eq!(
        suite.shell.as_ref().map(|s| s.argv.clone()),
        Some(vec!["bash".into(), "-c".into()])
    );
    assert_eq!(suite.steps[0].shell, None);
    assert_eq!(
        suite.steps[1].shell.as_ref().map(|s| s.argv.clone()),
        Some(vec!["python3".into(), "-c".into()])
    );
    assert_eq!(
        crate::suite::Shell::strict().argv,
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
    );
    assert_eq!(
        error("[[step]]\nsh = \"a\"\nshell = \"python3 '-c\"\n"),
        "\
error: invalid `shell` \"python3 '-c\": expected a program and its first arguments
 --> suites/demo.toml:3:9
  |
3 | shell = \"python3 '-c\"
  |         ^^^^^^^^^^^^^
  = help: write an interpreter such as `\"bash\"` (run as `bash -c LINE`) or `\"python3 -c\"`"
    );
    assert!(
        error("[[step]]\nrun = \"a\"\nshell = \"bash\"\n")
            .starts_with("error: step `a` has `shell` but runs with `run`\n")
    );
    assert!(error("shell = \" \"\n[[step]]\nsh = \"a\"\n").starts_with("error: invalid `shell`"));
}

#[test]
fn captures_and_their_names() {
    let suite = parse("[[step]]\nsh = \"echo 3\"\ncapture = \"PLANS_1\"\n");
    assert_eq!(suite.steps[0].capture.as_deref(), Some("PLANS_1"));
    assert_eq!(
        error("[[step]]\nsh = \"echo 3\"\ncapture = \"1PLANS\"\n"),
        "\
error: invalid `capture` name `1PLANS`
 --> suites/demo.toml:3:11
  |
3 | capture = \"1PLANS\"
  |           ^^^^^^^^
  = help: use letters, digits and `_`, not starting with a digit, so that `${NAME}` can refer to it"
    );
}

#[test]
fn notes_go_with_the_next_step_and_trailing_ones_close_the_suite() {
    let suite = parse(
        "[[step]]\nnote = \"first\"\n[[step]]\nsection = \"S\"\nnote = \"second ${X:-x}\"\n\
         [[step]]\nsh = \"a\"\nnote = \"own\"\n[[step]]\nsh = \"b\"\n[[step]]\nnote = \"last\"\n",
    );
    assert_eq!(suite.steps.len(), 2);
    assert_eq!(
        sources(&suite.steps[0].notes),
        ["first", "second ${X:-x}", "own"]
    );
    assert!(suite.steps[1].notes.is_empty());
    assert_eq!(sources(&suite.closing_notes), ["last"]);
    assert!(
        error("[[step]]\nnote = \"n\"\nstatus = 1\n")
            .starts_with("error: step has neither `run` nor `sh`\n")
    );
    assert!(
        error("[[step]]\nnote = \"only notes\"\n")
            .starts_with("error: suite `demo` has no steps\n")
    );
}

#[test]
fn exclusive_names_a_resource() {
    let suite = parse("exclusive = \"plandex-account\"\n[[step]]\nsh = \"a\"\n");
    assert_eq!(suite.exclusive.as_deref(), Some("plandex-account"));
    assert!(
        error("exclusive = \"\"\n[[step]]\nsh = \"a\"\n")
            .starts_with("error: exclusive resource name is empty\n")
    );
}

/// The first example of docs/suites.md is a whole suite; it must keep loading.
#[test]
fn the_reference_example_loads() {
    let reference = include_str!("../../../docs/suites.md");
    let example = reference
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a TOML example in docs/suites.md");
    let suite = parse(example);
    assert_eq!(suite.name, "plans");
    let names: Vec<&str> = suite.steps.iter().map(|s| s.test_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "plans::plan_management::create_named_plan",
            "plans::plan_management::edit_a_file"
        ]
    );
}

use super::super::model::{Command, Probe};
use super::{DEFAULT_HEALTH_INTERVAL, DEFAULT_HEALTH_RETRIES, DEFAULT_HEALTH_TIMEOUT};

#[test]
fn services_health_checks_and_http_steps_are_read_into_the_model() {
    let suite = parse(
        r#"
[[service]]
name = "db"
sh = "postgres -p ${PORT}"
port = "auto"
env = { PGDATA = "pg" }
healthcheck = { sh = "pg_isready -p ${PORT}", interval = "2s", timeout = "3s", retries = 4, start_period = "5s" }

[[service]]
name = "api-server"
run = ["server", "--port", "${DB_PORT}"]
healthcheck = { http = { url = "http://127.0.0.1/health", status = 204 } }

[[service]]
name = "plain"
run = "sleep 600"
healthcheck = { tcp = "127.0.0.1:1" }

[[step]]
name = "health"
http = { url = "http://x/h", method = "post", headers = { Accept = "application/json" }, body = "{}" }
stdout.json = { "/status" = "ok", "/count" = 2 }
"#,
    );
    let [db, api, plain] = &suite.services[..] else {
        panic!("three services: {:?}", suite.services);
    };
    assert_eq!(db.name, "db");
    assert!(db.auto_port);
    assert_eq!(db.port_variable, "DB_PORT");
    assert_eq!(env(&db.env), [("PGDATA", "pg")]);
    assert!(matches!(&db.command, Command::Shell(line) if line.source() == "postgres -p ${PORT}"));
    let check = db.healthcheck.as_ref().unwrap();
    assert_eq!(
        (
            check.interval,
            check.timeout,
            check.retries,
            check.start_period
        ),
        (
            Duration::from_secs(2),
            Duration::from_secs(3),
            4,
            Duration::from_secs(5)
        )
    );
    assert_eq!(check.patience(), Duration::from_secs(13));
    assert!(matches!(&check.probe, Probe::Command(Command::Shell(_))));
    assert_eq!(api.port_variable, "API_SERVER_PORT");
    assert!(!api.auto_port);
    assert!(
        matches!(&api.command, Command::Argv(args) if sources(args) == ["server", "--port", "${DB_PORT}"])
    );
    let api_check = api.healthcheck.as_ref().unwrap();
    assert!(
        matches!(&api_check.probe, Probe::Http(http) if http.status == Some(204) && http.method == "GET")
    );
    assert_eq!(
        (
            api_check.interval,
            api_check.timeout,
            api_check.retries,
            api_check.start_period
        ),
        (
            DEFAULT_HEALTH_INTERVAL,
            DEFAULT_HEALTH_TIMEOUT,
            DEFAULT_HEALTH_RETRIES,
            Duration::ZERO
        )
    );
    assert!(
        matches!(&plain.healthcheck.as_ref().unwrap().probe, Probe::Tcp(t) if t.source() == "127.0.0.1:1")
    );
    let Action::Http(http) = &suite.steps[0].action else {
        panic!("an http step");
    };
    assert_eq!(http.method, "POST");
    assert_eq!(http.url.source(), "http://x/h");
    assert_eq!(env(&http.headers), [("Accept", "application/json")]);
    assert_eq!(http.body.as_ref().map(Template::source), Some("{}"));
    assert_eq!(
        checks(&suite.steps[0].stdout),
        ["json /count 2", "json /status \"ok\""]
    );
}

#[test]
fn bad_services_health_checks_and_http_steps() {
    let cases = [
        (
            "[[service]]\nname = \"a\"\n[[step]]\nname = \"s\"\nsh = \"true\"\n",
            "service `a` has neither `run` nor `sh`",
        ),
        (
            "[[service]]\nname = \"a\"\nsh = \"x\"\nport = \"5432\"\n[[step]]\nname = \"s\"\nsh = \"true\"\n",
            "invalid port \"5432\"",
        ),
        (
            "[[service]]\nname = \"a\"\nsh = \"x\"\nhealthcheck = { sh = \"a\", tcp = \"b:1\" }\n[[step]]\nname = \"s\"\nsh = \"true\"\n",
            "needs exactly one of `sh`, `run`, `http`, `tcp`",
        ),
        (
            "[[service]]\nname = \"a\"\nsh = \"x\"\n[[service]]\nname = \"A\"\nsh = \"y\"\n[[step]]\nname = \"s\"\nsh = \"true\"\n",
            "two services are named `A` (or have the same `${A_PORT}`)",
        ),
        (
            "[[step]]\nname = \"s\"\nhttp = { url = \"u\", status = 1000 }\n",
            "invalid HTTP status 1000",
        ),
        (
            "[[step]]\nname = \"s\"\nhttp = { url = \"u\" }\nstatus = 404\n",
            "step `s` is an `http` step: it has no exit status",
        ),
        (
            "[[step]]\nname = \"s\"\nsh = \"x\"\nhttp = { url = \"u\" }\n",
            "step `s` has `http` and a command",
        ),
        (
            "[[step]]\nname = \"s\"\nsh = \"x\"\nstdout.json = { status = \"ok\" }\n",
            "`status` is not a JSON pointer",
        ),
    ];
    for (source, expected) in cases {
        let message = error(source);
        assert!(message.contains(expected), "{source}\n---\n{message}");
        assert!(
            message.contains("suites/demo.toml:"),
            "a position: {message}"
        );
    }
}

/// `stdout.json = { "/a" = 2026-01-01T00:00:00Z }` loaded, and the check compared the output
/// with serde's internal table (`{"$__toml_private_datetime": …}`).
#[test]
fn json_checks_refuse_values_json_does_not_have() {
    for (value, what) in [
        ("2026-01-01T00:00:00Z", "a TOML date-time"),
        ("[1, { at = 07:32:00 }]", "a TOML date-time"),
        ("nan", "`nan` or `inf`"),
        ("-inf", "`nan` or `inf`"),
    ] {
        let source = format!("[[step]]\nsh = \"true\"\nstdout.json = {{ \"/a\" = {value} }}\n");
        let error = parse_suite(&source, Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!(
                "the value for `/a` holds {what}, which JSON does not have"
            )),
            "{value}: {error}"
        );
        assert!(!error.contains("__toml_private"), "{error}");
    }
}

#[test]
fn a_nan_timeout_is_not_a_number_not_out_of_range() {
    let message =
        error("name = \"s\"\ncommand = \"echo\"\n\n[[step]]\nrun = \"hi\"\ntimeout = nan\n");
    assert!(message.contains("not a number"), "{message}");
    assert!(!message.contains("out of range"), "{message}");
}

#[test]
fn budgets_are_the_steps_own_else_the_suites() {
    let suite = parse(
        "max_duration = \"2s\"\nwarn_duration = 0.5\n\
         [[step]]\nname = \"inherits\"\nrun = \"a\"\n\
         [[step]]\nname = \"own\"\nrun = \"b\"\nmax_duration = \"300ms\"\nwarn_duration = \"100ms\"\n\
         [[step]]\nname = \"own warning\"\nrun = \"c\"\nwarn_duration = \"1s\"\n",
    );
    let ms = |n| Some(Duration::from_millis(n));
    assert_eq!((suite.budgets.max, suite.budgets.warn), (ms(2000), ms(500)));
    let budgets: Vec<_> = suite
        .steps
        .iter()
        .map(|step| {
            let budgets = suite.budgets_of(step);
            (budgets.max, budgets.warn)
        })
        .collect();
    assert_eq!(
        budgets,
        [
            (ms(2000), ms(500)),
            (ms(300), ms(100)),
            (ms(2000), ms(1000))
        ]
    );
    assert_eq!(
        suite.steps[0].budgets.max, None,
        "the model keeps what the step says"
    );
}

#[test]
fn a_budget_of_zero_is_refused() {
    assert_eq!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nmax_duration = \"0s\"\n"),
        "\
error: `max_duration` is 0: every step would be over it
 --> suites/demo.toml:4:16
  |
4 | max_duration = \"0s\"
  |                ^^^^
  = help: give a duration like \"300ms\" or \"2s\", or leave the key out for no budget"
    );
}

#[test]
fn a_warning_at_or_above_the_limit_is_refused_where_it_is_written() {
    assert_eq!(
        error("max_duration = \"1s\"\nwarn_duration = \"1s\"\n[[step]]\nname = \"a\"\nrun = \"b\"\n"),
        "\
error: `warn_duration` (1s) is not below `max_duration` (1s)
 --> suites/demo.toml:2:17
  |
2 | warn_duration = \"1s\"
  |                 ^^^^
  = help: a step over `max_duration` fails, so a warning at or above it never shows: make `warn_duration` the smaller"
    );
    // A step's own limit below its suite's warning: the step's key is the one to change.
    assert_eq!(
        error(
            "warn_duration = \"2s\"\n[[step]]\nname = \"a\"\nrun = \"b\"\nmax_duration = \"500ms\"\n"
        ),
        "\
error: `warn_duration` (2s, the suite's) is not below `max_duration` (500ms)
 --> suites/demo.toml:5:16
  |
5 | max_duration = \"500ms\"
  |                ^^^^^^^
  = help: a step over `max_duration` fails, so a warning at or above it never shows: make `warn_duration` the smaller"
    );
}

#[test]
fn a_budget_that_is_not_a_duration_is_a_load_error() {
    assert!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nwarn_duration = \"soon\"\n")
            .contains(" --> suites/demo.toml:4:17\n"),
    );
    assert!(
        error("[[step]]\nname = \"a\"\nrun = \"b\"\nmax_duration = true\n")
            .contains("`max_duration`"),
    );
}
