//! The batch operations the repository drives, run in parallel with rayon. Every item
//! succeeds or fails on its own, so one unreadable file never fails a whole batch.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use aios_error::AiosError;
use rayon::prelude::*;

use crate::chunker::{self, chunk_id, FileChunks, Params};
use crate::codec;

/// A per-item failure: its code and message go back as the item's `errorCode` and
/// `errorMessage` instead of failing the batch.
pub type ItemError = AiosError;

/// The `IO_*` code of `aios_error::io_code`, except that a file that ends before a range
/// it had when chunked has changed since (`FILE_CHANGED`).
pub fn io_code(err: &io::Error) -> &'static str {
    match err.kind() {
        io::ErrorKind::UnexpectedEof => "FILE_CHANGED",
        _ => aios_error::io_code(err),
    }
}

fn item_io(err: &io::Error, path: &str) -> ItemError {
    AiosError::new(io_code(err), format!("{path}: {err}"))
}

/// Chunks and hashes each file.
pub fn chunk_files(paths: &[String], params: &Params) -> Vec<Result<FileChunks, ItemError>> {
    paths
        .par_iter()
        .map(|p| chunker::chunk_file(Path::new(p), params).map_err(|e| item_io(&e, p)))
        .collect()
}

/// A byte range of a file that should hold the chunk `id`.
#[derive(Debug, Clone)]
pub struct RangeRequest {
    pub path: String,
    pub offset: u64,
    pub length: u32,
    pub id: String,
}

fn read_range(req: &RangeRequest) -> io::Result<Vec<u8>> {
    let mut file = File::open(&req.path)?;
    file.seek(SeekFrom::Start(req.offset))?;
    let mut buf = vec![0u8; req.length as usize];
    file.read_exact(&mut buf)?;
    Ok(buf)
}

/// Re-reads each range, checks it still hashes to its id (else `FILE_CHANGED`) and
/// compresses it.
pub fn compress_ranges(reqs: &[RangeRequest], level: i32) -> Vec<Result<Vec<u8>, ItemError>> {
    reqs.par_iter()
        .map(|req| {
            let data = read_range(req).map_err(|e| item_io(&e, &req.path))?;
            if chunk_id(&data) != req.id {
                return Err(AiosError::new(
                    "FILE_CHANGED",
                    format!(
                        "{}: bytes {}..{} changed while being backed up",
                        req.path,
                        req.offset,
                        req.offset + u64::from(req.length)
                    ),
                ));
            }
            codec::compress(&data, level).map_err(|e| {
                AiosError::new("COMPRESSION_FAILED", format!("{}: zstd: {e}", req.path))
            })
        })
        .collect()
}

/// A stored blob to decode.
pub struct BlobRef<'a> {
    pub data: &'a [u8],
    pub id: &'a str,
    pub raw_length: usize,
}

/// Decompresses and checks each blob.
pub fn decode_blobs(blobs: &[BlobRef<'_>]) -> Vec<Result<Vec<u8>, ItemError>> {
    blobs
        .par_iter()
        .map(|b| codec::decode(b.data, b.id, b.raw_length).map_err(AiosError::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn compresses_ranges_and_detects_changed_files() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&data).unwrap();
        let path = f.path().to_string_lossy().to_string();
        let params = Params {
            min_size: 4096,
            avg_size: 16384,
            max_size: 65536,
        };
        let chunked = chunk_files(std::slice::from_ref(&path), &params);
        let chunks = chunked[0].as_ref().unwrap().chunks.clone();
        let reqs: Vec<RangeRequest> = chunks
            .iter()
            .map(|c| RangeRequest {
                path: path.clone(),
                offset: c.offset,
                length: c.length,
                id: c.id.clone(),
            })
            .collect();
        let blobs = compress_ranges(&reqs, 3);
        let refs: Vec<BlobRef> = blobs
            .iter()
            .zip(&chunks)
            .map(|(b, c)| BlobRef {
                data: b.as_ref().unwrap(),
                id: &c.id,
                raw_length: c.length as usize,
            })
            .collect();
        let decoded: Vec<u8> = decode_blobs(&refs)
            .into_iter()
            .flat_map(|r| r.unwrap())
            .collect();
        assert_eq!(decoded, data);

        let mut wrong = reqs[0].clone();
        wrong.id = chunk_id(b"something else");
        assert_eq!(
            compress_ranges(&[wrong], 3)[0].as_ref().unwrap_err().code,
            "FILE_CHANGED"
        );
        let mut past_end = reqs[0].clone();
        past_end.offset = 10_000_000;
        assert_eq!(
            compress_ranges(&[past_end], 3)[0]
                .as_ref()
                .unwrap_err()
                .code,
            "FILE_CHANGED"
        );
        let missing = chunk_files(&["/no/such/file".to_string()], &params);
        assert_eq!(missing[0].as_ref().unwrap_err().code, "IO_NOT_FOUND");
    }

    #[test]
    fn a_directory_is_not_a_file_and_a_bad_path_is_an_io_error() {
        let params = Params {
            min_size: 64,
            avg_size: 256,
            max_size: 1024,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_string_lossy().into_owned();
        let results = chunk_files(&[path.clone(), "nul\0byte".to_string()], &params);
        let refused = results[0].as_ref().unwrap_err();
        assert_eq!(refused.code, "IO_NOT_A_FILE");
        assert_eq!(
            refused.message,
            format!("{path}: {path} is not a regular file")
        );
        assert_eq!(results[1].as_ref().unwrap_err().code, "IO_ERROR");
    }
}
