//! Loading suites: paths expanded into files, files read, parsed and validated in parallel.
//!
//! This module owns the file system side of suites (reading files, listing folders) and the
//! checks that span files (two suites with one name). It reports every error it finds, not just
//! the first, and never prints them.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use serde::Deserialize;
use toml::de::DeTable;

use super::error::{LoadError, LoadErrorKind, LoadErrors, MAX_ERRORS_PER_FILE};
use super::fixtures::resolve_fixtures;
use super::model::Suite;
use super::position::{LineIndex, excerpt_at_invalid_byte};
use super::raw::RawSuite;
use super::shape;
use super::validate::{Validated, validate};
use crate::regular_file;

/// The largest suite file read: 8 MiB (about 250,000 short steps).
pub const MAX_SUITE_FILE_SIZE: u64 = 8 * 1024 * 1024;

/// Parses and validates the text of a suite file; `path` is used for messages, locations and
/// the default suite name (its stem). Nothing is read from disk.
pub fn parse_suite(source: &str, path: &Path) -> Result<Suite, LoadErrors> {
    parse(source, path).map(|validated| validated.suite)
}

/// Reads, parses and validates one suite file.
pub fn load_file(path: &Path) -> Result<Suite, LoadErrors> {
    read_and_parse(path).map(|validated| validated.suite)
}

/// Loads every suite named by `paths`, in order: a file is one suite, a folder is every
/// `*.toml` file directly inside it, sorted by file name. A file named twice is loaded once.
///
/// Files are parsed in parallel. Every error from every file is returned, in path order,
/// including suites whose names give the same test names (the later file is the one in error).
///
/// Fixtures are looked up as [`load_suites`] does without a fixtures folder.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Suite>, LoadErrors> {
    load_suites(paths, None)
}

/// [`load_paths`], with every suite's fixtures found: under `fixtures_root` when given, else
/// in the `fixtures` folder nearest above the suite file (see `fixtures.rs`). A fixture that is
/// not a folder there is an error at its position, so nothing runs.
pub fn load_suites(
    paths: &[PathBuf],
    fixtures_root: Option<&Path>,
) -> Result<Vec<Suite>, LoadErrors> {
    let listed = list_files(paths);
    let files: Vec<&Path> = listed.iter().flatten().map(PathBuf::as_path).collect();
    let mut parsed = parse_in_parallel(&files).into_iter();
    let mut suites: Vec<Suite> = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    let mut by_slug: HashMap<String, usize> = HashMap::with_capacity(files.len());
    for entry in listed {
        let validated = match entry
            .map_err(LoadErrors::from)
            .and_then(|_| parsed.next().expect("one result per file"))
        {
            Ok(validated) => validated,
            Err(file_errors) => {
                errors.extend(file_errors.into_errors());
                continue;
            }
        };
        let mut suite = validated.suite;
        if let Err(fixture_errors) =
            resolve_fixtures(&mut suite, &validated.fixture_excerpts, fixtures_root)
        {
            errors.extend(fixture_errors);
            continue;
        }
        match by_slug.get(&suite.slug) {
            Some(&earlier) => errors.push(LoadError {
                excerpt: validated.name_excerpt.map(Box::new),
                kind: LoadErrorKind::DuplicateSuite {
                    other_name: suites[earlier].name.clone(),
                    other_path: suites[earlier].source.clone().unwrap_or_default(),
                    name: suite.name,
                },
                path: suite.source.unwrap_or_default(),
            }),
            None => {
                by_slug.insert(suite.slug.clone(), suites.len());
                suites.push(suite);
            }
        }
    }
    if errors.is_empty() {
        Ok(suites)
    } else {
        Err(LoadErrors::new(errors))
    }
}

/// The suite files named by `paths`, in order and each once, with an error in place of each
/// folder that cannot be listed or has no suite file.
fn list_files(paths: &[PathBuf]) -> Vec<Result<PathBuf, LoadError>> {
    let mut seen = HashSet::new();
    let mut listed = Vec::with_capacity(paths.len());
    for path in paths {
        if fs::metadata(path).is_ok_and(|metadata| metadata.is_dir()) {
            match list_folder(path) {
                Ok(files) => listed.extend(files.into_iter().map(Ok)),
                Err(error) => listed.push(Err(error)),
            }
        } else {
            // Missing paths are listed too, and reported when read.
            listed.push(Ok(path.clone()));
        }
    }
    listed.retain(|entry| match entry {
        Ok(file) => seen.insert(file.clone()),
        Err(_) => true,
    });
    listed
}

/// The `*.toml` files directly inside `folder`, sorted by file name.
fn list_folder(folder: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let failed = |error| LoadError::new(folder, LoadErrorKind::ReadFolder(error));
    let mut files = Vec::new();
    for entry in fs::read_dir(folder).map_err(failed)? {
        let entry = entry.map_err(failed)?;
        let path = entry.path();
        if path.extension() != Some(OsStr::new("toml")) {
            continue;
        }
        // Everything but folders and dangling links is listed, so that a FIFO or a link loop
        // named `*.toml` is reported when read rather than silently skipped. Only symbolic
        // links need a second look at what they point to.
        let listed = entry.file_type().is_ok_and(|kind| {
            if kind.is_symlink() {
                match fs::metadata(&path) {
                    Ok(target) => !target.is_dir(),
                    Err(error) => error.kind() != std::io::ErrorKind::NotFound,
                }
            } else {
                !kind.is_dir()
            }
        });
        if listed {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(LoadError::new(folder, LoadErrorKind::EmptyFolder));
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// Reads and validates `files` on as many threads as there are cores, results in file order.
fn parse_in_parallel(files: &[&Path]) -> Vec<Result<Validated, LoadErrors>> {
    let workers = thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(files.len());
    if workers <= 1 {
        return files.iter().map(|file| read_and_parse(file)).collect();
    }
    // Workers take the next file from a shared counter, so one slow file does not hold up a
    // whole share of the others.
    let next = AtomicUsize::new(0);
    let mut results = thread::scope(|scope| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(index) else {
                            return done;
                        };
                        done.push((index, read_and_parse(file)));
                    }
                })
            })
            .collect();
        let mut results = Vec::with_capacity(files.len());
        for worker in workers {
            match worker.join() {
                Ok(done) => results.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    });
    results.sort_unstable_by_key(|&(index, _)| index);
    results.into_iter().map(|(_, result)| result).collect()
}

fn read_and_parse(path: &Path) -> Result<Validated, LoadErrors> {
    let bytes = regular_file::read(path, MAX_SUITE_FILE_SIZE)
        .map_err(|error| LoadError::new(path, LoadErrorKind::Read(error)))?;
    let source = std::str::from_utf8(&bytes).map_err(|error| {
        LoadError::at(
            path,
            excerpt_at_invalid_byte(&bytes, error.valid_up_to()),
            LoadErrorKind::NotUtf8(error),
        )
    })?;
    parse(source, path)
}

/// Every error of the file: one for TOML syntax or shape (parsing stops there), else one per
/// suite key and per step that is wrong.
fn parse(source: &str, path: &Path) -> Result<Validated, LoadErrors> {
    let toml_error = |error: toml::de::Error, kind: fn(Box<toml::de::Error>) -> LoadErrorKind| {
        match error.span() {
            Some(span) => LoadError::at(
                path,
                LineIndex::new(source).excerpt(span),
                kind(Box::new(error)),
            ),
            None => LoadError::new(path, kind(Box::new(error))),
        }
    };
    let table = DeTable::parse(source).map_err(|error| toml_error(error, LoadErrorKind::Syntax))?;
    let misfits = shape::check(&table, MAX_ERRORS_PER_FILE);
    if !misfits.kept.is_empty() {
        let lines = LineIndex::new(source);
        let mut errors: Vec<LoadError> = misfits
            .kept
            .into_iter()
            .map(|misfit| {
                LoadError::at(
                    path,
                    lines.excerpt(misfit.span),
                    LoadErrorKind::Shape {
                        message: misfit.message,
                        help: misfit.help,
                    },
                )
            })
            .collect();
        errors.sort_by_key(|error| error.location().map(|at| (at.line, at.column)));
        if misfits.more > 0 {
            errors.push(LoadError::new(
                path,
                LoadErrorKind::MoreErrors {
                    count: misfits.more,
                },
            ));
        }
        return Err(LoadErrors::new(errors));
    }
    let raw = RawSuite::deserialize(toml::Deserializer::from(table))
        .map_err(|error| toml_error(error, LoadErrorKind::Schema))?;
    validate(raw, source, path).map_err(LoadErrors::new)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    const STEP: &str = "[[step]]\nname = \"a\"\nsh = \"true\"\n";

    struct Folder(tempfile::TempDir);

    impl Folder {
        fn new() -> Self {
            Self(tempfile::tempdir().expect("a temp dir"))
        }

        fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
            let path = self.0.path().join(name);
            fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
            fs::write(&path, contents).expect("write a suite");
            path
        }

        fn path(&self, name: &str) -> PathBuf {
            self.0.path().join(name)
        }

        /// `text` with this folder shown as `<tmp>`, so messages can be compared whole.
        fn normalise(&self, text: impl ToString) -> String {
            text.to_string()
                .replace(&self.0.path().display().to_string(), "<tmp>")
        }
    }

    fn names(suites: &[Suite]) -> Vec<&str> {
        suites.iter().map(|suite| suite.name.as_str()).collect()
    }

    #[test]
    fn missing_file() {
        let folder = Folder::new();
        let error = load_file(&folder.path("nope.toml")).unwrap_err();
        assert_eq!(
            folder.normalise(&error),
            "\
error: cannot read suite file: no such file or folder
 --> <tmp>/nope.toml
  = help: check the path; suite paths are files or folders of `*.toml` files"
        );
        assert!(std::error::Error::source(&error.errors()[0]).is_some());
    }

    #[test]
    fn non_utf8_file() {
        let folder = Folder::new();
        let path = folder.write("latin1.toml", b"name = \"caf\xe9\"\n[[step]]\n");
        assert_eq!(
            folder.normalise(load_file(&path).unwrap_err()),
            "\
error: suite file is not valid UTF-8
 --> <tmp>/latin1.toml:1:12
  |
1 | name = \"caf\u{fffd}\"
  |            ^
  = help: save the file as UTF-8"
        );
    }

    #[test]
    fn empty_folder() {
        let folder = Folder::new();
        folder.write("suites/README.md", "not a suite");
        let error = load_paths(&[folder.path("suites")]).unwrap_err();
        assert_eq!(
            folder.normalise(error),
            "\
error: no suite files (`*.toml`) in this folder
 --> <tmp>/suites
  = help: add suite files ending in `.toml`, or pass the files themselves"
        );
    }

    #[test]
    fn duplicate_suite_names_name_both_files() {
        let folder = Folder::new();
        folder.write("suites/a.toml", format!("name = \"demo\"\n{STEP}"));
        folder.write("suites/b.toml", format!("name = \"demo\"\n{STEP}"));
        folder.write("suites/c.toml", format!("name = \"Demo!\"\n{STEP}"));
        folder.write("suites/demo_.toml", STEP);
        let error = load_paths(&[folder.path("suites")]).unwrap_err();
        assert_eq!(
            folder.normalise(error),
            "\
error: duplicate suite name `demo`, also used by <tmp>/suites/a.toml
 --> <tmp>/suites/b.toml:1:8
  |
1 | name = \"demo\"
  |        ^^^^^^
  = help: give one of them another `name`: test names must be unique

error: suite name `demo_` gives the same test names (`demo_::…`) as suite `Demo!` in <tmp>/suites/c.toml
 --> <tmp>/suites/demo_.toml
  = help: give one of them another `name`: test names must be unique"
        );
    }

    #[test]
    fn folders_are_sorted_by_file_name_and_results_follow_the_paths() {
        let folder = Folder::new();
        folder.write("suites/b.toml", STEP);
        folder.write("suites/a.toml", STEP);
        folder.write("suites/c.txt", "not a suite");
        folder.write("suites/nested/d.toml", STEP);
        let z = folder.write("z.toml", STEP);
        let suites = load_paths(&[z.clone(), folder.path("suites"), z]).unwrap();
        assert_eq!(names(&suites), ["z", "a", "b"]);
        assert_eq!(
            suites[1].source.as_deref(),
            Some(folder.path("suites/a.toml").as_path())
        );
    }

    #[test]
    fn every_error_from_every_file_is_reported_in_path_order() {
        let folder = Folder::new();
        let good = folder.write("good.toml", STEP);
        let syntax = folder.write("syntax.toml", "name = \n");
        let empty = folder.write("empty/none.txt", "");
        let steps = folder.write("no_steps.toml", "");
        let error = load_paths(&[
            syntax,
            good,
            folder.path("missing.toml"),
            empty.parent().unwrap().to_owned(),
            steps,
        ])
        .unwrap_err();
        assert_eq!(
            folder.normalise(&error),
            "\
error: invalid TOML: string values must be quoted, expected literal string
 --> <tmp>/syntax.toml:1:8
  |
1 | name = 
  |        ^
  = help: suite files are TOML: see https://toml.io

error: cannot read suite file: no such file or folder
 --> <tmp>/missing.toml
  = help: check the path; suite paths are files or folders of `*.toml` files

error: no suite files (`*.toml`) in this folder
 --> <tmp>/empty
  = help: add suite files ending in `.toml`, or pass the files themselves

error: suite `no_steps` has no steps
 --> <tmp>/no_steps.toml
  = help: add a `[[step]]` table with a `name` and a `run` or `sh` key"
        );
        assert_eq!(error.errors().len(), 4);
    }

    #[test]
    fn many_files_come_back_in_order() {
        let folder = Folder::new();
        let paths: Vec<PathBuf> = (0..200)
            .map(|i| folder.write(&format!("s{i}.toml"), STEP))
            .rev()
            .collect();
        let suites = load_paths(&paths).unwrap();
        let expected: Vec<String> = (0..200).rev().map(|i| format!("s{i}")).collect();
        assert_eq!(names(&suites), expected);
    }

    /// Not a timed test: run with `cargo test --release --lib -- --ignored --nocapture` to see
    /// how long 1,000 suites of 10 steps take to load.
    #[test]
    #[ignore = "a measurement, run by hand"]
    fn load_a_thousand_suites() {
        let folder = Folder::new();
        let step = |i: usize| {
            format!(
                "[[step]]\nsection = \"Section {s}\"\nname = \"Step {i}\"\nrun = \"new -n 'plan {i}' --verbose\"\n\
                 stdout.contains = [\"created\", \"plan {i}\"]\nstderr.not_contains = \"error\"\n\
                 status = \"success\"\ntimeout = \"30s\"\nenv = {{ STEP = \"{i}\" }}\n\n",
                s = i / 3
            )
        };
        for file in 0..1000 {
            let mut source = format!(
                "name = \"Suite {file}\"\ncommand = \"${{PLANDEX_CMD:-plandex}}\"\ntimeout = \"2m\"\n\
                 env = {{ PLANDEX_ENV = \"development\" }}\n\n"
            );
            (0..10).for_each(|i| source.push_str(&step(i)));
            folder.write(&format!("suites/suite_{file:04}.toml"), source);
        }
        let started = Instant::now();
        let suites = load_paths(&[folder.path("suites")]).unwrap();
        let took = started.elapsed();
        assert_eq!(suites.len(), 1000);
        assert_eq!(suites.iter().map(|s| s.steps.len()).sum::<usize>(), 10_000);
        println!(
            "loaded 1000 suites of 10 steps in {took:?} on {} threads",
            thread::available_parallelism().map_or(1, NonZero::get)
        );
    }
}
