//! Copying a fixture folder into a test dir without ever following a link out of either.
//!
//! Every name is opened relative to its parent folder's descriptor with `O_NOFOLLOW`, so a link
//! planted anywhere (in the fixture, or left in the test dir by an earlier fixture) is never
//! gone through: symbolic links inside a fixture are copied as links, a file replaces a link of
//! an earlier fixture instead of writing through it, and new files are created with `O_EXCL`.
//! The fixture's own name may go through links only when they stay inside the fixtures root.
//! FIFOs, devices and sockets are refused (opening a FIFO would block forever), and the copy
//! stops between files and between blocks of a file when the run is interrupted.

use std::ffi::{CStr, OsStr};
use std::fs::File;
use std::io::{self, Read as _};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use rustix::io::Errno;

/// A file's content is copied in blocks of this size, checking for an interrupt between them.
const COPY_BLOCK: u64 = 8 * 1024 * 1024;

/// Why a fixture could not be copied.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The system refused to read or write `path` (the fixture's path, or the test dir's).
    #[error("{}: {}", .path.display(), describe(.source))]
    Io {
        /// The path that could not be read or written.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The fixture's name goes through a symbolic link leading out of the fixtures root.
    #[error(
        "{} is a symbolic link leading outside the fixtures root {}: a fixture must be a folder inside it",
        .path.display(),
        .root.display()
    )]
    OutsideRoot {
        /// The fixture as named.
        path: PathBuf,
        /// The fixtures root.
        root: PathBuf,
    },
    /// A FIFO, device or socket in the fixture.
    #[error(
        "{} is {what}: fixtures may hold only files, folders and symbolic links",
        .path.display()
    )]
    NotCopyable {
        /// The entry in the fixture.
        path: PathBuf,
        /// What it is, in words.
        what: &'static str,
    },
    /// A file or link where an earlier fixture put a folder.
    #[error(
        "{} is not a folder, but an earlier fixture put a folder at the same place in the test dir",
        .path.display()
    )]
    FolderInTheWay {
        /// The entry in this fixture.
        path: PathBuf,
    },
    /// The run was interrupted before the copy was done.
    #[error("interrupted")]
    Interrupted,
}

/// Copies the contents of the folder `fixture` (a relative name under `root`) into `test_dir`,
/// merging with what earlier fixtures put there; a file of this fixture replaces a file or link
/// of theirs. Stops with [`CopyError::Interrupted`] as soon as `interrupted` says so.
pub fn copy_fixture(
    root: &Path,
    fixture: &str,
    test_dir: &Path,
    interrupted: &dyn Fn() -> bool,
) -> Result<(), CopyError> {
    let named = root.join(fixture);
    let source = open_fixture(root, fixture)?;
    let target = open_dir_at(rustix::fs::CWD, test_dir).map_err(|e| io_error(test_dir, e))?;
    let mut copy = Copy {
        interrupted,
        source_path: named,
    };
    copy.folder(source, target.as_fd())
}

/// Opens the fixture folder: its name may go through links only when they stay inside `root`;
/// what it resolves to is then opened one folder at a time, following no link.
fn open_fixture(root: &Path, fixture: &str) -> Result<OwnedFd, CopyError> {
    let named = root.join(fixture);
    let real_root = root.canonicalize().map_err(|e| CopyError::Io {
        path: root.to_owned(),
        source: e,
    })?;
    let real = named.canonicalize().map_err(|e| CopyError::Io {
        path: named.clone(),
        source: e,
    })?;
    let Ok(inside) = real.strip_prefix(&real_root) else {
        return Err(CopyError::OutsideRoot {
            path: named,
            root: root.to_owned(),
        });
    };
    let mut folder = open_dir_at(rustix::fs::CWD, &real_root).map_err(|e| io_error(root, e))?;
    for component in inside.components() {
        let Component::Normal(name) = component else {
            continue;
        };
        folder = open_dir_at(folder.as_fd(), Path::new(name)).map_err(|e| io_error(&named, e))?;
    }
    Ok(folder)
}

/// Opens the folder `name` under `parent` without following a link at its last component.
fn open_dir_at(parent: impl AsFd, name: &Path) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

struct Copy<'a> {
    interrupted: &'a dyn Fn() -> bool,
    /// The fixture entry being copied, for messages.
    source_path: PathBuf,
}

impl Copy<'_> {
    /// Copies every entry of the folder `source` into the folder `target`.
    fn folder(&mut self, source: OwnedFd, target: BorrowedFd<'_>) -> Result<(), CopyError> {
        let entries = Dir::new(source).map_err(|e| self.error(e))?;
        let source = entries.fd().map_err(|e| self.error(e))?;
        // `Dir` borrows its descriptor for reading; a second handle opens the entries.
        let source = source.try_clone_to_owned().map_err(|e| self.error_io(e))?;
        for entry in entries {
            if (self.interrupted)() {
                return Err(CopyError::Interrupted);
            }
            let entry = entry.map_err(|e| self.error(e))?;
            let name = entry.file_name();
            if matches!(name.to_bytes(), b"." | b"..") {
                continue;
            }
            self.source_path.push(OsStr::from_bytes(name.to_bytes()));
            let kind = match entry.file_type() {
                FileType::Unknown => rustix::fs::statat(&source, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map(|stat| FileType::from_raw_mode(stat.st_mode))
                    .map_err(|e| self.error(e))?,
                kind => kind,
            };
            self.entry(source.as_fd(), name, kind, target)?;
            self.source_path.pop();
        }
        Ok(())
    }

    fn entry(
        &mut self,
        source: BorrowedFd<'_>,
        name: &CStr,
        kind: FileType,
        target: BorrowedFd<'_>,
    ) -> Result<(), CopyError> {
        match kind {
            FileType::Directory => {
                let from = rustix::fs::openat(
                    source,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| self.error(e))?;
                let to = self.make_folder(target, name)?;
                self.folder(from, to.as_fd())
            }
            FileType::Symlink => {
                let link =
                    rustix::fs::readlinkat(source, name, Vec::new()).map_err(|e| self.error(e))?;
                self.make_room(target, name, || rustix::fs::symlinkat(&link, target, name))
            }
            FileType::RegularFile => self.file(source, name, target),
            other => Err(CopyError::NotCopyable {
                path: self.source_path.clone(),
                what: describe_kind(other),
            }),
        }
    }

    /// Copies the regular file `name`, opened without following a link and refused unless
    /// `fstat` still says it is a regular file (it may have changed since the folder was read).
    fn file(
        &mut self,
        source: BorrowedFd<'_>,
        name: &CStr,
        target: BorrowedFd<'_>,
    ) -> Result<(), CopyError> {
        let from = rustix::fs::openat(
            source,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| self.error(e))?;
        let stat = rustix::fs::fstat(&from).map_err(|e| self.error(e))?;
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => {}
            other => {
                return Err(CopyError::NotCopyable {
                    path: self.source_path.clone(),
                    what: describe_kind(other),
                });
            }
        }
        let to = self.make_room(target, name, || {
            rustix::fs::openat(
                target,
                name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::RUSR | Mode::WUSR,
            )
        })?;
        let (from, to) = (File::from(from), File::from(to));
        loop {
            if (self.interrupted)() {
                return Err(CopyError::Interrupted);
            }
            // `io::copy` between files uses `copy_file_range` where it can: no bytes through
            // user space.
            let copied =
                io::copy(&mut (&from).take(COPY_BLOCK), &mut &to).map_err(|e| self.error_io(e))?;
            if copied == 0 {
                break;
            }
        }
        // Permission bits as in the fixture (an executable script stays executable).
        let mode = Mode::from_raw_mode(stat.st_mode & 0o777);
        rustix::fs::fchmod(&to, mode).map_err(|e| self.error(e))
    }

    /// A folder `name` under `target`: made, or an earlier fixture's folder (merged into), or
    /// in place of an earlier fixture's file or link (never followed).
    fn make_folder(&mut self, target: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, CopyError> {
        match rustix::fs::mkdirat(target, name, Mode::from_raw_mode(0o777)) {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                let existing = rustix::fs::statat(target, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| self.error(e))?;
                if FileType::from_raw_mode(existing.st_mode) != FileType::Directory {
                    rustix::fs::unlinkat(target, name, AtFlags::empty())
                        .map_err(|e| self.error(e))?;
                    rustix::fs::mkdirat(target, name, Mode::from_raw_mode(0o777))
                        .map_err(|e| self.error(e))?;
                }
            }
            Err(e) => return Err(self.error(e)),
        }
        open_dir_at(target, Path::new(OsStr::from_bytes(name.to_bytes())))
            .map_err(|e| self.error(e))
    }

    /// Runs `create` (which must fail with `EEXIST` when `name` exists, following no link);
    /// when an earlier fixture left a file or link there, removes it and runs `create` again.
    fn make_room<T>(
        &mut self,
        target: BorrowedFd<'_>,
        name: &CStr,
        create: impl Fn() -> Result<T, Errno>,
    ) -> Result<T, CopyError> {
        match create() {
            Err(Errno::EXIST) => {}
            done => return done.map_err(|e| self.error(e)),
        }
        let existing = rustix::fs::statat(target, name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| self.error(e))?;
        if FileType::from_raw_mode(existing.st_mode) == FileType::Directory {
            return Err(CopyError::FolderInTheWay {
                path: self.source_path.clone(),
            });
        }
        rustix::fs::unlinkat(target, name, AtFlags::empty()).map_err(|e| self.error(e))?;
        create().map_err(|e| self.error(e))
    }

    fn error(&self, errno: Errno) -> CopyError {
        io_error(&self.source_path, errno)
    }

    fn error_io(&self, source: io::Error) -> CopyError {
        CopyError::Io {
            path: self.source_path.clone(),
            source,
        }
    }
}

fn io_error(path: &Path, errno: Errno) -> CopyError {
    CopyError::Io {
        path: path.to_owned(),
        source: errno.into(),
    }
}

fn describe_kind(kind: FileType) -> &'static str {
    match kind {
        FileType::Fifo => "a FIFO (named pipe)",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Socket => "a socket",
        FileType::Directory => "a folder",
        FileType::Symlink => "a symbolic link",
        FileType::RegularFile => "a regular file",
        FileType::Unknown => "of an unknown kind",
    }
}

/// The system's words, lowercase, as our messages are.
fn describe(error: &io::Error) -> String {
    if error.raw_os_error() == Some(libc::ELOOP) {
        // Only a link met where a folder or file was opened (it changed during the copy).
        return "it is a symbolic link (links are never followed while copying)".into();
    }
    crate::regular_file::describe_io(error)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::fs;
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    /// A fixtures root, a test dir, and a folder outside both that must stay untouched.
    struct Setting {
        _scratch: tempfile::TempDir,
        root: PathBuf,
        test_dir: PathBuf,
        outside: PathBuf,
    }

    fn setting() -> Setting {
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().canonicalize().unwrap();
        let [root, test_dir, outside] = ["fixtures", "test-dir", "outside"].map(|name| {
            let folder = path.join(name);
            fs::create_dir(&folder).unwrap();
            folder
        });
        fs::write(outside.join("victim"), "untouched").unwrap();
        Setting {
            _scratch: scratch,
            root,
            test_dir,
            outside,
        }
    }

    impl Setting {
        fn file(&self, relative: &str, content: &str) {
            let path = self.root.join(relative);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }

        fn link(&self, relative: &str, target: &Path) {
            let path = self.root.join(relative);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            symlink(target, path).unwrap();
        }

        fn copy(&self, fixture: &str) -> Result<(), CopyError> {
            copy_fixture(&self.root, fixture, &self.test_dir, &|| false)
        }

        fn outside_is_untouched(&self) {
            let names: Vec<_> = fs::read_dir(&self.outside)
                .unwrap()
                .map(|entry| entry.unwrap().file_name())
                .collect();
            assert_eq!(names, ["victim"]);
            let victim = fs::read_to_string(self.outside.join("victim")).unwrap();
            assert_eq!(victim, "untouched");
        }
    }

    #[test]
    fn folders_files_links_and_permissions_are_copied() {
        let s = setting();
        s.file("app/src/main.sh", "echo hi\n");
        fs::set_permissions(
            s.root.join("app/src/main.sh"),
            fs::Permissions::from_mode(0o750),
        )
        .unwrap();
        s.file("app/empty", "");
        s.link("app/relative", Path::new("src/main.sh"));
        s.link("app/absolute", &s.outside.join("victim"));
        s.copy("app").unwrap();
        let copied = &s.test_dir;
        assert_eq!(
            fs::read_to_string(copied.join("src/main.sh")).unwrap(),
            "echo hi\n"
        );
        let mode = fs::metadata(copied.join("src/main.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o750);
        assert_eq!(fs::read(copied.join("empty")).unwrap(), b"");
        // Links are copied as links, whatever they point at: never followed.
        assert_eq!(
            fs::read_link(copied.join("relative")).unwrap(),
            Path::new("src/main.sh")
        );
        assert_eq!(
            fs::read_link(copied.join("absolute")).unwrap(),
            s.outside.join("victim")
        );
        s.outside_is_untouched();
    }

    /// A fixture that was itself a link to `/etc` copied all of `/etc`.
    #[test]
    fn a_fixture_linking_out_of_the_root_is_refused() {
        let s = setting();
        s.link("etc", &s.outside);
        let error = s.copy("etc").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} is a symbolic link leading outside the fixtures root {}: a fixture must be a folder inside it",
                s.root.join("etc").display(),
                s.root.display()
            )
        );
        // Through a linked folder on the way too.
        s.link("via", &s.outside);
        assert!(matches!(
            s.copy("via/."),
            Err(CopyError::OutsideRoot { .. })
        ));
        assert_eq!(fs::read_dir(&s.test_dir).unwrap().count(), 0);
        s.outside_is_untouched();
    }

    #[test]
    fn a_fixture_linking_inside_the_root_is_copied() {
        let s = setting();
        s.file("v2/data.txt", "two");
        s.link("current", Path::new("v2"));
        s.copy("current").unwrap();
        assert_eq!(
            fs::read_to_string(s.test_dir.join("data.txt")).unwrap(),
            "two"
        );
    }

    /// Fixture A had `a -> /victim` and fixture B a regular file `a`: copying B wrote through
    /// the link and overwrote `/victim`.
    #[test]
    fn a_later_fixture_replaces_a_link_instead_of_writing_through_it() {
        let s = setting();
        s.link("a/a", &s.outside.join("victim"));
        s.file("b/a", "from b");
        s.link("a/d", &s.outside);
        s.file("b/d/planted", "from b");
        s.copy("a").unwrap();
        s.copy("b").unwrap();
        let a = s.test_dir.join("a");
        assert!(fs::symlink_metadata(&a).unwrap().is_file());
        assert_eq!(fs::read_to_string(a).unwrap(), "from b");
        assert!(fs::symlink_metadata(s.test_dir.join("d")).unwrap().is_dir());
        assert_eq!(
            fs::read_to_string(s.test_dir.join("d/planted")).unwrap(),
            "from b"
        );
        s.outside_is_untouched();
        // A link replaces a file the same way; folders merge.
        s.link("c/a", Path::new("elsewhere"));
        s.file("c/d/more", "from c");
        s.copy("c").unwrap();
        assert_eq!(
            fs::read_link(s.test_dir.join("a")).unwrap(),
            Path::new("elsewhere")
        );
        assert!(s.test_dir.join("d/planted").is_file());
        assert!(s.test_dir.join("d/more").is_file());
    }

    #[test]
    fn a_file_where_an_earlier_fixture_put_a_folder_is_an_error() {
        let s = setting();
        s.file("a/d/x", "");
        s.file("b/d", "");
        s.copy("a").unwrap();
        let error = s.copy("b").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} is not a folder, but an earlier fixture put a folder at the same place in the test dir",
                s.root.join("b/d").display()
            )
        );
    }

    /// Opening a FIFO in a fixture for reading blocked forever.
    #[test]
    fn a_fifo_in_a_fixture_is_refused_without_blocking() {
        let s = setting();
        s.file("f/before", "");
        rustix::fs::mkfifoat(rustix::fs::CWD, s.root.join("f/p"), Mode::RUSR | Mode::WUSR).unwrap();
        let error = s.copy("f").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} is a FIFO (named pipe): fixtures may hold only files, folders and symbolic links",
                s.root.join("f/p").display()
            )
        );
    }

    #[test]
    fn the_copy_stops_when_interrupted() {
        let s = setting();
        for i in 0..50 {
            s.file(&format!("many/{i:02}"), "x");
        }
        let asked = Cell::new(0);
        let interrupted = || {
            asked.set(asked.get() + 1);
            asked.get() > 10
        };
        let result = copy_fixture(&s.root, "many", &s.test_dir, &interrupted);
        assert!(matches!(result, Err(CopyError::Interrupted)), "{result:?}");
        let copied = fs::read_dir(&s.test_dir).unwrap().count();
        assert!((1..10).contains(&copied), "{copied} files copied");
    }
}
