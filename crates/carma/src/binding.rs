//! The napi binding: the only module that knows about Node. It converts arguments,
//! delegates to the logic modules, and maps errors through `aios_error` to
//! `[AIOS:<CODE>] message` strings that the TypeScript side turns into `AiosError`s with
//! the same code.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use aios_error::AiosError;
use napi::bindgen_prelude::{AsyncTask, Float32Array, Float64Array, Uint32Array, Uint8ArraySlice};
use napi::{Env, Result, Task};
use napi_derive::napi;

use crate::bm25::{count_terms, Bm25Index, Bm25Params};
use crate::cluster;
use crate::file_bytes::FileCheck;
use crate::hnsw::{Hnsw, HnswParams};
use crate::query::prepare_query;
use crate::vector::{
    js_number, Compaction, Metric, SearchOptions, SearchResults, VectorIndex, MAX_DIM, MAX_K,
};
use crate::{embed, text};

/// Lowercased alphanumeric runs, the tokens the embedder sees.
#[napi(catch_unwind)]
pub fn tokenize(text: String) -> Vec<String> {
    text::tokenize(&text)
}

/// The terms BM25 indexes a text by: `tokenize`'s runs, CJK ones as pairs of characters.
#[napi(catch_unwind)]
pub fn lexical_tokens(text: String) -> Vec<String> {
    text::lexical_tokens(&text)
}

/// Largest HNSW search breadth.
const MAX_EF: u32 = 100_000;

/// A JS number that must be an integer from `min` to `max`. Numbers arrive as `f64`:
/// napi's own `u32` conversion would truncate 2.5 to 2, wrap -1 to 4294967295 and read
/// NaN as 0. The TypeScript wrapper checks the same before calling; this keeps the
/// binding sound on its own.
fn integer(field: &str, value: f64, min: u32, max: u32) -> Result<u32> {
    if value.fract() == 0.0 && value >= f64::from(min) && value <= f64::from(max) {
        Ok(value as u32)
    } else {
        Err(AiosError::invalid_input(
            field,
            &format!("an integer from {min} to {max}"),
            format!("{} (number)", js_number(value)),
        )
        .into())
    }
}

fn check_dimension(dimension: f64) -> Result<usize> {
    Ok(integer("dimension", dimension, 1, MAX_DIM as u32)? as usize)
}

fn check_k(k: f64) -> Result<usize> {
    Ok(integer("k", k, 1, MAX_K as u32)? as usize)
}

fn check_label(label: f64) -> Result<u32> {
    integer("label", label, 0, u32::MAX)
}

/// Embeds texts with the built-in hashing embedder: a `texts.length x dimension`
/// row-major matrix, computed in parallel on the calling thread.
#[napi(catch_unwind)]
pub fn embed(texts: Vec<String>, dimension: f64) -> Result<Float32Array> {
    let dim = check_dimension(dimension)?;
    Ok(Float32Array::new(embed::embed_batch(&texts, dim)))
}

/// One text embedded with a weight per token (in `tokenize` order).
#[napi(catch_unwind)]
pub fn embed_weighted(text: String, dimension: f64, weights: &[f64]) -> Result<Float32Array> {
    let dim = check_dimension(dimension)?;
    let mut out = vec![0f32; dim];
    embed::embed_weighted_into(&text, Some(weights), &mut out);
    Ok(Float32Array::new(out))
}

pub struct EmbedTask {
    texts: Vec<String>,
    dim: usize,
}

impl Task for EmbedTask {
    type Output = Vec<f32>;
    type JsValue = Float32Array;

    fn compute(&mut self) -> Result<Vec<f32>> {
        Ok(embed::embed_batch(&self.texts, self.dim))
    }

    fn resolve(&mut self, _env: Env, output: Vec<f32>) -> Result<Float32Array> {
        Ok(Float32Array::new(output))
    }
}

/// `embed` on the libuv thread pool.
#[napi(catch_unwind, ts_return_type = "Promise<Float32Array>")]
pub fn embed_async(texts: Vec<String>, dimension: f64) -> Result<AsyncTask<EmbedTask>> {
    let dim = check_dimension(dimension)?;
    Ok(AsyncTask::new(EmbedTask { texts, dim }))
}

/// Search hits: labels and scores, best first.
#[napi(object)]
pub struct NativeHits {
    pub labels: Uint32Array,
    pub scores: Float32Array,
}

#[napi(object)]
#[derive(Clone, Copy)]
pub struct NativeHnswParams {
    pub m: f64,
    pub ef_construction: f64,
    pub seed: f64,
}

impl NativeHnswParams {
    fn parse(self) -> Result<HnswParams> {
        let m = integer("hnsw.m", self.m, 2, 256)?;
        let ef_construction = integer("hnsw.efConstruction", self.ef_construction, 1, 100_000)?;
        let seed = integer("hnsw.seed", self.seed, 0, u32::MAX)?;
        Ok(HnswParams {
            m: m as usize,
            ef_construction: ef_construction as usize,
            seed: u64::from(seed),
        })
    }
}

/// An index that searches off the JS thread (a task holds it while JS may change it).
type SharedIndex<T> = Arc<RwLock<T>>;
type Shared = SharedIndex<VectorIndex>;

// A panic while a lock was held is reported by its call; the index stays usable.
fn read<T>(index: &SharedIndex<T>) -> RwLockReadGuard<'_, T> {
    index.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(index: &SharedIndex<T>) -> RwLockWriteGuard<'_, T> {
    index.write().unwrap_or_else(|e| e.into_inner())
}

/// An index whose label→slot map may be built when first asked (`crate::label_slots`).
trait LabelSlotted {
    fn build_label_slots(&self);
    /// Whether adding documents of `labels` can do without the map (see `Bm25Index::all_new`).
    fn adds_without_label_slots(&self, _labels: &[u32]) -> bool {
        false
    }
}

impl LabelSlotted for VectorIndex {
    fn build_label_slots(&self) {
        VectorIndex::build_label_slots(self);
    }
}

impl LabelSlotted for Bm25Index {
    fn build_label_slots(&self) {
        Bm25Index::build_label_slots(self);
    }
    fn adds_without_label_slots(&self, labels: &[u32]) -> bool {
        self.all_new(labels)
    }
}

/// The write lock of an index whose label→slot map is built first, under the read lock:
/// at 1M labels that takes tens of milliseconds, which no search should wait for.
fn write_labelled<T: LabelSlotted>(index: &SharedIndex<T>) -> RwLockWriteGuard<'_, T> {
    read(index).build_label_slots();
    write(index)
}

/// `write_labelled` for an add of `labels`, which leaves the map unbuilt when it can.
fn write_adding<'a, T: LabelSlotted>(
    index: &'a SharedIndex<T>,
    labels: &[u32],
) -> RwLockWriteGuard<'a, T> {
    {
        let index = read(index);
        if !index.adds_without_label_slots(labels) {
            index.build_label_slots();
        }
    }
    write(index)
}

/// The write lock of a vector index whose rows, codes and graph layer 0 are its own: those
/// still mapped from the index file are copied first with no lock held (searches go on),
/// and only installed under the lock. One copy at a time (a sync `add` beside an
/// `addAsync`): the second writer finds them its own by then, and they are never in memory
/// twice over.
fn write_owning_rows(index: &Shared) -> RwLockWriteGuard<'_, VectorIndex> {
    static COPYING: Mutex<()> = Mutex::new(());
    let mapped = || {
        let index = read(index);
        (
            index.mapped_rows(),
            index.mapped_codes(),
            index.mapped_layer0(),
        )
    };
    if let (None, None, None) = mapped() {
        return write_labelled(index);
    }
    let _one = COPYING.lock().unwrap_or_else(|e| e.into_inner());
    // The read guard is dropped before the copies: a writer queued meanwhile would
    // otherwise hold back every search behind it for the whole copy.
    let (rows, codes, layer0) = mapped();
    let layer0 = layer0.map(|from| {
        let copy = Hnsw::copy_layer0(&from);
        (from, copy)
    });
    read(index).build_label_slots();
    let rows = rows.map(|from| {
        let copy = from.copy();
        (from, copy)
    });
    let codes = codes.map(|from| {
        let copy = from.copy();
        (from, copy)
    });
    let mut guard = write(index);
    if let Some((from, copy)) = rows {
        guard.adopt_rows(&from, copy);
    }
    if let Some((from, copy)) = codes {
        guard.adopt_codes(&from, copy);
    }
    if let Some((from, copy)) = layer0 {
        guard.adopt_layer0(&from, copy);
    }
    guard
}

/// The bytes of a file that is only ever replaced, never changed in place, mapped: the
/// pages are read as they are used, and the mapping lives as long as the array.
#[napi(catch_unwind)]
pub fn map_file<'env>(env: &'env Env, path: String) -> Result<Uint8ArraySlice<'env>> {
    let mut map = crate::mapped::map_file_private(std::path::Path::new(&path))
        .map_err(|e| AiosError::io(&e, &path).into_napi())?;
    if map.is_empty() {
        return Uint8ArraySlice::from_data(env, Vec::new());
    }
    let (data, len) = (map.as_mut_ptr(), map.len());
    // SAFETY: `data` is the mapping's, valid for `len` bytes until the finalizer drops it.
    unsafe { Uint8ArraySlice::from_external(env, data, len, map, |_, map| drop(map)) }
}

/// A vector index: contiguous rows, exact search, optional HNSW graph, file persistence.
#[napi]
pub struct NativeVectorIndex {
    inner: Shared,
    /// Set to stop a running `compactAsync`.
    stop: Arc<AtomicBool>,
    /// Held by an `addAsync` from its rows to its last link and by `save`: a file never
    /// holds a graph with nodes not yet linked.
    linking: Arc<Mutex<()>>,
}

#[napi]
impl NativeVectorIndex {
    #[napi(constructor, catch_unwind)]
    pub fn new(dimension: f64, metric: String, hnsw: Option<NativeHnswParams>) -> Result<Self> {
        let dim = check_dimension(dimension)?;
        let metric = Metric::parse(&metric).map_err(AiosError::into_napi)?;
        let hnsw = hnsw.map(NativeHnswParams::parse).transpose()?;
        let index = VectorIndex::new(dim, metric, hnsw).map_err(AiosError::into_napi)?;
        Ok(Self {
            inner: Arc::new(RwLock::new(index)),
            stop: Arc::default(),
            linking: Arc::default(),
        })
    }

    #[napi(getter)]
    pub fn size(&self) -> u32 {
        read(&self.inner).len() as u32
    }

    #[napi(getter)]
    pub fn dimension(&self) -> u32 {
        read(&self.inner).dim as u32
    }

    #[napi(getter)]
    pub fn metric(&self) -> String {
        read(&self.inner).metric.name().to_owned()
    }

    /// Stored rows including deleted ones not yet compacted.
    #[napi(getter)]
    pub fn slots(&self) -> u32 {
        read(&self.inner).slots() as u32
    }

    #[napi(getter)]
    pub fn hnsw(&self) -> Option<NativeHnswParams> {
        read(&self.inner).hnsw_params().map(|p| NativeHnswParams {
            m: p.m as f64,
            ef_construction: p.ef_construction as f64,
            seed: p.seed as f64,
        })
    }

    /// Adds or replaces rows (`labels.length x dimension` floats), on the calling thread.
    #[napi(catch_unwind)]
    pub fn add(&self, labels: &[u32], vectors: &[f32]) -> Result<()> {
        write_owning_rows(&self.inner)
            .add(labels, vectors)
            .map_err(AiosError::into_napi)
    }

    /// `add` on the libuv thread pool (for large batches with a graph to extend): the
    /// rows are stored under the write lock, and linked into the graph under the read
    /// lock, so that searches are answered meanwhile. The caller must not mutate the
    /// arrays until the promise settles. With `nearest` (1 to 10,000) and a graph, resolves
    /// with that many nearest rows held before the batch per added row, found by the walks
    /// that linked them (`VectorIndex::link`); else with null.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeHits | null>")]
    pub fn add_async(
        &self,
        labels: Uint32Array,
        vectors: Float32Array,
        nearest: Option<f64>,
    ) -> Result<AsyncTask<AddTask>> {
        let nearest = match nearest {
            Some(k) => integer("nearest", k, 1, MAX_K as u32)? as usize,
            None => 0,
        };
        Ok(AsyncTask::new(AddTask {
            index: self.inner.clone(),
            linking: self.linking.clone(),
            labels,
            vectors,
            nearest,
        }))
    }

    #[napi(catch_unwind)]
    pub fn remove(&self, labels: &[u32]) -> u32 {
        write_labelled(&self.inner).remove(labels) as u32
    }

    #[napi(catch_unwind)]
    pub fn has(&self, label: f64) -> Result<bool> {
        Ok(read(&self.inner).contains(check_label(label)?))
    }

    /// The stored row (unit length under cosine), or null.
    #[napi(catch_unwind)]
    pub fn get(&self, label: f64) -> Result<Option<Float32Array>> {
        let label = check_label(label)?;
        Ok(read(&self.inner)
            .get(label)
            .map(|r| Float32Array::new(r.to_vec())))
    }

    /// Live labels in storage order.
    #[napi(catch_unwind)]
    pub fn labels(&self) -> Uint32Array {
        Uint32Array::new(read(&self.inner).labels())
    }

    /// Top-k for each query row: `k` entries per query, padded with label 4294967295 and
    /// score -Infinity. `filter` restricts results to those labels.
    #[napi(catch_unwind)]
    pub fn search(
        &self,
        queries: &[f32],
        k: f64,
        filter: Option<Uint32Array>,
        exact: Option<bool>,
        ef: Option<f64>,
    ) -> Result<NativeHits> {
        let (k, options) = search_options(k, exact, ef)?;
        let res = read(&self.inner)
            .search(queries, k, filter.as_deref(), options)
            .map_err(AiosError::into_napi)?;
        Ok(NativeHits {
            labels: Uint32Array::new(res.labels),
            scores: Float32Array::new(res.scores),
        })
    }

    /// `search` on the libuv thread pool: a server's event loop goes on with other
    /// requests while the graph is walked. Writes wait for the searches in progress (a
    /// read lock each), never the other way round. The caller must not mutate the arrays
    /// until the promise settles.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeHits>")]
    pub fn search_async(
        &self,
        queries: Float32Array,
        k: f64,
        filter: Option<Uint32Array>,
        exact: Option<bool>,
        ef: Option<f64>,
    ) -> Result<AsyncTask<SearchTask>> {
        let (k, options) = search_options(k, exact, ef)?;
        Ok(AsyncTask::new(SearchTask {
            index: self.inner.clone(),
            queries,
            k,
            filter,
            options,
        }))
    }

    /// Builds the HNSW graph over every row (or drops it with null).
    #[napi(catch_unwind)]
    pub fn set_hnsw(&self, params: Option<NativeHnswParams>) -> Result<()> {
        let params = params.map(NativeHnswParams::parse).transpose()?;
        write(&self.inner)
            .set_hnsw(params)
            .map_err(AiosError::into_napi)
    }

    /// Drops deleted rows (rebuilding the graph, if any).
    #[napi(catch_unwind)]
    pub fn compact(&self) {
        write(&self.inner).compact();
    }

    /// `compact` on the libuv thread pool, beside searches and writes: they wait only for
    /// the swap at the end. With `hnsw`, the new index has a graph of those parameters
    /// (how a large index gets its first graph without blocking). Resolves false when
    /// stopped (`stopCompaction`) or when the index was renumbered meanwhile (the copy is
    /// then dropped, nothing changed).
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub fn compact_async(&self, hnsw: Option<NativeHnswParams>) -> Result<AsyncTask<CompactTask>> {
        let graph = hnsw.map(NativeHnswParams::parse).transpose()?;
        self.stop.store(false, Ordering::Relaxed);
        // Started here, so that a `compact` called before the task runs drops it.
        let start = read(&self.inner).start_compaction(graph);
        Ok(AsyncTask::new(CompactTask {
            index: self.inner.clone(),
            stop: self.stop.clone(),
            start: Some(start),
        }))
    }

    /// Stops a running `compactAsync` at its next step.
    #[napi]
    pub fn stop_compaction(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Writes the index (rows and graph) to `path` atomically, off the JS thread.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn save(&self, path: String) -> AsyncTask<SaveTask> {
        AsyncTask::new(SaveTask {
            index: self.inner.clone(),
            linking: self.linking.clone(),
            path: PathBuf::from(path),
        })
    }

    /// Reads an index written by `save` (by either implementation), off the JS thread;
    /// `verified`: the file was checked in full before and is unchanged since (only its
    /// structure is checked).
    #[napi(catch_unwind, ts_return_type = "Promise<NativeVectorIndex>")]
    pub fn load(path: String, verified: Option<bool>) -> AsyncTask<LoadTask> {
        AsyncTask::new(LoadTask {
            path: PathBuf::from(path),
            check: file_check(verified),
        })
    }
}

fn search_options(k: f64, exact: Option<bool>, ef: Option<f64>) -> Result<(usize, SearchOptions)> {
    let k = check_k(k)?;
    let options = SearchOptions {
        exact: exact.unwrap_or(false),
        ef: match ef {
            Some(e) => integer("ef", e, 1, MAX_EF)? as usize,
            None => 64,
        },
    };
    Ok((k, options))
}

pub struct SearchTask {
    index: Shared,
    queries: Float32Array,
    k: usize,
    filter: Option<Uint32Array>,
    options: SearchOptions,
}

impl Task for SearchTask {
    type Output = SearchResults;
    type JsValue = NativeHits;

    fn compute(&mut self) -> Result<Self::Output> {
        read(&self.index)
            .search(&self.queries, self.k, self.filter.as_deref(), self.options)
            .map_err(AiosError::into_napi)
    }

    fn resolve(&mut self, _env: Env, res: Self::Output) -> Result<NativeHits> {
        Ok(NativeHits {
            labels: Uint32Array::new(res.labels),
            scores: Float32Array::new(res.scores),
        })
    }
}

pub struct AddTask {
    index: Shared,
    linking: Arc<Mutex<()>>,
    labels: Uint32Array,
    vectors: Float32Array,
    nearest: usize,
}

impl Task for AddTask {
    type Output = Option<SearchResults>;
    type JsValue = Option<NativeHits>;

    fn compute(&mut self) -> Result<Self::Output> {
        let _linking = self.linking.lock().unwrap_or_else(|e| e.into_inner());
        let pending = write_owning_rows(&self.index)
            .append(&self.labels, &self.vectors)
            .map_err(AiosError::into_napi)?;
        Ok(pending.and_then(|p| read(&self.index).link(&p, self.nearest)))
    }

    fn resolve(&mut self, _env: Env, res: Self::Output) -> Result<Self::JsValue> {
        Ok(res.map(|r| NativeHits {
            labels: Uint32Array::new(r.labels),
            scores: Float32Array::new(r.scores),
        }))
    }
}

/// Source rows copied per read lock by `CompactTask` (about a millisecond of copying).
const COMPACT_COPY_ROWS: usize = 2048;
/// Rounds of catching up with rows written meanwhile before the swap takes the write
/// lock (and indexes whatever arrived after the last round under it).
const COMPACT_CATCH_UP_ROUNDS: usize = 16;

pub struct CompactTask {
    index: Shared,
    stop: Arc<AtomicBool>,
    start: Option<Compaction>,
}

impl CompactTask {
    /// Copies what the index holds beyond `c`, a few rows per read lock, until stopped:
    /// a memory closing stops a compaction it will not keep, and copying the rest of a
    /// large index first took seconds and touched every page of its file.
    fn copy(&self, c: &mut Compaction) {
        while !self.stop.load(Ordering::Relaxed)
            && read(&self.index).copy_for_compaction(c, COMPACT_COPY_ROWS)
        {}
    }
}

impl Task for CompactTask {
    type Output = bool;
    type JsValue = bool;

    fn compute(&mut self) -> Result<bool> {
        let Some(mut c) = self.start.take() else {
            return Ok(false);
        };
        for _ in 0..COMPACT_CATCH_UP_ROUNDS {
            self.copy(&mut c);
            if self.stop.load(Ordering::Relaxed) {
                return Ok(false);
            }
            if c.pending() == 0 {
                break;
            }
            if !c.index(&self.stop) {
                return Ok(false);
            }
        }
        if self.stop.load(Ordering::Relaxed) {
            return Ok(false);
        }
        Ok(write(&self.index).finish_compaction(c))
    }

    fn resolve(&mut self, _env: Env, done: bool) -> Result<bool> {
        Ok(done)
    }
}

pub struct SaveTask {
    index: Shared,
    linking: Arc<Mutex<()>>,
    path: PathBuf,
}

impl Task for SaveTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let _linking = self.linking.lock().unwrap_or_else(|e| e.into_inner());
        read(&self.index)
            .save(&self.path)
            .map_err(|e| AiosError::io(&e, self.path.display()).into())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

pub struct LoadTask {
    path: PathBuf,
    check: FileCheck,
}

fn file_check(verified: Option<bool>) -> FileCheck {
    if verified == Some(true) {
        FileCheck::Structure
    } else {
        FileCheck::Full
    }
}

impl Task for LoadTask {
    type Output = VectorIndex;
    type JsValue = NativeVectorIndex;

    fn compute(&mut self) -> Result<VectorIndex> {
        VectorIndex::load_checked(&self.path, self.check).map_err(AiosError::into_napi)
    }

    fn resolve(&mut self, _env: Env, output: VectorIndex) -> Result<NativeVectorIndex> {
        Ok(NativeVectorIndex {
            inner: Arc::new(RwLock::new(output)),
            stop: Arc::default(),
            linking: Arc::default(),
        })
    }
}

#[napi(object)]
pub struct NativeBm25Params {
    pub k1: f64,
    pub b: f64,
}

/// A BM25 inverted index.
#[napi]
pub struct NativeLexicalIndex {
    inner: SharedIndex<Bm25Index>,
}

#[napi]
impl NativeLexicalIndex {
    #[napi(constructor, catch_unwind)]
    pub fn new(k1: f64, b: f64) -> Result<Self> {
        Ok(Self {
            inner: Arc::new(RwLock::new(
                Bm25Index::new(Bm25Params { k1, b }).map_err(AiosError::into_napi)?,
            )),
        })
    }

    #[napi(getter)]
    pub fn size(&self) -> u32 {
        read(&self.inner).len() as u32
    }

    #[napi(catch_unwind)]
    pub fn has(&self, label: f64) -> Result<bool> {
        Ok(read(&self.inner).contains(check_label(label)?))
    }

    /// The version of the tokenizer its terms come from (see `text::LEXICAL_TOKENIZER`).
    #[napi(getter)]
    pub fn tokenizer(&self) -> u32 {
        read(&self.inner).tokenizer
    }

    /// The BM25 parameters (`k1`, `b`) it scores with.
    #[napi(getter)]
    pub fn params(&self) -> NativeBm25Params {
        let p = read(&self.inner).params;
        NativeBm25Params { k1: p.k1, b: p.b }
    }

    /// The labels of the live documents, in the order they were added.
    #[napi]
    pub fn labels(&self) -> Uint32Array {
        Uint32Array::new(read(&self.inner).labels())
    }

    /// Writes the live documents and terms to `path` atomically, off the JS thread.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn save(&self, path: String) -> AsyncTask<LexicalSaveTask> {
        AsyncTask::new(LexicalSaveTask {
            index: self.inner.clone(),
            path: PathBuf::from(path),
        })
    }

    /// Reads an index written by `save` (by either implementation), off the JS thread;
    /// `verified` as for the vector index's `load`.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeLexicalIndex>")]
    pub fn load(path: String, verified: Option<bool>) -> AsyncTask<LexicalLoadTask> {
        AsyncTask::new(LexicalLoadTask {
            path: PathBuf::from(path),
            check: file_check(verified),
        })
    }

    /// Adds or replaces documents.
    #[napi(catch_unwind)]
    pub fn add(&self, labels: &[u32], texts: Vec<String>) -> Result<()> {
        write_adding(&self.inner, labels)
            .add(labels, &texts)
            .map_err(AiosError::into_napi)
    }

    /// `add` off the JS thread (a memory opening tokenizes its texts while its vector index
    /// file loads).
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn add_async(&self, labels: Uint32Array, texts: Vec<String>) -> AsyncTask<LexicalAddTask> {
        AsyncTask::new(LexicalAddTask {
            index: self.inner.clone(),
            labels,
            texts,
        })
    }

    #[napi(catch_unwind)]
    pub fn remove(&self, labels: &[u32]) -> u32 {
        write_labelled(&self.inner).remove(labels) as u32
    }

    /// Removes documents given the texts they were added with (one per label): their
    /// postings are found through their terms (`Bm25Index::remove_counted`).
    #[napi(catch_unwind)]
    pub fn remove_texts(&self, labels: &[u32], texts: Vec<String>) -> Result<u32> {
        if labels.len() != texts.len() {
            return Err(AiosError::invalid(format!(
                "texts: expected {} texts (one per label), got {}",
                labels.len(),
                texts.len()
            ))
            .into_napi());
        }
        // Tokenized before the lock is taken: searches go on meanwhile.
        let counted = count_terms(&texts, false);
        Ok(write_labelled(&self.inner).remove_counted(labels, &counted) as u32)
    }

    /// IDF of each term over the live documents (unknown terms: df = 0).
    #[napi(catch_unwind)]
    pub fn idf(&self, terms: Vec<String>) -> Float64Array {
        Float64Array::new(read(&self.inner).idf(&terms))
    }

    /// The best documents sharing a term with `query` (at most `k`), best first.
    #[napi(catch_unwind)]
    pub fn search(&self, query: String, k: f64, filter: Option<Uint32Array>) -> Result<NativeHits> {
        let hits = read(&self.inner)
            .search(&query, check_k(k)?, filter.as_deref())
            .map_err(AiosError::into_napi)?;
        Ok(to_hits(&hits))
    }

    /// A search query tokenised once, in one call: the ids of its terms in this index
    /// (for `searchTerms`) and, with a `dimension`, its embedding by the built-in embedder
    /// with each token weighted by its IDF here.
    #[napi(catch_unwind)]
    pub fn prepare_query(
        &self,
        query: String,
        dimension: Option<f64>,
    ) -> Result<NativePreparedQuery> {
        let dim = dimension.map(check_dimension).transpose()?;
        let prepared = prepare_query(&read(&self.inner), &query, dim);
        Ok(NativePreparedQuery {
            terms: Uint32Array::new(prepared.terms),
            vector: prepared.vector.map(Float32Array::new),
            idf_mass: prepared.idf_mass,
        })
    }

    /// `search` for the term ids of `prepareQuery`: the query is not tokenised again.
    #[napi(catch_unwind)]
    pub fn search_terms(
        &self,
        terms: &[u32],
        k: f64,
        filter: Option<Uint32Array>,
    ) -> Result<NativeHits> {
        let hits = read(&self.inner)
            .search_terms(terms, check_k(k)?, filter.as_deref())
            .map_err(AiosError::into_napi)?;
        Ok(to_hits(&hits))
    }

    /// `searchTerms` off the JS thread (the vector search of a hybrid query runs beside it).
    #[napi(catch_unwind, ts_return_type = "Promise<NativeHits>")]
    pub fn search_terms_async(
        &self,
        terms: Uint32Array,
        k: f64,
        filter: Option<Uint32Array>,
    ) -> Result<AsyncTask<LexicalSearchTask>> {
        Ok(AsyncTask::new(LexicalSearchTask {
            index: self.inner.clone(),
            terms,
            k: check_k(k)?,
            filter,
        }))
    }
}

pub struct LexicalAddTask {
    index: SharedIndex<Bm25Index>,
    labels: Uint32Array,
    texts: Vec<String>,
}

impl Task for LexicalAddTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        // Tokenized on this pool thread before the lock is taken (searches go on); not on
        // rayon, whose threads may be loading the vector index meanwhile.
        let counted = count_terms(&self.texts, false);
        write_adding(&self.index, &self.labels)
            .add_counted(&self.labels, &counted)
            .map_err(AiosError::into_napi)
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

pub struct LexicalSaveTask {
    index: SharedIndex<Bm25Index>,
    path: PathBuf,
}

impl Task for LexicalSaveTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        read(&self.index)
            .save(&self.path)
            .map_err(|e| AiosError::io(&e, self.path.display()).into())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

pub struct LexicalLoadTask {
    path: PathBuf,
    check: FileCheck,
}

impl Task for LexicalLoadTask {
    type Output = Bm25Index;
    type JsValue = NativeLexicalIndex;

    fn compute(&mut self) -> Result<Bm25Index> {
        Bm25Index::load_checked(&self.path, self.check).map_err(AiosError::into_napi)
    }

    fn resolve(&mut self, _env: Env, output: Bm25Index) -> Result<NativeLexicalIndex> {
        Ok(NativeLexicalIndex {
            inner: Arc::new(RwLock::new(output)),
        })
    }
}

pub struct LexicalSearchTask {
    index: SharedIndex<Bm25Index>,
    terms: Uint32Array,
    k: usize,
    filter: Option<Uint32Array>,
}

impl Task for LexicalSearchTask {
    type Output = Vec<crate::topk::Hit>;
    type JsValue = NativeHits;

    fn compute(&mut self) -> Result<Self::Output> {
        read(&self.index)
            .search_terms(&self.terms, self.k, self.filter.as_deref())
            .map_err(AiosError::into_napi)
    }

    fn resolve(&mut self, _env: Env, hits: Self::Output) -> Result<NativeHits> {
        Ok(to_hits(&hits))
    }
}

fn to_hits(hits: &[crate::topk::Hit]) -> NativeHits {
    NativeHits {
        labels: Uint32Array::new(hits.iter().map(|h| h.id).collect()),
        scores: Float32Array::new(hits.iter().map(|h| h.score).collect()),
    }
}

/// What `prepareQuery` returns.
#[napi(object)]
pub struct NativePreparedQuery {
    /// Term ids of the query's known tokens, in order, repeats kept.
    pub terms: Uint32Array,
    /// The IDF-weighted embedding, when a dimension was given.
    pub vector: Option<Float32Array>,
    /// The sum of the IDF of every token (repeats kept; unknown tokens at the highest).
    pub idf_mass: f64,
}

/// A k-means clustering.
#[napi(object)]
pub struct NativeKMeans {
    pub centroids: Float32Array,
    pub assignments: Uint32Array,
    pub inertia: f64,
    pub iterations: u32,
}

pub struct KMeansTask {
    data: Float32Array,
    dim: u32,
    k: u32,
    max_iter: u32,
    seed: u32,
}

impl Task for KMeansTask {
    type Output = cluster::KMeans;
    type JsValue = NativeKMeans;

    fn compute(&mut self) -> Result<cluster::KMeans> {
        cluster::kmeans(
            &self.data,
            self.dim as usize,
            self.k as usize,
            self.max_iter,
            u64::from(self.seed),
        )
        .map_err(AiosError::into_napi)
    }

    fn resolve(&mut self, _env: Env, out: cluster::KMeans) -> Result<NativeKMeans> {
        Ok(NativeKMeans {
            centroids: Float32Array::new(out.centroids),
            assignments: Uint32Array::new(out.assignments),
            inertia: out.inertia,
            iterations: out.iterations,
        })
    }
}

/// Spherical k-means (k-means++ seeding) of unit rows, off the JS thread. The caller must
/// not mutate `data` until the promise settles.
#[napi(catch_unwind, ts_return_type = "Promise<NativeKMeans>")]
pub fn kmeans(
    data: Float32Array,
    dimension: f64,
    k: f64,
    max_iter: f64,
    seed: f64,
) -> Result<AsyncTask<KMeansTask>> {
    Ok(AsyncTask::new(KMeansTask {
        dim: integer("dimension", dimension, 1, MAX_DIM as u32)?,
        k: integer("k", k, 1, u32::MAX)?,
        max_iter: integer("maxIter", max_iter, 0, u32::MAX)?,
        seed: integer("seed", seed, 0, u32::MAX)?,
        data,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_not_truncated() {
        assert_eq!(integer("k", 3.0, 1, 10).unwrap(), 3);
        assert_eq!(check_label(4_294_967_295.0).unwrap(), u32::MAX);
        for bad in [
            2.5,
            -1.0,
            0.0,
            11.0,
            f64::NAN,
            f64::INFINITY,
            4_294_967_297.0,
        ] {
            let err = integer("k", bad, 1, 10).unwrap_err();
            assert!(
                err.reason
                    .starts_with("[AIOS:INVALID_INPUT] k: expected an integer from 1 to 10, got "),
                "{bad}: {}",
                err.reason
            );
        }
        assert!(integer("k", f64::NAN, 1, 10)
            .unwrap_err()
            .reason
            .ends_with("got NaN (number)"));
        assert!(check_label(-1.0).is_err());
    }
}
