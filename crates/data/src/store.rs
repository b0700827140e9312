//! The store: one SQLite connection, generic statements for the repositories, and the
//! bulk paths (fragments, messages, events) that run whole batches in one transaction.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use crate::schema::{self, OpenOptions};
use crate::vector;
use aios_error::{AiosError, Result};

/// Rows of a query, column-oriented names plus row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A batch of fragments, column by column. Row `i` has a vector when its flags have
/// [`FRAGMENT_HAS_VECTOR`]; the vectors of those rows are packed, in order, in `vectors`.
pub struct FragmentBatch<'a> {
    pub ids: &'a [String],
    /// The distinct namespaces of the batch: row `i` is in `namespaces[namespace_index[i]]`
    /// (a batch repeats a few namespaces; each crosses from JS once).
    pub namespaces: &'a [String],
    pub namespace_index: &'a [u32],
    pub texts: &'a [String],
    pub metadata: &'a [String],
    pub attributes: &'a [String],
    /// Four per row: created at, updated at, use count, last used at (NaN: never).
    pub numbers: &'a [f64],
    /// One per row: `FRAGMENT_*` bits.
    pub flags: &'a [u8],
    pub dimension: usize,
    pub vectors: &'a [f32],
    /// History rows written in the same transaction as the fragments.
    pub changes: ChangeBatch<'a>,
}

/// The row has a vector in `vectors`.
pub const FRAGMENT_HAS_VECTOR: u8 = 1;
/// A row without a vector keeps the one stored for its id instead of clearing it.
pub const FRAGMENT_KEEP_VECTOR: u8 = 2;
/// Sets `use_count` from the numbers (else kept, or 0 for a new row).
pub const FRAGMENT_SET_USE_COUNT: u8 = 4;
/// Sets `last_used_at` from the numbers (else kept, or NULL for a new row).
pub const FRAGMENT_SET_LAST_USED: u8 = 8;

/// History rows, column by column.
#[derive(Default)]
pub struct ChangeBatch<'a> {
    pub fragment_ids: &'a [String],
    pub kinds: &'a [String],
    /// JSON, or the empty string for none.
    pub data: &'a [String],
    pub at: &'a [f64],
}

/// The upsert of a fragment: a new id is inserted; an existing one keeps its `created_at`,
/// and its vector and use statistics unless the flags (`?11`) say to set them. The
/// TypeScript implementation imports the same file.
pub const FRAGMENT_UPSERT: &str = include_str!("../sql/fragments/upsert.sql");

/// One history row.
pub const CHANGE_INSERT: &str = include_str!("../sql/fragments/change_insert.sql");

/// Fragments read back; vectors packed like in [`FragmentBatch`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FragmentRows {
    pub ids: Vec<String>,
    pub namespaces: Vec<String>,
    pub texts: Vec<String>,
    pub metadata: Vec<String>,
    pub attributes: Vec<String>,
    pub created_at: Vec<f64>,
    pub updated_at: Vec<f64>,
    pub use_count: Vec<f64>,
    pub last_used_at: Vec<f64>,
    pub has_vector: Vec<u8>,
    pub vectors: Vec<f32>,
}

pub struct MessageBatch<'a> {
    pub conversation_ids: &'a [String],
    pub roles: &'a [String],
    pub contents: &'a [String],
    /// Empty string means no model.
    pub models: &'a [String],
    pub prompt_tokens: &'a [f64],
    pub completion_tokens: &'a [f64],
    pub metadata: &'a [String],
    pub timestamps: &'a [f64],
}

pub struct EventBatch<'a> {
    /// The distinct types of the batch: row `i` has type `types[type_index[i]]` (a batch
    /// of events repeats a few types; each crosses from JS once).
    pub types: &'a [String],
    pub type_index: &'a [u32],
    /// NaN means no value.
    pub values: &'a [f64],
    /// Row `i` has data when `has_data[i]` is non-zero; the data JSON of those rows is
    /// packed, in order, in `data`.
    pub has_data: &'a [u8],
    pub data: &'a [String],
    pub timestamps: &'a [f64],
}

pub struct Store {
    conn: Connection,
}

/// Size of the fixed part of an encoded fragment record, all little-endian: createdAt,
/// updatedAt, useCount, lastUsedAt (NaN: never) as f64 at 0..32; then u32s at 32..64:
/// the index of the id asked for (range reads: of the record), the text and metadata byte
/// lengths, the vector byte length (`u32::MAX`: no vector, or vectors not asked for),
/// flags (bits 1, 2, 4, 8, 16: text, metadata, namespace, attributes, id are ASCII), the
/// namespace, attributes and id byte lengths (the id only in range reads; 0 otherwise).
/// The text, metadata, namespace, attributes and id UTF-8 follow, then the vector at the
/// next multiple of 8; the record is padded to a multiple of 8.
pub const FRAGMENT_RECORD_HEADER: usize = 64;

/// The columns of a fragment record, in the order [`Record::read`] takes them.
fn fragment_columns(with_vector: bool) -> &'static str {
    if with_vector {
        "text, metadata, namespace, attributes, created_at, updated_at, use_count, last_used_at, vector"
    } else {
        "text, metadata, namespace, attributes, created_at, updated_at, use_count, last_used_at, NULL"
    }
}

/// One fragment row on its way into a record: borrowed from the statement's row.
struct Record<'r> {
    /// Text, metadata, namespace, attributes and (range reads) the id.
    strings: [&'r str; 5],
    numbers: [f64; 4],
    vector: Option<&'r [u8]>,
}

impl<'r> Record<'r> {
    /// From the columns of [`fragment_columns`], plus the id after them when `with_id`.
    fn read(row: &'r rusqlite::Row<'_>, with_id: bool) -> Result<Self> {
        let mut strings = [""; 5];
        let names = ["text", "metadata", "namespace", "attributes"];
        for (k, name) in names.into_iter().enumerate() {
            strings[k] = row
                .get_ref(k)?
                .as_str()
                .map_err(|e| AiosError::new("DATA_CORRUPT", format!("fragment {name}: {e}")))?;
        }
        if with_id {
            strings[4] = row
                .get_ref(9)?
                .as_str()
                .map_err(|e| AiosError::new("DATA_CORRUPT", format!("fragment id: {e}")))?;
        }
        let vector = row
            .get_ref(8)?
            .as_blob_or_null()
            .map_err(|e| AiosError::new("DATA_CORRUPT", format!("fragment vector: {e}")))?;
        if let Some(b) = vector {
            if !b.len().is_multiple_of(4) {
                return Err(AiosError::new(
                    "DATA_CORRUPT",
                    format!("vector blob of {} bytes is not a float32 array", b.len()),
                ));
            }
        }
        let numbers = [
            row.get::<_, i64>(4)? as f64,
            row.get::<_, i64>(5)? as f64,
            row.get::<_, i64>(6)? as f64,
            row.get::<_, Option<i64>>(7)?.map_or(f64::NAN, |v| v as f64),
        ];
        Ok(Self {
            strings,
            numbers,
            vector,
        })
    }

    fn vector_at(&self) -> usize {
        align8(FRAGMENT_RECORD_HEADER + self.strings.iter().map(|t| t.len()).sum::<usize>())
    }

    fn size(&self) -> usize {
        align8(self.vector_at() + self.vector.map_or(0, <[u8]>::len))
    }

    /// Writes the record into `rec` (exactly `size()` bytes).
    fn write(&self, rec: &mut [u8], index: u32) {
        for (k, v) in self.numbers.into_iter().enumerate() {
            rec[k * 8..k * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        let s = &self.strings;
        let flags = s
            .iter()
            .enumerate()
            .fold(0u32, |f, (k, t)| f | (u32::from(t.is_ascii()) << k));
        for (k, v) in [
            index,
            s[0].len() as u32,
            s[1].len() as u32,
            self.vector.map_or(u32::MAX, |b| b.len() as u32),
            flags,
            s[2].len() as u32,
            s[3].len() as u32,
            s[4].len() as u32,
        ]
        .into_iter()
        .enumerate()
        {
            rec[32 + k * 4..36 + k * 4].copy_from_slice(&v.to_le_bytes());
        }
        let mut t = FRAGMENT_RECORD_HEADER;
        for text in s {
            rec[t..t + text.len()].copy_from_slice(text.as_bytes());
            t += text.len();
        }
        if let Some(b) = self.vector {
            let at = self.vector_at();
            rec[at..at + b.len()].copy_from_slice(b);
        }
    }
}

fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// Batches send repeated strings (namespaces, event types) once; each row names its string
/// by position, which must be inside the list.
fn check_dictionary_index(name: &str, index: &[u32], len: usize, what: &str) -> Result<()> {
    match index.iter().position(|&t| t as usize >= len) {
        Some(i) => Err(AiosError::invalid(format!(
            "{name}[{i}]: {} is not an index into {len} {what}",
            index[i]
        ))),
        None => Ok(()),
    }
}

fn check_len(name: &str, len: usize, expected: usize) -> Result<()> {
    if len != expected {
        return Err(AiosError::invalid(format!(
            "{name}: expected {expected} entries, got {len}"
        )));
    }
    Ok(())
}

impl Store {
    pub fn open(path: &str, options: &OpenOptions) -> Result<Self> {
        Ok(Self {
            conn: schema::open(path, options)?,
        })
    }

    /// Opens an existing database to read only, writing nothing (see
    /// [`schema::open_read_only`]); with how it is read.
    pub fn open_read_only(
        path: &str,
        options: &OpenOptions,
    ) -> Result<(Self, schema::ReadOnlyAccess)> {
        let (conn, access) = schema::open_read_only(path, options)?;
        Ok((Self { conn }, access))
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// A number that differs from the last one read whenever the database may have
    /// changed since: this connection's row changes (`total_changes`) plus other
    /// connections' commits (`PRAGMA data_version`, which starts a read and so sees a
    /// commit at once). Both only grow, so an equal sum means neither moved.
    pub fn change_token(&self) -> Result<f64> {
        let version: i64 = self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        Ok((version as u64).wrapping_add(self.conn.total_changes()) as f64)
    }

    pub fn exec(&self, sql: &str) -> Result<()> {
        Ok(self.conn.execute_batch(sql)?)
    }

    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let columns: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let n = columns.len();
        let mut rows = Vec::new();
        let mut cursor = stmt.query(params_from_iter(params.iter()))?;
        while let Some(row) = cursor.next()? {
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                out.push(row.get::<_, Value>(i)?);
            }
            rows.push(out);
        }
        Ok(Rows { columns, rows })
    }

    /// Runs one statement; returns (changes, last insert rowid).
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<(u64, i64)> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let changes = stmt.execute(params_from_iter(params.iter()))?;
        Ok((changes as u64, self.conn.last_insert_rowid()))
    }

    /// Runs `f` in one transaction (a savepoint when one is already open).
    pub fn transaction<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let nested = !self.conn.is_autocommit();
        self.conn.execute_batch(if nested {
            "SAVEPOINT aios_batch"
        } else {
            "BEGIN IMMEDIATE"
        })?;
        match f(&self.conn) {
            Ok(v) => {
                self.conn.execute_batch(if nested {
                    "RELEASE aios_batch"
                } else {
                    "COMMIT"
                })?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch(if nested {
                    "ROLLBACK TO aios_batch; RELEASE aios_batch"
                } else {
                    "ROLLBACK"
                });
                Err(e)
            }
        }
    }

    /// Runs `sql` once per parameter row, all in one transaction; returns total changes.
    pub fn run_batch(&self, sql: &str, rows: &[Vec<Value>]) -> Result<u64> {
        self.transaction(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut changes = 0u64;
            for (i, row) in rows.iter().enumerate() {
                changes += stmt
                    .execute(params_from_iter(row.iter()))
                    .map_err(|e| row_error(i, e.into()))? as u64;
            }
            Ok(changes)
        })
    }

    /// Inserts or replaces fragments (see [`FRAGMENT_UPSERT`]) and appends the history rows
    /// of the batch, in one transaction.
    pub fn put_fragments(&self, b: &FragmentBatch<'_>) -> Result<usize> {
        let n = b.ids.len();
        check_len("namespaceIndex", b.namespace_index.len(), n)?;
        check_len("texts", b.texts.len(), n)?;
        check_len("metadata", b.metadata.len(), n)?;
        check_len("attributes", b.attributes.len(), n)?;
        check_len("numbers", b.numbers.len(), n * 4)?;
        check_len("flags", b.flags.len(), n)?;
        let with_vectors = b
            .flags
            .iter()
            .filter(|&&f| f & FRAGMENT_HAS_VECTOR != 0)
            .count();
        check_len("vectors", b.vectors.len(), with_vectors * b.dimension)?;
        if with_vectors > 0 && b.dimension == 0 {
            return Err(AiosError::invalid("dimension: expected at least 1, got 0"));
        }
        check_dictionary_index(
            "namespaceIndex",
            b.namespace_index,
            b.namespaces.len(),
            "namespaces",
        )?;
        check_changes(&b.changes)?;
        vector::check_finite(b.vectors, "vectors")?;
        self.transaction(|conn| {
            let mut stmt = conn.prepare_cached(FRAGMENT_UPSERT)?;
            let mut offset = 0;
            for i in 0..n {
                let flags = b.flags[i];
                let blob = if flags & FRAGMENT_HAS_VECTOR != 0 {
                    let v = &b.vectors[offset..offset + b.dimension];
                    offset += b.dimension;
                    Some(vector::to_blob(v))
                } else {
                    None
                };
                let nums = &b.numbers[i * 4..i * 4 + 4];
                let use_count = if flags & FRAGMENT_SET_USE_COUNT != 0 {
                    nums[2] as i64
                } else {
                    0
                };
                let last_used = (flags & FRAGMENT_SET_LAST_USED != 0 && !nums[3].is_nan())
                    .then_some(nums[3] as i64);
                stmt.execute(rusqlite::params![
                    b.ids[i],
                    b.namespaces[b.namespace_index[i] as usize],
                    b.texts[i],
                    b.metadata[i],
                    b.attributes[i],
                    blob.as_deref(),
                    nums[0] as i64,
                    nums[1] as i64,
                    use_count,
                    last_used,
                    flags
                ])
                .map_err(|e| row_error(i, e.into()))?;
            }
            insert_changes(conn, &b.changes)?;
            Ok(n)
        })
    }

    /// Reads fragments by id, in the order asked; unknown ids are skipped.
    pub fn get_fragments(&self, ids: &[String]) -> Result<FragmentRows> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM fragments WHERE id = ?1",
            fragment_columns(true)
        ))?;
        let mut out = FragmentRows::default();
        for id in ids {
            let mut rows = stmt.query([id])?;
            if let Some(row) = rows.next()? {
                out.ids.push(id.clone());
                out.texts.push(row.get(0)?);
                out.metadata.push(row.get(1)?);
                out.namespaces.push(row.get(2)?);
                out.attributes.push(row.get(3)?);
                out.created_at.push(row.get::<_, i64>(4)? as f64);
                out.updated_at.push(row.get::<_, i64>(5)? as f64);
                out.use_count.push(row.get::<_, i64>(6)? as f64);
                out.last_used_at
                    .push(row.get::<_, Option<i64>>(7)?.map_or(f64::NAN, |v| v as f64));
                match row
                    .get_ref(8)?
                    .as_blob_or_null()
                    .map_err(|e| AiosError::new("DATA_CORRUPT", format!("fragment vector: {e}")))?
                {
                    Some(blob) => {
                        out.has_vector.push(1);
                        vector::extend_from_blob(&mut out.vectors, blob)?;
                    }
                    None => out.has_vector.push(0),
                }
            }
        }
        Ok(out)
    }

    /// Reads fragments by id into `out` in the packed form the binding hands to JS (see
    /// [`FRAGMENT_RECORD_HEADER`]), skipping unknown ids; without `with_vectors` the vector
    /// is not read. Returns the bytes written, or, when `out` is too small, `Err(needed)`
    /// with the size that would have been needed (nothing useful is left in `out` then).
    pub fn encode_fragments(
        &self,
        ids: &[&str],
        out: &mut [u8],
        with_vectors: bool,
    ) -> Result<std::result::Result<usize, usize>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {}, NULL FROM fragments WHERE id = ?1",
            fragment_columns(with_vectors)
        ))?;
        let mut at = 0usize;
        let mut fits = true;
        for (index, id) in ids.iter().enumerate() {
            let mut rows = stmt.query([id])?;
            let Some(row) = rows.next()? else { continue };
            let record = Record::read(row, false)?;
            let end = at + record.size();
            if fits && end <= out.len() {
                record.write(&mut out[at..end], index as u32);
            } else {
                fits = false;
            }
            at = end;
        }
        Ok(if fits { Ok(at) } else { Err(at) })
    }

    /// Reads up to `limit` fragments with ids after `after`, in id order (of `namespace`
    /// only, when given), into `out` like [`Self::encode_fragments`], each record with its
    /// id. Writes as many whole records as fit and returns `Ok((bytes, records))`; when not
    /// even the first fits, `Err(needed)` with its size.
    pub fn encode_fragment_range(
        &self,
        after: &str,
        namespace: Option<&str>,
        limit: u32,
        out: &mut [u8],
        with_vectors: bool,
    ) -> Result<std::result::Result<(usize, u32), usize>> {
        let columns = fragment_columns(with_vectors);
        let sql = match namespace {
            None => format!(
                "SELECT {columns}, id FROM fragments WHERE id > ?1 ORDER BY id LIMIT ?2"
            ),
            Some(_) => format!(
                "SELECT {columns}, id FROM fragments WHERE namespace = ?3 AND id > ?1 ORDER BY id LIMIT ?2"
            ),
        };
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = match namespace {
            None => stmt.query(rusqlite::params![after, limit])?,
            Some(ns) => stmt.query(rusqlite::params![after, limit, ns])?,
        };
        let mut at = 0usize;
        let mut count = 0u32;
        while let Some(row) = rows.next()? {
            let record = Record::read(row, true)?;
            let end = at + record.size();
            if end > out.len() {
                return Ok(if count == 0 {
                    Err(end)
                } else {
                    Ok((at, count))
                });
            }
            record.write(&mut out[at..end], count);
            at = end;
            count += 1;
        }
        Ok(Ok((at, count)))
    }

    /// Up to `limit` fragments with rowids after `after`, in rowid (storage) order, as
    /// records like those of [`Self::encode_fragment_range`] (each with its id), and the
    /// rowid of the last one (`after` when none). Storage order walks the table's pages
    /// once; id order takes an index lookup per row, about twice the time. Rowids are only
    /// stable within one transaction (a `VACUUM` may renumber them), so a caller paging
    /// through them holds one open.
    pub fn encode_fragment_rows(
        &self,
        after: i64,
        limit: u32,
        with_vectors: bool,
    ) -> Result<(Vec<u8>, i64)> {
        let sql = format!(
            "SELECT {}, id, rowid FROM fragments WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            fragment_columns(with_vectors)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params![after, limit])?;
        let mut out = Vec::new();
        let mut last = after;
        let mut count = 0u32;
        while let Some(row) = rows.next()? {
            let record = Record::read(row, true)?;
            let at = out.len();
            out.resize(at + record.size(), 0);
            record.write(&mut out[at..], count);
            last = row.get(10)?;
            count += 1;
        }
        Ok((out, last))
    }

    /// Counts `counts[i]` uses of fragment `ids[i]`, the last at `ats[i]` (a use never moves
    /// the time back), in one transaction; returns the uses counted (of fragments found).
    pub fn record_fragment_uses(&self, ids: &[String], counts: &[f64], ats: &[f64]) -> Result<u64> {
        check_len("counts", counts.len(), ids.len())?;
        check_len("ats", ats.len(), ids.len())?;
        self.transaction(|conn| {
            let mut stmt = conn.prepare_cached(
                "UPDATE fragments SET use_count = use_count + ?2,
                   last_used_at = max(coalesce(last_used_at, ?3), ?3) WHERE id = ?1",
            )?;
            let mut counted = 0;
            for ((id, count), at) in ids.iter().zip(counts).zip(ats) {
                let found = stmt.execute(rusqlite::params![id, *count as i64, *at as i64])?;
                counted += found as u64 * *count as u64;
            }
            Ok(counted)
        })
    }

    /// Appends messages; returns the id of each, in order.
    pub fn add_messages(&self, b: &MessageBatch<'_>) -> Result<Vec<i64>> {
        let n = b.conversation_ids.len();
        check_len("roles", b.roles.len(), n)?;
        check_len("contents", b.contents.len(), n)?;
        check_len("models", b.models.len(), n)?;
        check_len("promptTokens", b.prompt_tokens.len(), n)?;
        check_len("completionTokens", b.completion_tokens.len(), n)?;
        check_len("metadata", b.metadata.len(), n)?;
        check_len("timestamps", b.timestamps.len(), n)?;
        self.transaction(|conn| {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO messages (conversation_id, role, content, model, prompt_tokens,
                   completion_tokens, metadata, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut touch = conn.prepare_cached(
                "UPDATE conversations SET updated_at = max(updated_at, ?2) WHERE id = ?1",
            )?;
            let mut ids = Vec::with_capacity(n);
            let mut last_conversation: Option<&str> = None;
            let mut last_ts = 0i64;
            for i in 0..n {
                let model = (!b.models[i].is_empty()).then_some(b.models[i].as_str());
                let ts = b.timestamps[i] as i64;
                stmt.execute(rusqlite::params![
                    b.conversation_ids[i],
                    b.roles[i],
                    b.contents[i],
                    model,
                    b.prompt_tokens[i] as i64,
                    b.completion_tokens[i] as i64,
                    b.metadata[i],
                    ts
                ])
                .map_err(|e| row_error(i, e.into()))?;
                ids.push(conn.last_insert_rowid());
                let cid = b.conversation_ids[i].as_str();
                if last_conversation.is_some_and(|c| c != cid) {
                    touch.execute(rusqlite::params![last_conversation, last_ts])?;
                }
                last_conversation = Some(cid);
                last_ts = last_ts.max(ts);
            }
            if let Some(c) = last_conversation {
                touch.execute(rusqlite::params![c, last_ts])?;
            }
            Ok(ids)
        })
    }

    /// Appends events; returns how many were written.
    pub fn add_events(&self, b: &EventBatch<'_>) -> Result<usize> {
        let n = b.type_index.len();
        check_len("values", b.values.len(), n)?;
        check_len("hasData", b.has_data.len(), n)?;
        check_len("timestamps", b.timestamps.len(), n)?;
        let with_data = b.has_data.iter().filter(|&&h| h != 0).count();
        check_len("data", b.data.len(), with_data)?;
        check_dictionary_index("typeIndex", b.type_index, b.types.len(), "types")?;
        self.transaction(|conn| {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO events (type, value, data, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut data = b.data.iter();
            for i in 0..n {
                let value = (!b.values[i].is_nan()).then_some(b.values[i]);
                let d = if b.has_data[i] != 0 {
                    data.next().map(String::as_str)
                } else {
                    None
                };
                // Bound one by one and run without the parameter-count checks of
                // `execute`: the statement is fixed, and this loop is the bulk path.
                stmt.raw_bind_parameter(1, b.types[b.type_index[i] as usize].as_str())?;
                stmt.raw_bind_parameter(2, value)?;
                stmt.raw_bind_parameter(3, d)?;
                stmt.raw_bind_parameter(4, b.timestamps[i] as i64)?;
                stmt.raw_execute().map_err(|e| row_error(i, e.into()))?;
            }
            Ok(n)
        })
    }

    /// `PRAGMA integrity_check`: "ok" or the problems found.
    pub fn integrity_check(&self) -> Result<String> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<std::result::Result<_, _>>()?;
        Ok(lines.join("\n"))
    }
}

fn row_error(i: usize, e: AiosError) -> AiosError {
    e.context(format_args!("row {i}"))
}

fn check_changes(c: &ChangeBatch<'_>) -> Result<()> {
    let n = c.fragment_ids.len();
    check_len("changeKinds", c.kinds.len(), n)?;
    check_len("changeData", c.data.len(), n)?;
    check_len("changeAt", c.at.len(), n)
}

fn insert_changes(conn: &Connection, c: &ChangeBatch<'_>) -> Result<()> {
    if c.fragment_ids.is_empty() {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(CHANGE_INSERT)?;
    for i in 0..c.fragment_ids.len() {
        let data = (!c.data[i].is_empty()).then_some(c.data[i].as_str());
        stmt.execute(rusqlite::params![
            c.fragment_ids[i],
            c.kinds[i],
            data,
            c.at[i] as i64
        ])
        .map_err(|e| AiosError::from(e).context(format_args!("change {i}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        Store::open(":memory:", &OpenOptions::default()).unwrap()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// A batch in the default namespace with no attributes and no history rows.
    struct Plain {
        ids: Vec<String>,
        texts: Vec<String>,
        metadata: Vec<String>,
        attributes: Vec<String>,
        namespaces: Vec<String>,
        namespace_index: Vec<u32>,
        numbers: Vec<f64>,
        flags: Vec<u8>,
    }

    impl Plain {
        fn new(ids: &[&str], texts: &[&str], metadata: &[&str], at: &[f64], flags: &[u8]) -> Self {
            Self {
                ids: strings(ids),
                texts: strings(texts),
                metadata: strings(metadata),
                attributes: vec!["{}".to_string(); ids.len()],
                namespaces: strings(&["default"]),
                namespace_index: vec![0; ids.len()],
                numbers: at.iter().flat_map(|&t| [t, t, 0.0, f64::NAN]).collect(),
                flags: flags.to_vec(),
            }
        }

        fn batch<'a>(&'a self, dimension: usize, vectors: &'a [f32]) -> FragmentBatch<'a> {
            FragmentBatch {
                ids: &self.ids,
                namespaces: &self.namespaces,
                namespace_index: &self.namespace_index,
                texts: &self.texts,
                metadata: &self.metadata,
                attributes: &self.attributes,
                numbers: &self.numbers,
                flags: &self.flags,
                dimension,
                vectors,
                changes: ChangeBatch::default(),
            }
        }
    }

    #[test]
    fn the_change_token_moves_with_every_change_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let path = path.to_str().unwrap();
        let ours = Store::open(path, &OpenOptions::default()).unwrap();
        let theirs = Store::open(path, &OpenOptions::default()).unwrap();
        ours.exec("CREATE TABLE t (v INTEGER)").unwrap();
        let first = ours.change_token().unwrap();
        assert_eq!(ours.change_token().unwrap(), first);
        ours.query("SELECT * FROM t", &[]).unwrap();
        assert_eq!(
            ours.change_token().unwrap(),
            first,
            "a read changes nothing"
        );
        ours.execute("INSERT INTO t VALUES (1)", &[]).unwrap();
        let after_ours = ours.change_token().unwrap();
        assert_ne!(after_ours, first, "a row written through this connection");
        theirs.execute("UPDATE t SET v = 2", &[]).unwrap();
        let after_theirs = ours.change_token().unwrap();
        assert_ne!(
            after_theirs, after_ours,
            "a commit through another connection"
        );
        assert_eq!(ours.change_token().unwrap(), after_theirs);
    }

    #[test]
    fn fragments_round_trip_with_and_without_vectors() {
        let s = store();
        let plain = Plain::new(
            &["a", "b", "c"],
            &["alpha", "beta", "gamma"],
            &["{}", "{\"k\":1}", "{}"],
            &[1.0, 2.0, 3.0],
            &[1, 0, 1],
        );
        s.put_fragments(&plain.batch(2, &[1.0, 2.0, 3.0, 4.0]))
            .unwrap();
        let got = s.get_fragments(&strings(&["c", "zz", "b", "a"])).unwrap();
        assert_eq!(got.ids, strings(&["c", "b", "a"]));
        assert_eq!(got.has_vector, vec![1, 0, 1]);
        assert_eq!(got.vectors, vec![3.0, 4.0, 1.0, 2.0]);
        assert_eq!(got.metadata[1], "{\"k\":1}");
        assert_eq!(got.namespaces, strings(&["default"; 3]));
        assert_eq!(got.attributes, strings(&["{}"; 3]));
        assert!(got.last_used_at[0].is_nan());
        assert_eq!(
            s.record_fragment_uses(&strings(&["a", "zz"]), &[2.0, 1.0], &[9.0, 9.0])
                .unwrap(),
            2
        );
        let got = s.get_fragments(&strings(&["a"])).unwrap();
        assert_eq!(got.use_count, vec![2.0]);
        assert_eq!(got.last_used_at, vec![9.0]);
        // A use recorded late (an earlier time) counts, and leaves the time where it was.
        s.record_fragment_uses(&strings(&["a"]), &[3.0], &[4.0])
            .unwrap();
        let got = s.get_fragments(&strings(&["a"])).unwrap();
        assert_eq!(got.use_count, vec![5.0]);
        assert_eq!(got.last_used_at, vec![9.0]);
        assert!(s
            .record_fragment_uses(&strings(&["a"]), &[], &[1.0])
            .is_err());
    }

    #[test]
    fn a_replace_keeps_or_sets_vector_and_use_statistics_as_flagged() {
        let s = store();
        s.put_fragments(
            &Plain::new(
                &["a", "b"],
                &["x", "y"],
                &["{}", "{}"],
                &[1.0, 1.0],
                &[1, 1],
            )
            .batch(2, &[1.0, 2.0, 3.0, 4.0]),
        )
        .unwrap();
        s.record_fragment_uses(&strings(&["a", "b"]), &[1.0, 1.0], &[5.0, 5.0])
            .unwrap();
        // a: no vector, keep flag -> vector kept; use statistics set. b: no flags -> cleared.
        let mut again = Plain::new(
            &["a", "b"],
            &["x2", "y2"],
            &["{}", "{}"],
            &[7.0, 8.0],
            &[
                FRAGMENT_KEEP_VECTOR | FRAGMENT_SET_USE_COUNT | FRAGMENT_SET_LAST_USED,
                0,
            ],
        );
        again.numbers[2] = 40.0;
        again.numbers[3] = f64::NAN;
        again.namespaces = strings(&["notes"]);
        again.attributes[0] = "{\"label\":3}".into();
        s.put_fragments(&again.batch(2, &[])).unwrap();
        let got = s.get_fragments(&strings(&["a", "b"])).unwrap();
        assert_eq!(got.texts, strings(&["x2", "y2"]));
        assert_eq!(got.has_vector, vec![1, 0]);
        assert_eq!(got.vectors, vec![1.0, 2.0]);
        assert_eq!(got.created_at, vec![1.0, 1.0]);
        assert_eq!(got.updated_at, vec![7.0, 8.0]);
        assert_eq!(got.use_count, vec![40.0, 1.0]);
        assert!(got.last_used_at[0].is_nan());
        assert_eq!(got.last_used_at[1], 5.0);
        assert_eq!(got.namespaces, strings(&["notes", "notes"]));
        assert_eq!(got.attributes[0], "{\"label\":3}");
    }

    #[test]
    fn writes_history_rows_with_the_batch_or_not_at_all() {
        let s = store();
        let plain = Plain::new(&["a"], &["x"], &["{}"], &[1.0], &[0]);
        let ids = strings(&["a", "gone"]);
        let kinds = strings(&["add", "delete"]);
        let data = strings(&["{\"v\":1}", ""]);
        let mut batch = plain.batch(0, &[]);
        batch.changes = ChangeBatch {
            fragment_ids: &ids,
            kinds: &kinds,
            data: &data,
            at: &[3.0, 4.0],
        };
        s.put_fragments(&batch).unwrap();
        let rows = s
            .query(
                "SELECT seq, fragment_id, kind, data, created_at FROM fragment_changes ORDER BY seq",
                &[],
            )
            .unwrap();
        assert_eq!(
            rows.rows[1],
            vec![
                Value::Integer(2),
                Value::Text("gone".into()),
                Value::Text("delete".into()),
                Value::Null,
                Value::Integer(4)
            ]
        );
        // A history row that fails takes the batch's fragments with it.
        s.exec(
            "CREATE TRIGGER refuse BEFORE INSERT ON fragment_changes WHEN NEW.kind = 'boom'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
        let other = Plain::new(&["b"], &["y"], &["{}"], &[1.0], &[0]);
        let boom = strings(&["boom"]);
        let mut batch = other.batch(0, &[]);
        batch.changes = ChangeBatch {
            fragment_ids: &ids[..1],
            kinds: &boom,
            data: &data[..1],
            at: &[5.0],
        };
        let err = s.put_fragments(&batch).unwrap_err();
        assert_eq!(err.code, "DATA_CONSTRAINT");
        assert!(err.message.starts_with("change 0:"));
        assert!(s.get_fragments(&strings(&["b"])).unwrap().ids.is_empty());
        let short = ChangeBatch {
            fragment_ids: &ids,
            kinds: &kinds[..1],
            data: &data,
            at: &[1.0, 2.0],
        };
        let mut batch = plain.batch(0, &[]);
        batch.changes = short;
        assert_eq!(s.put_fragments(&batch).unwrap_err().code, "INVALID_INPUT");
        let n = s
            .query("SELECT count(*) FROM fragment_changes", &[])
            .unwrap();
        assert_eq!(n.rows, vec![vec![Value::Integer(2)]]);
    }

    #[test]
    fn encodes_fragment_records_and_reports_the_size_needed() {
        let s = store();
        let mut plain = Plain::new(
            &["a", "b"],
            &["héllo", "x"],
            &["{}", "{\"k\":1}"],
            &[5.0, 6.0],
            &[1, 0],
        );
        plain.namespaces = strings(&["ns"]);
        plain.attributes[1] = "{\"é\":1}".into();
        s.put_fragments(&plain.batch(3, &[1.0, 2.0, 3.0])).unwrap();
        let mut small = [0u8; 16];
        let needed = s
            .encode_fragments(&["b", "zz", "a"], &mut small, true)
            .unwrap();
        // b: 64 + 1 + 7 + 2 + 8 = 82 -> 88; a: 64 + 6 + 2 + 2 + 2 = 76 -> 80, + 12 -> 92 -> 96.
        assert_eq!(needed, Err(184));
        let mut out = vec![0u8; 184];
        assert_eq!(
            s.encode_fragments(&["b", "zz", "a"], &mut out, true),
            Ok(Ok(184))
        );
        let u32_at = |o: usize| u32::from_le_bytes(out[o..o + 4].try_into().unwrap());
        let f64_at = |o: usize| f64::from_le_bytes(out[o..o + 8].try_into().unwrap());
        assert_eq!(f64_at(0), 6.0);
        assert!(f64_at(24).is_nan());
        assert_eq!(
            (32..64).step_by(4).map(u32_at).collect::<Vec<_>>(),
            [0, 1, 7, u32::MAX, 7 | 16, 2, 8, 0]
        );
        assert_eq!(&out[64..82], "x{\"k\":1}ns{\"é\":1}".as_bytes());
        let a = 88;
        assert_eq!(
            (a + 32..a + 64).step_by(4).map(u32_at).collect::<Vec<_>>(),
            [2, 6, 2, 12, 14 | 16, 2, 2, 0]
        );
        assert_eq!(&out[a + 64..a + 70], "héllo".as_bytes());
        assert_eq!(&out[a + 80..a + 84], &1.0f32.to_le_bytes());
        assert_eq!(s.encode_fragments(&["zz"], &mut small, true), Ok(Ok(0)));
        // Without vectors: the same record, no vector bytes.
        let mut out = vec![0u8; 96];
        assert_eq!(s.encode_fragments(&["a"], &mut out, false), Ok(Ok(80)));
        assert_eq!(u32_at_of(&out, 44), u32::MAX);
    }

    #[test]
    fn encodes_a_range_of_fragments_with_their_ids_as_far_as_they_fit() {
        let s = store();
        let mut plain = Plain::new(
            &["c", "a", "b", "d"],
            &["gamma", "alpha", "beta", "delta"],
            &["{}"; 4],
            &[1.0; 4],
            &[1, 1, 1, 0],
        );
        plain.namespaces = strings(&["x", "y"]);
        plain.namespace_index = vec![0, 0, 1, 0];
        s.put_fragments(&plain.batch(2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
            .unwrap();
        // a: 64 + 5 + 2 + 1 + 2 + 1 = 75 -> 80, + 8 = 88 (every record here is 88 bytes
        // with its vector, 80 without; d has none).
        let mut out = vec![0u8; 1024];
        let (bytes, n) = s
            .encode_fragment_range("", None, 10, &mut out, true)
            .unwrap()
            .unwrap();
        assert_eq!((bytes, n), (88 * 3 + 80, 4));
        assert_eq!(&out[64..75], "alpha{}x{}a".as_bytes());
        assert_eq!(u32_at_of(&out, 60), 1);
        assert_eq!(u32_at_of(&out, 88 + 32), 1);
        // After an id, in a namespace, within a limit.
        let (bytes, n) = s
            .encode_fragment_range("a", Some("x"), 1, &mut out, false)
            .unwrap()
            .unwrap();
        assert_eq!((bytes, n), (80, 1));
        assert_eq!(&out[64..75], "gamma{}x{}c".as_bytes());
        // Only the records that fit; none fits: the size of the first.
        let mut small = vec![0u8; 100];
        assert_eq!(
            s.encode_fragment_range("", None, 10, &mut small, true),
            Ok(Ok((88, 1)))
        );
        let mut tiny = vec![0u8; 16];
        assert_eq!(
            s.encode_fragment_range("", None, 10, &mut tiny, true),
            Ok(Err(88))
        );
        assert_eq!(
            s.encode_fragment_range("d", None, 10, &mut tiny, true),
            Ok(Ok((0, 0)))
        );
    }

    #[test]
    fn encodes_fragments_in_storage_order_a_page_at_a_time() {
        let s = store();
        let plain = Plain::new(
            &["c", "a", "b"],
            &["gamma", "alpha", "beta"],
            &["{}"; 3],
            &[1.0; 3],
            &[1, 1, 1],
        );
        s.put_fragments(&plain.batch(2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
            .unwrap();
        // Inserted c, a, b: that order, not the ids'; each record with its id and position.
        // gamma: 64 + 5 + 2 + 7 + 2 + 1 = 81 -> 88 bytes without its vector.
        let (out, last) = s.encode_fragment_rows(0, 2, false).unwrap();
        assert_eq!(out.len(), 2 * 88);
        assert_eq!(&out[64..81], "gamma{}default{}c".as_bytes());
        assert_eq!(u32_at_of(&out, 88 + 32), 1);
        assert_eq!(&out[88 + 64..88 + 81], "alpha{}default{}a".as_bytes());
        // beta: 80 bytes, then its two floats.
        let (out, next) = s.encode_fragment_rows(last, 2, true).unwrap();
        assert_eq!(out.len(), 88);
        assert_eq!(&out[64..80], "beta{}default{}b".as_bytes());
        assert!(next > last);
        assert_eq!(
            s.encode_fragment_rows(next, 2, true).unwrap(),
            (vec![], next)
        );
    }

    fn u32_at_of(out: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(out[o..o + 4].try_into().unwrap())
    }

    #[test]
    fn a_bad_row_leaves_nothing_written() {
        let s = store();
        let err = s
            .put_fragments(
                &Plain::new(
                    &["a", "b"],
                    &["x", "y"],
                    &["{}", "{}"],
                    &[1.0, 1.0],
                    &[1, 1],
                )
                .batch(2, &[1.0, 2.0, f32::NAN, 0.0]),
            )
            .unwrap_err();
        assert_eq!(err.code, "INVALID_INPUT");
        s.exec("INSERT INTO conversations VALUES ('c', NULL, '{}', 0, 0)")
            .unwrap();
        let err = s
            .add_messages(&MessageBatch {
                conversation_ids: &strings(&["c", "missing"]),
                roles: &strings(&["user", "user"]),
                contents: &strings(&["hi", "there"]),
                models: &strings(&["", ""]),
                prompt_tokens: &[0.0, 0.0],
                completion_tokens: &[0.0, 0.0],
                metadata: &strings(&["{}", "{}"]),
                timestamps: &[1.0, 2.0],
            })
            .unwrap_err();
        assert_eq!(err.code, "DATA_CONSTRAINT");
        assert!(err.message.starts_with("row 1:"));
        let rows = s
            .query(
                "SELECT count(*) FROM messages UNION ALL SELECT count(*) FROM fragments",
                &[],
            )
            .unwrap();
        assert_eq!(
            rows.rows,
            vec![vec![Value::Integer(0)], vec![Value::Integer(0)]]
        );
    }

    #[test]
    fn events_and_generic_statements() {
        let s = store();
        s.add_events(&EventBatch {
            types: &strings(&["tick"]),
            type_index: &[0, 0],
            values: &[1.5, f64::NAN],
            has_data: &[0, 1],
            data: &strings(&["{\"a\":1}"]),
            timestamps: &[10.0, 20.0],
        })
        .unwrap();
        let rows = s
            .query("SELECT value, data FROM events ORDER BY id", &[])
            .unwrap();
        assert_eq!(rows.columns, strings(&["value", "data"]));
        assert_eq!(rows.rows[0], vec![Value::Real(1.5), Value::Null]);
        assert_eq!(
            rows.rows[1],
            vec![Value::Null, Value::Text("{\"a\":1}".into())]
        );
        let changes = s
            .run_batch(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                &[
                    vec![Value::Text("a".into()), Value::Text("1".into())],
                    vec![Value::Text("b".into()), Value::Text("2".into())],
                ],
            )
            .unwrap();
        assert_eq!(changes, 2);
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }
}
