//! Opening a database: refuse what is not ours, apply the pragmas, migrate forward.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags};

use aios_error::{AiosError, Result};

/// `PRAGMA application_id` of an AIOS database: "AIOS" in ASCII.
pub const APPLICATION_ID: i32 = 0x4149_4F53;

/// The first 16 bytes of every SQLite 3 database file.
pub const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Forward-only migrations; `version` is `PRAGMA user_version` after the step.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "access",
        sql: include_str!("../migrations/0002_access.sql"),
    },
    Migration {
        version: 3,
        name: "history",
        sql: include_str!("../migrations/0003_history.sql"),
    },
    Migration {
        version: 4,
        name: "exchanges",
        sql: include_str!("../migrations/0004_exchanges.sql"),
    },
    Migration {
        version: 5,
        name: "enterprise",
        sql: include_str!("../migrations/0005_enterprise.sql"),
    },
    Migration {
        version: 6,
        name: "sources",
        sql: include_str!("../migrations/0006_sources.sql"),
    },
    Migration {
        version: 7,
        name: "links",
        sql: include_str!("../migrations/0007_links.sql"),
    },
];

pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// `synchronous=FULL` (survives power loss) instead of `NORMAL` (survives crashes).
    pub synchronous_full: bool,
    pub busy_timeout_ms: u32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            synchronous_full: false,
            busy_timeout_ms: 5_000,
        }
    }
}

/// Per-connection settings both implementations apply: foreign keys on, a page cache of up
/// to 64 MiB (allocated as used; it also bounds the memory of a sort before it spills, so
/// a GROUP BY over a million rows stays in memory). A sort that does spill goes to a
/// temporary file, which measured 10-15% faster than SQLite's in-memory temp store.
pub const SESSION_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;";

/// The page size of a new database (see the file).
pub const NEW_DATABASE_PRAGMAS: &str = include_str!("../sql/new_database.sql");

/// Native-only: see `configure`.
pub const WAL_PRAGMAS: &str = "PRAGMA wal_autocheckpoint = 4096;";

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn is_memory(path: &str) -> bool {
    path == ":memory:"
}

/// Fails unless `path` is absent, empty, or starts with the SQLite header. Reads only.
pub fn check_file(path: &str) -> Result<()> {
    let p = Path::new(path);
    let meta = match std::fs::metadata(p) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(AiosError::new("IO_ERROR", format!("{path}: {e}"))),
    };
    if meta.is_dir() {
        return Err(AiosError::new(
            "IO_NOT_A_FILE",
            format!("{path} is a directory, not a database file"),
        ));
    }
    if meta.len() == 0 {
        return Ok(());
    }
    let mut header = [0u8; 16];
    let mut file = File::open(p).map_err(|e| AiosError::new("IO_ERROR", format!("{path}: {e}")))?;
    let n = read_up_to(&mut file, &mut header)
        .map_err(|e| AiosError::new("IO_ERROR", format!("{path}: {e}")))?;
    if n < 16 || &header != SQLITE_HEADER {
        return Err(AiosError::new(
            "DATA_NOT_A_DATABASE",
            format!("{path} is not an SQLite database (the file was left untouched)"),
        ));
    }
    Ok(())
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Turns off SQLite's memory statistics (a global mutex around every allocation), as
/// better-sqlite3 does at compile time. Only possible before SQLite initialises; if
/// something else in the process initialised it first, the call is refused harmlessly.
fn configure_library() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int; sqlite3_config is only called
        // here, once, before this process opens any connection through this crate.
        unsafe {
            rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0);
        }
    });
}

/// Opens (creating if needed) and migrates the database at `path` (or `:memory:`).
pub fn open(path: &str, options: &OpenOptions) -> Result<Connection> {
    configure_library();
    if !is_memory(path) {
        check_file(path)?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_millis(
        options.busy_timeout_ms.into(),
    ))?;
    // Read the schema before anything writes: a damaged file fails here, unmodified.
    let (objects, user_version, application_id) = inspect(&conn).map_err(|e| {
        if e.code == "DATA_NOT_A_DATABASE" || e.code == "DATA_CORRUPT" {
            AiosError::new(
                e.code,
                format!(
                    "{path} is not a readable SQLite database (left untouched): {}",
                    e.message
                ),
            )
        } else {
            e
        }
    })?;
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(AiosError::new(
            "DATA_FOREIGN_DATABASE",
            format!("{path} belongs to another application (application_id {application_id:#x})"),
        ));
    }
    if application_id == 0 && user_version == 0 && objects > 0 {
        return Err(AiosError::new(
            "DATA_FOREIGN_DATABASE",
            format!("{path} is an SQLite database of another application ({objects} objects, no AIOS schema)"),
        ));
    }
    let latest = latest_version();
    if user_version > latest {
        return Err(AiosError::new(
            "DATA_SCHEMA_TOO_NEW",
            format!(
                "{path} has schema version {user_version}, newer than this @aios/data supports ({latest}); upgrade @aios/data"
            ),
        ));
    }
    configure(&conn, options)?;
    migrate(&conn)?;
    Ok(conn)
}

fn inspect(conn: &Connection) -> Result<(i64, u32, i32)> {
    let objects: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
        [],
        |r| r.get(0),
    )?;
    let user_version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let application_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    Ok((objects, user_version, application_id))
}

fn configure(conn: &Connection, options: &OpenOptions) -> Result<()> {
    // Before the journal mode, which writes a new database's first page.
    conn.execute_batch(NEW_DATABASE_PRAGMAS)?;
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch(if options.synchronous_full {
        "PRAGMA synchronous = FULL;"
    } else {
        "PRAGMA synchronous = NORMAL;"
    })?;
    conn.execute_batch(SESSION_PRAGMAS)?;
    // Fold the WAL into the database every 16 MiB instead of every 4 MiB: a checkpoint
    // syncs both files, and bulk inserts rewrite the same index pages, so fewer, larger
    // checkpoints write less. Durability is unchanged (commits still go to the WAL).
    conn.execute_batch(WAL_PRAGMAS)?;
    Ok(())
}

/// Applies every migration newer than `PRAGMA user_version`, each in its own transaction.
/// Returns the version reached.
pub fn migrate(conn: &Connection) -> Result<u32> {
    let start: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut current = start;
    for m in MIGRATIONS.iter().filter(|m| m.version > start) {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let step = (|| -> Result<()> {
            // Another process may have migrated while we waited for the write lock.
            let now: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if now >= m.version {
                return Ok(());
            }
            conn.execute_batch(m.sql)?;
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![m.version, m.name, now_ms()],
            )?;
            conn.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {};",
                m.version
            ))?;
            Ok(())
        })();
        match step {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(AiosError::new(
                    e.code,
                    format!("migration {} ({}) failed: {}", m.version, m.name, e.message),
                ));
            }
        }
        current = m.version;
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_and_migrates_to_latest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let p = path.to_str().unwrap();
        let conn = open(p, &OpenOptions::default()).unwrap();
        let v: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, latest_version());
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, MIGRATIONS.len() as i64);
        drop(conn);
        // Reopening applies nothing new.
        let conn = open(p, &OpenOptions::default()).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, MIGRATIONS.len() as i64);
    }

    #[test]
    fn refuses_newer_schema_and_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let p = path.to_str().unwrap();
        open(p, &OpenOptions::default())
            .unwrap()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        let err = open(p, &OpenOptions::default()).unwrap_err();
        assert_eq!(err.code, "DATA_SCHEMA_TOO_NEW");

        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"hello, this is not a database at all").unwrap();
        let err = open(junk.to_str().unwrap(), &OpenOptions::default()).unwrap_err();
        assert_eq!(err.code, "DATA_NOT_A_DATABASE");
        assert_eq!(
            std::fs::read(&junk).unwrap(),
            b"hello, this is not a database at all"
        );

        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = open(other.to_str().unwrap(), &OpenOptions::default()).unwrap_err();
        assert_eq!(err.code, "DATA_FOREIGN_DATABASE");
    }

    #[test]
    fn version_3_keeps_existing_fragments_in_the_default_namespace() {
        let conn = Connection::open_in_memory().unwrap();
        for m in &MIGRATIONS[..2] {
            conn.execute_batch(m.sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO fragments (id, text, created_at, updated_at) VALUES ('old', 'kept', 1, 1);",
        )
        .unwrap();
        assert_eq!(migrate(&conn).unwrap(), latest_version());
        let row: (String, String, String) = conn
            .query_row(
                "SELECT text, namespace, attributes FROM fragments WHERE id = 'old'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(row, ("kept".into(), "default".into(), "{}".into()));
        let changes: i64 = conn
            .query_row("SELECT count(*) FROM fragment_changes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(changes, 0);
    }

    #[test]
    fn migration_failure_rolls_back() {
        let conn = Connection::open_in_memory().unwrap();
        // A table that collides with migration 1 makes it fail half-way.
        conn.execute_batch("CREATE TABLE messages (x)").unwrap();
        let err = migrate(&conn).unwrap_err();
        assert!(err.message.contains("migration 1"));
        let v: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 0);
        let meta: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'meta'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(meta, 0);
    }
}
