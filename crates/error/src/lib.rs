//! The one error type of the AIOS Rust cores.
//!
//! Every failure a core reports is an [`AiosError`]: a stable upper-snake-case `code`,
//! which programs switch on, and a `message` for people. It crosses into JavaScript as the
//! single string `[AIOS:<CODE>] message` ([`format_message`]), which `fromNativeError()` in
//! `@aios/utils` turns back into an `AiosError` with the same code. The logic modules of a
//! core return this type and know nothing of Node; the binding converts it into a
//! `napi::Error` (feature `napi`), so the string is built in one place only.
//!
//! - [`code`]: the codes shared by several cores;
//! - `From<std::io::Error>` and [`AiosError::io`]: the `IO_*` codes of `fromNodeIoError`;
//! - feature `rusqlite`: `From<rusqlite::Error>` with the data core's `DATA_*` codes.

use std::fmt;

mod io;
#[cfg(feature = "napi")]
mod napi_error;
#[cfg(feature = "rusqlite")]
mod sqlite;

pub use io::{io_code, not_a_file, NotAFile};
#[cfg(feature = "rusqlite")]
pub use sqlite::sqlite_code;

/// Codes used by more than one core. A core may use codes of its own (`INDEX_CORRUPT`,
/// `DATA_BUSY`...): any upper-snake-case string the TypeScript side also knows.
pub mod code {
    /// An argument of the wrong type, shape or range.
    pub const INVALID_INPUT: &str = "INVALID_INPUT";
    pub const IO_NOT_FOUND: &str = "IO_NOT_FOUND";
    pub const IO_PERMISSION_DENIED: &str = "IO_PERMISSION_DENIED";
    pub const IO_NOT_A_FILE: &str = "IO_NOT_A_FILE";
    /// The device is full (ENOSPC) or a disk quota is used up (EDQUOT).
    pub const IO_DISK_FULL: &str = "IO_DISK_FULL";
    /// The filesystem is mounted read-only (EROFS).
    pub const IO_READ_ONLY: &str = "IO_READ_ONLY";
    pub const IO_ERROR: &str = "IO_ERROR";
}

/// An error with a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiosError {
    pub code: &'static str,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, AiosError>;

impl AiosError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        debug_assert!(is_code(code), "not an upper-snake-case code: {code:?}");
        Self {
            code,
            message: message.into(),
        }
    }

    /// `INVALID_INPUT` with a message of its own.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_INPUT, message)
    }

    /// `INVALID_INPUT` in the uniform form of the TypeScript `invalidInput()`:
    /// `<field>: expected <expected>, got <got>`.
    pub fn invalid_input(field: &str, expected: &str, got: impl fmt::Display) -> Self {
        Self::invalid(format!("{field}: expected {expected}, got {got}"))
    }

    /// An I/O failure on `subject` (usually a path): `<subject>: <error>`, with the
    /// `IO_*` code of [`io_code`].
    pub fn io(err: &std::io::Error, subject: impl fmt::Display) -> Self {
        Self::new(io_code(err), format!("{subject}: {err}"))
    }

    /// The same error with `<prefix>: ` before its message (which item of a batch failed).
    pub fn context(self, prefix: impl fmt::Display) -> Self {
        Self::new(self.code, format!("{prefix}: {}", self.message))
    }

    /// The string JavaScript receives: `[AIOS:<CODE>] message`.
    pub fn js_message(&self) -> String {
        format_message(self.code, &self.message)
    }
}

/// `[AIOS:<CODE>] message`, the one form in which an error crosses into JavaScript.
pub fn format_message(code: &str, message: impl fmt::Display) -> String {
    format!("[AIOS:{code}] {message}")
}

/// Whether `code` is what `fromNativeError()` reads as a code: `[A-Z][A-Z0-9_]*`.
pub fn is_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

impl fmt::Display for AiosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_message(self.code, &self.message))
    }
}

impl std::error::Error for AiosError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_string_from_native_error_parses() {
        let err = AiosError::new("INDEX_CORRUPT", "index file: bad magic");
        assert_eq!(
            err.js_message(),
            "[AIOS:INDEX_CORRUPT] index file: bad magic"
        );
        assert_eq!(err.to_string(), err.js_message());
        assert_eq!(format_message("DATA_BUSY", 42), "[AIOS:DATA_BUSY] 42");
    }

    #[test]
    fn invalid_input_reads_like_the_typescript_one() {
        let err = AiosError::invalid_input("k", "an integer from 1 to 10", "0 (number)");
        assert_eq!(err.code, "INVALID_INPUT");
        assert_eq!(
            err.message,
            "k: expected an integer from 1 to 10, got 0 (number)"
        );
        assert_eq!(AiosError::invalid("bad").code, code::INVALID_INPUT);
    }

    #[test]
    fn context_keeps_the_code() {
        let err = AiosError::new("DATA_CONSTRAINT", "UNIQUE failed").context("row 3");
        assert_eq!(
            err,
            AiosError::new("DATA_CONSTRAINT", "row 3: UNIQUE failed")
        );
    }

    #[test]
    fn codes_are_upper_snake_case() {
        for c in [
            code::INVALID_INPUT,
            code::IO_NOT_FOUND,
            code::IO_PERMISSION_DENIED,
            code::IO_NOT_A_FILE,
            code::IO_DISK_FULL,
            code::IO_READ_ONLY,
            code::IO_ERROR,
        ] {
            assert!(is_code(c), "{c}");
        }
        for bad in ["", "io_error", "1ABC", "A-B", "A B"] {
            assert!(!is_code(bad), "{bad}");
        }
    }
}
