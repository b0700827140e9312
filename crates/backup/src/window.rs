//! One pass over a file for the chunks a repository does not have yet: read, FastCDC,
//! BLAKE3 and zstd, from a chunk boundary up to about `budget` bytes further. Chunks are
//! hashed and compressed on the rayon pool while the calling thread goes on cutting, so
//! both cores work on one large file; a window is resumed from its end (FastCDC cuts depend
//! only on the bytes from the chunk start), which bounds memory to one window per call.

use std::io::{self, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

use aios_error::AiosError;
use rayon::prelude::*;

use crate::batch::{io_code, ItemError};
use crate::bufpool;
use crate::chunker::{self, Params};
use crate::codec;

/// Where a window starts and how far it should reach.
#[derive(Debug, Clone)]
pub struct WindowRequest {
    pub path: String,
    /// A chunk boundary of the file (0, or the `end` of the previous window).
    pub offset: u64,
    /// The window ends at the first chunk boundary at or past `offset + budget`.
    pub budget: u64,
}

/// A chunk with its compressed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobChunk {
    pub id: String,
    pub offset: u64,
    pub length: u32,
    pub blob: Vec<u8>,
}

/// The chunks of one window; `eof` when it reached the end of the file at `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub chunks: Vec<BlobChunk>,
    pub end: u64,
    pub eof: bool,
}

fn item_io(err: &io::Error, path: &str) -> ItemError {
    AiosError::new(io_code(err), format!("{path}: {err}"))
}

/// The window's bytes, read into a pooled buffer: `(buffer, bytes read, eof)`.
fn read_window(req: &WindowRequest, params: &Params) -> io::Result<(Vec<u8>, usize, bool)> {
    let (mut file, meta) = chunker::open_regular(Path::new(&req.path))?;
    file.seek(SeekFrom::Start(req.offset))?;
    // budget + max_size bytes always hold max_size bytes ahead of every cut the window
    // makes; a file that ends sooner gets its remaining size plus one byte, so one read
    // sees its end.
    let want = req
        .budget
        .saturating_add(u64::from(params.max_size))
        .min(meta.len().saturating_sub(req.offset).saturating_add(1));
    let capacity = usize::try_from(want).unwrap_or(usize::MAX);
    let mut buf = bufpool::take(capacity);
    match chunker::read_full(&mut file, &mut buf[..capacity]) {
        Ok(filled) => Ok((buf, filled, filled < capacity)),
        Err(e) => {
            bufpool::give_back(buf);
            Err(e)
        }
    }
}

/// Reads, chunks, hashes and compresses one window of a file.
pub fn chunk_window(req: &WindowRequest, params: &Params, level: i32) -> Result<Window, ItemError> {
    let (buf, filled, eof) = read_window(req, params).map_err(|e| item_io(&e, &req.path))?;
    let result = cut_window(req, &buf[..filled], eof, params, level);
    bufpool::give_back(buf);
    result
}

/// Cuts the bytes read at `req.offset` into chunks, hashed and compressed on the pool.
fn cut_window(
    req: &WindowRequest,
    buf: &[u8],
    eof: bool,
    params: &Params,
    level: i32,
) -> Result<Window, ItemError> {
    let budget = usize::try_from(req.budget.max(1)).unwrap_or(usize::MAX);
    let m = chunker::masks(params);
    let slots: Mutex<Vec<Option<Result<BlobChunk, ItemError>>>> = Mutex::new(Vec::new());
    let mut end = 0usize;
    rayon::scope(|scope| {
        let mut start = 0usize;
        while start < buf.len() && start < budget {
            let count = chunker::cut(&buf[start..], params, &m);
            let slot = {
                let mut s = slots.lock().unwrap_or_else(|e| e.into_inner());
                s.push(None);
                s.len() - 1
            };
            let data = &buf[start..start + count];
            let offset = req.offset + start as u64;
            let slots = &slots;
            let path = &req.path;
            scope.spawn(move |_| {
                let id = chunker::chunk_id_serial(data);
                let result = codec::compress(data, level)
                    .map(|blob| BlobChunk {
                        id,
                        offset,
                        length: count as u32,
                        blob,
                    })
                    .map_err(|e| {
                        AiosError::new("COMPRESSION_FAILED", format!("{path}: zstd: {e}"))
                    });
                slots.lock().unwrap_or_else(|e| e.into_inner())[slot] = Some(result);
            });
            start += count;
        }
        end = start;
    });
    let mut chunks = Vec::new();
    for slot in slots.into_inner().unwrap_or_else(|e| e.into_inner()) {
        match slot {
            Some(Ok(c)) => chunks.push(c),
            Some(Err(e)) => return Err(e),
            None => {
                return Err(AiosError::new(
                    "NATIVE_FAILURE",
                    "a chunk was not compressed",
                ))
            }
        }
    }
    Ok(Window {
        chunks,
        end: req.offset + end as u64,
        eof: eof && end == buf.len(),
    })
}

/// Windows of several files, in parallel.
pub fn chunk_windows(
    reqs: &[WindowRequest],
    params: &Params,
    level: i32,
) -> Vec<Result<Window, ItemError>> {
    reqs.par_iter()
        .map(|r| chunk_window(r, params, level))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunker::chunk_bytes;
    use crate::codec::decode;
    use std::io::Write;

    const SMALL: Params = Params {
        min_size: 4096,
        avg_size: 16384,
        max_size: 65536,
    };

    fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn windows_resumed_from_their_ends_give_the_whole_file_chunks() {
        for (len, budget) in [
            (0usize, 1000u64),
            (100, 1000),
            (3_000_000, 200_000),
            (3_000_000, 1),
        ] {
            let data = noise(len, len as u64 + budget);
            let mut f = tempfile::NamedTempFile::new().unwrap();
            f.write_all(&data).unwrap();
            let path = f.path().to_string_lossy().into_owned();
            let mut offset = 0;
            let mut got = Vec::new();
            let mut windows = 0;
            loop {
                let w = chunk_window(
                    &WindowRequest {
                        path: path.clone(),
                        offset,
                        budget,
                    },
                    &SMALL,
                    3,
                )
                .unwrap();
                windows += 1;
                for c in &w.chunks {
                    let raw = decode(&c.blob, &c.id, c.length as usize).unwrap();
                    assert_eq!(raw, data[c.offset as usize..c.offset as usize + raw.len()]);
                }
                got.extend(w.chunks.into_iter().map(|c| (c.id, c.offset, c.length)));
                offset = w.end;
                if w.eof {
                    break;
                }
            }
            assert_eq!(offset, len as u64);
            let whole: Vec<_> = chunk_bytes(&data, &SMALL)
                .into_iter()
                .map(|c| (c.id, c.offset, c.length))
                .collect();
            assert_eq!(got, whole);
            if len > 1_000_000 {
                assert!(windows > 1);
            }
        }
    }

    #[test]
    fn unreadable_paths_are_item_errors() {
        let dir = tempfile::tempdir().unwrap();
        let reqs = [
            WindowRequest {
                path: "/no/such/file".into(),
                offset: 0,
                budget: 10,
            },
            WindowRequest {
                path: dir.path().to_string_lossy().into_owned(),
                offset: 0,
                budget: 10,
            },
        ];
        let out = chunk_windows(&reqs, &SMALL, 3);
        assert_eq!(out[0].as_ref().unwrap_err().code, "IO_NOT_FOUND");
        assert_eq!(out[1].as_ref().unwrap_err().code, "IO_NOT_A_FILE");
    }
}
