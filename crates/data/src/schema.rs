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
    /// Open an existing database to read only, writing nothing at all: see [`open_read_only`].
    pub read_only: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            synchronous_full: false,
            busy_timeout_ms: 5_000,
            read_only: false,
        }
    }
}

/// The size of a WAL file's header: a WAL no longer than this holds no frame.
const WAL_HEADER_BYTES: u64 = 32;

/// How a database is opened to read only, by what lies beside it (see [`read_only_access`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOnlyAccess {
    /// No WAL with frames beside it: the database file holds every commit. Opened
    /// `immutable=1`: SQLite takes no lock and looks for no `-wal` or `-shm` (which it could
    /// not create in a folder it cannot write: a plain read-only open of a WAL database
    /// fails there with "unable to open database file").
    Immutable,
    /// A WAL with its shared-memory index (`-shm`) beside it, as a native process that has
    /// the database open (or was killed) leaves them: SQLite's own reader of a read-only WAL
    /// database (3.22+), with shared locks on the `-shm` opened read-only (`readonly_shm=1`,
    /// even where this user could write it) and an index read from the WAL into its own
    /// memory when no writer keeps the `-shm` up to date. It keeps up with a writer working
    /// beside it (a home another user writes), whose commits go to the WAL.
    SharedIndex,
    /// A WAL with frames and no `-shm` (left by the js implementation, which keeps its WAL
    /// index in memory): exclusive locking mode builds the index in this connection's
    /// memory, on the `unix-none` VFS (no locks: a read-only descriptor cannot take the
    /// write lock exclusive mode asks for). No writer may work beside it: the caller makes
    /// sure none holds the database (the js writer holds its exclusive lease).
    PrivateIndex,
}

fn size_of(path: &str) -> Result<Option<u64>> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some(meta.len())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AiosError::new("IO_ERROR", format!("{path}: {e}"))),
    }
}

/// How the database at `path` can be read without writing anything, by SQLite's rules for
/// read-only WAL databases (<https://www.sqlite.org/wal.html#readonly>: the `-wal` and
/// `-shm` must exist already, or the folder be writable, or the database be opened
/// `immutable`): a WAL with its `-shm` is read through them, a WAL holding frames without
/// one through an index of this connection's own, and a database with no frame in a WAL
/// beside it is opened immutable (every commit is in its file). A rollback journal beside
/// it (a transaction cut short in rollback mode, which AIOS never uses) must be rolled back
/// before the database can be read, which writes it: `IO_READ_ONLY`.
pub fn read_only_access(path: &str) -> Result<ReadOnlyAccess> {
    if size_of(&format!("{path}-journal"))?.unwrap_or(0) > 0 {
        return Err(AiosError::new(
            "IO_READ_ONLY",
            format!("{path} has a rollback journal ({path}-journal) of a transaction cut short: rolling it back writes the database, so it cannot be read without writing"),
        ));
    }
    let wal = size_of(&format!("{path}-wal"))?;
    let shm = size_of(&format!("{path}-shm"))?.is_some();
    Ok(match wal {
        Some(_) if shm => ReadOnlyAccess::SharedIndex,
        Some(bytes) if bytes > WAL_HEADER_BYTES => ReadOnlyAccess::PrivateIndex,
        _ => ReadOnlyAccess::Immutable,
    })
}

/// `path` as an SQLite URI (`file:` and the path, with `%`, `?` and `#` escaped) with `query`.
fn file_uri(path: &str, query: &str) -> String {
    let mut uri = String::from("file:");
    for c in path.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push('?');
    uri.push_str(query);
    uri
}

/// Opens the existing database at `path` to read only, writing nothing to it or beside it
/// (no `-wal`, `-shm` or journal is created, no checkpoint runs at close): for a database
/// in a folder this process cannot write (a read-only filesystem, another user's home).
/// Its schema must be the latest: one that needs a migration is refused with
/// `IO_READ_ONLY` (migrating writes it). Writes on the connection fail with
/// `DATA_READ_ONLY`. The access chosen is returned with it ([`read_only_access`]).
pub fn open_read_only(path: &str, options: &OpenOptions) -> Result<(Connection, ReadOnlyAccess)> {
    configure_library();
    if is_memory(path) {
        return Err(AiosError::invalid(
            "a database in memory cannot be opened to read only",
        ));
    }
    check_file(path)?;
    if size_of(path)?.unwrap_or(0) == 0 {
        return Err(AiosError::new(
            "IO_NOT_FOUND",
            format!("{path}: no database to read (there is no file, or it is empty)"),
        ));
    }
    let access = read_only_access(path)?;
    let uri = match access {
        ReadOnlyAccess::Immutable => file_uri(path, "mode=ro&immutable=1"),
        ReadOnlyAccess::SharedIndex => file_uri(path, "mode=ro&readonly_shm=1"),
        ReadOnlyAccess::PrivateIndex => file_uri(path, "mode=ro&vfs=unix-none"),
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri, flags)?;
    // A connection that could write its WAL would fold it into the database when it closes.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    conn.busy_timeout(std::time::Duration::from_millis(
        options.busy_timeout_ms.into(),
    ))?;
    if access == ReadOnlyAccess::PrivateIndex {
        // Before the first read, which opens the WAL: its index then lives in this connection.
        conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE;")?;
    }
    let (objects, user_version, application_id) =
        inspect(&conn).map_err(|e| unreadable(path, e))?;
    check_owner(path, objects, user_version, application_id)?;
    let latest = latest_version();
    if user_version < latest {
        return Err(AiosError::new(
            "IO_READ_ONLY",
            format!(
                "{path} has schema version {user_version}; this version of @aios/data reads version {latest}, and migrating the database writes it: open it once where it can be written"
            ),
        ));
    }
    conn.execute_batch(SESSION_PRAGMAS)?;
    Ok((conn, access))
}

/// A failure to read the schema of `path`, said to have left the file untouched.
fn unreadable(path: &str, e: AiosError) -> AiosError {
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
}

/// Fails unless the database (as [`inspect`] found it) is empty or an AIOS database this
/// version can read.
fn check_owner(path: &str, objects: i64, user_version: u32, application_id: i32) -> Result<()> {
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
    Ok(())
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

/// Opens (creating if needed) and migrates the database at `path` (or `:memory:`); with
/// `options.read_only`, opens an existing one to read only ([`open_read_only`]).
pub fn open(path: &str, options: &OpenOptions) -> Result<Connection> {
    if options.read_only {
        return open_read_only(path, options).map(|(conn, _)| conn);
    }
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
    let (objects, user_version, application_id) =
        inspect(&conn).map_err(|e| unreadable(path, e))?;
    check_owner(path, objects, user_version, application_id)?;
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

    /// The files of a folder: name, bytes and modification time.
    fn files_of(dir: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let meta = e.metadata().unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                    meta.modified().unwrap(),
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// A database of three rows in `dir`, the last one still in its WAL as a process that
    /// was killed leaves it (with or without the `-shm` beside it), or closed cleanly.
    fn database_in(dir: &Path, state: &str) -> String {
        let path = dir.join("a.db");
        let p = path.to_str().unwrap().to_string();
        let conn = open(&p, &OpenOptions::default()).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2); PRAGMA wal_checkpoint(TRUNCATE); INSERT INTO t VALUES (3);",
        )
        .unwrap();
        if state == "closed" {
            drop(conn);
            return p;
        }
        if state == "open, its WAL folded in" {
            // A writer still at work whose WAL was just checkpointed and truncated: its
            // `-wal` and `-shm` stay while it has the database open.
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
            std::mem::forget(conn);
            return p;
        }
        // Copied while the connection is open and idle: what a killed process leaves.
        let saved = tempfile::tempdir().unwrap();
        for name in ["a.db", "a.db-wal", "a.db-shm"] {
            std::fs::copy(dir.join(name), saved.path().join(name)).unwrap();
        }
        drop(conn);
        for name in ["a.db", "a.db-wal", "a.db-shm"] {
            let _ = std::fs::remove_file(dir.join(name));
            if !(state == "killed without shm" && name == "a.db-shm") {
                std::fs::copy(saved.path().join(name), dir.join(name)).unwrap();
            }
        }
        p
    }

    #[test]
    fn reads_every_commit_without_writing_anything() {
        for (state, access) in [
            ("closed", ReadOnlyAccess::Immutable),
            ("killed", ReadOnlyAccess::SharedIndex),
            ("killed without shm", ReadOnlyAccess::PrivateIndex),
            ("open, its WAL folded in", ReadOnlyAccess::SharedIndex),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let p = database_in(dir.path(), state);
            let before = files_of(dir.path());
            let options = OpenOptions {
                read_only: true,
                ..OpenOptions::default()
            };
            let (conn, found) = open_read_only(&p, &options).unwrap();
            assert_eq!(found, access, "{state}");
            let (n, max): (i64, i64) = conn
                .query_row("SELECT count(*), max(x) FROM t", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap();
            assert_eq!((n, max), (3, 3), "{state}");
            let refused =
                AiosError::from(conn.execute("INSERT INTO t VALUES (4)", []).unwrap_err());
            assert_eq!(refused.code, "DATA_READ_ONLY", "{state}");
            drop(conn);
            assert!(
                files_of(dir.path()) == before,
                "{state}: the folder changed"
            );
        }
    }

    #[test]
    fn read_only_refuses_what_would_need_a_write() {
        let dir = tempfile::tempdir().unwrap();
        let options = OpenOptions {
            read_only: true,
            ..OpenOptions::default()
        };
        let missing = dir.path().join("missing.db");
        let err = open_read_only(missing.to_str().unwrap(), &options).unwrap_err();
        assert_eq!(err.code, "IO_NOT_FOUND");
        assert!(!missing.exists());

        // A database of an earlier schema needs a migration, which writes it.
        let old = dir.path().join("old.db");
        let conn = Connection::open(&old).unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"
        ))
        .unwrap();
        drop(conn);
        let err = open_read_only(old.to_str().unwrap(), &options).unwrap_err();
        assert_eq!(err.code, "IO_READ_ONLY");
        assert!(err.message.contains("schema version 1"), "{}", err.message);

        // A rollback journal beside it must be rolled back first.
        let p = database_in(dir.path(), "closed");
        std::fs::write(format!("{p}-journal"), b"a journal").unwrap();
        let err = open_read_only(&p, &options).unwrap_err();
        assert_eq!(err.code, "IO_READ_ONLY");
        assert!(err.message.contains("rollback journal"), "{}", err.message);
    }

    #[test]
    fn file_uris_escape_what_sqlite_would_read_as_query() {
        assert_eq!(
            file_uri("/a b/c%?#.db", "mode=ro"),
            "file:/a b/c%25%3f%23.db?mode=ro"
        );
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
