//! Property tests: arbitrary bytes, and valid suite and env files mutated at random, fed to the
//! suite loader and the env-file parser. Whatever the input, there is no panic and the result
//! is bounded: a suite file gives at most `MAX_ERRORS_PER_FILE` errors (and one line counting
//! the rest), every line of the message is of readable width, and an env-file error is one
//! short line that never quotes a value of the file.
//!
//! The case counts keep the whole module to a few seconds of a debug build. A failure prints
//! the smallest input proptest found; add it to `suite_errors` or `regression` as its own test.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::Config;

use smoke_runner::config::parse_env;
use smoke_runner::suite::{LoadErrors, MAX_ERRORS_PER_FILE, Suite, load_file, parse_suite};

/// Valid suite files to mutate: the repository's own, and one with every kind of table.
fn suite_seeds() -> Vec<&'static str> {
    vec![
        include_str!("../../suites/coreutils.toml"),
        include_str!("../../suites/git.toml"),
        include_str!("../../suites/http_health.toml"),
        include_str!("../../suites/plandex_smoke.toml"),
        include_str!("../../suites/postgres_local.toml"),
        r#"name = "every table"
command = "${PLANDEX_CMD:-plandex}"
timeout = "2m"
fixtures = ["hello-project"]
env = { A = "1", B = "${A}-x" }
requires = ["sh", { sh = "true" }]
redact = ["TOKEN"]
on_failure = "continue"
shell = "bash -eu"
exclusive = "db"

[[service]]
name = "web"
run = ["python3", "-m", "http.server", "${PORT}"]
port = "PORT"
env = { X = "y" }
healthcheck = { http = { url = "http://127.0.0.1:${PORT}/", status = 200, headers = { H = "v" } }, interval = "100ms", timeout = 2, retries = 5, start_period = 0.5 }

[[step]]
section = "One"
name = "first"
run = "new --name 'a b'"
stdout = { contains = ["a", "b"], not_contains = "c", matches = "^a", equals = "x" }
stderr.json = { key = "value" }
status = "any"
timeout = 1.5
retry = { attempts = 3, interval = "2s" }
env_remove = ["HOME"]
files = [{ path = "out.txt", exists = true, contains = "x" }]
capture = "OUT"
stdin = "input"

[[step]]
note = "a note"

[[step]]
sh = """
echo ${OUT}
"""
always = true
ignore = "flaky"
http = { url = "http://127.0.0.1:1/", method = "POST", body = "{}" }
"#,
    ]
}

/// Pieces of TOML (and of what breaks it) inserted by mutations.
const SUITE_PIECES: &[&str] = &[
    "[[step]]\n",
    "[step]\n",
    "[[service]]\n",
    "[step.http]\n",
    " = ",
    "\"",
    "'''",
    "\"\"\"",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\n",
    "\r\n",
    "\t",
    "#",
    ".",
    "1979-05-27T07:32:00Z",
    "07:32:00",
    "1e300",
    "-1e19",
    "nan",
    "inf",
    "9223372036854775807",
    "-9223372036854775808",
    "0x7f",
    "1_000",
    "true",
    "${",
    "${A:-${B:-${C}}}",
    "$${",
    "\\u0000",
    "\u{feff}",
    "é",
    "🙂",
    "files = { path = \"x\" }\n",
    "retry = [\"a\", 1]\n",
    "on_failure = {}\n",
    "env = 1979-05-27T07:32:00Z\n",
    "timeout = \"500000000000y\"\n",
    "status = 300\n",
    "a.b.c = 1\n",
    "name = \"\"\n",
];

/// One change to a file: positions are taken modulo its length, so any value is valid.
#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, piece: usize },
    Replace { at: usize, byte: u8 },
    RepeatLine { line: usize, times: usize },
    SwapLines { a: usize, b: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), any::<usize>()).prop_map(|(at, piece)| Mutation::Insert { at, piece }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        (any::<usize>(), 1..2000usize)
            .prop_map(|(line, times)| Mutation::RepeatLine { line, times }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation], pieces: &[&str]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len().max(1);
        match *mutation {
            Mutation::Delete { at, len: count } => {
                let at = at % len;
                let end = (at + count).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            Mutation::Insert { at, piece } => {
                let at = at % (bytes.len() + 1);
                let piece = pieces[piece % pieces.len()].as_bytes();
                bytes.splice(at..at, piece.iter().copied());
            }
            Mutation::Replace { at, byte } => {
                if !bytes.is_empty() {
                    let at = at % bytes.len();
                    bytes[at] = byte;
                }
            }
            Mutation::RepeatLine { line, times } => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let line = line % lines.len();
                let copy = lines[line].clone();
                lines.splice(line..line, std::iter::repeat_n(copy, times));
                bytes = lines.join(&b'\n');
            }
            Mutation::SwapLines { a, b } => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let count = lines.len();
                lines.swap(a % count, b % count);
                bytes = lines.join(&b'\n');
            }
        }
    }
    bytes
}

/// The longest line of a load error: the message (cut at 500 characters) and its `error: `.
const MAX_LINE_CHARS: usize = 520;

fn assert_bounded(result: Result<Suite, LoadErrors>) -> Result<(), TestCaseError> {
    let Err(errors) = result else {
        return Ok(());
    };
    prop_assert!(!errors.errors().is_empty());
    prop_assert!(errors.errors().len() <= MAX_ERRORS_PER_FILE + 1);
    let text = errors.to_string();
    prop_assert!(text.len() <= 64 * 1024, "{} bytes", text.len());
    for line in text.lines() {
        prop_assert!(
            line.chars().count() <= MAX_LINE_CHARS,
            "a line of {} characters: {line}",
            line.chars().count()
        );
    }
    prop_assert!(!text.contains("__toml_private"), "{text}");
    Ok(())
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Failures are turned into named regression tests, not files beside the sources.
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn mutated_suites_load_or_fail_with_a_bounded_message(
        seed in 0..6usize,
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let seeds = suite_seeds();
        let bytes = apply(seeds[seed % seeds.len()].as_bytes().to_vec(), &mutations, SUITE_PIECES);
        let source = String::from_utf8_lossy(&bytes);
        assert_bounded(parse_suite(&source, Path::new("suites/demo.toml")))?;
    }
}

proptest! {
    #![proptest_config(config(150))]

    #[test]
    fn arbitrary_bytes_as_a_suite_file_fail_with_a_bounded_message(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
    ) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("bytes.toml");
        std::fs::write(&path, &bytes).expect("write the file");
        assert_bounded(load_file(&path))?;
        assert_bounded(parse_suite(&String::from_utf8_lossy(&bytes), &path))?;
    }
}

/// A value no env-file error may quote.
const SECRET: &str = "s3cr3t-VALUE";

const ENV_SEED: &str = "\u{feff}# keys\nexport API_KEY=s3cr3t-VALUE\nPLAIN=s3cr3t-VALUE # comment\n\
SINGLE='s3cr3t-VALUE $NOT'\nDOUBLE=\"s3cr3t-VALUE\\n${PLAIN}\"\nMULTI=\"line one\ns3cr3t-VALUE\"\n\
EMPTY=\nREF=${API_KEY}-$PLAIN\nPLANDEX_TIMEOUT=90s\n";

const ENV_PIECES: &[&str] = &[
    "=", "'", "\"", "\\", "$", "${", "}", "${A}${A}", "#", " ", "\t", "\n", "\r\n", "export ",
    "\u{feff}", "\0", "é", "KEY", ".",
];

fn assert_env_bounded(bytes: &[u8]) -> Result<(), TestCaseError> {
    match parse_env(bytes, &|name| (name == "HOME").then(|| "/root".to_owned())) {
        Ok(vars) => {
            let total: usize = vars.iter().map(|(_, value)| value.len()).sum();
            prop_assert!(total <= smoke_runner::config::MAX_ENV_FILE_VALUES);
        }
        Err(error) => {
            let text = error.to_string();
            prop_assert!(text.len() <= 300, "{} bytes: {text}", text.len());
            prop_assert!(!text.contains('\n'), "{text}");
            prop_assert!(!text.contains(SECRET), "{text}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn mutated_env_files_parse_or_fail_with_one_short_line(
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let bytes = apply(ENV_SEED.as_bytes().to_vec(), &mutations, ENV_PIECES);
        assert_env_bounded(&bytes)?;
    }

    #[test]
    fn arbitrary_bytes_as_an_env_file_fail_with_one_short_line(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
    ) {
        assert_env_bounded(&bytes)?;
    }
}
