//! Content-defined chunking with FastCDC (the 2020 variant of the `fastcdc` crate,
//! normalization level 1, seed 0) and BLAKE3 chunk ids.
//!
//! Files are streamed through a buffer that always holds at least `max_size` bytes
//! ahead of the cut point (or reaches the end of the file), so the boundaries are exactly
//! those `fastcdc::v2020::FastCDC` finds on the whole file at once.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

use fastcdc::v2020::{self, Normalization};

/// Chunk size bounds, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub min_size: u32,
    pub avg_size: u32,
    pub max_size: u32,
}

impl Params {
    /// Checks the bounds the `fastcdc` crate accepts (it panics outside them).
    pub fn validate(&self) -> Result<(), String> {
        let ok = (v2020::MINIMUM_MIN..=v2020::MINIMUM_MAX).contains(&self.min_size)
            && (v2020::AVERAGE_MIN..=v2020::AVERAGE_MAX).contains(&self.avg_size)
            && (v2020::MAXIMUM_MIN..=v2020::MAXIMUM_MAX).contains(&self.max_size)
            && self.min_size <= self.avg_size
            && self.avg_size <= self.max_size;
        if ok {
            Ok(())
        } else {
            Err(format!(
                "chunker sizes min={} avg={} max={} are outside the FastCDC bounds",
                self.min_size, self.avg_size, self.max_size
            ))
        }
    }
}

/// One chunk of a file or buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRef {
    /// Lowercase hex BLAKE3 of the chunk's bytes.
    pub id: String,
    pub offset: u64,
    pub length: u32,
}

pub(crate) struct Masks {
    s: u64,
    l: u64,
}

pub(crate) fn masks(params: &Params) -> Masks {
    let bits = v2020::logarithm2(params.avg_size);
    let level = Normalization::Level1.bits();
    Masks {
        s: v2020::MASKS[(bits + level) as usize],
        l: v2020::MASKS[(bits - level) as usize],
    }
}

pub(crate) fn cut(source: &[u8], params: &Params, m: &Masks) -> usize {
    let (_, count) = v2020::cut(
        source,
        params.min_size as usize,
        params.avg_size as usize,
        params.max_size as usize,
        m.s,
        m.l,
        m.s << 1,
        m.l << 1,
    );
    count
}

/// Cut points of a whole buffer: `(offset, length)` pairs covering it.
pub fn boundaries(data: &[u8], params: &Params) -> Vec<(usize, usize)> {
    let m = masks(params);
    let mut out = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let count = cut(&data[start..], params, &m);
        out.push((start, count));
        start += count;
    }
    out
}

/// Hex BLAKE3 of bytes (parallel for large inputs).
pub fn chunk_id(data: &[u8]) -> String {
    let mut hasher = blake3::Hasher::new();
    if data.len() >= 128 * 1024 {
        hasher.update_rayon(data);
    } else {
        hasher.update(data);
    }
    hasher.finalize().to_hex().to_string()
}

/// Hex BLAKE3 of bytes on the calling thread (for work already spread over the pool).
pub fn chunk_id_serial(data: &[u8]) -> String {
    blake3::hash(data).to_hex().to_string()
}

/// Chunks of a whole buffer with their ids.
pub fn chunk_bytes(data: &[u8], params: &Params) -> Vec<ChunkRef> {
    boundaries(data, params)
        .into_iter()
        .map(|(offset, length)| ChunkRef {
            id: chunk_id(&data[offset..offset + length]),
            offset: offset as u64,
            length: length as u32,
        })
        .collect()
}

/// A chunked file: its size as read and its chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChunks {
    pub size: u64,
    pub chunks: Vec<ChunkRef>,
}

pub(crate) fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Opens `path` for reading with its metadata, refusing anything but a regular file
/// (looked at before the open: opening a FIFO would block).
pub fn open_regular(path: &Path) -> io::Result<(File, Metadata)> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(aios_error::not_a_file(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok((File::open(path)?, meta))
}

/// Streams a file through FastCDC and hashes every chunk.
pub fn chunk_file(path: &Path, params: &Params) -> io::Result<FileChunks> {
    let (mut file, meta) = open_regular(path)?;
    let m = masks(params);
    let max = params.max_size as usize;
    // Room for several maximal chunks per read keeps the copies of the tail cheap; a small
    // file gets a buffer of its own size plus one byte, so one read also sees its end.
    let capacity = (max * 4).max(8 * 1024 * 1024).min(
        usize::try_from(meta.len())
            .unwrap_or(usize::MAX)
            .saturating_add(1),
    );
    let mut buf = vec![0u8; capacity];
    let mut len = 0usize;
    let mut start = 0usize;
    let mut offset = 0u64;
    let mut eof = false;
    let mut chunks = Vec::new();
    loop {
        if !eof && len - start < max {
            buf.copy_within(start..len, 0);
            len -= start;
            start = 0;
            let n = read_full(&mut file, &mut buf[len..])?;
            len += n;
            if len < capacity {
                eof = true;
            }
        }
        if start >= len {
            break;
        }
        let count = cut(&buf[start..len], params, &m);
        chunks.push(ChunkRef {
            id: chunk_id(&buf[start..start + count]),
            offset,
            length: count as u32,
        });
        start += count;
        offset += count as u64;
    }
    Ok(FileChunks {
        size: offset,
        chunks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect()
    }

    const SMALL: Params = Params {
        min_size: 4096,
        avg_size: 16384,
        max_size: 65536,
    };

    #[test]
    fn boundaries_equal_the_fastcdc_crate() {
        let data = noise(3_000_000, 42);
        let ours = boundaries(&data, &SMALL);
        let theirs: Vec<(usize, usize)> = v2020::FastCDC::new(&data, 4096, 16384, 65536)
            .map(|c| (c.offset, c.length))
            .collect();
        assert_eq!(ours, theirs);
        assert!(ours.len() > 50);
    }

    #[test]
    fn file_chunks_equal_buffer_chunks_across_buffer_refills() {
        for (len, seed) in [(0usize, 1u64), (100, 2), (20_000_000, 3)] {
            let data = noise(len, seed);
            let mut f = tempfile::NamedTempFile::new().unwrap();
            f.write_all(&data).unwrap();
            let from_file = chunk_file(f.path(), &SMALL).unwrap();
            assert_eq!(from_file.size, len as u64);
            assert_eq!(from_file.chunks, chunk_bytes(&data, &SMALL));
        }
    }

    #[test]
    fn small_and_exact_capacity_files_chunk_like_buffers() {
        for len in [1usize, 4095, 4096, 65_536, 65_537, 8 * 1024 * 1024] {
            let data = noise(len, len as u64);
            let mut f = tempfile::NamedTempFile::new().unwrap();
            f.write_all(&data).unwrap();
            assert_eq!(
                chunk_file(f.path(), &SMALL).unwrap().chunks,
                chunk_bytes(&data, &SMALL)
            );
        }
    }

    #[test]
    fn an_insertion_only_changes_nearby_chunks() {
        let data = noise(2_000_000, 9);
        let mut edited = data.clone();
        edited.splice(1_000_000..1_000_000, b"hello".iter().copied());
        let a: std::collections::HashSet<_> = chunk_bytes(&data, &SMALL)
            .into_iter()
            .map(|c| c.id)
            .collect();
        let b = chunk_bytes(&edited, &SMALL);
        let shared = b.iter().filter(|c| a.contains(&c.id)).count();
        assert!(shared + 3 >= b.len(), "{shared} of {}", b.len());
    }

    #[test]
    fn rejects_sizes_outside_fastcdc_bounds() {
        let bad = Params {
            min_size: 1,
            avg_size: 16384,
            max_size: 65536,
        };
        assert!(bad.validate().is_err());
        assert!(SMALL.validate().is_ok());
        assert!(chunk_file(Path::new("/nope/x"), &SMALL).is_err());
    }
}
