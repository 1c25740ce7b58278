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
error: unknown field `nme`, expected one of `name`, `description`, `command`, `timeout`, `fixtures`, `env`, `requires`, `redact`, `on_failure`, `shell`, `exclusive`, `step`, `service`
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
error: unknown field `stdot`, expected one of `section`, `name`, `run`, `sh`, `shell`, `capture`, `note`, `http`, `stdout`, `stderr`, `output`, `stdin`, `env`, `env_remove`, `status`, `files`, `timeout`, `retry`, `ignore`, `always`
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
error: invalid type: string \"yes\", expected a boolean
 --> suites/bad.toml:4:10
  |
4 | always = \"yes\"
  |          ^^^^^
  = help: see the suite reference in docs/suites.md
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
