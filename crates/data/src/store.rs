//! The store: one SQLite connection, generic statements for the repositories, and the
//! bulk paths (fragments, messages, events) that run whole batches in one transaction.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use crate::error::{DataError, Result};
use crate::schema::{self, OpenOptions};
use crate::vector;

/// Rows of a query, column-oriented names plus row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A batch of fragments, column by column. Row `i` has a vector when `has_vector[i]`
/// is non-zero; the vectors of those rows are packed, in order, in `vectors`.
pub struct FragmentBatch<'a> {
    pub ids: &'a [String],
    pub texts: &'a [String],
    pub metadata: &'a [String],
    pub timestamps: &'a [f64],
    pub has_vector: &'a [u8],
    pub dimension: usize,
    pub vectors: &'a [f32],
}

/// Fragments read back; vectors packed like in [`FragmentBatch`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FragmentRows {
    pub ids: Vec<String>,
    pub texts: Vec<String>,
    pub metadata: Vec<String>,
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
/// updatedAt, useCount, lastUsedAt (NaN: never) as f64 at 0..32; then u32s at 32..56:
/// the index of the id asked for, the text and metadata byte lengths, the vector byte
/// length (`u32::MAX`: no vector), flags (1: text is ASCII, 2: metadata is ASCII), zero.
/// The text and metadata UTF-8 follow, then the vector at the next multiple of 8; the
/// record is padded to a multiple of 8.
pub const FRAGMENT_RECORD_HEADER: usize = 56;

fn align8(n: usize) -> usize {
    (n + 7) & !7
}

fn check_len(name: &str, len: usize, expected: usize) -> Result<()> {
    if len != expected {
        return Err(DataError::invalid(format!(
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

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
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

    /// Inserts or replaces fragments (keeping `created_at` and use counts of existing ids).
    pub fn put_fragments(&self, b: &FragmentBatch<'_>) -> Result<usize> {
        let n = b.ids.len();
        check_len("texts", b.texts.len(), n)?;
        check_len("metadata", b.metadata.len(), n)?;
        check_len("timestamps", b.timestamps.len(), n)?;
        check_len("hasVector", b.has_vector.len(), n)?;
        let with_vectors = b.has_vector.iter().filter(|&&h| h != 0).count();
        check_len("vectors", b.vectors.len(), with_vectors * b.dimension)?;
        if with_vectors > 0 && b.dimension == 0 {
            return Err(DataError::invalid("dimension: expected at least 1, got 0"));
        }
        vector::check_finite(b.vectors, "vectors")?;
        self.transaction(|conn| {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO fragments (id, text, metadata, vector, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT (id) DO UPDATE SET text = excluded.text,
                   metadata = excluded.metadata, vector = excluded.vector,
                   updated_at = excluded.updated_at",
            )?;
            let mut offset = 0;
            for i in 0..n {
                let blob = if b.has_vector[i] != 0 {
                    let v = &b.vectors[offset..offset + b.dimension];
                    offset += b.dimension;
                    Some(vector::to_blob(v))
                } else {
                    None
                };
                stmt.execute(rusqlite::params![
                    b.ids[i],
                    b.texts[i],
                    b.metadata[i],
                    blob.as_deref(),
                    b.timestamps[i] as i64
                ])
                .map_err(|e| row_error(i, e.into()))?;
            }
            Ok(n)
        })
    }

    /// Reads fragments by id, in the order asked; unknown ids are skipped.
    pub fn get_fragments(&self, ids: &[String]) -> Result<FragmentRows> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, text, metadata, vector, created_at, updated_at, use_count, last_used_at
             FROM fragments WHERE id = ?1",
        )?;
        let mut out = FragmentRows::default();
        for id in ids {
            let mut rows = stmt.query([id])?;
            if let Some(row) = rows.next()? {
                out.ids.push(row.get(0)?);
                out.texts.push(row.get(1)?);
                out.metadata.push(row.get(2)?);
                match row
                    .get_ref(3)?
                    .as_blob_or_null()
                    .map_err(|e| DataError::new("DATA_CORRUPT", format!("fragment vector: {e}")))?
                {
                    Some(blob) => {
                        out.has_vector.push(1);
                        vector::extend_from_blob(&mut out.vectors, blob)?;
                    }
                    None => out.has_vector.push(0),
                }
                out.created_at.push(row.get::<_, i64>(4)? as f64);
                out.updated_at.push(row.get::<_, i64>(5)? as f64);
                out.use_count.push(row.get::<_, i64>(6)? as f64);
                out.last_used_at
                    .push(row.get::<_, Option<i64>>(7)?.map_or(f64::NAN, |v| v as f64));
            }
        }
        Ok(out)
    }

    /// Reads fragments by id into `out` in the packed form the binding hands to JS (see
    /// [`FRAGMENT_RECORD_HEADER`]), skipping unknown ids. Returns the bytes written, or,
    /// when `out` is too small, `Err(needed)` with the size that would have been needed
    /// (nothing useful is left in `out` then).
    pub fn encode_fragments(
        &self,
        ids: &[&str],
        out: &mut [u8],
    ) -> Result<std::result::Result<usize, usize>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT text, metadata, vector, created_at, updated_at, use_count, last_used_at
             FROM fragments WHERE id = ?1",
        )?;
        let mut at = 0usize;
        let mut fits = true;
        for (index, id) in ids.iter().enumerate() {
            let mut rows = stmt.query([id])?;
            let Some(row) = rows.next()? else { continue };
            let text = row.get_ref(0)?;
            let text = text
                .as_str()
                .map_err(|e| DataError::new("DATA_CORRUPT", format!("fragment text: {e}")))?;
            let meta = row.get_ref(1)?;
            let meta = meta
                .as_str()
                .map_err(|e| DataError::new("DATA_CORRUPT", format!("fragment metadata: {e}")))?;
            let blob = row
                .get_ref(2)?
                .as_blob_or_null()
                .map_err(|e| DataError::new("DATA_CORRUPT", format!("fragment vector: {e}")))?;
            if let Some(b) = blob {
                if !b.len().is_multiple_of(4) {
                    return Err(DataError::new(
                        "DATA_CORRUPT",
                        format!("vector blob of {} bytes is not a float32 array", b.len()),
                    ));
                }
            }
            let text_end = FRAGMENT_RECORD_HEADER + text.len() + meta.len();
            let vector_at = align8(text_end);
            let size = align8(vector_at + blob.map_or(0, <[u8]>::len));
            let end = at + size;
            if !fits || end > out.len() {
                fits = false;
                at = end;
                continue;
            }
            let rec = &mut out[at..end];
            let last_used = row.get::<_, Option<i64>>(6)?.map_or(f64::NAN, |v| v as f64);
            for (k, v) in [
                row.get::<_, i64>(3)? as f64,
                row.get::<_, i64>(4)? as f64,
                row.get::<_, i64>(5)? as f64,
                last_used,
            ]
            .into_iter()
            .enumerate()
            {
                rec[k * 8..k * 8 + 8].copy_from_slice(&v.to_le_bytes());
            }
            let flags = u32::from(text.is_ascii()) | (u32::from(meta.is_ascii()) << 1);
            for (k, v) in [
                index as u32,
                text.len() as u32,
                meta.len() as u32,
                blob.map_or(u32::MAX, |b| b.len() as u32),
                flags,
                0,
            ]
            .into_iter()
            .enumerate()
            {
                rec[32 + k * 4..36 + k * 4].copy_from_slice(&v.to_le_bytes());
            }
            let t = FRAGMENT_RECORD_HEADER;
            rec[t..t + text.len()].copy_from_slice(text.as_bytes());
            rec[t + text.len()..text_end].copy_from_slice(meta.as_bytes());
            if let Some(b) = blob {
                rec[vector_at..vector_at + b.len()].copy_from_slice(b);
            }
            at = end;
        }
        Ok(if fits { Ok(at) } else { Err(at) })
    }

    /// Adds one use to each fragment id (repeats count); returns rows changed.
    pub fn mark_fragments_used(&self, ids: &[String], at: f64) -> Result<u64> {
        self.transaction(|conn| {
            let mut stmt = conn.prepare_cached(
                "UPDATE fragments SET use_count = use_count + 1, last_used_at = ?2 WHERE id = ?1",
            )?;
            let mut changes = 0;
            for id in ids {
                changes += stmt.execute(rusqlite::params![id, at as i64])? as u64;
            }
            Ok(changes)
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
        if let Some(i) = b
            .type_index
            .iter()
            .position(|&t| t as usize >= b.types.len())
        {
            return Err(DataError::invalid(format!(
                "typeIndex[{i}]: {} is not an index into {} types",
                b.type_index[i],
                b.types.len()
            )));
        }
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

fn row_error(i: usize, e: DataError) -> DataError {
    DataError::new(e.code, format!("row {i}: {}", e.message))
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

    #[test]
    fn fragments_round_trip_with_and_without_vectors() {
        let s = store();
        let ids = strings(&["a", "b", "c"]);
        let texts = strings(&["alpha", "beta", "gamma"]);
        let meta = strings(&["{}", "{\"k\":1}", "{}"]);
        let vectors = [1.0f32, 2.0, 3.0, 4.0];
        s.put_fragments(&FragmentBatch {
            ids: &ids,
            texts: &texts,
            metadata: &meta,
            timestamps: &[1.0, 2.0, 3.0],
            has_vector: &[1, 0, 1],
            dimension: 2,
            vectors: &vectors,
        })
        .unwrap();
        let got = s.get_fragments(&strings(&["c", "zz", "b", "a"])).unwrap();
        assert_eq!(got.ids, strings(&["c", "b", "a"]));
        assert_eq!(got.has_vector, vec![1, 0, 1]);
        assert_eq!(got.vectors, vec![3.0, 4.0, 1.0, 2.0]);
        assert_eq!(got.metadata[1], "{\"k\":1}");
        assert!(got.last_used_at[0].is_nan());
        assert_eq!(
            s.mark_fragments_used(&strings(&["a", "a", "zz"]), 9.0)
                .unwrap(),
            2
        );
        let got = s.get_fragments(&strings(&["a"])).unwrap();
        assert_eq!(got.use_count, vec![2.0]);
        assert_eq!(got.last_used_at, vec![9.0]);
    }

    #[test]
    fn encodes_fragment_records_and_reports_the_size_needed() {
        let s = store();
        s.put_fragments(&FragmentBatch {
            ids: &strings(&["a", "b"]),
            texts: &strings(&["héllo", "x"]),
            metadata: &strings(&["{}", "{\"k\":1}"]),
            timestamps: &[5.0, 6.0],
            has_vector: &[1, 0],
            dimension: 3,
            vectors: &[1.0, 2.0, 3.0],
        })
        .unwrap();
        let mut small = [0u8; 16];
        let needed = s.encode_fragments(&["b", "zz", "a"], &mut small).unwrap();
        // b: 56 + 1 + 7 -> 64; a: 56 + 6 + 2 = 64, + 12 vector bytes -> 80.
        assert_eq!(needed, Err(144));
        let mut out = vec![0u8; 144];
        assert_eq!(s.encode_fragments(&["b", "zz", "a"], &mut out), Ok(Ok(144)));
        let u32_at = |o: usize| u32::from_le_bytes(out[o..o + 4].try_into().unwrap());
        let f64_at = |o: usize| f64::from_le_bytes(out[o..o + 8].try_into().unwrap());
        assert_eq!(f64_at(0), 6.0);
        assert!(f64_at(24).is_nan());
        assert_eq!(
            [u32_at(32), u32_at(36), u32_at(40), u32_at(44), u32_at(48)],
            [0, 1, 7, u32::MAX, 3]
        );
        assert_eq!(&out[56..64], b"x{\"k\":1}");
        assert_eq!(
            [
                u32_at(64 + 32),
                u32_at(64 + 36),
                u32_at(64 + 44),
                u32_at(64 + 48)
            ],
            [2, 6, 12, 2]
        );
        assert_eq!(&out[64 + 56..64 + 62], "héllo".as_bytes());
        assert_eq!(&out[64 + 64..64 + 68], &1.0f32.to_le_bytes());
        assert_eq!(s.encode_fragments(&["zz"], &mut small), Ok(Ok(0)));
    }

    #[test]
    fn a_bad_row_leaves_nothing_written() {
        let s = store();
        let err = s
            .put_fragments(&FragmentBatch {
                ids: &strings(&["a", "b"]),
                texts: &strings(&["x", "y"]),
                metadata: &strings(&["{}", "{}"]),
                timestamps: &[1.0, 1.0],
                has_vector: &[1, 1],
                dimension: 2,
                vectors: &[1.0, 2.0, f32::NAN, 0.0],
            })
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
