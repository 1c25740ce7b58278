//! Finding a program in a command's `PATH`, the way `execvp` would.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustix::fs::inotify::{self, WatchFlags};
use rustix::io::Errno;

use super::outcome::StartFailure;
use super::request::Environment;

/// The search path when the environment has no `PATH` (glibc's default).
const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/usr/bin:/bin";

/// Finds `name` in `env`'s `PATH` (relative entries resolved from `cwd`).
///
/// A name containing `/` is not searched. `NotExecutable` when only non-executable files of
/// that name were found.
pub fn find_program(
    name: &OsStr,
    env: &Environment,
    cwd: Option<&Path>,
) -> Result<PathBuf, StartFailure> {
    search(name, env, cwd, &mut Vec::new())
}

/// [`find_program`], listing in `before` the folders looked in before the one that held it
/// (every folder looked in, when none did; nothing for a name with a `/`).
fn search(
    name: &OsStr,
    env: &Environment,
    cwd: Option<&Path>,
    before: &mut Vec<Vec<u8>>,
) -> Result<PathBuf, StartFailure> {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Err(StartFailure::NotFound);
    }
    if bytes.contains(&b'/') {
        let path = cwd.map_or_else(|| PathBuf::from(name), |dir| dir.join(name));
        return match executable(&path) {
            Some(true) => Ok(PathBuf::from(name)),
            Some(false) => Err(StartFailure::NotExecutable),
            None => Err(StartFailure::NotFound),
        };
    }
    let search = env.get("PATH").map_or(DEFAULT_PATH, OsStr::as_bytes);
    let mut saw_non_executable = false;
    // One buffer for every candidate, and no allocation per candidate: this runs before every
    // command. A folder listed twice in PATH gives the same answer twice: looked at once.
    let mut candidate = Vec::with_capacity(256);
    for (index, dir) in search.split(|&b| b == b':').enumerate() {
        let dir = as_folder(dir);
        if search
            .split(|&b| b == b':')
            .take(index)
            .any(|earlier| as_folder(earlier) == dir)
        {
            continue;
        }
        candidate.clear();
        if let (Some(cwd), false) = (cwd, dir.starts_with(b"/")) {
            push_component(&mut candidate, cwd.as_os_str().as_bytes());
        }
        push_component(&mut candidate, dir);
        push_component(&mut candidate, bytes);
        match executable(Path::new(OsStr::from_bytes(&candidate))) {
            Some(true) => return Ok(PathBuf::from(OsStr::from_bytes(&candidate))),
            Some(false) => saw_non_executable = true,
            None => {}
        }
        // The candidate's folder: the candidate without its last component.
        before.push(candidate[..candidate.len() - bytes.len()].to_owned());
    }
    Err(if saw_non_executable {
        StartFailure::NotExecutable
    } else {
        StartFailure::NotFound
    })
}

/// Where one run found its programs, remembered for as long as no lookup could give another
/// answer. A hit is used again while nothing changed in the `PATH` folders searched before
/// the one that held it: they are watched (inotify) for files created, moved in or given other
/// permissions, and for being deleted or moved themselves, and any such change forgets every
/// hit. A folder that does not exist is watched through its nearest existing parent (any
/// file or folder created there counts). A command that no longer starts from its remembered
/// path (removed, no longer executable) is looked up again at once, and a name that was not
/// found is looked up every time. So each step starts what a fresh `execvp` would, without
/// a `stat` per `PATH` folder each time; without inotify, every lookup is a fresh one.
///
/// Keyed by the name, the `PATH` searched, and the command's folder when `PATH` has a relative
/// entry: a step with its own `PATH` or folder gets its own lookup.
#[derive(Debug, Default)]
pub struct ProgramCache {
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    found: HashMap<Vec<u8>, PathBuf>,
    /// The inotify instance; `None` until first needed, or when it cannot be had.
    watcher: Option<OwnedFd>,
    no_watcher: bool,
    /// Folders watched since the last change seen.
    watched: HashSet<Vec<u8>>,
}

/// What makes a remembered hit stale: a candidate appears in (or a folder replaces) an earlier
/// folder.
fn watch_flags() -> WatchFlags {
    WatchFlags::CREATE
        | WatchFlags::MOVED_TO
        | WatchFlags::ATTRIB
        | WatchFlags::DELETE_SELF
        | WatchFlags::MOVE_SELF
        | WatchFlags::ONLYDIR
}

impl ProgramCache {
    /// [`find_program`], remembered: the path, and whether it came from memory.
    pub fn find(
        &self,
        name: &OsStr,
        env: &Environment,
        cwd: Option<&Path>,
    ) -> Result<(PathBuf, bool), StartFailure> {
        let mut inner = self.lock();
        if !inner.ready() {
            drop(inner);
            return find_program(name, env, cwd).map(|path| (path, false));
        }
        let key = cache_key(name, env, cwd);
        if let Some(path) = inner.found.get(&key) {
            return Ok((path.clone(), true));
        }
        let mut before = Vec::new();
        let path = search(name, env, cwd, &mut before)?;
        // Remembered only if a second look, made once the folders are watched, finds the same:
        // a file created between the first look and its folder's watch is then not missed.
        if before.iter().all(|folder| inner.watch(folder))
            && search(name, env, cwd, &mut Vec::new()).as_ref() == Ok(&path)
        {
            inner.found.insert(key, path.clone());
        }
        Ok((path, false))
    }

    /// Forgets where `name` was found (it no longer starts from there).
    pub fn forget(&self, name: &OsStr, env: &Environment, cwd: Option<&Path>) {
        self.lock().found.remove(&cache_key(name, env, cwd));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // A panic while the map was held leaves it whole (every change is one call).
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl CacheInner {
    /// Whether hits can be remembered: the watcher exists, and whatever changed since the last
    /// look has been taken in (forgetting every hit).
    fn ready(&mut self) -> bool {
        if self.no_watcher {
            return false;
        }
        let Some(watcher) = &self.watcher else {
            match inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK) {
                Ok(fd) => self.watcher = Some(fd),
                Err(_) => self.no_watcher = true,
            }
            return !self.no_watcher;
        };
        let mut buffer = [0u8; 4096];
        let mut changed = false;
        loop {
            match rustix::io::read(watcher, &mut buffer) {
                Ok(0) => break,
                Ok(_) => changed = true,
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => break,
                Err(_) => {
                    // A watcher that cannot be read cannot vouch for anything.
                    self.watcher = None;
                    self.no_watcher = true;
                    self.found.clear();
                    return false;
                }
            }
        }
        if changed {
            self.found.clear();
            self.watched.clear();
        }
        true
    }

    /// Watches `folder`, or its nearest existing parent when it does not exist (or is not a
    /// folder). False when nothing could be watched.
    fn watch(&mut self, folder: &[u8]) -> bool {
        if self.watched.contains(folder) {
            return true;
        }
        let Some(watcher) = &self.watcher else {
            return false;
        };
        let mut at = Path::new(OsStr::from_bytes(folder));
        loop {
            match inotify::add_watch(watcher, at, watch_flags()) {
                Ok(_) => break,
                Err(Errno::NOENT | Errno::NOTDIR) => match at.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => at = parent,
                    _ => return false,
                },
                Err(_) => return false,
            }
        }
        self.watched.insert(folder.to_owned());
        true
    }
}

/// `name \0 PATH [\0 cwd]`: the cwd only when a `PATH` entry is relative (no NUL can be in
/// any of them).
fn cache_key(name: &OsStr, env: &Environment, cwd: Option<&Path>) -> Vec<u8> {
    let search = env.get("PATH").map_or(DEFAULT_PATH, OsStr::as_bytes);
    let mut key = Vec::with_capacity(name.len() + search.len() + 2);
    key.extend_from_slice(name.as_bytes());
    key.push(0);
    key.extend_from_slice(search);
    if search
        .split(|&b| b == b':')
        .any(|dir| !dir.starts_with(b"/"))
    {
        key.push(0);
        key.extend_from_slice(cwd.map_or(&b""[..], |dir| dir.as_os_str().as_bytes()));
    }
    key
}

/// A `PATH` entry as a folder: the empty entry is the current folder.
fn as_folder(entry: &[u8]) -> &[u8] {
    if entry.is_empty() { b"." } else { entry }
}

/// Appends `part` to the path in `buffer` as `PathBuf::push` does for a relative part: after
/// a `/` unless the buffer is empty or ends with one.
fn push_component(buffer: &mut Vec<u8>, part: &[u8]) {
    if !buffer.is_empty() && !buffer.ends_with(b"/") {
        buffer.push(b'/');
    }
    buffer.extend_from_slice(part);
}

/// `None`: no such file; `Some(false)`: present but not an executable regular file.
fn executable(path: &Path) -> Option<bool> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path).ok()?;
    Some(metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_in_the_given_path_only() {
        let env: Environment = [("PATH", "/nonexistent:/bin:/usr/bin")]
            .into_iter()
            .collect();
        assert!(find_program(OsStr::new("sh"), &env, None).is_ok());
        assert_eq!(
            find_program(OsStr::new("no-such-program-x"), &env, None),
            Err(StartFailure::NotFound)
        );
        let empty: Environment = [("PATH", "/nonexistent")].into_iter().collect();
        assert_eq!(
            find_program(OsStr::new("sh"), &empty, None),
            Err(StartFailure::NotFound)
        );
    }

    #[test]
    fn candidates_are_joined_as_paths_are() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let tool = bin.join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A relative folder is found from the command's folder; one listed twice is fine.
        let env: Environment = [("PATH", "/nonexistent:bin:/nonexistent:bin")]
            .into_iter()
            .collect();
        assert_eq!(
            find_program(OsStr::new("tool"), &env, Some(dir.path())),
            Ok(tool)
        );
        let slash = format!("{}/", bin.display());
        let env: Environment = [("PATH", slash.as_str())].into_iter().collect();
        assert_eq!(
            find_program(OsStr::new("tool"), &env, None),
            Ok(bin.join("tool")),
            "no doubled slash"
        );
    }

    fn install(folder: &Path, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(folder).unwrap();
        std::fs::write(folder.join("tool"), text).unwrap();
        std::fs::set_permissions(folder.join("tool"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }

    #[test]
    fn a_remembered_program_gives_way_to_one_put_earlier_in_path() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        std::fs::create_dir(&first).unwrap();
        let path = format!("{}:{}", first.display(), second.display());
        let env: Environment = [("PATH", path.as_str())].into_iter().collect();
        let cache = ProgramCache::default();
        let tool = OsStr::new("tool");
        assert_eq!(cache.find(tool, &env, None), Err(StartFailure::NotFound));
        install(&second, "#!/bin/sh\n");
        assert_eq!(
            cache.find(tool, &env, None),
            Ok((second.join("tool"), false)),
            "not found before: looked up again"
        );
        assert_eq!(
            cache.find(tool, &env, None),
            Ok((second.join("tool"), true)),
            "nothing changed: remembered"
        );
        install(&first, "#!/bin/sh\n");
        assert_eq!(
            cache.find(tool, &env, None),
            Ok((first.join("tool"), false)),
            "a program put in an earlier folder is found, as execvp would"
        );
        let other: Environment = [("PATH", second.to_str().unwrap())].into_iter().collect();
        assert_eq!(
            cache.find(tool, &other, None),
            Ok((second.join("tool"), false)),
            "another PATH is another lookup"
        );
        cache.forget(tool, &env, None);
        assert_eq!(
            cache.find(tool, &env, None),
            Ok((first.join("tool"), false))
        );
    }

    #[test]
    fn a_folder_made_later_earlier_in_path_is_watched_through_its_parent() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (early, late) = (dir.path().join("made/later/bin"), dir.path().join("late"));
        let path = format!("{}:{}", early.display(), late.display());
        let env: Environment = [("PATH", path.as_str())].into_iter().collect();
        let cache = ProgramCache::default();
        let tool = OsStr::new("tool");
        install(&late, "#!/bin/sh\n");
        assert_eq!(cache.find(tool, &env, None), Ok((late.join("tool"), false)));
        assert_eq!(cache.find(tool, &env, None), Ok((late.join("tool"), true)));
        install(&early, "#!/bin/sh\n");
        assert_eq!(
            cache.find(tool, &env, None),
            Ok((early.join("tool"), false))
        );
        // A file made executable in an earlier folder counts too.
        let plain = dir.path().join("plain");
        std::fs::create_dir(&plain).unwrap();
        std::fs::write(plain.join("tool"), "#!/bin/sh\n").unwrap();
        let path = format!("{}:{}", plain.display(), late.display());
        let env: Environment = [("PATH", path.as_str())].into_iter().collect();
        assert_eq!(cache.find(tool, &env, None), Ok((late.join("tool"), false)));
        assert_eq!(cache.find(tool, &env, None), Ok((late.join("tool"), true)));
        std::fs::set_permissions(plain.join("tool"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        assert_eq!(
            cache.find(tool, &env, None),
            Ok((plain.join("tool"), false))
        );
    }

    #[test]
    fn a_relative_path_entry_makes_the_folder_part_of_the_memory() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        install(&a.path().join("bin"), "#!/bin/sh\n");
        install(&b.path().join("bin"), "#!/bin/sh\n");
        let env: Environment = [("PATH", "bin")].into_iter().collect();
        let cache = ProgramCache::default();
        let tool = OsStr::new("tool");
        assert_eq!(
            cache.find(tool, &env, Some(a.path())),
            Ok((a.path().join("bin/tool"), false))
        );
        assert_eq!(
            cache.find(tool, &env, Some(b.path())),
            Ok((b.path().join("bin/tool"), false))
        );
    }

    #[test]
    fn non_executable_files_are_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plain"), "x").unwrap();
        let env: Environment = [("PATH", dir.path().as_os_str())].into_iter().collect();
        assert_eq!(
            find_program(OsStr::new("plain"), &env, None),
            Err(StartFailure::NotExecutable)
        );
    }
}
