//! Blobs: zstd-compressed chunks, always checked against their BLAKE3 id when decoded.

use std::cell::RefCell;
use std::io;

use aios_error::AiosError;

use crate::chunker::chunk_id;

/// Why a blob could not be turned back into its chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The zstd frame is corrupt.
    Corrupt(String),
    /// The frame decoded but its bytes do not hash to the expected id (or length).
    Mismatch(String),
}

impl DecodeError {
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Corrupt(_) | DecodeError::Mismatch(_) => "CHUNK_DAMAGED",
        }
    }
    pub fn message(&self) -> &str {
        match self {
            DecodeError::Corrupt(m) | DecodeError::Mismatch(m) => m,
        }
    }
}

impl From<DecodeError> for AiosError {
    fn from(err: DecodeError) -> Self {
        AiosError::new(err.code(), err.message())
    }
}

thread_local! {
    /// This thread's compression context and its level. A context holds about a megabyte
    /// of match tables: making one per chunk cost an allocation, page faults and its
    /// setup for every chunk; a reused one gives the same frames (same level, same
    /// parameters sized from each input).
    static COMPRESSOR: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { RefCell::new(None) };
}

/// zstd frame of `data` at `level` (with the content size in the frame header).
pub fn compress(data: &[u8], level: i32) -> io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if !matches!(&*slot, Some((l, _)) if *l == level) {
            *slot = Some((level, zstd::bulk::Compressor::new(level)?));
        }
        match slot.as_mut() {
            Some((_, compressor)) => compressor.compress(data),
            None => zstd::bulk::compress(data, level),
        }
    })
}

/// Decompresses a blob and checks that it is the chunk `expected_id` of `raw_length` bytes.
pub fn decode(blob: &[u8], expected_id: &str, raw_length: usize) -> Result<Vec<u8>, DecodeError> {
    let data = zstd::bulk::decompress(blob, raw_length)
        .map_err(|e| DecodeError::Corrupt(format!("chunk {expected_id}: zstd: {e}")))?;
    if data.len() != raw_length {
        return Err(DecodeError::Mismatch(format!(
            "chunk {expected_id}: {} bytes, expected {raw_length}",
            data.len()
        )));
    }
    let actual = chunk_id(&data);
    if actual != expected_id {
        return Err(DecodeError::Mismatch(format!(
            "chunk {expected_id}: content hashes to {actual}"
        )));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_damage() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 7) as u8).collect();
        let id = chunk_id(&data);
        let blob = compress(&data, 3).unwrap();
        assert!(blob.len() < data.len() / 10);
        assert_eq!(decode(&blob, &id, data.len()).unwrap(), data);
        let mut damaged = blob.clone();
        let at = damaged.len() / 2;
        damaged[at] ^= 0x40;
        let err = decode(&damaged, &id, data.len()).unwrap_err();
        assert_eq!(err.code(), "CHUNK_DAMAGED");
        assert!(decode(&blob, &chunk_id(b"other"), data.len()).is_err());
        assert!(decode(&blob, &id, data.len() - 1).is_err());
    }

    #[test]
    fn a_reused_context_gives_the_frames_of_a_fresh_one() {
        let big: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 251) as u8).collect();
        for (data, level) in [
            (&big[..], 3),
            (&big[..1000], 3),
            (&big[..], 1),
            (&big[..5], 3),
        ] {
            assert_eq!(
                compress(data, level).unwrap(),
                zstd::bulk::compress(data, level).unwrap()
            );
        }
    }
}
