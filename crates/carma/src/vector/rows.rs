//! The rows of a vector index: memory of its own, or the pages of the index file it was
//! loaded from, mapped read-only. A mapped index holds in memory only the rows its
//! searches touch (a graph search visits a few thousand of 100k); the first write copies
//! the rows into memory of its own.

use std::ops::Deref;
use std::sync::Arc;

use memmap2::Mmap;

pub enum Rows {
    Owned(Vec<f32>),
    Mapped(MappedRows),
}

/// `len` floats at byte `at` of a mapped index file.
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

impl Default for Rows {
    fn default() -> Self {
        Self::Owned(Vec::new())
    }
}

impl Rows {
    /// The rows as memory of this index's own, copied out of the file on the first call.
    pub fn to_mut(&mut self) -> &mut Vec<f32> {
        if let Self::Mapped(m) = self {
            *self = Self::Owned(rows_of(m).to_vec());
        }
        match self {
            Self::Owned(v) => v,
            Self::Mapped(_) => unreachable!("replaced above"),
        }
    }

    #[cfg(test)]
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
