//! The napi binding: the only module that knows about Node. It converts arguments,
//! delegates to `batch`/`chunker`, and maps errors through `aios_error` to
//! `[AIOS:<CODE>] message` strings that the TypeScript side turns into `AiosError`s with
//! the same code. Per-item failures of a batch come back as `errorCode`/`errorMessage`
//! fields instead of failing the batch.

use aios_error::AiosError;
use napi::bindgen_prelude::{AsyncTask, Buffer, Uint8Array};
use napi::{Env, Result, Task};
use napi_derive::napi;

use crate::arena;
use crate::batch::{self, BlobRef, ItemError, RangeRequest};
use crate::chunker::{self, FileChunks, Params};
use crate::restore::{self, BlobLocation, RestoreFile};
use crate::window::{self, Window, WindowRequest};

/// A byte offset from JavaScript (napi has no u64): refused when negative.
fn offset(value: i64) -> Result<u64> {
    u64::try_from(value)
        .map_err(|_| AiosError::invalid(format!("offset: expected >= 0, got {value}")).into())
}

fn params(min_size: u32, avg_size: u32, max_size: u32) -> Result<Params> {
    let p = Params {
        min_size,
        avg_size,
        max_size,
    };
    p.validate().map_err(AiosError::invalid)?;
    Ok(p)
}

#[napi(object)]
pub struct NativeChunk {
    pub id: String,
    pub offset: i64,
    pub length: u32,
}

#[napi(object)]
pub struct NativeFileChunks {
    pub size: i64,
    pub chunks: Vec<NativeChunk>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[napi(object)]
pub struct NativeBlob {
    pub data: Option<Buffer>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[napi(object)]
pub struct NativeRangeRequest {
    pub path: String,
    pub offset: i64,
    pub length: u32,
    pub id: String,
}

fn to_native_chunks(chunks: Vec<chunker::ChunkRef>) -> Vec<NativeChunk> {
    chunks
        .into_iter()
        .map(|c| NativeChunk {
            id: c.id,
            offset: c.offset as i64,
            length: c.length,
        })
        .collect()
}

fn to_blobs(results: Vec<std::result::Result<Vec<u8>, ItemError>>) -> Vec<NativeBlob> {
    results
        .into_iter()
        .map(|r| match r {
            Ok(data) => NativeBlob {
                data: Some(data.into()),
                error_code: None,
                error_message: None,
            },
            Err(e) => NativeBlob {
                data: None,
                error_code: Some(e.code.to_string()),
                error_message: Some(e.message),
            },
        })
        .collect()
}

/// FastCDC boundaries and BLAKE3 ids of an in-memory buffer (calling thread).
#[napi(catch_unwind)]
pub fn chunk_bytes(
    data: &[u8],
    min_size: u32,
    avg_size: u32,
    max_size: u32,
) -> Result<Vec<NativeChunk>> {
    let p = params(min_size, avg_size, max_size)?;
    Ok(to_native_chunks(chunker::chunk_bytes(data, &p)))
}

pub struct ChunkFilesTask {
    paths: Vec<String>,
    params: Params,
}

impl Task for ChunkFilesTask {
    type Output = Vec<std::result::Result<FileChunks, ItemError>>;
    type JsValue = Vec<NativeFileChunks>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(batch::chunk_files(&self.paths, &self.params))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output
            .into_iter()
            .map(|r| match r {
                Ok(f) => NativeFileChunks {
                    size: f.size as i64,
                    chunks: to_native_chunks(f.chunks),
                    error_code: None,
                    error_message: None,
                },
                Err(e) => NativeFileChunks {
                    size: 0,
                    chunks: Vec::new(),
                    error_code: Some(e.code.to_string()),
                    error_message: Some(e.message),
                },
            })
            .collect())
    }
}

/// Chunks and hashes files in parallel on the libuv pool (rayon inside).
#[napi(catch_unwind, ts_return_type = "Promise<NativeFileChunks[]>")]
pub fn chunk_files(
    paths: Vec<String>,
    min_size: u32,
    avg_size: u32,
    max_size: u32,
) -> Result<AsyncTask<ChunkFilesTask>> {
    Ok(AsyncTask::new(ChunkFilesTask {
        paths,
        params: params(min_size, avg_size, max_size)?,
    }))
}

pub struct CompressRangesTask {
    reqs: Vec<RangeRequest>,
    level: i32,
}

impl Task for CompressRangesTask {
    type Output = Vec<std::result::Result<Vec<u8>, ItemError>>;
    type JsValue = Vec<NativeBlob>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(batch::compress_ranges(&self.reqs, self.level))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(to_blobs(output))
    }
}

/// Re-reads file ranges, checks each still hashes to its id, and zstd-compresses them.
#[napi(catch_unwind, ts_return_type = "Promise<NativeBlob[]>")]
pub fn compress_ranges(
    requests: Vec<NativeRangeRequest>,
    level: i32,
) -> Result<AsyncTask<CompressRangesTask>> {
    let mut reqs = Vec::with_capacity(requests.len());
    for r in requests {
        reqs.push(RangeRequest {
            offset: offset(r.offset)?,
            path: r.path,
            length: r.length,
            id: r.id,
        });
    }
    Ok(AsyncTask::new(CompressRangesTask { reqs, level }))
}

pub struct DecodeBlobsTask {
    blobs: Vec<Uint8Array>,
    ids: Vec<String>,
    raw_lengths: Vec<u32>,
}

impl Task for DecodeBlobsTask {
    type Output = Vec<std::result::Result<Vec<u8>, ItemError>>;
    type JsValue = Vec<NativeBlob>;

    fn compute(&mut self) -> Result<Self::Output> {
        let refs: Vec<BlobRef> = self
            .blobs
            .iter()
            .zip(&self.ids)
            .zip(&self.raw_lengths)
            .map(|((data, id), len)| BlobRef {
                data,
                id,
                raw_length: *len as usize,
            })
            .collect();
        Ok(batch::decode_blobs(&refs))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(to_blobs(output))
    }
}

/// Decompresses blobs and checks each against its id and length, in parallel.
/// The caller must not mutate the buffers until the promise settles.
#[napi(catch_unwind, ts_return_type = "Promise<NativeBlob[]>")]
pub fn decode_blobs(
    blobs: Vec<Uint8Array>,
    ids: Vec<String>,
    raw_lengths: Vec<u32>,
) -> Result<AsyncTask<DecodeBlobsTask>> {
    if blobs.len() != ids.len() || blobs.len() != raw_lengths.len() {
        return Err(AiosError::invalid(format!(
            "blobs, ids, rawLengths: expected equal lengths, got {}, {}, {}",
            blobs.len(),
            ids.len(),
            raw_lengths.len()
        ))
        .into());
    }
    Ok(AsyncTask::new(DecodeBlobsTask {
        blobs,
        ids,
        raw_lengths,
    }))
}

/// zstd frame of a buffer (calling thread; for small metadata).
#[napi(catch_unwind)]
pub fn zstd_compress(data: &[u8], level: i32) -> Result<Buffer> {
    crate::codec::compress(data, level)
        .map(Buffer::from)
        .map_err(|e| AiosError::new("COMPRESSION_FAILED", e.to_string()).into())
}

#[napi(object)]
pub struct NativeWindowRequest {
    pub path: String,
    pub offset: i64,
    pub budget: i64,
}

#[napi(object)]
pub struct NativeBlobChunk {
    pub id: String,
    pub offset: i64,
    pub length: u32,
    /// The blob, when it is not in the arena.
    pub data: Option<Buffer>,
    /// Where the blob lies in the arena, and its size.
    pub at: Option<i64>,
    pub size: u32,
}

#[napi(object)]
pub struct NativeWindow {
    pub chunks: Vec<NativeBlobChunk>,
    pub end: i64,
    pub eof: bool,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

pub struct ChunkWindowsTask {
    reqs: Vec<WindowRequest>,
    params: Params,
    level: i32,
    /// The caller's buffer for the blobs (see `arena`); JS leaves it alone until the
    /// promise settles.
    arena: Option<Uint8Array>,
}

type PlacedWindows = (
    Vec<std::result::Result<Window, ItemError>>,
    Vec<Vec<Option<(usize, usize)>>>,
);

impl Task for ChunkWindowsTask {
    type Output = PlacedWindows;
    type JsValue = Vec<NativeWindow>;

    fn compute(&mut self) -> Result<Self::Output> {
        let mut windows = window::chunk_windows(&self.reqs, &self.params, self.level);
        let placed = match self.arena.as_mut() {
            // SAFETY: the JS side does not read or write the arena while this task runs
            // (engine/native.ts hands it over until the promise settles).
            Some(a) => arena::place_blobs(&mut windows, unsafe { a.as_mut() }),
            None => Vec::new(),
        };
        Ok((windows, placed))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        let (windows, placed) = output;
        Ok(windows
            .into_iter()
            .enumerate()
            .map(|(i, r)| match r {
                Ok(w) => NativeWindow {
                    chunks: w
                        .chunks
                        .into_iter()
                        .enumerate()
                        .map(|(j, c)| {
                            let spot = placed.get(i).and_then(|p| p.get(j).copied().flatten());
                            let (data, at, size) = match spot {
                                Some((at, size)) => (None, Some(at as i64), size as u32),
                                None => {
                                    let size = c.blob.len() as u32;
                                    (Some(c.blob.into()), None, size)
                                }
                            };
                            NativeBlobChunk {
                                id: c.id,
                                offset: c.offset as i64,
                                length: c.length,
                                data,
                                at,
                                size,
                            }
                        })
                        .collect(),
                    end: w.end as i64,
                    eof: w.eof,
                    error_code: None,
                    error_message: None,
                },
                Err(e) => NativeWindow {
                    chunks: Vec::new(),
                    end: 0,
                    eof: false,
                    error_code: Some(e.code.to_string()),
                    error_message: Some(e.message),
                },
            })
            .collect())
    }
}

/// Reads, chunks, hashes and compresses a window of each file in one pass (rayon). The
/// blobs that fit go into `arena` (`at`, `size`), the others come back as `data`.
#[napi(catch_unwind, ts_return_type = "Promise<NativeWindow[]>")]
pub fn chunk_windows(
    requests: Vec<NativeWindowRequest>,
    min_size: u32,
    avg_size: u32,
    max_size: u32,
    level: i32,
    arena: Option<Uint8Array>,
) -> Result<AsyncTask<ChunkWindowsTask>> {
    let mut reqs = Vec::with_capacity(requests.len());
    for r in requests {
        if r.offset < 0 || r.budget < 1 {
            return Err(AiosError::invalid(format!(
                "window: expected offset >= 0 and budget >= 1, got {} and {}",
                r.offset, r.budget
            ))
            .into());
        }
        reqs.push(WindowRequest {
            path: r.path,
            offset: r.offset as u64,
            budget: r.budget as u64,
        });
    }
    Ok(AsyncTask::new(ChunkWindowsTask {
        reqs,
        params: params(min_size, avg_size, max_size)?,
        level,
        arena,
    }))
}

#[napi(object)]
pub struct NativeBlobLocation {
    pub pack: String,
    pub offset: i64,
    pub length: u32,
    pub raw_length: u32,
    pub id: String,
}

#[napi(object)]
pub struct NativeRestoreFile {
    pub tmp: String,
    pub target: String,
    pub mode: u32,
    pub mtime_ms: i64,
    pub chunks: Vec<NativeBlobLocation>,
}

#[napi(object)]
pub struct NativeRestored {
    pub bytes: i64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

pub struct RestoreFilesTask {
    items: Vec<RestoreFile>,
}

impl Task for RestoreFilesTask {
    type Output = Vec<std::result::Result<u64, ItemError>>;
    type JsValue = Vec<NativeRestored>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(restore::restore_files(&self.items))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output
            .into_iter()
            .map(|r| match r {
                Ok(bytes) => NativeRestored {
                    bytes: bytes as i64,
                    error_code: None,
                    error_message: None,
                },
                Err(e) => NativeRestored {
                    bytes: 0,
                    error_code: Some(e.code.to_string()),
                    error_message: Some(e.message),
                },
            })
            .collect())
    }
}

/// Restores whole files from their blobs (decoded, checked, positioned writes; rayon).
#[napi(catch_unwind, ts_return_type = "Promise<NativeRestored[]>")]
pub fn restore_files(items: Vec<NativeRestoreFile>) -> Result<AsyncTask<RestoreFilesTask>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut chunks = Vec::with_capacity(item.chunks.len());
        for c in item.chunks {
            chunks.push(BlobLocation {
                offset: offset(c.offset)?,
                pack: c.pack,
                length: c.length,
                raw_length: c.raw_length,
                id: c.id,
            });
        }
        out.push(RestoreFile {
            tmp: item.tmp,
            target: item.target,
            mode: item.mode,
            mtime_ms: item.mtime_ms,
            chunks,
        });
    }
    Ok(AsyncTask::new(RestoreFilesTask { items: out }))
}

/// Starts writing a range of an open file (a pack being written) to the disk, without
/// waiting; its fsync later has little left to write.
#[napi(catch_unwind)]
pub fn start_writeback(fd: i32, offset: i64, length: i64) -> Result<()> {
    if offset < 0 || length < 0 {
        return Err(AiosError::invalid(format!(
            "writeback: expected offset and length >= 0, got {offset} and {length}"
        ))
        .into());
    }
    crate::writeback::start_writeback(fd, offset as u64, length as u64)
        .map_err(|e| AiosError::io(&e, format!("fd {fd}")).into())
}

/// Incremental BLAKE3 of a pack file as it is written (its id), on the calling thread.
/// `@aios/utils`' hasher hands inputs of 128 KiB and more to its rayon pool and blocks
/// the JS thread until that pool, competing with the chunk workers for the same cores,
/// has done them (0.7 s of a 1 GB backup on two cores); one thread with SIMD hashes a
/// pack's blobs far faster than they are produced.
#[napi]
pub struct PackHasher {
    inner: blake3::Hasher,
}

#[napi]
impl PackHasher {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            inner: blake3::Hasher::new(),
        }
    }

    #[napi]
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// Hex digest of everything fed so far; the hasher stays usable.
    #[napi]
    pub fn digest(&self) -> String {
        self.inner.finalize().to_hex().to_string()
    }

    #[napi]
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}
