//! Fixtures found from the suite file, and missing ones rejected before anything runs.

use crate::support::{TestEnv, stderr, stdout};

const WITH_FIXTURE: &str = r#"
fixtures = ["project"]

[[step]]
name = "fixture is copied"
sh = "cat hello.txt"
stdout.equals = "hello"
"#;

#[test]
fn fixtures_are_found_beside_the_suites_folder_from_another_working_directory() {
    let env = TestEnv::new()
        .suite("copy", WITH_FIXTURE)
        .file("fixtures/project/hello.txt", "hello\n")
        .file("elsewhere/.keep", "");
    let suites = env.path().join("suites");
    let output = env
        .command()
        .current_dir(env.path().join("elsewhere"))
        .args(["--suites", &suites.display().to_string()])
        .output()
        .unwrap();
    assert!(
        stdout(&output).contains("✓ fixture is copied"),
        "{}",
        stdout(&output)
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // A relative suite path with `..` works the same.
    let output = env
        .command()
        .current_dir(env.path().join("elsewhere"))
        .args(["--suites", "../suites/copy.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn fixtures_flag_replaces_the_search() {
    let env = TestEnv::new()
        .suite("copy", WITH_FIXTURE)
        .file("fixtures/project/hello.txt", "not this one\n")
        .file("other/project/hello.txt", "hello\n");
    let output = env.run(&["--fixtures", "other"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn a_missing_fixture_is_a_load_error_and_no_test_dir_is_made() {
    let env = TestEnv::new()
        .suite("copy", WITH_FIXTURE)
        .suite("other", "fixtures = [\"nope\"]\n[[step]]\nsh = \"true\"\n");
    let output = env.run(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let message = stderr(&output);
    assert!(
        message.contains("error: fixture `project` not found: ")
            && message.contains("--> suites/copy.toml:2:13\n")
            && message.contains("error: fixture `nope` not found: ")
            && message.contains("--> suites/other.toml:1:13\n"),
        "{message}"
    );
    assert!(env.test_dirs().is_empty(), "{:?}", env.test_dirs());
}
