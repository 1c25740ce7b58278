//! Golden files: `stdout.equals_file = "expected/help.txt"` compares a stream with a file,
//! placeholders allowed, and shows a unified diff when they differ.
//!
//! Placeholders in the expected file: `[..]` is any text within a line; a line `...` is any
//! number of lines; `[TEST_DIR]` and `[ROOT]` (the suite's folder) stand for those paths, which
//! the actual output has replaced by them before comparing; `[EXE]` is the platform's
//! executable suffix (empty here). The comparison is a line diff (Myers, `similar`) in which a
//! line with `[..]` equals every line it matches, so the diff shows only the real changes, and
//! the same alignment gives the text `--bless` would write: the expected lines where they
//! still match (placeholders kept), the actual ones elsewhere.

use std::hash::{Hash, Hasher};
use std::path::Path;

use similar::{Algorithm, DiffOp, capture_diff};

/// The line that stands for any number of lines.
const ELLIPSIS: &str = "...";

/// The largest expected file or output compared: 16 MiB.
pub const MAX_GOLDEN_SIZE: u64 = 16 * 1024 * 1024;

/// How an output differs from its expected file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// A unified diff, expected (`-`) to actual (`+`), placeholders where they matched.
    pub diff: String,
    /// What the expected file would say if it were rewritten from this output.
    pub blessed: String,
}

/// The actual output as the expected file sees it: `test_dir` and `root` replaced by their
/// placeholders, line ends normalised to `\n`.
pub fn normalize_actual(actual: &str, test_dir: Option<&Path>, root: &Path) -> String {
    let mut text = actual.replace("\r\n", "\n");
    // The longer path first, in case one holds the other.
    let mut paths: Vec<(String, &str)> = Vec::new();
    if let Some(dir) = test_dir {
        paths.push((dir.display().to_string(), "[TEST_DIR]"));
    }
    paths.push((root.display().to_string(), "[ROOT]"));
    paths.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
    for (path, placeholder) in paths {
        if !path.is_empty() && path != "/" {
            text = text.replace(&path, placeholder);
        }
    }
    text
}

/// Compares `actual` (normalised) with the `expected` file's text; `shown` names the file in
/// the diff's header.
pub fn compare(expected: &str, actual: &str, shown: &str) -> Result<(), Mismatch> {
    let expected_text = expected.replace("[EXE]", std::env::consts::EXE_SUFFIX);
    let old: Vec<Line> = lines(&expected_text).map(|l| Line(l.to_owned())).collect();
    let new: Vec<Seen> = lines(actual).map(|l| Seen(l.to_owned())).collect();
    let ops = capture_diff(
        Algorithm::Myers,
        &old[..],
        0..old.len(),
        &new[..],
        0..new.len(),
    );
    let mut blessed: Vec<&str> = Vec::new();
    let mut diff = format!("--- {shown}\n+++ actual output\n");
    let mut differs = false;
    for op in &ops {
        let (_, old_range, new_range) = op.as_tag_tuple();
        let (old_lines, new_lines) = (&old[old_range], &new[new_range]);
        let ellipses = old_lines.iter().filter(|line| line.0 == ELLIPSIS).count();
        if matches!(op, DiffOp::Equal { .. }) || (ellipses > 0 && ellipses == old_lines.len()) {
            // Equal lines, or `...` taking whatever lines stand in its place (none included).
            for line in old_lines {
                blessed.push(&line.0);
                diff.push_str(&format!(" {}\n", line.0));
            }
            continue;
        }
        differs = true;
        // A `...` at one end of a change keeps its place: the changed lines pair with as many
        // actual lines on the other side, and it takes the rest.
        let (ellipsis_first, ellipsis_last) = match old_lines {
            [first, .., last] if ellipses == 1 => (first.0 == ELLIPSIS, last.0 == ELLIPSIS),
            _ => (false, false),
        };
        let paired = (old_lines.len() - ellipses).min(new_lines.len());
        let (kept, swallowed) = if ellipsis_last {
            (&new_lines[..paired], true)
        } else if ellipsis_first {
            (&new_lines[new_lines.len() - paired..], true)
        } else {
            (new_lines, false)
        };
        if swallowed && ellipsis_first {
            blessed.push(ELLIPSIS);
            diff.push_str(" ...\n");
        }
        for line in old_lines.iter().filter(|line| line.0 != ELLIPSIS) {
            diff.push_str(&format!("-{}\n", line.0));
        }
        for line in kept {
            blessed.push(&line.0);
            diff.push_str(&format!("+{}\n", line.0));
        }
        if swallowed && ellipsis_last {
            blessed.push(ELLIPSIS);
            diff.push_str(" ...\n");
        }
    }
    if !differs {
        return Ok(());
    }
    let mut blessed = blessed.join("\n");
    blessed.push('\n');
    Err(Mismatch {
        diff: trim_context(&diff),
        blessed,
    })
}

/// Writes `text` to `relative` (a path of plain names, as validated) under `root`: every folder
/// opened relative to its parent without following links, missing ones created, the file
/// created or truncated without following a link, so nothing is written outside `root`.
pub fn write_golden(root: &Path, relative: &str, text: &[u8]) -> std::io::Result<()> {
    use rustix::fs::{Mode, OFlags, mkdirat, openat};
    let folder = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut dir = openat(rustix::fs::CWD, root, folder, Mode::empty())?;
    let parts: Vec<&std::ffi::OsStr> = Path::new(relative)
        .components()
        .filter_map(|part| match part {
            std::path::Component::Normal(name) => Some(name),
            _ => None,
        })
        .collect();
    let Some((file, folders)) = parts.split_last() else {
        return Err(std::io::Error::other("no file name"));
    };
    for name in folders {
        match mkdirat(&dir, *name, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(error) => return Err(error.into()),
        }
        dir = openat(&dir, *name, folder | OFlags::NOFOLLOW, Mode::empty())?;
    }
    // NONBLOCK: a FIFO put in its place fails at once instead of waiting for a reader.
    let flags = OFlags::WRONLY
        | OFlags::CREATE
        | OFlags::TRUNC
        | OFlags::NOFOLLOW
        | OFlags::CLOEXEC
        | OFlags::NONBLOCK;
    let fd = openat(&dir, *file, flags, Mode::from_raw_mode(0o644))?;
    let mut out = std::fs::File::from(fd);
    if !std::fs::File::metadata(&out)?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    std::io::Write::write_all(&mut out, text)
}

/// The lines of a text, without a last empty one for a trailing newline.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.strip_suffix('\n').unwrap_or(text).split('\n').filter({
        let empty = text.is_empty();
        move |_| !empty
    })
}

/// Keeps three lines of context around each change, `@@` between the kept parts.
fn trim_context(diff: &str) -> String {
    let all: Vec<&str> = diff.lines().collect();
    let (header, body) = all.split_at(2.min(all.len()));
    let changed: Vec<bool> = body.iter().map(|l| !l.starts_with(' ')).collect();
    let keep = |i: usize| {
        let from = i.saturating_sub(3);
        let to = (i + 3).min(body.len().saturating_sub(1));
        (from..=to).any(|j| changed.get(j).copied().unwrap_or(false))
    };
    let mut out: Vec<String> = header.iter().map(|l| (*l).to_owned()).collect();
    let mut skipping = false;
    for (i, line) in body.iter().enumerate() {
        if keep(i) {
            skipping = false;
            out.push((*line).to_owned());
        } else if !skipping {
            skipping = true;
            out.push("@@".to_owned());
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// An expected line (placeholders in it).
#[derive(Debug, Clone, PartialOrd, Ord)]
struct Line(String);

/// An actual line.
#[derive(Debug, Clone, PartialOrd, Ord)]
struct Seen(String);

// Equality is the placeholder match, which no hash can follow: every line hashes alike (the
// Myers algorithm used here compares, it never hashes).
impl Hash for Line {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}
impl Hash for Seen {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}
impl PartialEq for Line {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Line {}
impl PartialEq for Seen {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Seen {}

impl PartialEq<Line> for Seen {
    fn eq(&self, expected: &Line) -> bool {
        // `...` equals no single line: it is matched by the diff's gaps (see `compare`).
        expected.0 != ELLIPSIS && line_matches(&expected.0, &self.0)
    }
}

/// Whether `actual` matches the expected line, each `[..]` standing for any text.
fn line_matches(expected: &str, actual: &str) -> bool {
    let mut parts = expected.split("[..]");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_match_within_lines_and_across_lines() {
        assert!(line_matches("version [..]", "version 1.2.3"));
        assert!(line_matches("[..] at [..]:[..]", "error at main.rs:12"));
        assert!(!line_matches("version [..]!", "version 1.2"));
        assert!(!line_matches("ab[..]ba", "aba"));
        assert_eq!(compare("a\n...\nz\n", "a\nb\nc\nz\n", "f"), Ok(()));
        assert_eq!(compare("a\n...\nz\n", "a\nz\n", "f"), Ok(()));
        assert_eq!(compare("run[EXE] [..]\n", "run 42\n", "f"), Ok(()));
        assert_eq!(compare("", "", "f"), Ok(()));
    }

    #[test]
    fn a_mismatch_is_a_diff_and_a_blessed_text_keeping_placeholders() {
        let expected = "Usage: tool [..]\n\nCommands:\n  init\n...\nVersion [..]\n";
        let actual = "Usage: tool [OPTIONS]\n\nCommands:\n  start\n  x\n  y\nVersion 2\n";
        let mismatch = compare(expected, actual, "expected/help.txt").unwrap_err();
        assert_eq!(
            mismatch.diff,
            "--- expected/help.txt\n+++ actual output\n Usage: tool [..]\n \n Commands:\n-  init\n+  start\n ...\n Version [..]\n"
        );
        assert_eq!(
            mismatch.blessed,
            "Usage: tool [..]\n\nCommands:\n  start\n...\nVersion [..]\n"
        );
    }

    #[test]
    fn long_unchanged_stretches_are_cut_from_the_diff() {
        let expected: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let actual = expected.replace("line 10\n", "line ten\n");
        let diff = compare(&expected, &actual, "f").unwrap_err().diff;
        assert_eq!(
            diff,
            "--- f\n+++ actual output\n@@\n line 7\n line 8\n line 9\n-line 10\n+line ten\n line 11\n line 12\n line 13\n@@\n"
        );
    }

    #[test]
    fn paths_become_placeholders() {
        let text = normalize_actual(
            "/tmp/t1/out and /work/suites/x\r\n",
            Some(Path::new("/tmp/t1")),
            Path::new("/work/suites"),
        );
        assert_eq!(text, "[TEST_DIR]/out and [ROOT]/x\n");
    }
}
