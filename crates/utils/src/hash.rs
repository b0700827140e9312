//! BLAKE3 content ids: 256-bit digests rendered as lowercase hex.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Inputs at least this large are hashed with rayon across cores; below it the
/// thread hand-off costs more than it saves (BLAKE3 authors suggest ~128 KiB).
pub const PARALLEL_THRESHOLD: usize = 128 * 1024;

/// Hex BLAKE3 digest of `data`.
pub fn hash_hex(data: &[u8]) -> String {
    let mut hasher = blake3::Hasher::new();
    if data.len() >= PARALLEL_THRESHOLD {
        hasher.update_rayon(data);
    } else {
        hasher.update(data);
    }
    hasher.finalize().to_hex().to_string()
}

/// Hex BLAKE3 digest of a file's contents.
///
/// Large regular files are memory-mapped and hashed in parallel; anything else
/// (small files, pipes, files that cannot be mapped) is read in a buffered loop.
pub fn hash_file_hex(path: &Path) -> io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(aios_error::not_a_file(format!(
            "{} is a directory",
            path.display()
        )));
    }
    if meta.is_file() && meta.len() as usize >= PARALLEL_THRESHOLD {
        hasher.update_mmap_rayon(path)?;
    } else {
        let mut file = File::open(path)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.update(&buf[..n]);
        }
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Incremental hasher for data that arrives in pieces (streams, chunks).
#[derive(Default, Clone)]
pub struct StreamHasher {
    inner: blake3::Hasher,
}

impl StreamHasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        if data.len() >= PARALLEL_THRESHOLD {
            self.inner.update_rayon(data);
        } else {
            self.inner.update(data);
        }
    }

    /// Digest of everything fed so far; the hasher stays usable.
    pub fn digest_hex(&self) -> String {
        self.inner.finalize().to_hex().to_string()
    }

    pub fn reset(&mut self) {
        self.inner.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    // Official BLAKE3 test vectors use the input pattern i % 251.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn empty_input_matches_reference_vector() {
        assert_eq!(
            hash_hex(b""),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn one_kib_pattern_matches_reference_vector() {
        assert_eq!(
            hash_hex(&pattern(1024)),
            "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"
        );
    }

    #[test]
    fn parallel_and_serial_paths_agree() {
        let data = pattern(PARALLEL_THRESHOLD * 3 + 17);
        let serial = blake3::hash(&data).to_hex().to_string();
        assert_eq!(hash_hex(&data), serial);
    }

    #[test]
    fn stream_hasher_equals_one_shot() {
        let data = pattern(300_000);
        let mut h = StreamHasher::new();
        for piece in data.chunks(7_919) {
            h.update(piece);
        }
        assert_eq!(h.digest_hex(), hash_hex(&data));
        h.reset();
        assert_eq!(h.digest_hex(), hash_hex(b""));
    }

    #[test]
    fn file_hash_equals_buffer_hash_small_and_large() {
        for len in [0usize, 10, PARALLEL_THRESHOLD + 1] {
            let data = pattern(len);
            let mut f = tempfile::NamedTempFile::new().unwrap();
            f.write_all(&data).unwrap();
            assert_eq!(hash_file_hex(f.path()).unwrap(), hash_hex(&data));
        }
    }

    #[test]
    fn file_hash_reports_missing_file_and_directory() {
        let err = hash_file_hex(Path::new("/definitely/not/here")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let dir = tempfile::tempdir().unwrap();
        let err = hash_file_hex(dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(aios_error::io_code(&err), "IO_NOT_A_FILE");
    }
}
