//! After a crash: a monitor starting on a history finds the monitor processes that never
//! stopped cleanly, stops the commands their runs left behind, removes those runs' test dirs,
//! and marks the runs they left queued or running `interrupted`.
//!
//! A crashed monitor with pid P tagged every command it started `SMOKE_RUNNER_TAG=P-<n>`
//! (inherited by their children) and named its test dirs `plandex-<suite>-P-<random>`. Those
//! names are trusted only on the boot the monitor ran on (after a reboot pid P is someone
//! else) and while no other smoke-runner holds pid P; otherwise only the test dirs the runs
//! recorded are removed, and a warning says what may be left. Nothing is removed through a
//! symbolic link or when it belongs to another user.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::exec::{TAG_VARIABLE, find_tag_prefix};

use super::state::{Crashed, Instance, StateStore, boot_id};

/// What cleaning up after crashed monitors did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Runs marked `interrupted`.
    pub runs: usize,
    /// Processes stopped.
    pub processes: usize,
    /// Test dirs removed.
    pub test_dirs: usize,
    /// What could not be done.
    pub warnings: Vec<String>,
}

/// The note an interrupted run carries.
pub const INTERRUPTED_NOTE: &str = "the monitor stopped without finishing this run (crash or kill); its processes and test dirs were cleaned up when the monitor started again";

/// Cleans up after every monitor process on this history that did not stop cleanly, other
/// than `own` (this one's row).
pub fn recover(state: &StateStore, own: i64) -> Result<Recovered, String> {
    let mut recovered = Recovered::default();
    let this_boot = boot_id();
    for crashed in state.crashed(own)? {
        clean_up(&crashed, this_boot.as_deref(), &mut recovered);
        state.mark_interrupted(&crashed, INTERRUPTED_NOTE)?;
        recovered.runs += crashed.runs.len();
    }
    Ok(recovered)
}

fn clean_up(crashed: &Crashed, this_boot: Option<&str>, recovered: &mut Recovered) {
    let instance = &crashed.instance;
    let trusted = names_trusted(instance, this_boot);
    if let Err(why) = &trusted
        && !crashed.runs.is_empty()
    {
        recovered.warnings.push(format!(
            "processes of the monitor that ran as pid {} were not looked for: {why}",
            instance.pid
        ));
    }
    let mut dirs: Vec<PathBuf> = (crashed.test_dirs.iter())
        .filter(|dir| is_test_dir_of(dir, instance.pid))
        .cloned()
        .collect();
    if trusted.is_ok() {
        recovered.processes += stop_tagged(instance.pid);
        dirs.extend(test_dirs_of(&instance.temp_root, instance.pid));
    }
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        match remove_owned_dir(&dir) {
            Ok(true) => recovered.test_dirs += 1,
            Ok(false) => {}
            Err(error) => recovered.warnings.push(format!(
                "cannot remove the test dir {}: {error}",
                dir.display()
            )),
        }
    }
}

/// Whether pid-based names still mean the crashed monitor's processes and folders.
fn names_trusted(instance: &Instance, this_boot: Option<&str>) -> Result<(), String> {
    match (instance.boot_id.as_deref(), this_boot) {
        (Some(then), Some(now)) if then == now => {}
        _ => return Err("the machine has restarted since (or its boot is unknown)".into()),
    }
    let own = std::process::id() as i32;
    if instance.pid != own && is_smoke_runner(instance.pid) {
        return Err(format!(
            "pid {} is now another smoke-runner process",
            instance.pid
        ));
    }
    Ok(())
}

/// Whether `pid` runs the same program as this process.
fn is_smoke_runner(pid: i32) -> bool {
    let (Ok(theirs), Ok(ours)) = (
        std::fs::read_link(format!("/proc/{pid}/exe")),
        std::fs::read_link("/proc/self/exe"),
    ) else {
        // Unreadable (another user's process): it cannot be our runner's, whose commands we
        // could not stop anyway.
        return false;
    };
    theirs == ours
}

/// SIGKILLs every live process tagged by the monitor that ran as `pid`, until none is left
/// (a process may fork while it is looked for); how many were stopped.
fn stop_tagged(pid: i32) -> usize {
    let prefix = format!("{TAG_VARIABLE}={pid}-").into_bytes();
    let mut stopped = std::collections::HashSet::new();
    for _ in 0..20 {
        let found = find_tag_prefix(&prefix);
        if found.is_empty() {
            break;
        }
        for process in found {
            // SAFETY: kill(2) with a pid read from /proc just now; a process that has gone
            // meanwhile makes it fail with ESRCH, which is fine.
            if unsafe { libc::kill(process, libc::SIGKILL) } == 0 {
                stopped.insert(process);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    stopped.len()
}

/// The test dirs under `root` made by the runner with pid `pid`.
fn test_dirs_of(root: &Path, pid: i32) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| is_test_dir_of(path, pid))
        .collect()
}

/// Whether `path` is named as a test dir of the runner with pid `pid`:
/// `plandex-<suite slug>-<pid>-<random>`.
fn is_test_dir_of(path: &Path, pid: i32) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    let Some(rest) = name.strip_prefix("plandex-") else {
        return false;
    };
    let mut parts = rest.rsplitn(3, '-');
    let (Some(random), Some(found), Some(slug)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !random.is_empty() && !slug.is_empty() && found == pid.to_string()
}

/// Removes `dir` when it is a real folder (not a link) owned by this user; whether it was
/// there.
fn remove_owned_dir(dir: &Path) -> std::io::Result<bool> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(error),
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if !meta.file_type().is_dir() || meta.uid() != me {
        return Ok(false);
    }
    // remove_dir_all does not follow symbolic links inside the folder.
    std::fs::remove_dir_all(dir)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_dir_names_are_matched_on_the_pid_segment_only() {
        let pid = 4242;
        assert!(is_test_dir_of(
            Path::new("/tmp/plandex-api-4242-Ab12cd"),
            pid
        ));
        assert!(is_test_dir_of(
            Path::new("/tmp/plandex-a-1-b-4242-Ab12cd"),
            pid
        ));
        // A suite slug holding the pid is another runner's folder.
        assert!(!is_test_dir_of(
            Path::new("/tmp/plandex-a-4242-b-7-Ab12cd"),
            pid
        ));
        assert!(!is_test_dir_of(
            Path::new("/tmp/plandex-api-42420-Ab12cd"),
            pid
        ));
        assert!(!is_test_dir_of(
            Path::new("/tmp/other-api-4242-Ab12cd"),
            pid
        ));
        assert!(!is_test_dir_of(Path::new("/"), pid));
    }

    #[test]
    fn a_link_or_a_file_is_never_removed() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("keep");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("precious"), "x").unwrap();
        let link = root.path().join("plandex-s-1-abc");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(!remove_owned_dir(&link).unwrap());
        assert!(target.join("precious").exists());
        let real = root.path().join("plandex-s-2-abc");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&target, real.join("inside")).unwrap();
        assert!(remove_owned_dir(&real).unwrap());
        assert!(!real.exists() && target.join("precious").exists());
    }
}
