//! The commit and branch a folder's git checkout is on, read from the repository's files: a run
//! records them without starting a `git` process beside its steps.
//!
//! Covers what `git rev-parse HEAD` answers in ordinary checkouts: `.git` folders and `.git`
//! files (worktrees, submodules), `GIT_DIR`, a detached `HEAD`, loose and packed refs, and
//! symbolic refs. Anything else (another ref storage such as reftable, a branch without
//! commits, a damaged file) gives `None`, and the caller may ask `git` itself. Every file is
//! read as a regular file of bounded size, so a FIFO or a huge file cannot stall a run.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::regular_file;

/// The most read of `HEAD`, a loose ref, `commondir` or a `.git` file.
const SMALL_FILE_LIMIT: u64 = 4096;
/// The most read of `packed-refs`.
const PACKED_REFS_LIMIT: u64 = 256 * 1024 * 1024;
/// Symbolic refs followed at most (git itself stops at 5).
const MAX_SYMREF_DEPTH: usize = 5;

/// Where `start`'s repository keeps its files, the way git finds it: `git_dir` (from
/// `GIT_DIR`) when given, else the nearest `.git` folder or `.git` file above `start`.
pub fn find_git_dir(start: &Path, git_dir: Option<&OsStr>) -> Option<PathBuf> {
    if let Some(dir) = git_dir.filter(|dir| !dir.is_empty()) {
        return Some(start.join(dir));
    }
    for folder in start.ancestors() {
        let dot_git = folder.join(".git");
        // Followed if it is a link: a `.git` linked to a repository folder is one.
        let Ok(meta) = std::fs::metadata(&dot_git) else {
            continue;
        };
        if meta.is_dir() {
            return Some(dot_git);
        }
        // A worktree or submodule: `gitdir: <path>`, relative to the folder holding the file.
        let text = small_text(&dot_git)?;
        let target = text.strip_prefix("gitdir:")?.trim();
        return (!target.is_empty()).then(|| folder.join(target));
    }
    None
}

/// The branch checked out in `git_dir`'s work tree (`main` for `refs/heads/main`), read from its
/// `HEAD`: `None` when `HEAD` is detached (as many CI checkouts are) or not a branch git would
/// accept. A branch without commits yet has its name.
pub fn head_branch(git_dir: &Path) -> Option<String> {
    let head = small_text(&git_dir.join("HEAD"))?;
    let name = head.trim().strip_prefix("ref:")?.trim();
    let branch = name.strip_prefix("refs/heads/")?;
    (is_ref_name(name) && is_branch_name(branch)).then(|| branch.to_owned())
}

/// Whether `name` is a branch name git accepts (`git check-ref-format --branch`'s rules):
/// no control characters, spaces or `~^:?*[\`, no `..` or `@{`, no part starting with `.` or
/// ending with `.lock`, no trailing `/` or `.`, not `@` alone, at most 255 bytes.
pub fn is_branch_name(name: &str) -> bool {
    let forbidden = |c: char| c.is_control() || " ~^:?*[\\".contains(c);
    !name.is_empty()
        && name.len() <= 255
        && name != "@"
        && !name.starts_with('-')
        && !name.contains("..")
        && !name.contains("@{")
        && !name.chars().any(forbidden)
        && !name.ends_with('.')
        && name
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.') && !part.ends_with(".lock"))
}

/// The full hash of the commit checked out in `git_dir`'s work tree, if it can be read from
/// the repository's files.
pub fn head_commit(git_dir: &Path) -> Option<String> {
    // Refs other than HEAD live in the common folder, which a worktree names in `commondir`.
    let common = match small_text(&git_dir.join("commondir")) {
        Some(relative) if !relative.trim().is_empty() => git_dir.join(relative.trim()),
        _ => git_dir.to_path_buf(),
    };
    let mut value = small_text(&git_dir.join("HEAD"))?.trim().to_owned();
    for _ in 0..=MAX_SYMREF_DEPTH {
        let Some(name) = value.strip_prefix("ref:").map(str::trim) else {
            return is_object_id(&value).then_some(value);
        };
        if !is_ref_name(name) {
            return None;
        }
        value = match small_text(&common.join(name)) {
            Some(text) => text.trim().to_owned(),
            None => packed_ref(&common.join("packed-refs"), name)?,
        };
    }
    None
}

/// The value of `name` in a `packed-refs` file: lines `<hash> <name>`, with comments (`#`)
/// and peeled tags (`^<hash>`) between them.
fn packed_ref(path: &Path, name: &str) -> Option<String> {
    let file = regular_file::open(path).ok()?;
    let mut reader = BufReader::new(file.take(PACKED_REFS_LIMIT));
    let mut line = Vec::new();
    loop {
        line.clear();
        // A ref line is short: a longer one means this is not a packed-refs file.
        let read = (&mut reader)
            .take(SMALL_FILE_LIMIT)
            .read_until(b'\n', &mut line)
            .ok()?;
        if read == 0 || (read as u64 == SMALL_FILE_LIMIT && line.last() != Some(&b'\n')) {
            return None;
        }
        let line = std::str::from_utf8(&line).ok()?.trim_end();
        if let Some((hash, ref_name)) = line.split_once(' ')
            && ref_name == name
            && is_object_id(hash)
        {
            return Some(hash.to_owned());
        }
    }
}

fn small_text(path: &Path) -> Option<String> {
    let bytes = regular_file::read(path, SMALL_FILE_LIMIT).ok()?;
    String::from_utf8(bytes).ok()
}

/// A SHA-1 or SHA-256 object id in hex.
fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A ref name that stays inside the repository's folder.
fn is_ref_name(name: &str) -> bool {
    name.starts_with("refs/")
        && !name
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// Runs git in `dir` with a fixed identity and no user or system configuration.
    fn git(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// What `git rev-parse HEAD` says in `dir`, next to what is read from the files.
    fn both(dir: &Path) -> (Option<String>, String) {
        let read = find_git_dir(dir, None).and_then(|git_dir| head_commit(&git_dir));
        (read, git(dir, &["rev-parse", "HEAD"]))
    }

    fn repository_with_two_commits() -> tempfile::TempDir {
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path();
        git(dir, &["init", "--quiet", "--initial-branch=main"]);
        for n in ["one", "two"] {
            std::fs::write(dir.join("f"), n).unwrap();
            git(dir, &["add", "f"]);
            git(dir, &["commit", "--quiet", "-m", n]);
        }
        repo
    }

    #[test]
    fn reads_the_branch_commit_loose_packed_and_detached_from_a_subfolder() {
        let repo = repository_with_two_commits();
        let sub = repo.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let (read, expected) = both(&sub);
        assert_eq!(read.as_deref(), Some(expected.as_str()));

        git(repo.path(), &["pack-refs", "--all"]);
        assert!(!repo.path().join(".git/refs/heads/main").exists());
        let (read, expected) = both(&sub);
        assert_eq!(read.as_deref(), Some(expected.as_str()));

        git(repo.path(), &["checkout", "--quiet", "--detach", "HEAD~1"]);
        let (read, expected) = both(&sub);
        assert_eq!(read.as_deref(), Some(expected.as_str()));
    }

    #[test]
    fn reads_the_branch_as_git_names_it_and_none_when_detached() {
        let repo = repository_with_two_commits();
        let git_dir = find_git_dir(repo.path(), None).unwrap();
        assert_eq!(head_branch(&git_dir).as_deref(), Some("main"));
        git(
            repo.path(),
            &["checkout", "--quiet", "-b", "feature/slow-login"],
        );
        assert_eq!(
            head_branch(&git_dir),
            Some(git(repo.path(), &["symbolic-ref", "--short", "HEAD"]))
        );
        git(repo.path(), &["checkout", "--quiet", "--detach", "HEAD"]);
        assert_eq!(head_branch(&git_dir), None);

        let unborn = tempfile::tempdir().unwrap();
        git(
            unborn.path(),
            &["init", "--quiet", "--initial-branch=trunk"],
        );
        let git_dir = find_git_dir(unborn.path(), None).unwrap();
        assert_eq!(head_branch(&git_dir).as_deref(), Some("trunk"));
        // What reftable repositories keep in `HEAD`, and names git refuses.
        for head in [
            "ref: refs/heads/.invalid\n",
            "ref: refs/heads/a..b\n",
            "ref: refs/tags/v1\n",
            "ref: refs/heads/x.lock\n",
        ] {
            std::fs::write(git_dir.join("HEAD"), head).unwrap();
            assert_eq!(head_branch(&git_dir), None, "{head}");
        }
    }

    #[test]
    fn branch_names_follow_gits_rules() {
        for good in ["main", "release/2.1", "prod-eu", "feature/x_y", "v1.2"] {
            assert!(is_branch_name(good), "{good}");
        }
        for bad in [
            "",
            "@",
            "-x",
            "a b",
            "a..b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "a/",
            "/a",
            "a//b",
            ".a",
            "a/.b",
            "a.lock",
            "a.",
            "a@{1}",
            "tab\there",
        ] {
            assert!(!is_branch_name(bad), "{bad:?}");
        }
        assert!(!is_branch_name(&"x".repeat(256)));
    }

    #[test]
    fn follows_a_git_folder_reached_through_a_link() {
        let repo = repository_with_two_commits();
        let linked = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(repo.path().join(".git"), linked.path().join(".git")).unwrap();
        let git_dir = find_git_dir(linked.path(), None).unwrap();
        assert_eq!(
            head_commit(&git_dir).as_deref(),
            Some(both(repo.path()).1.as_str())
        );
    }

    #[test]
    fn reads_a_worktree_through_its_git_file_and_common_folder() {
        let repo = repository_with_two_commits();
        let tree = tempfile::tempdir().unwrap();
        let tree = tree.path().join("wt");
        git(
            repo.path(),
            &[
                "worktree",
                "add",
                "--quiet",
                "-b",
                "side",
                tree.to_str().unwrap(),
                "HEAD~1",
            ],
        );
        let (read, expected) = both(&tree);
        assert_eq!(read.as_deref(), Some(expected.as_str()));
        assert_ne!(read, both(repo.path()).0);
    }

    #[test]
    fn no_repository_an_unborn_branch_and_hostile_refs_give_none() {
        let empty = tempfile::tempdir().unwrap();
        // A folder with no `.git` above it up to the root may still sit inside one (a temp
        // folder inside a checkout); only look at this folder.
        assert_eq!(head_commit(&empty.path().join(".git")), None);

        git(empty.path(), &["init", "--quiet"]);
        let git_dir = find_git_dir(empty.path(), None).unwrap();
        assert_eq!(head_commit(&git_dir), None);

        std::fs::write(git_dir.join("HEAD"), "ref: refs/../../../etc/passwd\n").unwrap();
        assert_eq!(head_commit(&git_dir), None);
        std::fs::write(git_dir.join("HEAD"), "ref: refs/heads/a\n").unwrap();
        std::fs::create_dir_all(git_dir.join("refs/heads")).unwrap();
        std::fs::write(git_dir.join("refs/heads/a"), "ref: refs/heads/a\n").unwrap();
        assert_eq!(head_commit(&git_dir), None, "a ref naming itself ends");
        let fifo = git_dir.join("refs/heads/a");
        std::fs::remove_file(&fifo).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert_eq!(head_commit(&git_dir), None, "a FIFO is not read");
    }
}
