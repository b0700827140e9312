//! Starting the write-back of a file's dirty pages without waiting for it, so that the
//! fsync that makes a pack durable finds most of its bytes already on the disk instead of
//! writing them all at that moment (the kernel would otherwise hold them until its dirty
//! thresholds, gigabytes on a large machine).

use std::io;

/// Asks the kernel to start writing `[offset, offset + length)` of the open file `fd` to
/// the disk and returns without waiting (Linux `sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`; nothing elsewhere, where fsync alone does the work).
pub fn start_writeback(fd: i32, offset: u64, length: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let off =
            i64::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let len =
            i64::try_from(length).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: sync_file_range only reads its integer arguments; a bad fd is EBADF.
        let rc = unsafe { libc::sync_file_range(fd, off, len, libc::SYNC_FILE_RANGE_WRITE) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (fd, offset, length);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    #[test]
    fn starts_writeback_of_a_written_range_and_refuses_a_bad_fd() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&vec![7u8; 1 << 20]).unwrap();
        start_writeback(f.as_file().as_raw_fd(), 0, 1 << 20).unwrap();
        if cfg!(target_os = "linux") {
            assert!(start_writeback(-1, 0, 10).is_err());
        }
    }
}
