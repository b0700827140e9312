//! The rows of a vector index: memory of its own, or the pages of the index file it was
//! loaded from, mapped read-only. A mapped index holds in memory only the rows its
//! searches read (a graph search walks the codes and reads the rows of the `ef` nodes it
//! ends on); the first write copies the rows into memory of its own.

use std::ops::Deref;

pub use crate::mapped::Mapped;

pub type MappedRows = Mapped<f32>;
pub type MappedCodes = Mapped<i8>;

pub enum Rows {
    Owned(Vec<f32>),
    Mapped(MappedRows),
}

impl Default for Rows {
    fn default() -> Self {
        Self::Owned(Vec::new())
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

    /// Takes `copy` (of `from`) as the rows when they are still mapped from `from`; else
    /// (a write or a compaction replaced them meanwhile) leaves them as they are.
    pub fn adopt(&mut self, from: &MappedRows, copy: Vec<f32>) {
        if matches!(self, Self::Mapped(m) if m.same(from)) {
            *self = Self::Owned(copy);
        }
    }

    /// The rows as memory of this index's own, copied out of the file on the first call
    /// (under whatever lock the caller holds; `mapped` and `adopt` copy outside it).
    pub fn to_mut(&mut self) -> &mut Vec<f32> {
        if let Self::Mapped(m) = self {
            *self = Self::Owned(m.copy());
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

impl Deref for Rows {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        match self {
            Self::Owned(v) => v,
            Self::Mapped(m) => m.values(),
        }
    }
}

impl From<Vec<f32>> for Rows {
    fn from(v: Vec<f32>) -> Self {
        Self::Owned(v)
    }
}
