//! Values read where they are in a file mapped read-only: the rows and codes of a vector
//! index, the postings of a lexical index. A process holds only the pages it reads, and
//! lets go of those it read once (a check at load) so that they stop counting as its own.

use std::marker::PhantomData;
use std::mem::{align_of, size_of, size_of_val};
use std::sync::Arc;

use bytemuck::Pod;
use memmap2::{Mmap, MmapMut, MmapOptions, UncheckedAdvice};

/// `len` values of `T` at byte `at` of a mapped index file.
pub struct Mapped<T> {
    map: Arc<Mmap>,
    at: usize,
    len: usize,
    of: PhantomData<T>,
}

impl<T> Clone for Mapped<T> {
    fn clone(&self) -> Self {
        Self {
            map: Arc::clone(&self.map),
            ..*self
        }
    }
}

impl<T: Pod> Mapped<T> {
    /// The values at `at..at + len * size_of::<T>()` of `map`: `None` unless they are in
    /// it and aligned for `T`, and the machine is little-endian like the file.
    pub fn new(map: Arc<Mmap>, at: usize, len: usize) -> Option<Self> {
        let end = len.checked_mul(size_of::<T>())?.checked_add(at)?;
        let aligned = (map.as_ptr() as usize + at).is_multiple_of(align_of::<T>());
        let fits = end <= map.len() && aligned;
        (fits && cfg!(target_endian = "little")).then_some(Self {
            map,
            at,
            len,
            of: PhantomData,
        })
    }

    pub fn values(&self) -> &[T] {
        bytemuck::cast_slice(&self.map[self.at..self.at + self.len * size_of::<T>()])
    }

    /// The values copied into memory of their own, a chunk at a time, letting go of each
    /// chunk's pages: never the values twice over. Made with no lock held (a mapped file
    /// never changes) and installed by the owner's `adopt`.
    pub fn copy(&self) -> Vec<T> {
        let per_chunk = COPY_CHUNK_BYTES / size_of::<T>();
        let mut own = Vec::with_capacity(self.len);
        for (i, chunk) in self.values().chunks(per_chunk).enumerate() {
            own.extend_from_slice(chunk);
            let at = self.at + i * COPY_CHUNK_BYTES;
            let_go(&self.map, at, at + size_of_val(chunk));
        }
        own
    }

    /// Whether both are the same bytes of the same mapping.
    pub fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.map, &other.map) && self.at == other.at && self.len == other.len
    }
}

/// Bytes copied at a time out of a mapping (8 MiB).
const COPY_CHUNK_BYTES: usize = 8 << 20;

/// Lets go of the pages of `map[from..to]` (whole 64 KiB blocks, a multiple of any page
/// size): the process no longer counts them, and a later read finds them in the page cache
/// or on disk again.
pub fn let_go(map: &Mmap, from: usize, to: usize) {
    const BLOCK: usize = 64 << 10;
    let (from, to) = (from / BLOCK * BLOCK, to / BLOCK * BLOCK);
    if to > from {
        // SAFETY: the mapping is a read-only view of a file: dropping its pages changes
        // nothing it reads (they are read back from the file).
        let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, from, to - from) };
    }
}

/// A private mapping of a whole file that is only ever replaced (written beside it and
/// renamed), never changed in place: what JavaScript reads without the file being copied
/// into its heap (the label map of a checkpoint). Writable, so that a write through it
/// cannot fault: it changes a copy of the page, never the file.
pub fn map_file_private(path: &std::path::Path) -> std::io::Result<MmapMut> {
    let file = std::fs::File::open(path)?;
    // SAFETY: the files mapped so are never truncated or rewritten in place (see above);
    // one removed while mapped stays readable until the mapping goes.
    unsafe { MmapOptions::new().map_copy(&file) }
}
