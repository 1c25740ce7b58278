//! `tags` and `-E` filter expressions: the same steps in `--list`, in a run and under the
//! harness; with libtest filters and partitions; bad expressions as errors with a caret.

use crate::harness::{nextest_style, smoke_binary};
use crate::support::{TestEnv, repo_root, smoke_runner, stderr, stdout};

/// `git` (tagged `vcs`, one step `slow`) and `build` (two steps `slow`, one `network`).
fn tagged_env() -> TestEnv {
    TestEnv::new()
        .suite(
            "git",
            r#"
name = "git"
command = "${FAKE}"
tags = ["vcs"]

[[step]]
name = "clone"
run = "out:cloned"
tags = ["slow", "network"]

[[step]]
name = "status"
run = "out:clean"
"#,
        )
        .suite(
            "build",
            r#"
name = "build"
command = "${FAKE}"

[[step]]
name = "configure"
run = "out:configured"

[[step]]
section = "Compile"
name = "compile everything"
run = "out:compiled"
tags = ["slow"]

[[step]]
section = "Compile"
name = "download and link"
run = "out:linked"
tags = ["slow", "network"]
"#,
        )
}

/// The names of the tests a libtest JSON run reported as passed.
fn passed(output: &std::process::Output) -> Vec<String> {
    stdout(output)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["type"] == "test" && event["event"] == "ok")
        .map(|event| event["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_expression_selects_the_same_steps_in_list_and_run() {
    let env = tagged_env();
    let expression = "tag(slow) and not suite(git)";
    let list = env.run(&["--list", "-E", expression]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    assert_eq!(
        stdout(&list),
        "build::compile::compile_everything: test\nbuild::compile::download_and_link: test\n"
    );
    let run = env.run(&["--no-history", "--format", "json", "-E", expression]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert_eq!(
        passed(&run),
        [
            "build::compile::compile_everything",
            "build::compile::download_and_link"
        ]
    );
    // The earlier step of the suite ran first as setup, not as a test.
    assert!(
        stdout(&run).contains(r#""test_count": 2"#),
        "{}",
        stdout(&run)
    );
}

#[test]
fn expressions_meet_libtest_filters_and_partitions() {
    let env = tagged_env();
    let list = |args: &[&str]| {
        let output = env.run(&[&["--list"], args].concat());
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    // Several -E: a step in any of them. A FILTER too: a step must match both.
    assert_eq!(
        list(&["-E", "tag(network)", "-E", "test(=git::status)"]),
        "build::compile::download_and_link: test\ngit::clone: test\ngit::status: test\n"
    );
    assert_eq!(list(&["-E", "tag(network)", "git"]), "git::clone: test\n");
    assert_eq!(
        list(&["-E", "tag(slow)", "--skip", "link"]),
        "build::compile::compile_everything: test\ngit::clone: test\n"
    );
    // A step inherits its suite's tags; globs, regexes and escapes.
    assert_eq!(list(&["-E", "tag(vcs) - tag(slow)"]), "git::status: test\n");
    assert_eq!(
        list(&[
            "--filter-expr",
            "test(/^build::compile::d/) | suite(#g?t) & tag(=network)"
        ]),
        "build::compile::download_and_link: test\ngit::clone: test\n"
    );
    assert_eq!(
        list(&["-E", "file(*/git.toml)"]),
        "git::clone: test\ngit::status: test\n"
    );
    // Partitions deal out the suites that still have a selected step.
    let first = list(&["-E", "tag(slow)", "--partition", "count:1/2"]);
    let second = list(&["-E", "tag(slow)", "--partition", "count:2/2"]);
    assert_eq!(
        (first.as_str(), second.as_str()),
        (
            "build::compile::compile_everything: test\nbuild::compile::download_and_link: test\n",
            "git::clone: test\n"
        )
    );
}

#[test]
fn a_bad_expression_is_an_error_with_a_caret_and_nothing_runs() {
    let env = tagged_env();
    let output = env.run(&["--no-history", "-E", "tag(slow) and not suite(git"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        "\
error: invalid filter expression: expected `)` to close `suite(`
  |
  | tag(slow) and not suite(git
  |                            ^
  = help: predicates are test(), suite(), tag(), file(), all(), none(); combine them with and, or, not, -, and parentheses; matchers are =exact, ~contains, #glob, /regex/
"
    );
    assert_eq!(env.test_dirs(), Vec::<std::path::PathBuf>::new());
}

#[test]
fn a_bad_tag_is_a_load_error_at_its_position() {
    let env = TestEnv::new().suite(
        "bad",
        "name = \"bad\"\n\n[[step]]\nname = \"a\"\nsh = \"true\"\ntags = [\"ok\", \"not ok\"]\n",
    );
    let output = env.run(&["--list"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "\
error: invalid tag \"not ok\"
 --> suites/bad.toml:6:15
  |
6 | tags = [\"ok\", \"not ok\"]
  |               ^^^^^^^^
  = help: a tag is a word of letters, digits, `_`, `-`, `.` and `:`, such as \"slow\" or \"needs-network\"
"
    );
}

#[test]
fn the_harness_selects_what_the_runner_lists_and_runs_it() {
    let expression = "tag(vcs) and not test(~branch)";
    let runner = std::process::Command::new(smoke_runner())
        .args([
            "--list", "--format", "terse", "--suites", "suites", "-E", expression,
        ])
        .current_dir(repo_root())
        .env("PLANDEX_ENV_FILE", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(runner.status.code(), Some(0), "{}", stderr(&runner));
    let listed = stdout(&runner);
    assert!(
        listed.starts_with("git::repository::init_a_repository: test\n"),
        "{listed}"
    );
    assert!(!listed.contains("branch"), "{listed}");

    let binary = smoke_binary();
    let tmp = tempfile::tempdir().unwrap();
    let harness_list = nextest_style(
        &binary,
        tmp.path(),
        &["--list", "--format", "terse", "-E", expression],
    );
    assert_eq!(stdout(&harness_list), listed);
    let run = nextest_style(&binary, tmp.path(), &["--format", "json", "-E", expression]);
    assert_eq!(run.status.code(), Some(0), "{}", stdout(&run));
    let ran: String = passed(&run)
        .iter()
        .map(|name| format!("{name}: test\n"))
        .collect();
    assert_eq!(ran, listed);
}
