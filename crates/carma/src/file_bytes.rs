//! What the index files share: little-endian reading with bounds checks, the trailing
//! BLAKE3 checksum, and the atomic write through `<path>.tmp-<pid>`.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bytes of the trailing BLAKE3 checksum.
pub const CHECKSUM_BYTES: usize = 32;
/// Above this, the checksum is computed with rayon (BLAKE3's tree hashing in parallel).
const PARALLEL_HASH_BYTES: usize = 1 << 20;

pub fn checksum(bytes: &[u8]) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    if bytes.len() >= PARALLEL_HASH_BYTES {
        hasher.update_rayon(bytes);
    } else {
        hasher.update(bytes);
    }
    hasher.finalize()
}

/// The end marker of every index file, before its checksum.
pub const END: &[u8; 8] = b"CARMAEND";

/// Ends a file's bytes: the end marker, then the BLAKE3 checksum of everything before it.
pub fn seal(mut out: Vec<u8>) -> Vec<u8> {
    out.extend_from_slice(END);
    let sum = checksum(&out);
    out.extend_from_slice(sum.as_bytes());
    out
}

/// How much of an index file a load checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FileCheck {
    /// Its checksum, its values (rows finite, postings in range) and its structure.
    #[default]
    Full,
    /// Its structure only (whatever its bytes, nothing is read out of bounds): the caller
    /// knows the file was checked in full before and has not changed since
    /// (packages/carma/src/checked-files.ts).
    Structure,
}

/// The bytes before a trailing checksum: when the checksum holds, or is not to be checked.
pub fn body_of(bytes: &[u8], check: FileCheck) -> Option<&[u8]> {
    match check {
        FileCheck::Full => checked_body(bytes),
        FileCheck::Structure => bytes.get(..bytes.len().checked_sub(CHECKSUM_BYTES)?),
    }
}

/// The bytes before a trailing checksum, when the checksum holds.
pub fn checked_body(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.len() < CHECKSUM_BYTES {
        return None;
    }
    let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM_BYTES);
    (checksum(body).as_bytes() == sum).then_some(body)
}

/// Index file names: `<path>.tmp-<pid>` while being written.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(format!(".tmp-{}", std::process::id()));
    PathBuf::from(name)
}

/// Bytes per `write` call. The page cache keeps a file in folios about as large as the
/// writes that made it (ext4 since Linux 6.16), and a 2 MiB folio is mapped whole (one
/// page-table entry) into a process that reads one row of it through its mapping: the
/// first search of a freshly opened 100k index file written at once mapped 88 MB of
/// it; of the same file written 64 KiB at a time, 6 MB.
const WRITE_CHUNK: usize = 64 << 10;

/// Where a file's bytes are put as they are made: a `Vec` (`to_bytes`), or a file being
/// written (`SealedFile`), so that a large index is written without first being copied
/// whole into memory.
pub trait ByteSink {
    fn put(&mut self, bytes: &[u8]);

    fn put_u32(&mut self, v: u32) {
        self.put(&v.to_le_bytes());
    }

    /// Zeros up to the next multiple of 4 of `len`.
    fn pad4(&mut self, len: usize) {
        self.put(&[0u8; 3][..(4 - len % 4) % 4]);
    }
}

/// Puts little-endian `u32`s (as they are in memory on a little-endian machine).
pub fn put_u32s(out: &mut impl ByteSink, values: &[u32]) {
    if cfg!(target_endian = "little") {
        out.put(bytemuck::cast_slice(values));
    } else {
        for v in values {
            out.put_u32(*v);
        }
    }
}

/// Puts little-endian `f32`s.
pub fn put_f32s(out: &mut impl ByteSink, values: &[f32]) {
    if cfg!(target_endian = "little") {
        out.put(bytemuck::cast_slice(values));
    } else {
        for v in values {
            out.put(&v.to_le_bytes());
        }
    }
}

impl ByteSink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// An index file written atomically as its bytes come: `WRITE_CHUNK` at a time to a
/// temporary file beside `path`, hashed on the way; `finish` ends it as `seal` ends a
/// `Vec`, fsyncs it and renames it into place. A failed write is kept and reported by `finish`; the temporary
/// file is removed then, or when the writer is dropped unfinished.
pub struct SealedFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<fs::File>,
    buf: Vec<u8>,
    /// Hashes what is written, a chunk at a time (taken by `finish`).
    hasher: Option<blake3::Hasher>,
    failed: Option<std::io::Error>,
}

impl SealedFile {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let hasher = Some(blake3::Hasher::new());
        let tmp = temp_path(path);
        let file = fs::File::create(&tmp)?;
        Ok(Self {
            path: path.to_owned(),
            tmp,
            file: Some(file),
            buf: Vec::with_capacity(WRITE_CHUNK),
            hasher,
            failed: None,
        })
    }

    fn flush_buf(&mut self) {
        if let Some(h) = &mut self.hasher {
            h.update(&self.buf);
        }
        if let (None, Some(file)) = (&self.failed, &mut self.file) {
            if let Err(e) = file.write_all(&self.buf) {
                self.failed = Some(e);
            }
        }
        self.buf.clear();
    }

    /// The end marker and the checksum of everything before it, then fsync and rename.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.put(END);
        self.flush_buf();
        let sum = self.hasher.take().expect("a sealed file hashes").finalize();
        self.buf.extend_from_slice(sum.as_bytes());
        self.flush_buf();
        let file = self.file.take().expect("finished once");
        let done = match self.failed.take() {
            Some(e) => Err(e),
            None => file
                .sync_all()
                .and_then(|()| fs::rename(&self.tmp, &self.path)),
        };
        if done.is_err() {
            let _ = fs::remove_file(&self.tmp);
        }
        done
    }
}

impl ByteSink for SealedFile {
    fn put(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let n = (WRITE_CHUNK - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.buf.len() == WRITE_CHUNK {
                self.flush_buf();
            }
        }
    }
}

impl Drop for SealedFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Reads little-endian values from a byte slice; `None` past its end.
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], pos: usize) -> Self {
        Self { bytes, pos }
    }
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    }
    pub fn f64(&mut self) -> Option<f64> {
        self.take(8).map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            f64::from_le_bytes(b)
        })
    }
    pub fn u32s(&mut self, n: usize) -> Option<Vec<u32>> {
        let b = self.take(n.checked_mul(4)?)?;
        Some(
            b.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    }
    pub fn f32s(&mut self, n: usize) -> Option<Vec<f32>> {
        let b = self.take(n.checked_mul(4)?)?;
        Some(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    }
    /// Whether everything was read.
    pub fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
}
