//! Test dirs: one fresh folder per suite, with its fixtures copied in.

use std::io;
use std::path::{Path, PathBuf};

use super::fixture_copy::{CopyError, copy_fixture};

/// A suite's working folder, removed on drop unless kept.
#[derive(Debug)]
pub struct TestDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TestDir {
    /// Creates `<root>/plandex-<slug>-<pid>-<random>`.
    pub fn create(root: &Path, slug: &str) -> io::Result<Self> {
        let prefix = format!("plandex-{slug}-{}-", std::process::id());
        // 0700 whatever the umask: other users must neither read a step's files nor plant their own.
        let dir = tempfile::Builder::new()
            .prefix(&prefix)
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(root)?;
        let path = dir.path().to_path_buf();
        Ok(Self {
            dir: Some(dir),
            path,
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the folder. A process that was stopped just before may still be adding a
    /// file while it is emptied: removing is tried again a few times before giving up.
    fn remove(dir: tempfile::TempDir) {
        let path = dir.keep();
        for attempt in 1..=5u64 {
            match std::fs::remove_dir_all(&path) {
                Ok(()) => return,
                Err(error) if error.kind() == io::ErrorKind::NotFound => return,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10 * attempt)),
            }
        }
    }

    /// Keeps the folder on disk and returns its path.
    pub fn keep(mut self) -> PathBuf {
        if let Some(dir) = self.dir.take() {
            // Ownership of the folder passes to the user, who asked to inspect it.
            let _ = dir.keep();
        }
        self.path.clone()
    }

    /// Copies the contents of the fixture folder `fixture` (a name under `root`) into the test
    /// dir, following no link out of either (see [`copy_fixture`]); stops when `interrupted`
    /// says so.
    pub fn copy_fixture(
        &self,
        root: &Path,
        fixture: &str,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<(), CopyError> {
        copy_fixture(root, fixture, &self.path, interrupted)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            Self::remove(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_copies_removes_and_keeps() {
        let root = tempfile::tempdir().unwrap();
        let fixture = root.path().join("fixture");
        std::fs::create_dir_all(fixture.join("sub")).unwrap();
        std::fs::write(fixture.join("sub/a.txt"), "A").unwrap();

        let dir = TestDir::create(root.path(), "demo").unwrap();
        let name = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!("plandex-demo-{}-", std::process::id())),
            "{name}"
        );
        dir.copy_fixture(root.path(), "fixture", &|| false).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("sub/a.txt")).unwrap(),
            "A"
        );
        let removed = dir.path().to_path_buf();
        drop(dir);
        assert!(!removed.exists());

        let kept = TestDir::create(root.path(), "demo").unwrap().keep();
        assert!(kept.is_dir());
    }

    /// Test dirs were created 0777 minus umask: world-writable under umask 000.
    #[test]
    fn test_dirs_are_private_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = TestDir::create(root.path(), "private").unwrap();
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
