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

/// A folder outside the scratch folder's fixtures, holding a file that must stay as it is.
fn victim_folder(env: &TestEnv) -> std::path::PathBuf {
    let outside = env.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("victim"), "untouched").unwrap();
    outside
}

/// A fixture that was itself a symbolic link to `/etc` copied all of `/etc` into the test dir.
/// It is refused when the suite loads (exit 2, no test dir); the copy checks again, link by
/// link, in case the link changed in between.
#[test]
fn a_fixture_linking_out_of_the_fixtures_root_is_refused() {
    let env = TestEnv::new().suite(
        "linked",
        "fixtures = [\"etc\"]\n[[step]]\nname = \"uses etc\"\nsh = \"cat victim\"\n",
    );
    let outside = victim_folder(&env);
    std::os::unix::fs::symlink(&outside, env.path().join("fixtures/etc")).unwrap();
    let output = env.run(&[]);
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{errors}");
    let fixtures = env.path().canonicalize().unwrap().join("fixtures");
    assert!(
        errors.contains(&format!(
            "error: fixture `etc` leads outside the fixtures root: {} goes through a symbolic link to {}",
            fixtures.join("etc").display(),
            outside.canonicalize().unwrap().display()
        )),
        "{errors}"
    );
    assert_eq!(env.test_dirs(), Vec::<std::path::PathBuf>::new());
}

/// Fixture A held `a -> /victim` and fixture B a regular file `a`: copying B wrote through the
/// link and overwrote `/victim`.
#[test]
fn overlapping_fixtures_never_write_through_a_link() {
    let env = TestEnv::new()
        .suite(
            "overlap",
            "fixtures = [\"a\", \"b\"]\n[[step]]\nsh = \"cat a\"\nstdout.equals = \"from b\"\n",
        )
        .file("fixtures/b/a", "from b\n");
    let outside = victim_folder(&env);
    std::fs::create_dir_all(env.path().join("fixtures/a")).unwrap();
    std::os::unix::fs::symlink(outside.join("victim"), env.path().join("fixtures/a/a")).unwrap();
    let output = env.run(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        std::fs::read_to_string(outside.join("victim")).unwrap(),
        "untouched"
    );
}

/// A FIFO in a fixture folder blocked the copy forever (Ctrl-C ignored).
#[test]
fn a_fifo_in_a_fixture_is_refused_with_its_path() {
    let env = TestEnv::new()
        .suite(
            "piped",
            "fixtures = [\"piped\"]\n[[step]]\nname = \"never runs\"\nsh = \"true\"\n",
        )
        .file("fixtures/piped/ok.txt", "");
    let fifo = env.path().join("fixtures/piped/p");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
    )
    .unwrap();
    let output = env
        .command()
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let fifo = env.path().canonicalize().unwrap().join("fixtures/piped/p");
    assert!(
        report.contains(&format!(
            "cannot copy fixture `piped`: {} is a FIFO (named pipe): fixtures may hold only files, folders and symbolic links",
            fifo.display()
        )),
        "{report}"
    );
}
