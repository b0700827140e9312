//! SQLite failures as the data core reports them: a code a caller can act on, not
//! SQLite's own numbering, and SQLite's message with its error name.

use crate::AiosError;

/// The code for an SQLite failure.
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

impl From<rusqlite::Error> for AiosError {
    fn from(err: rusqlite::Error) -> Self {
        let message = match &err {
            rusqlite::Error::SqliteFailure(e, Some(msg)) => format!("{msg} ({:?})", e.code),
            other => other.to_string(),
        };
        AiosError::new(sqlite_code(&err), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_failures_keep_sqlites_message() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);")
            .unwrap();
        let err: AiosError = conn
            .execute("INSERT INTO t VALUES (1)", [])
            .unwrap_err()
            .into();
        assert_eq!(err.code, "DATA_CONSTRAINT");
        assert_eq!(
            err.message,
            "UNIQUE constraint failed: t.id (ConstraintViolation)"
        );
    }

    #[test]
    fn other_failures_are_data_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let err: AiosError = conn
            .execute("SELECT nope FROM nowhere", [])
            .unwrap_err()
            .into();
        assert_eq!(err.code, "DATA_SQLITE");
    }
}
