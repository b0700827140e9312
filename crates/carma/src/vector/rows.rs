//! The rows of a vector index: memory of its own, or the pages of the index file it was
//! loaded from, mapped read-only. A mapped index holds in memory only the rows its
//! searches read (a graph search walks the codes and reads the rows of the `ef` nodes it
//! ends on); the first write copies the rows into memory of its own.

use std::ops::Deref;
use std::sync::Arc;

use memmap2::{Mmap, UncheckedAdvice};

pub enum Rows {
    Owned(Vec<f32>),
    Mapped(MappedRows),
}

/// `len` floats at byte `at` of a mapped index file.
#[derive(Clone)]
pub struct MappedRows {
    map: Arc<Mmap>,
    at: usize,
    len: usize,
}

impl MappedRows {
    /// The rows at `at..at + 4 * len` of `map`: `None` unless they are in it and aligned
    /// for `f32`, and the machine is little-endian like the file.
    pub fn new(map: Arc<Mmap>, at: usize, len: usize) -> Option<Self> {
        let end = len.checked_mul(4)?.checked_add(at)?;
        let fits = end <= map.len() && (map.as_ptr() as usize + at).is_multiple_of(4);
        (fits && cfg!(target_endian = "little")).then_some(Self { map, at, len })
    }
}

/// `len` code bytes at byte `at` of a mapped index file: its codes section (see
/// `crate::codes::RowCodes`).
#[derive(Clone)]
pub struct MappedCodes {
    map: Arc<Mmap>,
    at: usize,
    len: usize,
}

impl MappedCodes {
    /// `None` unless `at..at + len` is in `map`.
    pub fn new(map: Arc<Mmap>, at: usize, len: usize) -> Option<Self> {
        let end = at.checked_add(len)?;
        (end <= map.len()).then_some(Self { map, at, len })
    }

    pub fn bytes(&self) -> &[i8] {
        bytemuck::cast_slice(&self.map[self.at..self.at + self.len])
    }

    /// The codes copied into memory of their own, a chunk at a time, letting go of each
    /// chunk's pages.
    pub fn copy(&self) -> Vec<i8> {
        let mut own = Vec::with_capacity(self.len);
        for (i, chunk) in self.bytes().chunks(4 * COPY_CHUNK_FLOATS).enumerate() {
            own.extend_from_slice(chunk);
            let at = self.at + i * 4 * COPY_CHUNK_FLOATS;
            let_go(&self.map, at, at + chunk.len());
        }
        own
    }

    /// Whether both are the same bytes of the same mapping.
    pub fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.map, &other.map) && self.at == other.at && self.len == other.len
    }
}

impl Default for Rows {
    fn default() -> Self {
        Self::Owned(Vec::new())
    }
}

/// A copy of mapped rows, made without holding the index (`Rows::mapped`), for
/// `Rows::adopt` to install.
pub struct RowsCopy {
    from: MappedRows,
    rows: Vec<f32>,
}

impl MappedRows {
    /// The rows copied into memory of their own, a chunk at a time, letting go of each
    /// chunk's pages: never the rows twice over.
    pub fn copy(self) -> RowsCopy {
        let rows = rows_of(&self);
        let mut own = Vec::with_capacity(rows.len());
        for (i, chunk) in rows.chunks(COPY_CHUNK_FLOATS).enumerate() {
            own.extend_from_slice(chunk);
            let at = self.at + 4 * i * COPY_CHUNK_FLOATS;
            let_go(&self.map, at, at + 4 * chunk.len());
        }
        RowsCopy {
            from: self,
            rows: own,
        }
    }
}

impl Rows {
    /// The mapping, when the rows are mapped: a handle to copy them from with no lock held
    /// (a mapped file never changes), so that the first write holds its write lock, and
    /// the searches waiting on it, only for the swap (`adopt`), not for the copy (about
    /// 100 ms at 100k x 384).
    pub fn mapped(&self) -> Option<MappedRows> {
        match self {
            Self::Mapped(m) => Some(m.clone()),
            Self::Owned(_) => None,
        }
    }

    /// Takes `copy` as the rows when they are still the ones it was made from; else (a
    /// write or a compaction replaced them meanwhile) leaves them as they are.
    pub fn adopt(&mut self, copy: RowsCopy) {
        if let Self::Mapped(m) = self {
            let same = Arc::ptr_eq(&m.map, &copy.from.map)
                && m.at == copy.from.at
                && m.len == copy.from.len;
            if same {
                *self = Self::Owned(copy.rows);
            }
        }
    }

    /// The rows as memory of this index's own, copied out of the file on the first call
    /// (under whatever lock the caller holds; `mapped` and `adopt` copy outside it).
    pub fn to_mut(&mut self) -> &mut Vec<f32> {
        if let Some(m) = self.mapped() {
            let copy = m.copy();
            self.adopt(copy);
        }
        match self {
            Self::Owned(v) => v,
            Self::Mapped(_) => unreachable!("replaced above"),
        }
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self, Self::Mapped(_))
    }
}

fn rows_of(m: &MappedRows) -> &[f32] {
    bytemuck::cast_slice(&m.map[m.at..m.at + 4 * m.len])
}

impl Deref for Rows {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        match self {
            Self::Owned(v) => v,
            Self::Mapped(m) => rows_of(m),
        }
    }
}

impl From<Vec<f32>> for Rows {
    fn from(v: Vec<f32>) -> Self {
        Self::Owned(v)
    }
}

/// Floats copied at a time out of a mapping (8 MiB).
const COPY_CHUNK_FLOATS: usize = 2 << 20;

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
