//! Opening and reading the files users name (suite files, env files, files steps leave
//! behind): regular files only, without ever blocking, never more than a stated limit.
//!
//! A FIFO opened for reading blocks until a writer appears, and a device such as `/dev/zero`
//! never ends: both are refused here, after an `open` that cannot block (`O_NONBLOCK`), by
//! looking at what was opened (`fstat`), not at the path (which could change in between).

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a file could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The system refused (missing, permission denied, …).
    #[error("{}", describe_io(.0))]
    Io(#[source] io::Error),
    /// The path goes through a symbolic link that leads back to itself.
    #[error("it is a symbolic link loop (too many levels of symbolic links)")]
    Loop,
    /// A FIFO, device, socket or folder where a regular file is meant.
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    /// Larger than the limit for this kind of file.
    #[error("it is larger than the limit of {}", human_size(*.limit))]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
}

impl ReadError {
    /// The path does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io(error) if error.kind() == io::ErrorKind::NotFound)
    }

    fn from_io(error: io::Error) -> Self {
        if error.raw_os_error() == Some(libc::ELOOP) {
            Self::Loop
        } else {
            Self::Io(error)
        }
    }
}

/// Opens `path` for reading without blocking, and refuses anything but a regular file.
pub fn open(path: &Path) -> Result<File, ReadError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(ReadError::from_io)?;
    let kind = file.metadata().map_err(ReadError::from_io)?.file_type();
    match describe_non_regular(&kind) {
        Some(what) => Err(ReadError::NotRegular(what)),
        None => Ok(file),
    }
}

/// Reads the whole of the regular file `path`, refusing it when it is larger than `limit`.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    read_open(open(path)?, limit)
}

/// Reads the rest of `file` (opened with [`open`]), refusing more than `limit` bytes.
pub fn read_open(file: File, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    // One byte more than allowed tells "exactly the limit" from "larger", without trusting the
    // size in the metadata (the file may grow while it is read).
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::from_io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// What a non-regular file is, in words (`None` for a regular file).
pub fn describe_non_regular(kind: &std::fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a folder")
    } else if kind.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("not a plain file")
    }
}

/// A size as people read it: `512 bytes`, `64 KiB`, `8 MiB`.
pub fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// An I/O error in words, lowercase, as our messages are.
pub(crate) fn describe_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or folder".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "it is a folder".into(),
        _ => {
            let text = error.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .unwrap();
        let error = read(&fifo, 10).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it is a FIFO (named pipe), not a regular file"
        );
    }

    #[test]
    fn devices_and_folders_are_refused() {
        let error = read(Path::new("/dev/zero"), 10).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it is a character device, not a regular file"
        );
        let dir = tempfile::tempdir().unwrap();
        let error = read(dir.path(), 10).unwrap_err();
        assert_eq!(error.to_string(), "it is a folder, not a regular file");
    }

    #[test]
    fn a_symlink_loop_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::os::unix::fs::symlink(dir.path().join("b"), &a).unwrap();
        std::os::unix::fs::symlink(&a, dir.path().join("b")).unwrap();
        let error = read(&a, 10).unwrap_err();
        assert!(matches!(error, ReadError::Loop), "{error:?}");
    }

    #[test]
    fn the_limit_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read(&path, 10).unwrap(), b"0123456789");
        let error = read(&path, 9).unwrap_err();
        assert_eq!(error.to_string(), "it is larger than the limit of 9 bytes");
        assert_eq!(human_size(8 * 1024 * 1024), "8 MiB");
        assert!(
            read(&dir.path().join("missing"), 1)
                .unwrap_err()
                .is_not_found()
        );
    }
}
