//! Finding a suite's fixtures root, and checking its fixtures there, when the suite is loaded.
//!
//! The rule users rely on: without `--fixtures`, a fixture name is a folder in the `fixtures`
//! folder of the nearest ancestor of the suite file that has one, so `suites/x.toml` finds the
//! `fixtures/` beside `suites/` whatever the working directory. A missing fixture is a load
//! error at its position: nothing runs and no test dir is made. This module only looks at the
//! file system; it copies nothing.

use std::path::{Path, PathBuf};

use super::error::{Excerpt, LoadError, LoadErrorKind};
use super::model::Suite;

/// Sets `suite.fixtures_root` and checks that each fixture is a folder there. `excerpts` are
/// the positions of `suite.fixtures`, in order. Every missing fixture is an error.
pub(crate) fn resolve_fixtures(
    suite: &mut Suite,
    excerpts: &[Excerpt],
    explicit_root: Option<&Path>,
) -> Result<(), Vec<LoadError>> {
    let Some(file) = suite.source.clone() else {
        return Ok(());
    };
    let root = match explicit_root {
        Some(root) => Some(root.to_owned()),
        None => nearest_fixtures_folder(&file),
    };
    let mut errors = Vec::new();
    for (fixture, excerpt) in suite.fixtures.iter().zip(excerpts) {
        let kind = match &root {
            Some(root) if root.join(fixture).is_dir() => match link_out_of(root, fixture) {
                None => continue,
                Some(target) => LoadErrorKind::FixtureOutsideRoot {
                    fixture: fixture.clone(),
                    path: root.join(fixture),
                    target,
                },
            },
            Some(root) => LoadErrorKind::MissingFixture {
                fixture: fixture.clone(),
                path: root.join(fixture),
            },
            None => LoadErrorKind::NoFixturesRoot {
                fixture: fixture.clone(),
            },
        };
        errors.push(LoadError::at(&file, excerpt.clone(), kind));
    }
    suite.fixtures_root = root;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Where `root/fixture` really is, when symbolic links on the way lead out of `root` (the
/// copy would refuse it; saying so at load spares a test dir). `None` when it stays inside, or
/// when it cannot be told here (the copy checks again, link by link).
fn link_out_of(root: &Path, fixture: &str) -> Option<PathBuf> {
    let root = root.canonicalize().ok()?;
    let target = root.join(fixture).canonicalize().ok()?;
    (!target.starts_with(&root)).then_some(target)
}

/// The `fixtures` folder of the nearest ancestor of `suite_file` that has one, looking from the
/// file's own folder up to the root, with symbolic links resolved (so `..` in the suite path
/// and a linked `suites/` folder behave like the real path).
fn nearest_fixtures_folder(suite_file: &Path) -> Option<PathBuf> {
    let folder = match suite_file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let folder = folder.canonicalize().ok()?;
    folder
        .ancestors()
        .map(|ancestor| ancestor.join("fixtures"))
        .find(|candidate| candidate.is_dir())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use crate::suite::{LoadErrors, load_suites};

    fn messages(errors: LoadErrors) -> Vec<String> {
        errors.errors().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn fixtures_are_found_beside_the_suites_folder_from_any_working_directory() {
        let root = tempfile::tempdir().unwrap();
        let project = root.path().join("project");
        fs::create_dir_all(project.join("fixtures/hello")).unwrap();
        fs::create_dir_all(project.join("tests/suites/deep")).unwrap();
        let file = project.join("tests/suites/deep/a.toml");
        fs::write(&file, "fixtures = [\"hello\"]\n[[step]]\nsh = \"true\"\n").unwrap();
        // A nearer `fixtures` folder wins over a farther one.
        let suites = load_suites(std::slice::from_ref(&file), None).unwrap();
        let expected = project.join("fixtures").canonicalize().unwrap();
        assert_eq!(suites[0].fixtures_root.as_deref(), Some(expected.as_path()));
        fs::create_dir_all(project.join("tests/fixtures/hello")).unwrap();
        let suites = load_suites(&[file], None).unwrap();
        let nearer = project.join("tests/fixtures").canonicalize().unwrap();
        assert_eq!(suites[0].fixtures_root.as_deref(), Some(nearer.as_path()));
    }

    /// A fixture that was a link to a folder outside the fixtures root (`fixtures/etc ->
    /// /etc`) passed the load and failed only when the suite ran.
    #[test]
    fn a_fixture_linking_out_of_the_root_is_an_error_at_load() {
        let root = tempfile::tempdir().unwrap();
        let outside = root.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::create_dir_all(root.path().join("fixtures/real")).unwrap();
        std::os::unix::fs::symlink(&outside, root.path().join("fixtures/away")).unwrap();
        std::os::unix::fs::symlink("real", root.path().join("fixtures/current")).unwrap();
        fs::create_dir_all(root.path().join("suites")).unwrap();
        let file = root.path().join("suites/a.toml");
        fs::write(
            &file,
            "fixtures = [\"current\", \"away\"]\n[[step]]\nsh = \"true\"\n",
        )
        .unwrap();
        let found = messages(load_suites(std::slice::from_ref(&file), None).unwrap_err());
        let fixtures = root.path().canonicalize().unwrap().join("fixtures");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with(&format!(
                "error: fixture `away` leads outside the fixtures root: {} goes through a symbolic link to {}\n --> {}:1:24\n",
                fixtures.join("away").display(),
                outside.canonicalize().unwrap().display(),
                file.display()
            )),
            "{}",
            found[0]
        );
        assert!(found[0].contains("help: a fixture is copied from inside the fixtures root only"));
    }

    #[test]
    fn every_missing_fixture_is_an_error_at_its_position() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("fixtures/present")).unwrap();
        fs::create_dir_all(root.path().join("suites")).unwrap();
        let file = root.path().join("suites/a.toml");
        fs::write(
            &file,
            "fixtures = [\"gone\", \"present\", \"also/gone\"]\n[[step]]\nsh = \"true\"\n",
        )
        .unwrap();
        let found = messages(load_suites(std::slice::from_ref(&file), None).unwrap_err());
        let fixtures = root.path().canonicalize().unwrap().join("fixtures");
        assert_eq!(
            found,
            [
                format!(
                    "error: fixture `gone` not found: {} is not a folder\n --> {}:1:13\n  |\n1 | fixtures = [\"gone\", \"present\", \"also/gone\"]\n  |             ^^^^^^\n  = help: fixtures are folders in the `fixtures` folder nearest above the suite file, or in the one `--fixtures` names",
                    fixtures.join("gone").display(),
                    file.display()
                ),
                format!(
                    "error: fixture `also/gone` not found: {} is not a folder\n --> {}:1:32\n  |\n1 | fixtures = [\"gone\", \"present\", \"also/gone\"]\n  |                                ^^^^^^^^^^^\n  = help: fixtures are folders in the `fixtures` folder nearest above the suite file, or in the one `--fixtures` names",
                    fixtures.join("also/gone").display(),
                    file.display()
                ),
            ]
        );
        // An explicit root replaces the search.
        let other = root.path().join("other");
        fs::create_dir_all(other.join("gone")).unwrap();
        fs::create_dir_all(other.join("present")).unwrap();
        fs::create_dir_all(other.join("also/gone")).unwrap();
        let suites = load_suites(&[file], Some(&other)).unwrap();
        assert_eq!(suites[0].fixtures_root.as_deref(), Some(other.as_path()));
    }

    #[test]
    fn no_fixtures_folder_anywhere_above() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("a.toml");
        fs::write(&file, "fixtures = [\"x\"]\n[[step]]\nsh = \"true\"\n").unwrap();
        if root
            .path()
            .canonicalize()
            .unwrap()
            .ancestors()
            .any(|a| a.join("fixtures").is_dir())
        {
            return; // The machine has a `fixtures` folder above the temp dir: nothing to check.
        }
        let found = messages(load_suites(&[file], None).unwrap_err());
        assert!(
            found[0].starts_with("error: fixture `x` not found: no `fixtures` folder beside the suite file or above it\n"),
            "{found:?}"
        );
    }
}
