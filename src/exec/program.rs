//! Finding a program in a command's `PATH`, the way `execvp` would.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

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
    let found = search_path(bytes, env, cwd)?;
    Ok(PathBuf::from(OsString::from_vec(found.into_bytes())))
}

/// [`find_program`] for a name without `/`, as the C string the executor starts: every
/// command that names its program runs this first, so it allocates only what it returns.
pub(super) fn search_path(
    name: &[u8],
    env: &Environment,
    cwd: Option<&Path>,
) -> Result<CString, StartFailure> {
    if name.is_empty() || name.contains(&0) {
        return Err(StartFailure::NotFound);
    }
    let search = env.get("PATH").map_or(DEFAULT_PATH, OsStr::as_bytes);
    // The folders looked at so far: one listed twice in PATH gives the same answer twice,
    // so it is looked at once (past the 32nd folder, a repeat is looked at again).
    let mut seen: [&[u8]; 32] = [&[]; 32];
    let mut seen_count = 0;
    let mut saw_non_executable = false;
    let mut candidate = Vec::with_capacity(256);
    for entry in search.split(|&b| b == b':') {
        let dir = as_folder(entry);
        if seen[..seen_count].contains(&dir) {
            continue;
        }
        if seen_count < seen.len() {
            seen[seen_count] = dir;
            seen_count += 1;
        }
        candidate.clear();
        if let (Some(cwd), false) = (cwd, dir.starts_with(b"/")) {
            push_component(&mut candidate, cwd.as_os_str().as_bytes());
        }
        push_component(&mut candidate, dir);
        push_component(&mut candidate, name);
        candidate.push(0);
        let Ok(path) = CStr::from_bytes_with_nul(&candidate) else {
            // A NUL inside a PATH entry: no file has that name.
            continue;
        };
        match executable(path) {
            Some(true) => {
                return CString::from_vec_with_nul(candidate).map_err(|_| StartFailure::NotFound);
            }
            Some(false) => saw_non_executable = true,
            None => {}
        }
    }
    Err(if saw_non_executable {
        StartFailure::NotExecutable
    } else {
        StartFailure::NotFound
    })
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

/// `None`: no such file; `Some(false)`: present but not an executable regular file. One
/// `stat`; a path given as a C string is passed on as it is.
fn executable(path: impl rustix::path::Arg) -> Option<bool> {
    let stat = rustix::fs::stat(path).ok()?;
    let mode = rustix::fs::FileType::from_raw_mode(stat.st_mode);
    Some(mode == rustix::fs::FileType::RegularFile && stat.st_mode & 0o111 != 0)
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
