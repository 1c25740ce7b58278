//! Finding a program in a command's `PATH`, the way `execvp` would.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
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
    let search = env.get("PATH").map_or(DEFAULT_PATH, OsStr::as_bytes);
    let mut saw_non_executable = false;
    // One buffer for every candidate: this runs before every command.
    let mut candidate = PathBuf::new();
    for dir in search.split(|&b| b == b':') {
        let dir = Path::new(OsStr::from_bytes(if dir.is_empty() { b"." } else { dir }));
        candidate.clear();
        if let (Some(cwd), true) = (cwd, dir.is_relative()) {
            candidate.push(cwd);
        }
        candidate.push(dir);
        candidate.push(name);
        match executable(&candidate) {
            Some(true) => return Ok(candidate),
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
