//! The napi binding: the only module that knows about Node. It converts arguments,
//! delegates to `store`/`analytics`, and reports failures through `aios_error` as
//! `[AIOS:<CODE>] message`, which the TypeScript bridge turns into `AiosError`s with the
//! same code.

use std::sync::{Arc, Mutex, MutexGuard};

use aios_error::AiosError;
use napi::bindgen_prelude::{
    AsyncTask, BigInt, Buffer, Either, Float32Array, Float64Array, FromNapiValue, Null,
    ToNapiValue, TypeName, Uint32Array, Uint8Array, Uint8ArraySlice, ValidateNapiValue,
};
use napi::{sys, Env, Result, Task, ValueType};
use napi_derive::napi;
use rusqlite::types::Value;

use crate::analytics::{self, AnalyticsParams};
use crate::schema::{self, OpenOptions};
use crate::store::{self, ChangeBatch, EventBatch, FragmentBatch, MessageBatch, Store};

/// An SQL parameter from JS: null/undefined, number, bigint, string, boolean, bytes.
pub struct SqlParam(Value);

impl TypeName for SqlParam {
    fn type_name() -> &'static str {
        "SqlValue"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ValidateNapiValue for SqlParam {}

impl FromNapiValue for SqlParam {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut kind = 0;
        // SAFETY: env and value come from napi for this call.
        let status = unsafe { sys::napi_typeof(env, value, &mut kind) };
        if status != sys::Status::napi_ok {
            return Err(AiosError::invalid("unreadable parameter").into());
        }
        let v = match kind {
            sys::ValueType::napi_null | sys::ValueType::napi_undefined => Value::Null,
            sys::ValueType::napi_number => {
                let n = unsafe { f64::from_napi_value(env, value)? };
                if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                    Value::Integer(n as i64)
                } else {
                    Value::Real(n)
                }
            }
            sys::ValueType::napi_string => Value::Text(unsafe { String::from_napi_value(env, value)? }),
            sys::ValueType::napi_boolean => {
                Value::Integer(i64::from(unsafe { bool::from_napi_value(env, value)? }))
            }
            sys::ValueType::napi_bigint => {
                let (n, lossless) = unsafe { BigInt::from_napi_value(env, value)? }.get_i64();
                if !lossless {
                    return Err(AiosError::invalid("bigint parameter out of the 64-bit range").into());
                }
                Value::Integer(n)
            }
            _ => match unsafe { Uint8Array::from_napi_value(env, value) } {
                Ok(bytes) => Value::Blob(bytes.to_vec()),
                Err(_) => {
                    return Err(AiosError::invalid("SQL parameters must be null, numbers, bigints, strings, booleans or Uint8Arrays").into())
                }
            },
        };
        Ok(SqlParam(v))
    }
}

/// An SQL value to JS: null, number, string or Buffer.
pub struct SqlCell(Value);

impl TypeName for SqlCell {
    fn type_name() -> &'static str {
        "SqlValue"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for SqlCell {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        unsafe {
            match val.0 {
                Value::Null => Null::to_napi_value(env, Null),
                Value::Integer(i) => f64::to_napi_value(env, i as f64),
                Value::Real(r) => f64::to_napi_value(env, r),
                Value::Text(s) => String::to_napi_value(env, s),
                Value::Blob(b) => {
                    // A copy on the JS heap: cheaper than an external buffer for row-sized data.
                    let mut data = std::ptr::null_mut();
                    let mut value = std::ptr::null_mut();
                    napi::check_status!(
                        sys::napi_create_buffer_copy(
                            env,
                            b.len(),
                            b.as_ptr().cast(),
                            &mut data,
                            &mut value
                        ),
                        "failed to create a Buffer"
                    )?;
                    Ok(value)
                }
            }
        }
    }
}

fn params(list: Option<Vec<SqlParam>>) -> Vec<Value> {
    list.unwrap_or_default().into_iter().map(|p| p.0).collect()
}

#[napi(object, object_from_js = false)]
pub struct QueryResult {
    pub columns: Vec<String>,
    #[napi(ts_type = "Array<Array<null | number | string | Buffer>>")]
    pub rows: Vec<Vec<SqlCell>>,
}

impl From<store::Rows> for QueryResult {
    fn from(r: store::Rows) -> Self {
        Self {
            columns: r.columns,
            rows: r
                .rows
                .into_iter()
                .map(|row| row.into_iter().map(SqlCell).collect())
                .collect(),
        }
    }
}

#[napi(object)]
pub struct RunResult {
    pub changes: f64,
    pub last_insert_rowid: f64,
}

#[napi(object)]
pub struct NativeOpenOptions {
    pub synchronous_full: Option<bool>,
    pub busy_timeout_ms: Option<u32>,
    /// Open an existing database to read only, writing nothing (`schema::open_read_only`).
    pub read_only: Option<bool>,
}

type Shared = Arc<Mutex<Option<Store>>>;

fn lock(shared: &Shared) -> Result<MutexGuard<'_, Option<Store>>> {
    shared
        .lock()
        .map_err(|_| AiosError::new("DATA_SQLITE", "store lock poisoned").into_napi())
}

fn with_store<T>(shared: &Shared, f: impl FnOnce(&Store) -> aios_error::Result<T>) -> Result<T> {
    let guard = lock(shared)?;
    match guard.as_ref() {
        Some(store) => f(store).map_err(AiosError::into_napi),
        None => Err(AiosError::new("DATA_CLOSED", "the store is closed").into()),
    }
}

/// One open database. Calls are serialised on one connection.
#[napi]
pub struct NativeStore {
    shared: Shared,
    read_only_access: Option<schema::ReadOnlyAccess>,
}

/// The schema version this binding migrates to.
#[napi(catch_unwind)]
pub fn latest_schema_version() -> u32 {
    schema::latest_version()
}

#[napi]
impl NativeStore {
    /// Opens (creating and migrating) the database at `path` or `:memory:`.
    #[napi(factory, catch_unwind)]
    pub fn open(path: String, options: Option<NativeOpenOptions>) -> Result<Self> {
        let mut opts = OpenOptions::default();
        if let Some(o) = options {
            opts.synchronous_full = o.synchronous_full.unwrap_or(false);
            if let Some(ms) = o.busy_timeout_ms {
                opts.busy_timeout_ms = ms;
            }
            opts.read_only = o.read_only.unwrap_or(false);
        }
        let (store, read_only_access) = if opts.read_only {
            let (store, access) =
                Store::open_read_only(&path, &opts).map_err(AiosError::into_napi)?;
            (store, Some(access))
        } else {
            (
                Store::open(&path, &opts).map_err(AiosError::into_napi)?,
                None,
            )
        };
        Ok(Self {
            shared: Arc::new(Mutex::new(Some(store))),
            read_only_access,
        })
    }

    /// How a store opened to read only reads its database (`immutable`, `shared-index`,
    /// `private-index`: see `schema::ReadOnlyAccess`); null for one opened to write.
    #[napi(getter)]
    pub fn read_only_access(&self) -> Option<&'static str> {
        self.read_only_access.map(|access| match access {
            schema::ReadOnlyAccess::Immutable => "immutable",
            schema::ReadOnlyAccess::SharedIndex => "shared-index",
            schema::ReadOnlyAccess::PrivateIndex => "private-index",
        })
    }

    #[napi(catch_unwind)]
    pub fn schema_version(&self) -> Result<u32> {
        with_store(&self.shared, |s| s.schema_version())
    }

    /// `Store::change_token`, or null while another thread holds the connection (a batch
    /// written on the libuv pool): the caller then reads as it would without a token,
    /// rather than the JS thread waiting here for the batch.
    #[napi(catch_unwind)]
    pub fn change_token(&self) -> Result<Option<f64>> {
        let Ok(guard) = self.shared.try_lock() else {
            return Ok(None);
        };
        match guard.as_ref() {
            Some(store) => store.change_token().map(Some).map_err(AiosError::into_napi),
            None => Err(AiosError::new("DATA_CLOSED", "the store is closed").into()),
        }
    }

    #[napi(catch_unwind)]
    pub fn exec(&self, sql: String) -> Result<()> {
        with_store(&self.shared, |s| s.exec(&sql))
    }

    #[napi(catch_unwind)]
    pub fn query(
        &self,
        sql: String,
        #[napi(
            ts_arg_type = "Array<null | number | bigint | string | boolean | Uint8Array> | undefined | null"
        )]
        params: Option<Vec<SqlParam>>,
    ) -> Result<QueryResult> {
        let p = self::params(params);
        with_store(&self.shared, |s| s.query(&sql, &p)).map(QueryResult::from)
    }

    #[napi(catch_unwind)]
    pub fn run(
        &self,
        sql: String,
        #[napi(
            ts_arg_type = "Array<null | number | bigint | string | boolean | Uint8Array> | undefined | null"
        )]
        params: Option<Vec<SqlParam>>,
    ) -> Result<RunResult> {
        let p = self::params(params);
        with_store(&self.shared, |s| s.execute(&sql, &p)).map(|(changes, id)| RunResult {
            changes: changes as f64,
            last_insert_rowid: id as f64,
        })
    }

    /// Runs `sql` once per parameter row in one transaction; returns total changes.
    #[napi(catch_unwind)]
    pub fn run_batch(
        &self,
        sql: String,
        #[napi(
            ts_arg_type = "Array<Array<null | number | bigint | string | boolean | Uint8Array>>"
        )]
        rows: Vec<Vec<SqlParam>>,
    ) -> Result<f64> {
        let rows: Vec<Vec<Value>> = rows
            .into_iter()
            .map(|r| r.into_iter().map(|p| p.0).collect())
            .collect();
        with_store(&self.shared, |s| s.run_batch(&sql, &rows)).map(|n| n as f64)
    }

    /// Upserts fragments and appends history rows in one transaction (see
    /// [`store::FragmentBatch`] for the columns and [`store::FRAGMENT_UPSERT`] for the flags).
    /// With `off_thread`, on the libuv pool, resolving the count: a large batch takes
    /// tens of milliseconds to write, which the JS thread then spends elsewhere (the
    /// store's queue holds its other calls until it is done).
    #[napi(catch_unwind, ts_return_type = "number | Promise<number>")]
    #[allow(clippy::too_many_arguments)]
    pub fn put_fragments(
        &self,
        ids: Vec<String>,
        namespaces: Vec<String>,
        namespace_index: Uint32Array,
        texts: Vec<String>,
        metadata: Vec<String>,
        attributes: Vec<String>,
        numbers: Float64Array,
        flags: Uint8Array,
        dimension: u32,
        vectors: Float32Array,
        change_ids: Vec<String>,
        change_kinds: Vec<String>,
        change_data: Vec<String>,
        change_at: Float64Array,
        off_thread: bool,
    ) -> Result<Either<u32, AsyncTask<PutFragmentsTask>>> {
        let mut task = PutFragmentsTask {
            shared: self.shared.clone(),
            ids,
            namespaces,
            namespace_index,
            texts,
            metadata,
            attributes,
            numbers,
            flags,
            dimension,
            vectors,
            change_ids,
            change_kinds,
            change_data,
            change_at,
        };
        if off_thread {
            Ok(Either::B(AsyncTask::new(task)))
        } else {
            task.compute().map(Either::A)
        }
    }

    /// `exec` on the libuv pool: the commit of a transaction that wrote a large batch
    /// (it writes the batch's pages to the log).
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn exec_off_thread(&self, sql: String) -> AsyncTask<ExecTask> {
        AsyncTask::new(ExecTask {
            shared: self.shared.clone(),
            sql,
        })
    }

    /// Reads one fragment into `out` from byte `offset` on (the record layout of
    /// [`store::FRAGMENT_RECORD_HEADER`]; `offset` a multiple of 8), with its vector when
    /// `with_vector`. Returns the bytes written (0: no such id), or minus the size needed
    /// when the rest of `out` is too small. The bytes before `offset` are left alone: JS
    /// hands out vectors as views on them. Runs on the JS thread: a point read is a few
    /// microseconds, less than a thread-pool hop.
    #[napi(catch_unwind)]
    pub fn read_fragment(
        &self,
        id: String,
        mut out: Uint8ArraySlice<'_>,
        offset: u32,
        with_vector: bool,
    ) -> Result<f64> {
        // SAFETY: a synchronous call on the JS thread: no JS runs while `out` is written.
        let out = tail(unsafe { out.as_mut() }, offset)?;
        with_store(&self.shared, |s| {
            s.encode_fragments(&[id.as_str()], out, with_vector)
        })
        .map(encoded)
    }

    /// [`Self::read_fragment`] for many ids: the records of the ids found, in order.
    #[napi(catch_unwind)]
    pub fn read_fragments(
        &self,
        ids: Vec<String>,
        mut out: Uint8ArraySlice<'_>,
        offset: u32,
        with_vectors: bool,
    ) -> Result<f64> {
        // SAFETY: as in `read_fragment`.
        let out = tail(unsafe { out.as_mut() }, offset)?;
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        with_store(&self.shared, |s| {
            s.encode_fragments(&ids, out, with_vectors)
        })
        .map(encoded)
    }

    /// Reads up to `limit` fragments with ids after `after` (of `namespace` when given),
    /// in id order, into `out` from byte `offset` on, each record with its id (see
    /// [`store::Store::encode_fragment_range`]). Returns the bytes written (0: none left;
    /// fewer records than `limit` may mean the rest did not fit), or minus the size
    /// needed when not even the first record fits.
    #[napi(catch_unwind)]
    pub fn read_fragment_range(
        &self,
        after: String,
        namespace: Option<String>,
        limit: u32,
        mut out: Uint8ArraySlice<'_>,
        offset: u32,
        with_vectors: bool,
    ) -> Result<f64> {
        // SAFETY: as in `read_fragment`.
        let out = tail(unsafe { out.as_mut() }, offset)?;
        with_store(&self.shared, |s| {
            s.encode_fragment_range(&after, namespace.as_deref(), limit, out, with_vectors)
        })
        .map(|r| match r {
            Ok((bytes, _)) => bytes as f64,
            Err(needed) => -(needed as f64),
        })
    }

    /// Reads up to `limit` fragments with rowids after `after` on the libuv thread pool
    /// (see [`store::Store::encode_fragment_rows`]): while one page is read, the JS thread
    /// decodes the one before.
    #[napi(catch_unwind, ts_return_type = "Promise<FragmentRows>")]
    pub fn read_fragment_rows(
        &self,
        after: f64,
        limit: u32,
        with_vectors: bool,
    ) -> AsyncTask<RowsTask> {
        AsyncTask::new(RowsTask {
            shared: self.shared.clone(),
            after: after as i64,
            limit,
            with_vectors,
        })
    }

    #[napi(catch_unwind)]
    pub fn record_fragment_uses(
        &self,
        ids: Vec<String>,
        counts: &[f64],
        ats: &[f64],
    ) -> Result<f64> {
        with_store(&self.shared, |s| s.record_fragment_uses(&ids, counts, ats)).map(|n| n as f64)
    }

    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn add_messages(
        &self,
        conversation_ids: Vec<String>,
        roles: Vec<String>,
        contents: Vec<String>,
        models: Vec<String>,
        prompt_tokens: &[f64],
        completion_tokens: &[f64],
        metadata: Vec<String>,
        timestamps: &[f64],
    ) -> Result<Float64Array> {
        let ids = with_store(&self.shared, |s| {
            s.add_messages(&MessageBatch {
                conversation_ids: &conversation_ids,
                roles: &roles,
                contents: &contents,
                models: &models,
                prompt_tokens,
                completion_tokens,
                metadata: &metadata,
                timestamps,
            })
        })?;
        Ok(Float64Array::new(
            ids.into_iter().map(|i| i as f64).collect(),
        ))
    }

    #[napi(catch_unwind)]
    pub fn add_events(
        &self,
        types: Vec<String>,
        type_index: &[u32],
        values: &[f64],
        has_data: &[u8],
        data: Vec<String>,
        timestamps: &[f64],
    ) -> Result<u32> {
        with_store(&self.shared, |s| {
            s.add_events(&EventBatch {
                types: &types,
                type_index,
                values,
                has_data,
                data: &data,
                timestamps,
            })
        })
        .map(|n| n as u32)
    }

    /// Runs a named analytics query on the libuv thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<QueryResult>")]
    pub fn analytics(
        &self,
        name: String,
        from: f64,
        to: f64,
        limit: u32,
        event_type: Option<String>,
    ) -> AsyncTask<AnalyticsTask> {
        AsyncTask::new(AnalyticsTask {
            shared: self.shared.clone(),
            name,
            params: AnalyticsParams {
                from: clamp_ms(from),
                to: clamp_ms(to),
                limit: i64::from(limit),
                event_type,
            },
        })
    }

    #[napi(catch_unwind)]
    pub fn integrity_check(&self) -> Result<String> {
        with_store(&self.shared, |s| s.integrity_check())
    }

    /// Closes the connection (checkpointing the WAL); later calls fail with DATA_CLOSED.
    #[napi(catch_unwind)]
    pub fn close(&self) -> Result<()> {
        let store = lock(&self.shared)?.take();
        drop(store);
        Ok(())
    }
}

/// `out[offset..]`, checking that `offset` is in range and a multiple of 8 (the records
/// hold f64s that JS reads through a Float64Array on the same memory).
fn tail(out: &mut [u8], offset: u32) -> Result<&mut [u8]> {
    let offset = offset as usize;
    if offset > out.len() || !offset.is_multiple_of(8) || !(out.as_ptr() as usize).is_multiple_of(8)
    {
        return Err(AiosError::invalid(format!(
            "offset: {offset} is not an aligned position in a {}-byte buffer",
            out.len()
        ))
        .into());
    }
    Ok(&mut out[offset..])
}

fn encoded(r: std::result::Result<usize, usize>) -> f64 {
    match r {
        Ok(n) => n as f64,
        Err(needed) => -(needed as f64),
    }
}

fn clamp_ms(v: f64) -> i64 {
    if v.is_nan() {
        0
    } else if v >= i64::MAX as f64 {
        i64::MAX
    } else if v <= i64::MIN as f64 {
        i64::MIN
    } else {
        v as i64
    }
}

pub struct AnalyticsTask {
    shared: Shared,
    name: String,
    params: AnalyticsParams,
}

impl Task for AnalyticsTask {
    type Output = store::Rows;
    type JsValue = QueryResult;

    fn compute(&mut self) -> Result<store::Rows> {
        with_store(&self.shared, |s| {
            analytics::run(s, &self.name, &self.params)
        })
    }

    fn resolve(&mut self, _env: Env, output: store::Rows) -> Result<QueryResult> {
        Ok(output.into())
    }
}

/// A page of fragment records in storage order, and where the next page starts.
#[napi(object)]
pub struct FragmentRows {
    /// The records, each with its id (see [`store::FRAGMENT_RECORD_HEADER`]).
    pub records: Buffer,
    /// The rowid of the last record (the `after` asked when there was none).
    pub last: f64,
}

/// The columns of a `put_fragments` call, held until it runs (on the pool or at once).
pub struct PutFragmentsTask {
    shared: Shared,
    ids: Vec<String>,
    namespaces: Vec<String>,
    namespace_index: Uint32Array,
    texts: Vec<String>,
    metadata: Vec<String>,
    attributes: Vec<String>,
    numbers: Float64Array,
    flags: Uint8Array,
    dimension: u32,
    vectors: Float32Array,
    change_ids: Vec<String>,
    change_kinds: Vec<String>,
    change_data: Vec<String>,
    change_at: Float64Array,
}

impl Task for PutFragmentsTask {
    type Output = u32;
    type JsValue = u32;

    fn compute(&mut self) -> Result<u32> {
        with_store(&self.shared, |s| {
            s.put_fragments(&FragmentBatch {
                ids: &self.ids,
                namespaces: &self.namespaces,
                namespace_index: &self.namespace_index,
                texts: &self.texts,
                metadata: &self.metadata,
                attributes: &self.attributes,
                numbers: &self.numbers,
                flags: &self.flags,
                dimension: self.dimension as usize,
                vectors: &self.vectors,
                changes: ChangeBatch {
                    fragment_ids: &self.change_ids,
                    kinds: &self.change_kinds,
                    data: &self.change_data,
                    at: &self.change_at,
                },
            })
        })
        .map(|n| n as u32)
    }

    fn resolve(&mut self, _env: Env, n: u32) -> Result<u32> {
        Ok(n)
    }
}

pub struct ExecTask {
    shared: Shared,
    sql: String,
}

impl Task for ExecTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        with_store(&self.shared, |s| s.exec(&self.sql))
    }

    fn resolve(&mut self, _env: Env, _: ()) -> Result<()> {
        Ok(())
    }
}

pub struct RowsTask {
    shared: Shared,
    after: i64,
    limit: u32,
    with_vectors: bool,
}

impl Task for RowsTask {
    type Output = (Vec<u8>, i64);
    type JsValue = FragmentRows;

    fn compute(&mut self) -> Result<(Vec<u8>, i64)> {
        with_store(&self.shared, |s| {
            s.encode_fragment_rows(self.after, self.limit, self.with_vectors)
        })
    }

    fn resolve(&mut self, _env: Env, (records, last): (Vec<u8>, i64)) -> Result<FragmentRows> {
        Ok(FragmentRows {
            records: records.into(),
            last: last as f64,
        })
    }
}
