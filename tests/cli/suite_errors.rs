//! Bad suite files: each is refused before anything runs, with exit status 2 and a message
//! pointing at the problem (`file:line:col`, the line, a caret, a hint).

use crate::support::{TestEnv, stderr, stdout};

/// Loads `toml` as `suites/bad.toml` and returns stderr (scratch path as `[SCRATCH]`), after checking that
/// loading failed as a usage error, quietly and without a panic.
fn load_error(toml: &str) -> String {
    let env = TestEnv::new().suite("bad", toml);
    let output = env.run(&[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(stdout(&output), "", "nothing runs");
    assert_eq!(env.test_dirs().len(), 0, "no test dir is made");
    // Not `normalize`: it would also rewrite the durations of the hints.
    err.replace(&env.path().display().to_string(), "[SCRATCH]")
}

#[test]
fn toml_syntax_error() {
    assert_eq!(
        load_error("name = \"unclosed\n[[step]]\nname = \"a\"\nrun = \"b\"\n"),
        "\
error: invalid TOML: invalid basic string, expected `\"`
 --> suites/bad.toml:1:17
  |
1 | name = \"unclosed
  |                 ^
  = help: suite files are TOML: see https://toml.io
"
    );
}

#[test]
fn unknown_top_level_key() {
    assert_eq!(
        load_error("nme = \"x\"\n\n[[step]]\nname = \"a\"\nrun = \"b\"\n"),
        "\
error: unknown key `nme`, expected one of `name`, `description`, `command`, `timeout`, `max_duration`, `warn_duration`, `fixtures`, `env`, `requires`, `redact`, `on_failure`, `shell`, `exclusive`, `workdir`, `tags`, `step`, `service`
 --> suites/bad.toml:1:1
  |
1 | nme = \"x\"
  | ^^^
  = help: see the suite reference in docs/suites.md
"
    );
}

#[test]
fn unknown_step_key() {
    assert_eq!(
        load_error("[[step]]\nname = \"a\"\nrun = \"b\"\nstdot.contains = \"x\"\n"),
        "\
error: unknown key `stdot` in `[[step]]`, expected one of `section`, `name`, `run`, `sh`, `shell`, `capture`, `workdir`, `note`, `http`, `stdout`, `stderr`, `output`, `stdin`, `env`, `env_remove`, `status`, `files`, `timeout`, `max_duration`, `warn_duration`, `retry`, `ignore`, `tags`, `always`, `pty`, `window`, `interact`
 --> suites/bad.toml:4:1
  |
4 | stdot.contains = \"x\"
  | ^^^^^
  = help: see the suite reference in docs/suites.md
"
    );
}

#[test]
fn wrong_type() {
    assert_eq!(
        load_error("[[step]]\nname = \"a\"\nrun = \"b\"\nalways = \"yes\"\n"),
        "\
error: `always` must be `true` or `false`, not the string \"yes\"
 --> suites/bad.toml:4:10
  |
4 | always = \"yes\"
  |          ^^^^^
  = help: write `always = true` or `always = false`, without quotes
"
    );
}

#[test]
fn bad_regex() {
    assert_eq!(
        load_error("[[step]]\nname = \"a\"\nrun = \"b\"\nstdout.matches = \"(unclosed\"\n"),
        "\
error: invalid regular expression: unclosed group
 --> suites/bad.toml:4:18
  |
4 | stdout.matches = \"(unclosed\"
  |                  ^^^^^^^^^^^
  = help: see https://docs.rs/regex/latest/regex/#syntax
"
    );
}

#[test]
fn bad_duration() {
    assert_eq!(
        load_error("[[step]]\nname = \"a\"\nrun = \"b\"\ntimeout = \"5 parsecs\"\n"),
        "\
error: invalid duration `5 parsecs`: unknown time unit \"parsecs\", supported units: ns, us/µs, ms, sec, min, hours, days, weeks, months, years (and few variations)
 --> suites/bad.toml:4:11
  |
4 | timeout = \"5 parsecs\"
  |           ^^^^^^^^^^^
  = help: write seconds like `120` or `1.5`, or with a unit: `500ms`, `30s`, `2m`
"
    );
}

/// A step that is valid on its own, for the reproducers below.
const STEP: &str = "[[step]]\nname = \"a\"\nsh = \"true\"\n";

/// `env = 1979-05-27T07:32:00Z` said "invalid type: string \"$__toml_private_datetime\",
/// expected a spanned value".
#[test]
fn datetime_where_a_table_is_meant_is_named_as_a_datetime() {
    assert_eq!(
        load_error(&format!("env = 1979-05-27T07:32:00Z\n{STEP}")),
        "\
error: `env` must be a table of strings like `{ NAME = \"value\" }`, not the date-time 1979-05-27T07:32:00Z
 --> suites/bad.toml:1:7
  |
1 | env = 1979-05-27T07:32:00Z
  |       ^^^^^^^^^^^^^^^^^^^^
  = help: write `env = { NAME = \"value\" }`
"
    );
}

/// `on_failure = 42` said "wanted string or table", `on_failure = {}` "wanted exactly 1
/// element, found 0 elements".
#[test]
fn on_failure_of_the_wrong_type_names_its_two_values() {
    assert_eq!(
        load_error(&format!("on_failure = 42\n{STEP}")),
        "\
error: `on_failure` must be \"stop\" or \"continue\", not the integer 42
 --> suites/bad.toml:1:14
  |
1 | on_failure = 42
  |              ^^
  = help: write `on_failure = \"stop\"` or `on_failure = \"continue\"`
"
    );
    assert_eq!(
        load_error(&format!("on_failure = {{}}\n{STEP}")),
        "\
error: `on_failure` must be \"stop\" or \"continue\", not a table
 --> suites/bad.toml:1:14
  |
1 | on_failure = {}
  |              ^^
  = help: write `on_failure = \"stop\"` or `on_failure = \"continue\"`
"
    );
}

/// `retry = ["a", 1]` said "invalid type: string \"a\", expected i64": serde read the array as
/// the fields of the table.
#[test]
fn retry_given_an_array_asks_for_a_table() {
    assert_eq!(
        load_error(&format!("{STEP}retry = [\"a\", 1]\n")),
        "\
error: `retry` must be a table like `{ attempts = 3, interval = \"2s\" }`, not an array
 --> suites/bad.toml:4:9
  |
4 | retry = [\"a\", 1]
  |         ^^^^^^^^
  = help: write `retry = { attempts = 3, interval = \"2s\" }`
"
    );
}

/// `files = { path = "x" }` said "invalid type: map, expected a sequence".
#[test]
fn files_given_a_table_says_it_is_a_list() {
    assert_eq!(
        load_error(&format!("{STEP}files = {{ path = \"x\" }}\n")),
        "\
error: `files` must be an array of tables, not a table
 --> suites/bad.toml:4:9
  |
4 | files = { path = \"x\" }
  |         ^^^^^^^^^^^^^^
  = help: `files` is a list: write `files = [{ … }]`
"
    );
}

/// A float where a string is meant was printed in full: `name = 1e300` gave 301 digits.
#[test]
fn huge_numbers_are_quoted_as_written() {
    assert_eq!(
        load_error(&format!("name = 1e300\n{STEP}")),
        "\
error: `name` must be a string, not the float 1e300
 --> suites/bad.toml:1:8
  |
1 | name = 1e300
  |        ^^^^^
  = help: quote it: `name = \"…\"`
"
    );
}

#[test]
fn every_misfit_of_a_file_is_reported_nested_keys_by_their_path() {
    assert_eq!(
        load_error(
            "[[service]]\nport = 3\nhealthcheck = { http = { status = \"200\" }, retries = 1.5 }\n\
             [[step]]\nsh = \"true\"\nenv = { PORT = 8080 }\nfiles = [{ exists = true }, \"x\"]\n\
             stdout.contains = [\"ok\", 1]\nstdot = 1\n"
        ),
        "\
error: `[[service]]` has no `name`
 --> suites/bad.toml:1:1
  |
1 | [[service]]
  | ^^^^^^^^^^^
  = help: add `name = \"…\"`

error: `port` must be a string, not the integer 3
 --> suites/bad.toml:2:8
  |
2 | port = 3
  |        ^
  = help: quote it: `port = \"…\"`

error: `healthcheck.http` has no `url`
 --> suites/bad.toml:3:24
  |
3 | healthcheck = { http = { status = \"200\" }, retries = 1.5 }
  |                        ^^^^^^^^^^^^^^^^^^
  = help: `url` is required: write it like `{ url = \"http://127.0.0.1:${PORT}/health\", status = 200 }`

error: `healthcheck.http.status` must be an integer, not the string \"200\"
 --> suites/bad.toml:3:35
  |
3 | healthcheck = { http = { status = \"200\" }, retries = 1.5 }
  |                                   ^^^^^
  = help: write a whole number without quotes, like `status = 3`

error: `healthcheck.retries` must be an integer, not the float 1.5
 --> suites/bad.toml:3:54
  |
3 | healthcheck = { http = { status = \"200\" }, retries = 1.5 }
  |                                                      ^^^
  = help: write a whole number without quotes, like `retries = 3`

error: `env.PORT` must be a string, not the integer 8080
 --> suites/bad.toml:6:16
  |
6 | env = { PORT = 8080 }
  |                ^^^^
  = help: values in `env` are strings: write `PORT = \"…\"`

error: a `files` entry has no `path`
 --> suites/bad.toml:7:10
  |
7 | files = [{ exists = true }, \"x\"]
  |          ^^^^^^^^^^^^^^^^^
  = help: `path` is required: write it like `{ path = \"main.go\", exists = true }`

error: an item of `files` must be a table, not the string \"x\"
 --> suites/bad.toml:7:29
  |
7 | files = [{ exists = true }, \"x\"]
  |                             ^^^
  = help: `files` is a list: write `files = [{ … }]`

error: an item of `stdout.contains` must be a string, not the integer 1
 --> suites/bad.toml:8:26
  |
8 | stdout.contains = [\"ok\", 1]
  |                          ^
  = help: quote it: `contains = [\"…\", \"…\"]`

error: unknown key `stdot` in `[[step]]`, expected one of `section`, `name`, `run`, `sh`, `shell`, `capture`, `workdir`, `note`, `http`, `stdout`, `stderr`, `output`, `stdin`, `env`, `env_remove`, `status`, `files`, `timeout`, `max_duration`, `warn_duration`, `retry`, `ignore`, `tags`, `always`, `pty`, `window`, `interact`
 --> suites/bad.toml:9:1
  |
9 | stdot = 1
  | ^^^^^
  = help: see the suite reference in docs/suites.md
"
    );
}

/// A suite of one long line quoted the whole line under each error: 20,000 errors on a
/// 220 kB line wrote 6.6 GB to stderr. Lines are cut around the column, and a file reports at
/// most 20 errors and a count of the others.
#[test]
fn long_lines_and_many_errors_write_little() {
    let steps = format!("step = [{}]\n", "{ name = \"a\" },".repeat(100_000));
    let err = load_error(&steps);
    assert!(err.len() < 20_000, "{} bytes", err.len());
    assert_eq!(err.matches("error: ").count(), 21, "{err}");
    assert!(
        err.ends_with(
            "error: 99980 more errors in this file\n --> suites/bad.toml\n  = help: fix the errors above and load the file again\n"
        ),
        "{err}"
    );
    // Every quoted line is cut to a readable width.
    assert!(err.lines().all(|line| line.chars().count() < 400), "{err}");

    // One line of nearly the 8 MiB limit, its error at the end.
    let long = format!("name = \"{}\" x\n", "é".repeat(4_000_000));
    let err = load_error(&long);
    assert!(err.len() < 2_000, "{} bytes", err.len());
    assert!(err.contains(" --> suites/bad.toml:1:4000011\n"), "{err}");
    assert!(err.contains("\n1 | …éééé"), "{err}");
}

/// Lines of an unclosed inline table each followed by a header (a mutated suite of the
/// property tests) sent the TOML parser's error recovery into a recursion per line: a stack
/// overflow (SIGABRT) on the threads that load suite files in parallel.
#[test]
fn many_unclosed_inline_tables_do_not_overflow_the_stack() {
    let line =
        "healthcheck = { http = { url = \"http://127.0.0.1:${PORT}/\" }, interval = \"1s\"[step]\n";
    let toml = format!("[[service]]\nname = \"a\"\n{}", line.repeat(5_000));
    // Two files, so that they are loaded on worker threads (smaller stacks than the main one).
    let env = TestEnv::new().suite("one", &toml).suite("two", &toml);
    let output = env.run(&[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error: invalid TOML: ") && err.contains(" --> suites/one.toml:3:"),
        "{err}"
    );
}

/// `timeout = 99999999999999999999` said "invalid type: integer `99999999999999999999` as
/// i128, expected a duration like …".
#[test]
fn integers_toml_cannot_hold_are_out_of_range() {
    assert_eq!(
        load_error(&format!("{STEP}timeout = 99999999999999999999\n")),
        "\
error: `timeout` is out of range: TOML integers are from -9223372036854775808 to 9223372036854775807, not the integer 99999999999999999999
 --> suites/bad.toml:4:11
  |
4 | timeout = 99999999999999999999
  |           ^^^^^^^^^^^^^^^^^^^^
  = help: write a smaller number
"
    );
}
