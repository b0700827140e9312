//! Restoring whole files: each file's blobs are read from their packs, decoded and checked
//! against their ids in parallel, and written at their offsets with positioned writes
//! into a new temp file, which gets the entry's mode and mtime and is renamed into place.
//! Nothing here decides where files go: the caller has checked the paths.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::time::{Duration, SystemTime};

use aios_error::AiosError;
use rayon::prelude::*;

use crate::batch::ItemError;
use crate::codec;

/// Where a chunk's blob lies.
#[derive(Debug, Clone)]
pub struct BlobLocation {
    pub pack: String,
    pub offset: u64,
    pub length: u32,
    pub raw_length: u32,
    pub id: String,
}

/// A file to restore: created at `tmp` (which must not exist), renamed to `target`.
#[derive(Debug, Clone)]
pub struct RestoreFile {
    pub tmp: String,
    pub target: String,
    pub mode: u32,
    /// Modification (and access) time, in milliseconds since the epoch.
    pub mtime_ms: i64,
    pub chunks: Vec<BlobLocation>,
}

fn io_err(err: &io::Error, path: &str) -> ItemError {
    AiosError::new(aios_error::io_code(err), format!("{path}: {err}"))
}

fn read_blob(loc: &BlobLocation) -> Result<Vec<u8>, ItemError> {
    let missing = |e: &io::Error| {
        let mut err = io_err(e, &loc.pack);
        if err.code == "IO_NOT_FOUND" {
            err.code = "CHUNK_MISSING";
        }
        err
    };
    let file = File::open(&loc.pack).map_err(|e| missing(&e))?;
    let mut buf = vec![0u8; loc.length as usize];
    file.read_exact_at(&mut buf, loc.offset).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            // The chunk's bytes are not there: missing from this pack, not a failing disk.
            AiosError::new(
                "CHUNK_MISSING",
                format!(
                    "pack {} is truncated: it ends before the {} bytes at offset {}",
                    loc.pack, loc.length, loc.offset
                ),
            )
        } else {
            missing(&e)
        }
    })?;
    codec::decode(&buf, &loc.id, loc.raw_length as usize).map_err(AiosError::from)
}

fn mtime(ms: i64) -> SystemTime {
    if ms >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

fn write_file(item: &RestoreFile) -> Result<u64, ItemError> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&item.tmp)
        .map_err(|e| io_err(&e, &item.tmp))?;
    let mut offsets = Vec::with_capacity(item.chunks.len());
    let mut total = 0u64;
    for c in &item.chunks {
        offsets.push(total);
        total += u64::from(c.raw_length);
    }
    item.chunks
        .par_iter()
        .zip(offsets.par_iter())
        .try_for_each(|(loc, &at)| {
            let data = read_blob(loc)?;
            file.write_all_at(&data, at)
                .map_err(|e| io_err(&e, &item.tmp))
        })?;
    file.set_permissions(fs::Permissions::from_mode(item.mode & 0o7777))
        .map_err(|e| io_err(&e, &item.tmp))?;
    let t = mtime(item.mtime_ms);
    file.set_times(fs::FileTimes::new().set_accessed(t).set_modified(t))
        .map_err(|e| io_err(&e, &item.tmp))?;
    drop(file);
    fs::rename(&item.tmp, &item.target).map_err(|e| io_err(&e, &item.target))?;
    Ok(total)
}

/// Restores one file; on failure its temp file is removed and nothing is renamed.
pub fn restore_file(item: &RestoreFile) -> Result<u64, ItemError> {
    write_file(item).inspect_err(|_| {
        let _ = fs::remove_file(&item.tmp);
    })
}

/// Restores files in parallel; each succeeds or fails on its own (with its bytes written).
pub fn restore_files(items: &[RestoreFile]) -> Vec<Result<u64, ItemError>> {
    items.par_iter().map(restore_file).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunker::chunk_id;
    use std::os::unix::fs::MetadataExt;

    fn pack_of(dir: &std::path::Path, pieces: &[&[u8]]) -> (String, Vec<BlobLocation>) {
        let path = dir.join("pack").to_string_lossy().into_owned();
        let mut bytes = b"AIOSPACK\x01\0\0\0".to_vec();
        let mut locs = Vec::new();
        for p in pieces {
            let blob = codec::compress(p, 3).unwrap();
            locs.push(BlobLocation {
                pack: path.clone(),
                offset: bytes.len() as u64,
                length: blob.len() as u32,
                raw_length: p.len() as u32,
                id: chunk_id(p),
            });
            bytes.extend_from_slice(&blob);
        }
        fs::write(&path, bytes).unwrap();
        (path, locs)
    }

    #[test]
    fn restores_content_mode_and_mtime_and_leaves_no_temp_file_on_damage() {
        let dir = tempfile::tempdir().unwrap();
        let a: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let b = b"tail".to_vec();
        let (pack, locs) = pack_of(dir.path(), &[&a, &b]);
        let target = dir.path().join("out").to_string_lossy().into_owned();
        let tmp = dir.path().join("tmp1").to_string_lossy().into_owned();
        let item = RestoreFile {
            tmp: tmp.clone(),
            target: target.clone(),
            mode: 0o640,
            mtime_ms: 1_700_000_000_123,
            chunks: vec![locs[0].clone(), locs[1].clone(), locs[0].clone()],
        };
        let empty = RestoreFile {
            tmp: dir.path().join("tmp2").to_string_lossy().into_owned(),
            target: dir.path().join("empty").to_string_lossy().into_owned(),
            mode: 0o600,
            mtime_ms: 0,
            chunks: vec![],
        };
        let out = restore_files(&[item, empty]);
        assert_eq!(*out[0].as_ref().unwrap(), (a.len() * 2 + b.len()) as u64);
        let got = fs::read(&target).unwrap();
        assert_eq!(got, [a.clone(), b.clone(), a.clone()].concat());
        let meta = fs::metadata(&target).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o640);
        assert_eq!(meta.mtime(), 1_700_000_000);
        assert_eq!(meta.mtime_nsec(), 123_000_000);
        assert!(!std::path::Path::new(&tmp).exists());
        assert_eq!(fs::read(dir.path().join("empty")).unwrap().len(), 0);

        // A flipped byte in a blob: CHUNK_DAMAGED, and neither the temp nor the target file.
        let mut bytes = fs::read(&pack).unwrap();
        bytes[locs[0].offset as usize + 20] ^= 0x55;
        fs::write(&pack, bytes).unwrap();
        let bad = RestoreFile {
            tmp: dir.path().join("tmp3").to_string_lossy().into_owned(),
            target: dir.path().join("bad").to_string_lossy().into_owned(),
            mode: 0o600,
            mtime_ms: 0,
            chunks: vec![locs[1].clone(), locs[0].clone()],
        };
        assert_eq!(restore_file(&bad).unwrap_err().code, "CHUNK_DAMAGED");
        assert!(!dir.path().join("tmp3").exists());
        assert!(!dir.path().join("bad").exists());

        let mut gone = locs[1].clone();
        gone.pack = dir.path().join("nope").to_string_lossy().into_owned();
        let missing = RestoreFile {
            tmp: dir.path().join("tmp4").to_string_lossy().into_owned(),
            target: dir.path().join("missing").to_string_lossy().into_owned(),
            mode: 0o600,
            mtime_ms: 0,
            chunks: vec![gone],
        };
        assert_eq!(restore_file(&missing).unwrap_err().code, "CHUNK_MISSING");
    }
}
