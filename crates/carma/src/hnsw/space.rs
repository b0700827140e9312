//! What a graph walk measures nodes with: estimates from the rows' int8 codes (how both
//! an insert and a search walk the graph; the nodes a walk ends on are then scored
//! exactly), or exact inner products with the `f32` rows (for a row or query without a
//! code).

use super::{prefetch, prefetch_row};
use crate::codes::{QueryCode, RowCodes};
use crate::simd::DotFn;
use crate::simd_int::dots;

/// The query's distance to a node (lower is nearer), and hints to fetch what that reads.
pub trait Space {
    fn dist(&self, id: u32) -> f32;
    /// The node was just found among the neighbours of the one expanded.
    fn prefetch(&self, id: u32);
    /// The node is scored next.
    fn prefetch_next(&self, id: u32);
}

/// Exact inner products with the `f32` rows.
pub struct FloatSpace<'a> {
    pub data: &'a [f32],
    pub dim: usize,
    pub q: &'a [f32],
    pub dot: DotFn,
}

impl Space for FloatSpace<'_> {
    #[inline]
    fn dist(&self, id: u32) -> f32 {
        let at = id as usize * self.dim;
        -(self.dot)(self.q, &self.data[at..at + self.dim])
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        prefetch(self.data, self.dim, id);
    }

    #[inline]
    fn prefetch_next(&self, id: u32) {
        prefetch_row(self.data, self.dim, id);
    }
}

/// Inner products estimated from the rows' int8 codes: a quarter of the bytes of the
/// rows, and held in memory when the rows are mapped from the index file, so that a
/// search reads the rows only of the nodes it ends on (which the caller rescores).
pub struct CodeSpace<'a> {
    pub codes: &'a RowCodes,
    pub q: &'a QueryCode,
}

impl Space for CodeSpace<'_> {
    #[inline]
    fn dist(&self, id: u32) -> f32 {
        let dim = self.q.codes.len();
        let at = id as usize * dim;
        let mut out = [0i32];
        dots(&self.q.codes, &self.codes.codes()[at..at + dim], &mut out);
        -self.q.estimate(out[0], &self.codes.bounds()[id as usize])
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        let dim = self.q.codes.len();
        crate::hnsw::prefetch_bytes(self.codes.codes(), id as usize * dim, dim);
        // The row's bounds live apart from its code: a miss there stalled the estimate.
        crate::hnsw::prefetch_at(self.codes.bounds(), id as usize);
    }

    #[inline]
    fn prefetch_next(&self, _id: u32) {}
}
