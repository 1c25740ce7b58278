//! Checks on the files a step leaves in the test dir: inside it only, regular files only, read
//! in blocks so that memory stays flat whatever their size.
//!
//! A file is read once for all of a check's texts, up to the size it had when the check opened
//! it (a file something keeps appending to still ends), and the read stops early once every
//! text is decided, or at once when the run is interrupted.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use memchr::memmem::Finder;

use super::output::{expand, failure};
use crate::exec::Environment;
use crate::report::{CheckFailure, CheckKind, CheckSubject};
use crate::suite::{FileCheck, Template};

/// Files are read in blocks of this size: with the texts searched for (at most 1 MiB each after
/// expansion), this is all a check holds in memory.
const READ_BLOCK: usize = 1024 * 1024;

/// Runs the file checks, paths relative to `test_dir`; returns each failed check. Stops reading
/// as soon as `interrupted` says so (the unfinished check fails, saying why).
pub fn check_files(
    checks: &[FileCheck],
    test_dir: &Path,
    env: &Environment,
    interrupted: &dyn Fn() -> bool,
) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    for check in checks {
        if let Err(found) = check_file(check, test_dir, env, interrupted) {
            failures.extend(found);
        }
    }
    failures
}

/// `relative` inside `test_dir`: absolute paths, `..` and symbolic links leading out of the
/// test dir are errors, so a check never reads a file the suite does not own.
fn inside_test_dir(test_dir: &Path, relative: &str) -> Result<PathBuf, CheckFailure> {
    let outside = || {
        CheckFailure::error(format!(
            "file check path {relative} leads outside the test dir: file checks read files \
             inside it only (write a path relative to it, without `..`)"
        ))
    };
    let relative_path = Path::new(relative);
    if relative_path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(outside());
    }
    let path = test_dir.join(relative_path);
    // A link may still lead out: compare where the path really is, when it exists.
    if let (Ok(real), Ok(root)) = (path.canonicalize(), test_dir.canonicalize())
        && !real.starts_with(&root)
    {
        return Err(outside());
    }
    Ok(path)
}

fn check_file(
    check: &FileCheck,
    test_dir: &Path,
    env: &Environment,
    interrupted: &dyn Fn() -> bool,
) -> Result<(), Vec<CheckFailure>> {
    let shown = expand(&check.path, env).map_err(|e| vec![e])?;
    let path = inside_test_dir(test_dir, shown.as_ref()).map_err(|e| vec![e])?;
    let exists = path.exists();
    let subject = || CheckSubject::File(shown.clone().into_owned());
    match check.exists {
        Some(true) if !exists => return Err(vec![failure(subject(), CheckKind::Exists, "")]),
        Some(false) if exists => return Err(vec![failure(subject(), CheckKind::Absent, "")]),
        _ => {}
    }
    if check.contains.is_empty() && check.not_contains.is_empty() {
        return Ok(());
    }
    let wanted = expand_all(&check.contains, env)?;
    let unwanted = expand_all(&check.not_contains, env)?;
    let file = crate::regular_file::open(&path).map_err(|e| {
        vec![CheckFailure::error(format!(
            "cannot read file {shown}: {e}"
        ))]
    })?;
    let needles: Vec<&[u8]> = (wanted.iter().chain(&unwanted))
        .map(|text| text.as_bytes())
        .collect();
    let found = match find_all(file, &needles, interrupted) {
        Ok(found) => found,
        Err(Scan::Interrupted) => {
            return Err(vec![CheckFailure::error(format!(
                "file {shown} was not checked to the end: the run was interrupted"
            ))]);
        }
        Err(Scan::Io(e)) => {
            return Err(vec![CheckFailure::error(format!(
                "cannot read file {shown}: {}",
                crate::regular_file::describe_io(&e)
            ))]);
        }
    };
    let (found_wanted, found_unwanted) = found.split_at(wanted.len());
    let mut failures = Vec::new();
    for (text, _) in wanted
        .iter()
        .zip(found_wanted)
        .filter(|(_, found)| !**found)
    {
        failures.push(failure(subject(), CheckKind::Contains, text.clone()));
    }
    for (text, _) in unwanted
        .iter()
        .zip(found_unwanted)
        .filter(|(_, found)| **found)
    {
        failures.push(failure(subject(), CheckKind::NotContains, text.clone()));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

fn expand_all<'t>(
    templates: &'t [Template],
    env: &Environment,
) -> Result<Vec<Cow<'t, str>>, Vec<CheckFailure>> {
    templates
        .iter()
        .map(|template| expand(template, env))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| vec![e])
}

/// Why a file was not read to the end.
enum Scan {
    Io(io::Error),
    Interrupted,
}

/// Which of `needles` occur in `file`, read in blocks of [`READ_BLOCK`] up to the size it had
/// when opened. Each block is searched together with the end of the previous one, long enough
/// that a text straddling the two is still found.
fn find_all(
    file: File,
    needles: &[&[u8]],
    interrupted: &dyn Fn() -> bool,
) -> Result<Vec<bool>, Scan> {
    let finders: Vec<Finder<'_>> = needles.iter().map(Finder::new).collect();
    let mut found: Vec<bool> = needles.iter().map(|needle| needle.is_empty()).collect();
    let overlap = needles
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(0)
        .saturating_sub(1);
    let size = file.metadata().map_err(Scan::Io)?.len();
    let mut reader = file.take(size);
    let mut window: Vec<u8> = Vec::with_capacity(overlap + READ_BLOCK);
    while !found.iter().all(|&found| found) {
        if interrupted() {
            return Err(Scan::Interrupted);
        }
        let read = (&mut reader)
            .take(READ_BLOCK as u64)
            .read_to_end(&mut window)
            .map_err(Scan::Io)?;
        if read == 0 {
            // The end, or the file shrank while it was read.
            break;
        }
        for (finder, found) in finders.iter().zip(&mut found) {
            if !*found && finder.find(&window).is_some() {
                *found = true;
            }
        }
        let consumed = window.len().saturating_sub(overlap);
        window.drain(..consumed);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::io::Write as _;

    use super::*;

    fn file_check(path: &str, contains: &[&str], not_contains: &[&str]) -> FileCheck {
        FileCheck {
            path: Template::literal(path),
            exists: None,
            contains: contains
                .iter()
                .map(|text| Template::literal(*text))
                .collect(),
            not_contains: not_contains
                .iter()
                .map(|text| Template::literal(*text))
                .collect(),
        }
    }

    fn messages(checks: &[FileCheck], dir: &Path, interrupted: &dyn Fn() -> bool) -> Vec<String> {
        check_files(checks, dir, &Environment::empty(), interrupted)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Texts are found wherever the blocks are cut, and every failed text is reported.
    #[test]
    fn texts_straddling_blocks_are_found_and_every_failure_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = File::create(dir.path().join("big")).unwrap();
        let filler = vec![b'.'; READ_BLOCK - 3];
        file.write_all(&filler).unwrap();
        file.write_all(b"STRADDLE").unwrap();
        file.write_all(&filler).unwrap();
        file.write_all(&filler).unwrap();
        file.write_all(b"END").unwrap();
        drop(file);
        let passing = file_check("big", &["STRADDLE", "END", ""], &["NOPE"]);
        assert!(messages(&[passing], dir.path(), &|| false).is_empty());
        let failing = file_check("big", &["ABSENT", "END", "GONE"], &["STRADDLE", "NOPE"]);
        assert_eq!(
            messages(&[failing], dir.path(), &|| false),
            [
                "file big does not contain \"ABSENT\"",
                "file big does not contain \"GONE\"",
                "file big contains \"STRADDLE\", which it must not",
            ]
        );
    }

    #[test]
    fn an_interrupt_stops_the_read() {
        let dir = tempfile::tempdir().unwrap();
        File::create(dir.path().join("big"))
            .unwrap()
            .set_len(20 * READ_BLOCK as u64)
            .unwrap();
        let blocks = Cell::new(0);
        let interrupted = || {
            blocks.set(blocks.get() + 1);
            blocks.get() > 3
        };
        assert_eq!(
            messages(&[file_check("big", &["x"], &[])], dir.path(), &interrupted),
            ["file big was not checked to the end: the run was interrupted"]
        );
        assert_eq!(blocks.get(), 4);
    }
}
