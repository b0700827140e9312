//! `std::io::Error` to the `IO_*` codes of the TypeScript `fromNodeIoError`:
//! ENOENT -> `IO_NOT_FOUND`, EACCES/EPERM -> `IO_PERMISSION_DENIED`, EISDIR (or a path
//! a core refuses with [`not_a_file`]) -> `IO_NOT_A_FILE`, ENOSPC/EDQUOT -> `IO_DISK_FULL`,
//! EROFS -> `IO_READ_ONLY`, anything else -> `IO_ERROR`.

use std::fmt;
use std::io;

use crate::{code, AiosError};

/// The payload of an `io::Error` that says a path is not a regular file (a directory, a
/// socket...), so that [`io_code`] reports `IO_NOT_A_FILE` for it and only for it.
#[derive(Debug)]
pub struct NotAFile(pub String);

impl fmt::Display for NotAFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotAFile {}

/// An `io::Error` (kind `InvalidInput`) for a path that is not a regular file; its message
/// is `message` as given.
pub fn not_a_file(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, NotAFile(message.into()))
}

/// The `IO_*` code of an I/O error.
pub fn io_code(err: &io::Error) -> &'static str {
    match err.kind() {
        io::ErrorKind::NotFound => code::IO_NOT_FOUND,
        // std reads both EACCES and EPERM as PermissionDenied.
        io::ErrorKind::PermissionDenied => code::IO_PERMISSION_DENIED,
        io::ErrorKind::IsADirectory => code::IO_NOT_A_FILE,
        // A full disk and a read-only filesystem ask the user for something else (free
        // space, remount) than any other failure does.
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => code::IO_DISK_FULL,
        io::ErrorKind::ReadOnlyFilesystem => code::IO_READ_ONLY,
        _ if err.get_ref().is_some_and(|inner| inner.is::<NotAFile>()) => code::IO_NOT_A_FILE,
        _ => code::IO_ERROR,
    }
}

impl From<io::Error> for AiosError {
    fn from(err: io::Error) -> Self {
        AiosError::new(io_code(&err), err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(errno: i32) -> io::Error {
        io::Error::from_raw_os_error(errno)
    }

    #[cfg(unix)]
    #[test]
    fn errno_codes_match_from_node_io_error() {
        // ENOENT 2, EPERM 1, EACCES 13, EISDIR 21, ENOTDIR 20, ENOSPC 28, EROFS 30 on Linux
        // and macOS.
        assert_eq!(io_code(&os(2)), "IO_NOT_FOUND");
        assert_eq!(io_code(&os(1)), "IO_PERMISSION_DENIED");
        assert_eq!(io_code(&os(13)), "IO_PERMISSION_DENIED");
        assert_eq!(io_code(&os(21)), "IO_NOT_A_FILE");
        assert_eq!(io_code(&os(20)), "IO_ERROR");
        assert_eq!(io_code(&os(28)), "IO_DISK_FULL");
        assert_eq!(io_code(&os(30)), "IO_READ_ONLY");
    }

    #[test]
    fn reading_a_directory_is_not_a_file() {
        let dir = std::env::temp_dir();
        let err = std::fs::read(&dir).unwrap_err();
        if cfg!(unix) {
            assert_eq!(io_code(&err), "IO_NOT_A_FILE");
        }
    }

    #[test]
    fn only_the_not_a_file_payload_makes_invalid_input_not_a_file() {
        let refused = not_a_file("/tmp/x is a directory");
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(refused.to_string(), "/tmp/x is a directory");
        assert_eq!(io_code(&refused), "IO_NOT_A_FILE");
        // A path with a NUL byte is InvalidInput too, but nothing about the file.
        let nul = std::fs::metadata("a\0b").unwrap_err();
        assert_eq!(nul.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(io_code(&nul), "IO_ERROR");
    }

    #[test]
    fn io_errors_name_their_subject() {
        let err = AiosError::io(&not_a_file("it is a directory"), "/data");
        assert_eq!(
            err.js_message(),
            "[AIOS:IO_NOT_A_FILE] /data: it is a directory"
        );
        let plain: AiosError = io::Error::new(io::ErrorKind::NotFound, "gone").into();
        assert_eq!(plain.js_message(), "[AIOS:IO_NOT_FOUND] gone");
    }
}
