//! Which runs' step logs stay: the newest runs up to a count and a total size, older run
//! folders deleted while a run goes on ([`prune_before_run`], on a thread of its own: deleting
//! files is slow on some disks, and a run should not wait for it), then a check at its end
//! that the run itself did not push the total past the size limit ([`settle_after_run`]).
//!
//! Only folders named like a run id (`20260121-143000-<pid>`) are ever touched, so a log
//! folder shared with anything else loses nothing else. Each folder's size is kept in
//! `.run-sizes` beside them (written in place, never a new file), so a run walks only its own
//! folder. Deleting is spread out: after a run at most a budget of folders goes, because on a
//! journal-less ext4 every deleted inode makes creating files slower for minutes after
//! (benches/README.md), so a backlog of old runs shrinks over the next runs, not in one go.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::SystemTime;

/// What the log folder keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// The newest runs kept (the current one included).
    pub max_runs: usize,
    /// The most bytes the kept runs may hold together; the current run is kept whatever its
    /// size.
    pub max_bytes: u64,
}

/// What pruning the log folder did.
#[derive(Debug, Default)]
pub struct LogsPruned {
    /// Run folders deleted.
    pub runs: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Run folders still beyond the limits (left for later runs by the budget).
    pub left_over: usize,
    /// Folders that could not be deleted, with why.
    pub errors: Vec<(String, io::Error)>,
    /// The bytes of the run folders kept within the limits (those left over by the budget are
    /// not counted).
    pub kept_bytes: u64,
}

/// The file beside the run folders that remembers their sizes.
const SIZES_FILE: &str = ".run-sizes";
/// The sizes file is read up to this size (a line is about 40 bytes).
const SIZES_LIMIT: u64 = 1024 * 1024;

/// Whether `name` is a run id: `YYYYMMDD-HHMMSS-PID`, or `YYYYMMDD-HHMMSS-PID-N` for the Nth
/// run of one process (`serve`, the harness).
pub fn is_run_id(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let digits = |part: &str, len: Option<usize>| {
        !part.is_empty()
            && len.is_none_or(|l| part.len() == l)
            && part.bytes().all(|b| b.is_ascii_digit())
    };
    matches!(parts.len(), 3 | 4)
        && digits(parts[0], Some(8))
        && digits(parts[1], Some(6))
        && parts[2..].iter().all(|part| digits(part, None))
}

/// Sort key of a run folder, newest greatest: its id's second; within one second the folder's
/// last change (process ids wrap, so a newer run may have a smaller one); then the process id
/// and the run's number within its process.
fn run_key(name: &str, modified: Option<SystemTime>) -> (&str, Option<SystemTime>, u64, u64) {
    let (time, rest) = name.split_at(15);
    let mut numbers = rest[1..].split('-').map(|n| n.parse().unwrap_or(0));
    let pid = numbers.next().unwrap_or(0);
    let nth = numbers.next().unwrap_or(1);
    (time, modified, pid, nth)
}

/// The run folders under `root`, newest first (links named like a run are left out).
pub fn run_folders(root: &Path) -> io::Result<Vec<String>> {
    let mut runs: Vec<(String, Option<SystemTime>)> = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // `file_type` does not follow links: a link named like a run is left alone.
        if is_run_id(&name) && entry.file_type()?.is_dir() {
            let modified = entry.metadata().and_then(|m| m.modified()).ok();
            runs.push((name, modified));
        }
    }
    runs.sort_by(|(a, a_time), (b, b_time)| run_key(b, *b_time).cmp(&run_key(a, *a_time)));
    Ok(runs.into_iter().map(|(name, _)| name).collect())
}

/// Deletes the oldest run folders under `root` beyond `limits`, at most `budget` of them
/// (`None`: all); `current` (the run that just ended) is never deleted. A missing `root` is
/// nothing to do.
pub fn prune_step_logs(
    root: &Path,
    current: Option<&str>,
    limits: LogLimits,
    budget: Option<usize>,
) -> io::Result<LogsPruned> {
    match run_folders(root) {
        Ok(runs) => prune_runs(root, &runs, current, limits, budget),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(LogsPruned::default()),
        Err(error) => Err(error),
    }
}

/// While the run `run_id` goes on: deletes the oldest run folders under `root` beyond
/// `limits` with room left for this run (one run fewer; the size limit counts the others),
/// at most `budget` of them. This run's own folder, which may appear meanwhile, is left out.
pub fn prune_before_run(
    root: &Path,
    run_id: &str,
    limits: LogLimits,
    budget: Option<usize>,
) -> io::Result<LogsPruned> {
    let mut runs = match run_folders(root) {
        Ok(runs) => runs,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Ok(LogsPruned::default());
        }
        Err(error) => return Err(error),
    };
    runs.retain(|run| run != run_id);
    let room = LogLimits {
        max_runs: limits.max_runs.saturating_sub(1),
        ..limits
    };
    prune_runs(root, &runs, None, room, budget)
}

/// After the run `run_id`, whose folders before it were pruned into `before`: when this run
/// took the total past the size limit, the oldest runs go as [`prune_step_logs`] would delete
/// them; otherwise its size is noted (one line appended) and nothing else is touched.
pub fn settle_after_run(
    root: &Path,
    run_id: &str,
    limits: LogLimits,
    before: &LogsPruned,
    budget: Option<usize>,
) -> io::Result<LogsPruned> {
    let folder = root.join(run_id);
    if std::fs::symlink_metadata(&folder).is_err() {
        // The run wrote no log (stopped before its first step, say): nothing to note.
        return Ok(LogsPruned {
            kept_bytes: before.kept_bytes,
            ..LogsPruned::default()
        });
    }
    let size = folder_bytes(&folder);
    if before.kept_bytes.saturating_add(size) > limits.max_bytes {
        return prune_step_logs(root, Some(run_id), limits, budget);
    }
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(root.join(SIZES_FILE))?;
    if !file.metadata()?.is_file() {
        return Err(not_regular(root));
    }
    file.write_all(format!("{run_id} {size}\n").as_bytes())?;
    Ok(LogsPruned {
        kept_bytes: before.kept_bytes.saturating_add(size),
        ..LogsPruned::default()
    })
}

/// Deletes the oldest of `runs` (newest first) beyond `limits`, at most `budget` of them;
/// `current` is counted but never deleted. Rewrites the sizes file for the runs kept.
fn prune_runs(
    root: &Path,
    runs: &[String],
    current: Option<&str>,
    limits: LogLimits,
    budget: Option<usize>,
) -> io::Result<LogsPruned> {
    let mut sizes = read_sizes(root);
    let mut known = HashMap::with_capacity(runs.len());
    let mut total = 0u64;
    let mut doomed = Vec::new();
    for (index, run) in runs.iter().enumerate() {
        let size = match sizes.remove(run) {
            Some(size) if Some(run.as_str()) != current => size,
            _ => folder_bytes(&root.join(run)),
        };
        let is_current = Some(run.as_str()) == current;
        total = total.saturating_add(size);
        if !is_current && (index >= limits.max_runs || total > limits.max_bytes) {
            doomed.push((run.clone(), size));
        } else {
            known.insert(run.clone(), size);
        }
    }
    // Oldest first, so that a budget takes the oldest.
    doomed.reverse();
    let take = budget.unwrap_or(usize::MAX).min(doomed.len());
    let mut pruned = LogsPruned {
        left_over: doomed.len() - take,
        ..LogsPruned::default()
    };
    for (run, size) in doomed.drain(..take) {
        match std::fs::remove_dir_all(root.join(&run)) {
            Ok(()) => {
                pruned.runs += 1;
                pruned.bytes += size;
            }
            Err(error) => {
                known.insert(run.clone(), size);
                pruned.errors.push((run, error));
            }
        }
    }
    // The runs within the limits; those left by the budget wait for later runs.
    pruned.kept_bytes = known
        .values()
        .fold(0u64, |sum, size| sum.saturating_add(*size));
    known.extend(doomed);
    write_sizes(root, &known)?;
    Ok(pruned)
}

fn not_regular(root: &Path) -> io::Error {
    io::Error::other(format!(
        "{} is not a regular file",
        root.join(SIZES_FILE).display()
    ))
}

/// The bytes of the regular files under `dir` (links are not followed).
fn folder_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0u64;
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            total = total.saturating_add(folder_bytes(&entry.path()));
        } else if kind.is_file() {
            total = total.saturating_add(entry.metadata().map_or(0, |m| m.len()));
        }
    }
    total
}

/// The remembered sizes; nothing when the file is missing, too long or not a regular file.
fn read_sizes(root: &Path) -> HashMap<String, u64> {
    let Ok(bytes) = crate::regular_file::read(&root.join(SIZES_FILE), SIZES_LIMIT) else {
        return HashMap::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .filter_map(|line| {
            let (run, size) = line.split_once(' ')?;
            Some((run.to_owned(), size.parse().ok()?))
        })
        .filter(|(run, _)| is_run_id(run))
        .collect()
}

/// Writes the sizes into the same file (truncated, not replaced: no new inode per run).
fn write_sizes(root: &Path, sizes: &HashMap<String, u64>) -> io::Result<()> {
    let mut text = String::with_capacity(sizes.len() * 40);
    let mut runs: Vec<_> = sizes.iter().collect();
    runs.sort();
    for (run, size) in runs {
        text.push_str(run);
        text.push(' ');
        text.push_str(&size.to_string());
        text.push('\n');
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(root.join(SIZES_FILE))?;
    if !file.metadata()?.is_file() {
        return Err(not_regular(root));
    }
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make_run(root: &Path, name: &str, bytes: usize) {
        let dir = root.join(name).join("suite");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("01-step.log"), vec![b'x'; bytes]).unwrap();
    }

    fn left(root: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn keeps_the_newest_runs_and_nothing_not_named_like_a_run() {
        let root = tempfile::tempdir().unwrap();
        for second in 0..5 {
            make_run(root.path(), &format!("20260101-00000{second}-9"), 10);
        }
        std::fs::create_dir(root.path().join("mine")).unwrap();
        let limits = LogLimits {
            max_runs: 2,
            max_bytes: u64::MAX,
        };
        let pruned = prune_step_logs(root.path(), None, limits, Some(2)).unwrap();
        assert_eq!((pruned.runs, pruned.left_over, pruned.bytes), (2, 1, 20));
        assert_eq!(
            left(root.path()),
            [
                ".run-sizes",
                "20260101-000002-9",
                "20260101-000003-9",
                "20260101-000004-9",
                "mine"
            ]
        );
        let pruned = prune_step_logs(root.path(), None, limits, None).unwrap();
        assert_eq!((pruned.runs, pruned.left_over), (1, 0));
        assert_eq!(
            left(root.path()),
            [
                ".run-sizes",
                "20260101-000003-9",
                "20260101-000004-9",
                "mine"
            ]
        );
    }

    #[test]
    fn the_size_cap_drops_older_runs_but_never_the_current_one() {
        let root = tempfile::tempdir().unwrap();
        make_run(root.path(), "20260101-000000-1", 100);
        make_run(root.path(), "20260101-000001-1", 100);
        make_run(root.path(), "20260101-000002-1", 500);
        let limits = LogLimits {
            max_runs: 10,
            max_bytes: 150,
        };
        let pruned = prune_step_logs(root.path(), Some("20260101-000002-1"), limits, None).unwrap();
        assert_eq!(pruned.runs, 2);
        assert_eq!(left(root.path()), [".run-sizes", "20260101-000002-1"]);
        let sizes = std::fs::read_to_string(root.path().join(SIZES_FILE)).unwrap();
        assert_eq!(sizes, "20260101-000002-1 500\n");
    }

    /// Pruned in two halves around a run: before it, room is left for it and its own folder
    /// (made meanwhile) is not touched; after it, its size is appended while within the cap.
    #[test]
    fn before_a_run_room_is_left_for_it_and_after_it_its_size_is_noted() {
        let root = tempfile::tempdir().unwrap();
        for second in 0..5 {
            make_run(root.path(), &format!("20260101-00000{second}-9"), 10);
        }
        let current = "20260101-000009-9";
        make_run(root.path(), current, 1);
        let limits = LogLimits {
            max_runs: 3,
            max_bytes: 1000,
        };
        let before = prune_before_run(root.path(), current, limits, None).unwrap();
        assert_eq!((before.runs, before.kept_bytes), (3, 20));
        make_run(root.path(), current, 30);
        let after = settle_after_run(root.path(), current, limits, &before, None).unwrap();
        assert_eq!((after.runs, after.kept_bytes), (0, 50));
        assert_eq!(
            left(root.path()),
            [
                ".run-sizes",
                "20260101-000003-9",
                "20260101-000004-9",
                current
            ]
        );
        let sizes = read_sizes(root.path());
        assert_eq!(sizes.get(current), Some(&30), "{sizes:?}");
        assert_eq!(sizes.len(), 3, "{sizes:?}");
    }

    /// A run that wrote no log (stopped before its first step) leaves the folder as it was,
    /// even when the log folder itself does not exist.
    #[test]
    fn a_run_without_a_log_folder_settles_quietly() {
        let root = tempfile::tempdir().unwrap();
        let missing = root.path().join("never-made");
        let limits = LogLimits {
            max_runs: 3,
            max_bytes: 1000,
        };
        let before = prune_before_run(&missing, "20260101-000009-9", limits, None).unwrap();
        let after = settle_after_run(&missing, "20260101-000009-9", limits, &before, None).unwrap();
        assert_eq!((after.runs, after.errors.len()), (0, 0));
        assert!(!missing.exists());
    }

    /// A run that takes the folder past the size cap deletes the oldest runs after it, as a
    /// prune after the run always did, and keeps itself whatever its size.
    #[test]
    fn a_run_that_takes_the_total_past_the_cap_deletes_older_runs_after_it() {
        let root = tempfile::tempdir().unwrap();
        for second in 0..3 {
            make_run(root.path(), &format!("20260101-00000{second}-9"), 100);
        }
        let current = "20260101-000009-9";
        let limits = LogLimits {
            max_runs: 10,
            max_bytes: 250,
        };
        let before = prune_before_run(root.path(), current, limits, None).unwrap();
        assert_eq!((before.runs, before.kept_bytes), (1, 200));
        make_run(root.path(), current, 100);
        let after = settle_after_run(root.path(), current, limits, &before, None).unwrap();
        assert_eq!(after.runs, 1);
        assert_eq!(
            left(root.path()),
            [".run-sizes", "20260101-000002-9", current]
        );
    }

    /// Process ids wrap (at 32768 on many machines): a run started later in the same second
    /// may have a smaller one. Its folder was taken for the oldest and the newest logs deleted.
    #[test]
    fn within_one_second_the_folder_changed_last_is_the_newest() {
        let root = tempfile::tempdir().unwrap();
        for (name, age) in [
            ("20260101-000000-32600", 30),
            ("20260101-000000-32700", 20),
            ("20260101-000000-400", 10),
        ] {
            make_run(root.path(), name, 10);
            let when = SystemTime::now() - std::time::Duration::from_secs(age);
            let folder = std::fs::File::open(root.path().join(name)).unwrap();
            folder.set_modified(when).unwrap();
        }
        assert_eq!(
            run_folders(root.path()).unwrap(),
            [
                "20260101-000000-400",
                "20260101-000000-32700",
                "20260101-000000-32600"
            ]
        );
        let limits = LogLimits {
            max_runs: 2,
            max_bytes: u64::MAX,
        };
        prune_step_logs(root.path(), Some("20260101-000000-400"), limits, None).unwrap();
        assert_eq!(
            left(root.path()),
            [".run-sizes", "20260101-000000-32700", "20260101-000000-400"]
        );
    }

    /// The second and later runs of one process (`serve`) end in `-N`: they were not taken
    /// for runs, so their logs were never deleted.
    #[test]
    fn a_processs_later_runs_are_runs_too_and_ordered_by_their_number() {
        assert!(is_run_id("20260121-143000-4242-2"));
        let root = tempfile::tempdir().unwrap();
        for name in [
            "20260101-000000-7",
            "20260101-000000-7-2",
            "20260101-000000-7-10",
        ] {
            make_run(root.path(), name, 10);
        }
        let same = SystemTime::now();
        for name in [
            "20260101-000000-7",
            "20260101-000000-7-2",
            "20260101-000000-7-10",
        ] {
            let folder = std::fs::File::open(root.path().join(name)).unwrap();
            folder.set_modified(same).unwrap();
        }
        assert_eq!(
            run_folders(root.path()).unwrap(),
            [
                "20260101-000000-7-10",
                "20260101-000000-7-2",
                "20260101-000000-7"
            ]
        );
    }

    #[test]
    fn run_ids_are_told_from_other_names() {
        assert!(is_run_id("20260121-143000-4242"));
        for name in [
            "20260121-143000",
            "20260121-143000-1-2-3",
            "20260121-143000-1-",
            "20260121-143000-1-x",
            "2026012-143000-1",
            "20260121-143000-",
            "x",
            "a-b-c",
        ] {
            assert!(!is_run_id(name), "{name}");
        }
    }
}
