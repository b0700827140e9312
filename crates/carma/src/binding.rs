//! The napi binding: the only module that knows about Node. It converts arguments,
//! delegates to the logic modules, and maps errors to `[AIOS:<CODE>] message` strings that
//! the TypeScript side turns into `AiosError`s with the same code.

use std::path::PathBuf;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use napi::bindgen_prelude::{AsyncTask, Float32Array, Float64Array, Uint32Array};
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

use crate::bm25::{Bm25Index, Bm25Params};
use crate::cluster;
use crate::error::CarmaError;
use crate::hnsw::HnswParams;
use crate::vector::{LoadError, Metric, SearchOptions, VectorIndex};
use crate::{embed, text};

fn to_napi(err: CarmaError) -> Error {
    Error::new(Status::GenericFailure, err.to_string())
}

fn io_error(err: &std::io::Error, path: &str) -> Error {
    let code = match err.kind() {
        std::io::ErrorKind::NotFound => "IO_NOT_FOUND",
        std::io::ErrorKind::PermissionDenied => "IO_PERMISSION_DENIED",
        _ => "IO_ERROR",
    };
    Error::new(
        Status::GenericFailure,
        format!("[AIOS:{code}] {path}: {err}"),
    )
}

/// Lowercased alphanumeric tokens, as BM25 and the embedder see them.
#[napi(catch_unwind)]
pub fn tokenize(text: String) -> Vec<String> {
    text::tokenize(&text)
}

fn check_dimension(dimension: u32) -> Result<usize> {
    if dimension == 0 || dimension as usize > crate::vector::MAX_DIM {
        return Err(to_napi(CarmaError::invalid(format!(
            "dimension: expected an integer from 1 to {}, got {dimension}",
            crate::vector::MAX_DIM
        ))));
    }
    Ok(dimension as usize)
}

/// Embeds texts with the built-in hashing embedder: a `texts.length x dimension`
/// row-major matrix, computed in parallel on the calling thread.
#[napi(catch_unwind)]
pub fn embed(texts: Vec<String>, dimension: u32) -> Result<Float32Array> {
    let dim = check_dimension(dimension)?;
    Ok(Float32Array::new(embed::embed_batch(&texts, dim)))
}

/// One text embedded with a weight per token (in `tokenize` order).
#[napi(catch_unwind)]
pub fn embed_weighted(text: String, dimension: u32, weights: &[f64]) -> Result<Float32Array> {
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
pub fn embed_async(texts: Vec<String>, dimension: u32) -> Result<AsyncTask<EmbedTask>> {
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
    pub m: u32,
    pub ef_construction: u32,
    pub seed: u32,
}

impl From<NativeHnswParams> for HnswParams {
    fn from(p: NativeHnswParams) -> Self {
        HnswParams {
            m: p.m as usize,
            ef_construction: p.ef_construction as usize,
            seed: u64::from(p.seed),
        }
    }
}

type Shared = Arc<RwLock<VectorIndex>>;

fn read(index: &Shared) -> RwLockReadGuard<'_, VectorIndex> {
    index.read().unwrap_or_else(|e| e.into_inner())
}

fn write(index: &Shared) -> RwLockWriteGuard<'_, VectorIndex> {
    index.write().unwrap_or_else(|e| e.into_inner())
}

/// A vector index: contiguous rows, exact search, optional HNSW graph, file persistence.
#[napi]
pub struct NativeVectorIndex {
    inner: Shared,
}

#[napi]
impl NativeVectorIndex {
    #[napi(constructor, catch_unwind)]
    pub fn new(dimension: u32, metric: String, hnsw: Option<NativeHnswParams>) -> Result<Self> {
        let metric = Metric::parse(&metric).map_err(to_napi)?;
        let index = VectorIndex::new(dimension as usize, metric, hnsw.map(HnswParams::from))
            .map_err(to_napi)?;
        Ok(Self {
            inner: Arc::new(RwLock::new(index)),
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
            m: p.m as u32,
            ef_construction: p.ef_construction as u32,
            seed: p.seed as u32,
        })
    }

    /// Adds or replaces rows (`labels.length x dimension` floats), on the calling thread.
    #[napi(catch_unwind)]
    pub fn add(&self, labels: &[u32], vectors: &[f32]) -> Result<()> {
        write(&self.inner).add(labels, vectors).map_err(to_napi)
    }

    /// `add` on the libuv thread pool (for large batches with a graph to extend). The
    /// caller must not mutate the arrays until the promise settles.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn add_async(&self, labels: Uint32Array, vectors: Float32Array) -> AsyncTask<AddTask> {
        AsyncTask::new(AddTask {
            index: self.inner.clone(),
            labels,
            vectors,
        })
    }

    #[napi(catch_unwind)]
    pub fn remove(&self, labels: &[u32]) -> u32 {
        write(&self.inner).remove(labels) as u32
    }

    #[napi(catch_unwind)]
    pub fn has(&self, label: u32) -> bool {
        read(&self.inner).contains(label)
    }

    /// The stored row (unit length under cosine), or null.
    #[napi(catch_unwind)]
    pub fn get(&self, label: u32) -> Option<Float32Array> {
        read(&self.inner)
            .get(label)
            .map(|r| Float32Array::new(r.to_vec()))
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
        k: u32,
        filter: Option<Uint32Array>,
        exact: Option<bool>,
        ef: Option<u32>,
    ) -> Result<NativeHits> {
        let options = SearchOptions {
            exact: exact.unwrap_or(false),
            ef: ef.map_or(64, |e| e as usize),
        };
        let res = read(&self.inner)
            .search(queries, k as usize, filter.as_deref(), options)
            .map_err(to_napi)?;
        Ok(NativeHits {
            labels: Uint32Array::new(res.labels),
            scores: Float32Array::new(res.scores),
        })
    }

    /// Builds the HNSW graph over every row (or drops it with null).
    #[napi(catch_unwind)]
    pub fn set_hnsw(&self, params: Option<NativeHnswParams>) -> Result<()> {
        write(&self.inner)
            .set_hnsw(params.map(HnswParams::from))
            .map_err(to_napi)
    }

    /// Drops deleted rows (rebuilding the graph, if any).
    #[napi(catch_unwind)]
    pub fn compact(&self) {
        write(&self.inner).compact();
    }

    /// Writes the index (rows and graph) to `path` atomically, off the JS thread.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn save(&self, path: String) -> AsyncTask<SaveTask> {
        AsyncTask::new(SaveTask {
            index: self.inner.clone(),
            path: PathBuf::from(path),
        })
    }

    /// Reads an index written by `save` (by either implementation), off the JS thread.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeVectorIndex>")]
    pub fn load(path: String) -> AsyncTask<LoadTask> {
        AsyncTask::new(LoadTask {
            path: PathBuf::from(path),
        })
    }
}

pub struct AddTask {
    index: Shared,
    labels: Uint32Array,
    vectors: Float32Array,
}

impl Task for AddTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        write(&self.index)
            .add(&self.labels, &self.vectors)
            .map_err(to_napi)
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

pub struct SaveTask {
    index: Shared,
    path: PathBuf,
}

impl Task for SaveTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        read(&self.index)
            .save(&self.path)
            .map_err(|e| io_error(&e, &self.path.to_string_lossy()))
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

pub struct LoadTask {
    path: PathBuf,
}

impl Task for LoadTask {
    type Output = VectorIndex;
    type JsValue = NativeVectorIndex;

    fn compute(&mut self) -> Result<VectorIndex> {
        VectorIndex::load(&self.path).map_err(|e| match e {
            LoadError::Io(io) => io_error(&io, &self.path.to_string_lossy()),
            LoadError::Format(f) => to_napi(f),
        })
    }

    fn resolve(&mut self, _env: Env, output: VectorIndex) -> Result<NativeVectorIndex> {
        Ok(NativeVectorIndex {
            inner: Arc::new(RwLock::new(output)),
        })
    }
}

/// A BM25 inverted index.
#[napi]
pub struct NativeLexicalIndex {
    inner: Bm25Index,
}

#[napi]
impl NativeLexicalIndex {
    #[napi(constructor, catch_unwind)]
    pub fn new(k1: f64, b: f64) -> Result<Self> {
        Ok(Self {
            inner: Bm25Index::new(Bm25Params { k1, b }).map_err(to_napi)?,
        })
    }

    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.len() as u32
    }

    #[napi(catch_unwind)]
    pub fn has(&self, label: u32) -> bool {
        self.inner.contains(label)
    }

    /// Adds or replaces documents.
    #[napi(catch_unwind)]
    pub fn add(&mut self, labels: &[u32], texts: Vec<String>) -> Result<()> {
        self.inner.add(labels, &texts).map_err(to_napi)
    }

    #[napi(catch_unwind)]
    pub fn remove(&mut self, labels: &[u32]) -> u32 {
        self.inner.remove(labels) as u32
    }

    /// IDF of each term over the live documents (unknown terms: df = 0).
    #[napi(catch_unwind)]
    pub fn idf(&self, terms: Vec<String>) -> Float64Array {
        Float64Array::new(self.inner.idf(&terms))
    }

    /// The best documents sharing a term with `query` (at most `k`), best first.
    #[napi(catch_unwind)]
    pub fn search(&self, query: String, k: u32, filter: Option<Uint32Array>) -> Result<NativeHits> {
        let hits = self
            .inner
            .search(&query, k as usize, filter.as_deref())
            .map_err(to_napi)?;
        Ok(NativeHits {
            labels: Uint32Array::new(hits.iter().map(|h| h.id).collect()),
            scores: Float32Array::new(hits.iter().map(|h| h.score).collect()),
        })
    }
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
        .map_err(to_napi)
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
    dimension: u32,
    k: u32,
    max_iter: u32,
    seed: u32,
) -> AsyncTask<KMeansTask> {
    AsyncTask::new(KMeansTask {
        data,
        dim: dimension,
        k,
        max_iter,
        seed,
    })
}
