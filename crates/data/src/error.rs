//! Errors with the stable codes that the TypeScript side exposes as `AiosError.code`.

use std::fmt;

/// An error from the store: a stable upper-snake-case `code` and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    pub code: &'static str,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, DataError>;

impl DataError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("INVALID_INPUT", message)
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

impl std::error::Error for DataError {}

/// The code for an SQLite failure: what a caller can act on, not SQLite's own numbering.
pub fn sqlite_code(err: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode as C;
    match err.sqlite_error_code() {
        Some(C::NotADatabase) => "DATA_NOT_A_DATABASE",
        Some(C::DatabaseCorrupt) => "DATA_CORRUPT",
        Some(C::DatabaseBusy) | Some(C::DatabaseLocked) => "DATA_BUSY",
        Some(C::ConstraintViolation) => "DATA_CONSTRAINT",
        Some(C::TooBig) => "DATA_ROW_TOO_LARGE",
        Some(C::ReadOnly) => "DATA_READ_ONLY",
        Some(C::CannotOpen) => "DATA_CANNOT_OPEN",
        Some(C::DiskFull) => "IO_DISK_FULL",
        Some(C::PermissionDenied) => "IO_PERMISSION_DENIED",
        Some(C::SystemIoFailure) => "IO_ERROR",
        _ => "DATA_SQLITE",
    }
}

impl From<rusqlite::Error> for DataError {
    fn from(err: rusqlite::Error) -> Self {
        let message = match &err {
            rusqlite::Error::SqliteFailure(e, Some(msg)) => format!("{msg} ({:?})", e.code),
            other => other.to_string(),
        };
        Self::new(sqlite_code(&err), message)
    }
}
