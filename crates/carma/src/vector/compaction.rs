//! Compaction beside a live index: the live rows are copied into a new index a few
//! thousand at a time, the copy gets its codes and graph while no lock is held, and only
//! the swap (with the few rows written meanwhile) needs the index to itself. Searches go
//! on against the old rows until the swap; `compact` is the same result in one call.
//!
//! Slots are append-only between renumberings: a row once written never changes, only
//! its tombstone. So a copy taken in parts is exact once it is brought up to date with
//! the rows appended since and the tombstones set since, which is what `finish` does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use super::VectorIndex;
use crate::hnsw::{Hnsw, HnswParams};

/// Rows given codes and graph nodes per step of `Compaction::index`, between which it
/// checks whether it was asked to stop.
const INDEX_STEP_ROWS: usize = 4096;

/// The threads compaction builds on: one fewer than the cores, at least one. On the
/// global pool its inserts would hold every core, and the searches and adds of the
/// foreground, which use that pool too, would queue behind them.
fn background_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores.saturating_sub(1).max(1))
            .thread_name(|i| format!("carma-compact-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// A compacted copy of a `VectorIndex` in the making (see the module docs).
pub struct Compaction {
    next: VectorIndex,
    /// The slot of the source index each row of `next` was copied from.
    from: Vec<u32>,
    /// Source slots looked at so far.
    copied: usize,
    /// Rows of `next` that have their code and graph node.
    indexed: usize,
    generation: u64,
}

impl VectorIndex {
    /// Starts a compacted copy of this index (nothing copied yet), with a graph of
    /// `graph`'s parameters when given, else of this index's (none if it has none): how a
    /// large index gets its first graph without holding the index meanwhile.
    pub fn start_compaction(&self, graph: Option<HnswParams>) -> Compaction {
        let mut next = VectorIndex::new(self.dim, self.metric, None)
            .expect("the dimension of an existing index is valid");
        next.hnsw = graph.or(self.hnsw_params()).map(Hnsw::new);
        Compaction {
            next,
            from: Vec::new(),
            copied: 0,
            indexed: 0,
            generation: self.generation,
        }
    }

    /// Copies the live rows among the next `max` source slots into `c`; false once every
    /// slot has been looked at (more may be appended later).
    pub fn copy_for_compaction(&self, c: &mut Compaction, max: usize) -> bool {
        let end = self.slots().min(c.copied.saturating_add(max));
        let next = &mut c.next;
        let by_label = next.by_label.map_mut(&next.labels, Some(&next.alive));
        for slot in c.copied..end {
            if !self.alive[slot] {
                continue;
            }
            let label = self.labels[slot];
            let at = next.labels.len() as u32;
            // A label replaced after its first row was copied: the newer row wins.
            if let Some(old) = by_label.insert(label, at) {
                next.alive[old as usize] = false;
            }
            next.data.to_mut().extend_from_slice(self.row(slot));
            next.labels.push(label);
            next.alive.push(true);
            c.from.push(slot as u32);
        }
        c.copied = end;
        end < self.slots()
    }

    /// Replaces this index by the compacted copy, brought up to date first: rows appended
    /// since are copied in and rows deleted since are deleted in the copy. Returns false,
    /// dropping the copy, when the index was renumbered or regraphed since it started.
    pub fn finish_compaction(&mut self, mut c: Compaction) -> bool {
        if c.generation != self.generation {
            return false;
        }
        while self.copy_for_compaction(&mut c, usize::MAX) {}
        let next = &mut c.next;
        let by_label = next.by_label.map_mut(&next.labels, Some(&next.alive));
        for (row, &slot) in c.from.iter().enumerate() {
            if next.alive[row] && !self.alive[slot as usize] {
                next.alive[row] = false;
                by_label.remove(&next.labels[row]);
            }
        }
        c.index(&AtomicBool::new(false));
        c.next.generation = self.generation + 1;
        std::mem::swap(self, &mut c.next);
        true
    }
}

impl Compaction {
    /// Copied rows still without their code and graph node.
    pub fn pending(&self) -> usize {
        self.next.slots() - self.indexed
    }

    /// Gives the copied rows their codes and graph nodes, a step at a time; returns false
    /// when `stop` was set before it was done.
    pub fn index(&mut self, stop: &AtomicBool) -> bool {
        match background_pool() {
            Some(pool) => pool.install(|| self.index_here(stop)),
            // No thread could be started for it: built where it was called.
            None => self.index_here(stop),
        }
    }

    fn index_here(&mut self, stop: &AtomicBool) -> bool {
        let dim = self.next.dim;
        while self.indexed < self.next.slots() {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let start = self.indexed;
            let end = self.next.slots().min(start + INDEX_STEP_ROWS);
            self.next
                .codes
                .extend(&self.next.data[start * dim..end * dim]);
            if let Some(graph) = self.next.hnsw.as_mut() {
                graph.insert_range(&self.next.data, &self.next.codes, dim, start, end);
            }
            self.indexed = end;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hnsw::HnswParams;
    use crate::vector::{Metric, SearchOptions};

    fn rows(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        (0..n * dim)
            .map(|i| {
                let x = crate::hnsw::splitmix64(seed ^ i as u64);
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    fn exact(index: &VectorIndex, q: &[f32], k: usize) -> Vec<u32> {
        let options = SearchOptions {
            exact: true,
            ..SearchOptions::default()
        };
        index.search(q, k, None, options).unwrap().labels
    }

    #[test]
    fn keeps_writes_made_while_it_ran() {
        let dim = 16;
        let params = HnswParams {
            m: 8,
            ef_construction: 40,
            seed: 7,
        };
        let mut index = VectorIndex::new(dim, Metric::Cosine, Some(params)).unwrap();
        let labels: Vec<u32> = (0..3000).collect();
        index.add(&labels, &rows(3000, dim, 1)).unwrap();
        let gone: Vec<u32> = (0..3000).filter(|l| l % 3 == 0).collect();
        index.remove(&gone);

        let mut c = index.start_compaction(None);
        assert!(index.copy_for_compaction(&mut c, 1000));
        // Written while the copy is under way: a row already copied is replaced, one
        // already copied is deleted, one not yet copied is deleted, new rows arrive.
        index.add(&[1], &rows(1, dim, 9)).unwrap();
        index.remove(&[2, 2999]);
        while index.copy_for_compaction(&mut c, 1000) {}
        assert!(c.index(&AtomicBool::new(false)));
        let fresh: Vec<u32> = (5000..5010).collect();
        index.add(&fresh, &rows(10, dim, 3)).unwrap();
        index.remove(&[4]);

        let before: Vec<u32> = index.labels();
        let probe = rows(5, dim, 11);
        let expected = exact(&index, &probe, 10);
        assert!(index.finish_compaction(c));
        let mut after = index.labels();
        let mut sorted = before.clone();
        sorted.sort_unstable();
        after.sort_unstable();
        assert_eq!(after, sorted);
        assert_eq!(index.len(), before.len());
        assert!(
            index.slots() - index.len() <= 3,
            "{} dead",
            index.slots() - index.len()
        );
        assert_eq!(exact(&index, &probe, 10), expected);
        assert_eq!(index.get(1).unwrap(), {
            let mut one = VectorIndex::new(dim, Metric::Cosine, None).unwrap();
            one.add(&[1], &rows(1, dim, 9)).unwrap();
            one.get(1).unwrap().to_vec()
        });
        let graph = index
            .search(&probe, 10, None, SearchOptions::default())
            .unwrap();
        let hit = graph.labels.iter().filter(|l| expected.contains(l)).count();
        assert!(hit >= 45, "graph recall {hit}/50");
    }

    #[test]
    fn is_dropped_after_a_renumbering_and_stops_when_asked() {
        let dim = 8;
        let mut index = VectorIndex::new(dim, Metric::Dot, None).unwrap();
        index.add(&[1, 2, 3], &rows(3, dim, 2)).unwrap();
        index.remove(&[2]);
        let mut c = index.start_compaction(None);
        while index.copy_for_compaction(&mut c, 2) {}
        index.compact();
        assert!(!index.finish_compaction(c));
        assert_eq!(index.len(), 2);

        index.set_hnsw(Some(HnswParams::default())).unwrap();
        let mut c = index.start_compaction(None);
        while index.copy_for_compaction(&mut c, 2) {}
        assert_eq!(c.pending(), 2);
        assert!(!c.index(&AtomicBool::new(true)));
        assert_eq!(c.pending(), 2);
    }

    #[test]
    fn gives_an_index_without_a_graph_its_first_one() {
        let dim = 16;
        let mut index = VectorIndex::new(dim, Metric::Cosine, None).unwrap();
        let labels: Vec<u32> = (0..2000).collect();
        index.add(&labels, &rows(2000, dim, 5)).unwrap();
        let params = HnswParams {
            m: 12,
            ef_construction: 60,
            seed: 3,
        };
        let mut c = index.start_compaction(Some(params));
        while index.copy_for_compaction(&mut c, 500) {}
        assert!(c.index(&AtomicBool::new(false)));
        // Written while the graph was being built: in it after the swap.
        let fresh: Vec<u32> = (9000..9100).collect();
        let fresh_rows = rows(100, dim, 8);
        index.add(&fresh, &fresh_rows).unwrap();
        assert!(index.hnsw_params().is_none());
        assert!(index.finish_compaction(c));
        assert_eq!(index.hnsw_params(), Some(params));
        assert_eq!(index.len(), 2100);
        let probe = &fresh_rows[..5 * dim];
        let expected = exact(&index, probe, 10);
        let graph = index
            .search(probe, 10, None, SearchOptions::default())
            .unwrap();
        let hit = graph.labels.iter().filter(|l| expected.contains(l)).count();
        assert!(hit >= 45, "graph recall {hit}/50");
        for (q, label) in fresh.iter().take(5).enumerate() {
            assert_eq!(graph.labels[q * 10], *label, "a row added during the build");
        }
    }
}
