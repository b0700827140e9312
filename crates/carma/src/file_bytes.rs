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

/// Writes `bytes` to `path` atomically: a temporary file beside it (removed again if
/// anything fails), fsync, rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        for chunk in bytes.chunks(WRITE_CHUNK) {
            f.write_all(chunk)?;
        }
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
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
