//! The vector index: rows in one contiguous row-major `f32` matrix addressed by slot,
//! caller-chosen `u32` labels, tombstones for deletes, exact search (SIMD dot products,
//! rayon across rows or queries) and an optional HNSW graph over the same rows.
//!
//! Next to the matrix, every row also has a compact `i8` code (`codes`), maintained with
//! the rows and rebuilt on load (it is not part of the file). Large exact searches scan
//! the codes and rescore the few rows they cannot rule out (`code_scan`); the results are
//! identical to the plain `f32` scan, which small searches still use.
//!
//! The file format (shared with the js implementation, checksummed) is in `file`.

use rayon::prelude::*;

use crate::code_scan::{self, ScanRows};
use crate::codes::{QueryCode, RowCodes};
use crate::fx::FxSet;
use crate::hnsw::{CodeSpace, FloatSpace, Hnsw, HnswParams, Nearest};
use crate::label_slots::LabelSlots;
use crate::mapped::Mapped;
use crate::simd::{dot, dot_fn, normalize};
use crate::topk::{Hit, TopK};
use aios_error::{AiosError, Result};

mod compaction;
mod file;
mod rows;

pub use compaction::Compaction;
pub use file::{temp_path, CHECKSUM_BYTES, FORMAT_VERSION};
use rows::Rows;
pub use rows::{MappedCodes, MappedRows};

pub const MAGIC: &[u8; 8] = b"CARMAVI1";
pub use crate::file_bytes::END;
pub const MAX_K: usize = 10_000;
pub const MAX_DIM: usize = 65_536;
/// Rows per rayon task in a single-query exact scan.
const CHUNK_ROWS: usize = 2048;
/// Fewest rows for which scanning codes and rescoring beats the plain `f32` scan
/// (measured: 1.5x faster at 1000 rows of 384 dimensions, k = 10).
const CODES_MIN_ROWS: usize = 1024;
/// Codes pay off while k is at most this fraction of the rows scanned: every row that
/// may reach the top-k is rescored, so a large k leaves little to skip (measured: about
/// even at k = rows / 16, 20% slower at rows / 4).
const CODES_MAX_K_SHARE: usize = 32;

/// Which kernel an exact scan uses. `Auto` picks codes when they pay off; the others
/// force one, to compare both on the same data (they return the same results). Queries
/// without a code (zero, or magnitudes outside the bounded range) always use `f32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExactPath {
    Auto,
    Float,
    Codes,
}

impl ExactPath {
    fn wants_codes(self, rows: usize, k: usize) -> bool {
        match self {
            ExactPath::Auto => {
                rows >= CODES_MIN_ROWS && k.saturating_mul(CODES_MAX_K_SHARE) <= rows
            }
            ExactPath::Float => false,
            ExactPath::Codes => true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Cosine,
    Dot,
}

impl Metric {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "cosine" => Ok(Metric::Cosine),
            "dot" => Ok(Metric::Dot),
            _ => Err(AiosError::invalid(format!(
                "metric: expected \"cosine\" or \"dot\", got {s:?}"
            ))),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Metric::Cosine => "cosine",
            Metric::Dot => "dot",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct SearchOptions {
    /// Scan every row even when a graph exists.
    pub exact: bool,
    /// HNSW search breadth (at least k).
    pub ef: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            exact: false,
            ef: 64,
        }
    }
}

/// Results of a batch search: `k` entries per query, best first, padded with
/// `u32::MAX` / `-inf` when fewer rows qualify.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    pub labels: Vec<u32>,
    pub scores: Vec<f32>,
}

/// Graph nodes reserved by `VectorIndex::append`, still to be linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingLinks {
    start: usize,
    end: usize,
    generation: u64,
}

pub struct VectorIndex {
    pub dim: usize,
    pub metric: Metric,
    data: Rows,
    /// One code per slot, in step with `data`.
    codes: RowCodes,
    labels: Vec<u32>,
    alive: Vec<bool>,
    by_label: LabelSlots,
    hnsw: Option<Hnsw>,
    /// Bumped whenever slots are renumbered or the graph rebuilt (`compact`, `set_hnsw`),
    /// so that a compaction copied from the index before is not swapped in after.
    generation: u64,
}

/// A number as JavaScript prints it (`NaN`, `Infinity`), for messages both
/// implementations word the same.
pub fn js_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        format!("{v}")
    }
}

fn validate_k(k: usize) -> Result<()> {
    if k == 0 || k > MAX_K {
        return Err(AiosError::invalid(format!(
            "k: expected an integer from 1 to {MAX_K}, got {k}"
        )));
    }
    Ok(())
}

impl VectorIndex {
    pub fn new(dim: usize, metric: Metric, hnsw: Option<HnswParams>) -> Result<Self> {
        if dim == 0 || dim > MAX_DIM {
            return Err(AiosError::invalid(format!(
                "dimension: expected an integer from 1 to {MAX_DIM}, got {dim}"
            )));
        }
        if let Some(p) = hnsw {
            validate_hnsw(p)?;
        }
        Ok(Self {
            dim,
            metric,
            data: Rows::default(),
            codes: RowCodes::new(dim),
            labels: Vec::new(),
            alive: Vec::new(),
            by_label: LabelSlots::default(),
            hnsw: hnsw.map(Hnsw::new),
            generation: 0,
        })
    }

    /// The file mapping the rows are read from, if they are mapped: the first write
    /// copies them into memory of the index's own. A writer copies them with no lock held
    /// (`MappedRows::copy`, a mapped file never changes) and hands the copy to
    /// `adopt_rows` under its write lock, so that searches wait only for the swap.
    pub fn mapped_rows(&self) -> Option<MappedRows> {
        self.data.mapped()
    }

    /// Whether the rows are still read from the index file (no write has copied them).
    pub fn rows_mapped(&self) -> bool {
        self.data.is_mapped()
    }

    /// Takes `copy` as the rows if they are still those it was copied from (else a write
    /// or a compaction replaced them meanwhile, and the copy is dropped).
    pub fn adopt_rows(&mut self, from: &MappedRows, copy: Vec<f32>) {
        self.data.adopt(from, copy);
    }

    /// The file mapping the codes are read from, if they are mapped (as `mapped_rows`).
    pub fn mapped_codes(&self) -> Option<MappedCodes> {
        self.codes.mapped()
    }

    /// The graph's layer 0 as mapped from the index file, if it still is (as `mapped_rows`).
    pub fn mapped_layer0(&self) -> Option<Mapped<u32>> {
        self.hnsw.as_ref()?.mapped_layer0()
    }

    /// Takes `copy` (`Hnsw::copy_layer0` of `from`) as the graph's layer 0 if it is still
    /// mapped from `from`.
    pub fn adopt_layer0(&mut self, from: &Mapped<u32>, copy: Vec<std::sync::atomic::AtomicU32>) {
        if let Some(graph) = self.hnsw.as_mut() {
            graph.adopt_layer0(from, copy);
        }
    }

    /// Takes `copy` (of `from`) as the codes if they are still mapped from `from`.
    pub fn adopt_codes(&mut self, from: &MappedCodes, copy: Vec<i8>) {
        self.codes.adopt(from, copy);
    }

    pub fn len(&self) -> usize {
        self.by_label.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_label.is_empty()
    }

    /// Rows ever stored, deleted ones included (until `compact`).
    pub fn slots(&self) -> usize {
        self.labels.len()
    }

    pub fn hnsw_params(&self) -> Option<HnswParams> {
        self.hnsw.as_ref().map(|h| h.params)
    }

    pub fn contains(&self, label: u32) -> bool {
        self.slot_of(label).is_some()
    }

    /// The slot of a live label.
    fn slot_of(&self, label: u32) -> Option<u32> {
        let by_label = self.by_label.map(&self.labels, Some(&self.alive));
        by_label.get(&label).copied()
    }

    /// Whether the label→slot map is built (an index read for its structure builds it
    /// when first asked).
    pub fn label_slots_built(&self) -> bool {
        self.by_label.is_built()
    }

    /// Builds the label→slot map if it is not yet: a writer does it under the read lock
    /// (searches go on) rather than under its write lock.
    pub fn build_label_slots(&self) {
        self.by_label.map(&self.labels, Some(&self.alive));
    }

    /// The stored row of `label` (unit length under the cosine metric).
    pub fn get(&self, label: u32) -> Option<&[f32]> {
        self.slot_of(label)
            .map(|s| &self.data[s as usize * self.dim..(s as usize + 1) * self.dim])
    }

    /// Live labels in slot order.
    pub fn labels(&self) -> Vec<u32> {
        self.labels
            .iter()
            .zip(&self.alive)
            .filter(|(_, a)| **a)
            .map(|(l, _)| *l)
            .collect()
    }

    fn check_vectors(&self, vectors: &[f32], rows: usize, what: &str) -> Result<()> {
        if vectors.len() != rows * self.dim {
            return Err(AiosError::new(
                "DIMENSION_MISMATCH",
                format!(
                    "{what}: expected {rows} x {} = {} floats, got {}",
                    self.dim,
                    rows * self.dim,
                    vectors.len()
                ),
            ));
        }
        if let Some(i) = vectors.iter().position(|v| !v.is_finite()) {
            return Err(AiosError::invalid(format!(
                "{what}: expected finite numbers, got {} at row {} column {}",
                js_number(f64::from(vectors[i])),
                i / self.dim,
                i % self.dim
            )));
        }
        Ok(())
    }

    /// Adds or replaces rows. Everything is validated before anything changes.
    pub fn add(&mut self, labels: &[u32], vectors: &[f32]) -> Result<()> {
        if let Some(pending) = self.append(labels, vectors)? {
            self.link(&pending, 0);
        }
        Ok(())
    }

    /// `add` in the parts a caller can run under different locks: `append` (the index to
    /// itself) stores the rows, searchable at once by exact scan, and reserves their graph
    /// nodes; `link` (the index shared, searches going on) links them, each new link
    /// searchable once made. Returns what is left to link, if the index has a graph.
    pub fn append(&mut self, labels: &[u32], vectors: &[f32]) -> Result<Option<PendingLinks>> {
        self.check_vectors(vectors, labels.len(), "vectors")?;
        let mut seen = FxSet::with_capacity_and_hasher(labels.len(), Default::default());
        for l in labels {
            if *l == u32::MAX {
                return Err(AiosError::invalid(
                    "labels: expected labels below 4294967295 (reserved), got 4294967295 (number)",
                ));
            }
            if !seen.insert(*l) {
                return Err(AiosError::invalid(format!(
                    "labels: expected distinct labels within one batch, got {l} (number)"
                )));
            }
        }
        let start = self.labels.len();
        if start + labels.len() > u32::MAX as usize - 1 {
            return Err(AiosError::new("CAPACITY", "index is full (2^32 - 2 rows)"));
        }
        let data = self.data.to_mut();
        data.reserve(vectors.len());
        let by_label = self.by_label.map_mut(&self.labels, Some(&self.alive));
        for (i, &label) in labels.iter().enumerate() {
            if let Some(old) = by_label.get(&label) {
                self.alive[*old as usize] = false;
            }
            let slot = self.labels.len() as u32;
            let row = &vectors[i * self.dim..(i + 1) * self.dim];
            let from = data.len();
            data.extend_from_slice(row);
            if self.metric == Metric::Cosine {
                normalize(&mut data[from..]);
            }
            self.labels.push(label);
            self.alive.push(true);
            by_label.insert(label, slot);
        }
        let end = self.labels.len();
        self.codes.extend(&self.data[start * self.dim..]);
        if let Some(h) = self.hnsw.as_mut() {
            h.reserve_nodes(start, end);
            return Ok(Some(PendingLinks {
                start,
                end,
                generation: self.generation,
            }));
        }
        if self.slots() > 1024 && self.slots() > 2 * self.len() {
            self.compact();
        }
        Ok(None)
    }

    /// Links the graph nodes `append` reserved. Nothing to do when the index was
    /// renumbered or regraphed since (`compact`, `set_hnsw`, a compaction's swap): that
    /// built a graph over every live row, these included.
    ///
    /// With `nearest` above 0, returns for each linked row the `nearest` live rows held
    /// before its batch that the walk linking it ended on, best first with exact scores
    /// and padded as a search pads (what a graph search for the row before the batch
    /// would answer, without a second walk); `None` when nothing was linked.
    pub fn link(&self, pending: &PendingLinks, nearest: usize) -> Option<SearchResults> {
        if pending.generation != self.generation {
            return None;
        }
        let h = self.hnsw.as_ref()?;
        let before = |slot: u32| (slot as usize) < pending.start && self.alive[slot as usize];
        let walks = h.link_range(
            &self.data,
            &self.codes,
            self.dim,
            pending.start,
            pending.end,
            &Nearest {
                k: nearest,
                accept: &before,
            },
        );
        if nearest == 0 {
            return None;
        }
        let mut out = SearchResults {
            labels: Vec::with_capacity(walks.len() * nearest),
            scores: Vec::with_capacity(walks.len() * nearest),
        };
        for walk in walks {
            for (score, slot) in &walk {
                out.labels.push(self.labels[*slot as usize]);
                out.scores.push(*score);
            }
            for _ in walk.len()..nearest {
                out.labels.push(u32::MAX);
                out.scores.push(f32::NEG_INFINITY);
            }
        }
        Some(out)
    }

    /// Deletes rows; returns how many of the labels were present.
    pub fn remove(&mut self, labels: &[u32]) -> usize {
        let mut removed = 0;
        let by_label = self.by_label.map_mut(&self.labels, Some(&self.alive));
        for l in labels {
            if let Some(slot) = by_label.remove(l) {
                self.alive[slot as usize] = false;
                removed += 1;
            }
        }
        if self.hnsw.is_none() && self.slots() > 1024 && self.slots() > 2 * self.len() {
            self.compact();
        }
        removed
    }

    /// Drops deleted rows; rebuilds the graph (if any) over the live rows.
    pub fn compact(&mut self) {
        if self.slots() == self.len() {
            return;
        }
        let dim = self.dim;
        let mut data = Vec::with_capacity(self.len() * dim);
        let mut labels = Vec::with_capacity(self.len());
        for (slot, (&label, &alive)) in self.labels.iter().zip(&self.alive).enumerate() {
            if alive {
                data.extend_from_slice(&self.data[slot * dim..(slot + 1) * dim]);
                labels.push(label);
            }
        }
        self.by_label = LabelSlots::from_map(
            labels
                .iter()
                .enumerate()
                .map(|(s, &l)| (l, s as u32))
                .collect(),
        );
        self.codes.retain(&self.alive);
        self.alive = vec![true; labels.len()];
        self.labels = labels;
        self.data = data.into();
        self.generation += 1;
        if let Some(params) = self.hnsw_params() {
            let mut g = Hnsw::new(params);
            g.insert_range(&self.data, &self.codes, dim, 0, self.labels.len());
            self.hnsw = Some(g);
        }
    }

    /// Builds (or rebuilds) the HNSW graph over every row, or drops it with `None`.
    pub fn set_hnsw(&mut self, params: Option<HnswParams>) -> Result<()> {
        if let Some(p) = params {
            validate_hnsw(p)?;
        }
        self.generation += 1;
        match params {
            None => self.hnsw = None,
            Some(p) => {
                let mut g = Hnsw::new(p);
                g.insert_range(&self.data, &self.codes, self.dim, 0, self.labels.len());
                self.hnsw = Some(g);
            }
        }
        Ok(())
    }

    /// The `k` accepted rows nearest `q` by a walk of the graph `g` with breadth `ef`, best
    /// first. The walk measures rows by their int8 codes (in memory, where the rows may be
    /// mapped from the index file and the codes are a quarter of their bytes); the `ef` rows
    /// it ends on are rescored exactly, so scores and order are those of the `f32` rows. A
    /// query without a code (zero, or of a magnitude codes cannot bound) walks the rows.
    fn graph_search(
        &self,
        g: &Hnsw,
        q: &[f32],
        k: usize,
        ef: usize,
        accept: &impl Fn(u32) -> bool,
    ) -> Vec<Hit> {
        let Some(code) = QueryCode::new(q) else {
            let space = FloatSpace {
                data: &self.data,
                dim: self.dim,
                q,
                dot: dot_fn(),
            };
            return g
                .search(&space, k, ef, accept)
                .into_iter()
                .map(|(score, slot)| Hit {
                    score,
                    id: self.labels[slot as usize],
                })
                .collect();
        };
        let space = CodeSpace {
            codes: &self.codes,
            q: &code,
        };
        let mut top = TopK::new(k);
        for (_, slot) in g.search(&space, ef, ef, accept) {
            top.push(Hit {
                score: dot(q, self.row(slot as usize)),
                id: slot,
            });
        }
        let mut hits = top.into_sorted();
        for h in &mut hits {
            h.id = self.labels[h.id as usize];
        }
        hits
    }

    #[inline]
    fn row(&self, slot: usize) -> &[f32] {
        &self.data[slot * self.dim..(slot + 1) * self.dim]
    }

    fn scan_all(&self, q: &[f32], k: usize, parallel: bool) -> TopK {
        let scan = |range: std::ops::Range<usize>| {
            let mut top = TopK::new(k);
            for slot in range {
                if !self.alive[slot] {
                    continue;
                }
                let score = dot(q, self.row(slot));
                let hit = Hit {
                    score,
                    id: self.labels[slot],
                };
                if let Some(t) = top.threshold() {
                    if score < t.score {
                        continue;
                    }
                }
                top.push(hit);
            }
            top
        };
        let n = self.slots();
        if parallel && n > CHUNK_ROWS {
            let chunks = n.div_ceil(CHUNK_ROWS);
            (0..chunks)
                .into_par_iter()
                .map(|c| scan(c * CHUNK_ROWS..((c + 1) * CHUNK_ROWS).min(n)))
                .reduce(|| TopK::new(k), TopK::merge)
        } else {
            scan(0..n)
        }
    }

    /// Exact top-k of many queries in one pass: rows are taken in blocks that stay in
    /// cache while every query is scored against them (blocks in parallel).
    fn scan_all_batch(&self, queries: &[f32], k: usize) -> Vec<TopK> {
        const BLOCK: usize = 512;
        let nq = queries.len() / self.dim;
        let n = self.slots();
        let blocks = n.div_ceil(BLOCK);
        let fresh = || (0..nq).map(|_| TopK::new(k)).collect::<Vec<_>>();
        (0..blocks)
            .into_par_iter()
            .fold(fresh, |mut tops, b| {
                let rows = b * BLOCK..((b + 1) * BLOCK).min(n);
                for (q, top) in queries.chunks_exact(self.dim).zip(tops.iter_mut()) {
                    for slot in rows.clone() {
                        if !self.alive[slot] {
                            continue;
                        }
                        let score = dot(q, self.row(slot));
                        if top.threshold().is_some_and(|t| score < t.score) {
                            continue;
                        }
                        top.push(Hit {
                            score,
                            id: self.labels[slot],
                        });
                    }
                }
                tops
            })
            .reduce(fresh, |a, b| {
                a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect()
            })
    }

    fn scan_slots(&self, q: &[f32], k: usize, slots: &[u32]) -> TopK {
        let mut top = TopK::new(k);
        for &slot in slots {
            let score = dot(q, self.row(slot as usize));
            top.push(Hit {
                score,
                id: self.labels[slot as usize],
            });
        }
        top
    }

    fn scan_rows(&self) -> ScanRows<'_> {
        ScanRows {
            dim: self.dim,
            data: &self.data,
            labels: &self.labels,
            alive: &self.alive,
            codes: &self.codes,
        }
    }

    /// Exact top-k of one query over every live row, or over the live rows `slots`.
    fn exact_one(
        &self,
        q: &[f32],
        k: usize,
        slots: Option<&[u32]>,
        parallel: bool,
        path: ExactPath,
    ) -> TopK {
        let rows = slots.map_or(self.slots(), <[u32]>::len);
        let code = if path.wants_codes(rows, k) {
            QueryCode::new(q)
        } else {
            None
        };
        match (slots, code) {
            (Some(slots), Some(code)) => {
                code_scan::top_k_slots(&self.scan_rows(), q, &code, k, slots, parallel)
            }
            (Some(slots), None) => self.scan_slots(q, k, slots),
            (None, Some(code)) => code_scan::top_k_all(&self.scan_rows(), q, &code, k, parallel),
            (None, None) => self.scan_all(q, k, parallel),
        }
    }

    /// Exact top-k of several queries over every live row.
    fn exact_batch(&self, queries: &[f32], k: usize, path: ExactPath) -> Vec<TopK> {
        if path.wants_codes(self.slots(), k) {
            let codes: Option<Vec<QueryCode>> =
                queries.chunks_exact(self.dim).map(QueryCode::new).collect();
            if let Some(codes) = codes {
                return code_scan::top_k_batch(&self.scan_rows(), queries, &codes, k);
            }
        }
        self.scan_all_batch(queries, k)
    }

    /// Searches `queries` (rows of `dim`); `filter` restricts results to those labels.
    pub fn search(
        &self,
        queries: &[f32],
        k: usize,
        filter: Option<&[u32]>,
        options: SearchOptions,
    ) -> Result<SearchResults> {
        self.search_with(queries, k, filter, options, ExactPath::Auto)
    }

    /// `search` with the exact-scan kernel chosen by the caller.
    pub fn search_with(
        &self,
        queries: &[f32],
        k: usize,
        filter: Option<&[u32]>,
        options: SearchOptions,
        path: ExactPath,
    ) -> Result<SearchResults> {
        validate_k(k)?;
        if queries.is_empty() || !queries.len().is_multiple_of(self.dim) {
            return Err(AiosError::new(
                "DIMENSION_MISMATCH",
                format!(
                    "queries: expected a non-empty multiple of {} floats, got {}",
                    self.dim,
                    queries.len()
                ),
            ));
        }
        let nq = queries.len() / self.dim;
        self.check_vectors(queries, nq, "queries")?;
        let mut normalized;
        let queries = if self.metric == Metric::Cosine {
            normalized = queries.to_vec();
            normalized.chunks_mut(self.dim).for_each(normalize);
            &normalized[..]
        } else {
            queries
        };
        // Filter: the allowed live slots, as a list and as a bitmap.
        let allowed: Option<(Vec<u32>, Vec<bool>)> = filter.map(|labels| {
            let mut mask = vec![false; self.slots()];
            let mut slots = Vec::with_capacity(labels.len());
            let by_label = self.by_label.map(&self.labels, Some(&self.alive));
            for l in labels {
                if let Some(&s) = by_label.get(l) {
                    if !mask[s as usize] {
                        mask[s as usize] = true;
                        slots.push(s);
                    }
                }
            }
            slots.sort_unstable();
            (slots, mask)
        });
        let use_graph = self.hnsw.as_ref().filter(|g| {
            !options.exact
                && !g.is_empty()
                && allowed
                    .as_ref()
                    .is_none_or(|(slots, _)| slots.len() * 10 >= self.len() && slots.len() > 2000)
        });
        let one = |q: &[f32], parallel: bool| -> Vec<Hit> {
            if let Some(g) = use_graph {
                let accept = |slot: u32| match &allowed {
                    Some((_, mask)) => mask[slot as usize],
                    None => self.alive[slot as usize],
                };
                self.graph_search(g, q, k, options.ef.max(k), &accept)
            } else {
                let slots = allowed.as_ref().map(|(slots, _)| &slots[..]);
                self.exact_one(q, k, slots, parallel, path).into_sorted()
            }
        };
        let per_query: Vec<Vec<Hit>> = if nq == 1 {
            vec![one(queries, true)]
        } else if use_graph.is_none() && allowed.is_none() {
            self.exact_batch(queries, k, path)
                .into_iter()
                .map(TopK::into_sorted)
                .collect()
        } else {
            queries
                .par_chunks(self.dim)
                .map(|q| one(q, false))
                .collect()
        };
        let mut out = SearchResults {
            labels: vec![u32::MAX; nq * k],
            scores: vec![f32::NEG_INFINITY; nq * k],
        };
        for (qi, hits) in per_query.into_iter().enumerate() {
            for (j, h) in hits.into_iter().enumerate() {
                out.labels[qi * k + j] = h.id;
                out.scores[qi * k + j] = h.score;
            }
        }
        Ok(out)
    }
}

pub(crate) fn validate_hnsw(p: HnswParams) -> Result<()> {
    if !(2..=256).contains(&p.m) || !(1..=100_000).contains(&p.ef_construction) {
        return Err(AiosError::invalid(format!(
            "hnsw: expected m from 2 to 256 and efConstruction from 1 to 100000, got m={} efConstruction={}",
            p.m, p.ef_construction
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hnsw::splitmix64;

    fn data(n: usize, dim: usize) -> Vec<f32> {
        let mut s = 11u64;
        (0..n * dim)
            .map(|_| {
                s = splitmix64(s);
                (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    fn brute(v: &[f32], dim: usize, q: &[f32], k: usize) -> Vec<u32> {
        let mut q = q.to_vec();
        normalize(&mut q);
        let mut all: Vec<(f32, u32)> = v
            .chunks(dim)
            .enumerate()
            .map(|(i, r)| {
                let mut r = r.to_vec();
                normalize(&mut r);
                (dot(&q, &r), i as u32)
            })
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        all.into_iter().take(k).map(|x| x.1).collect()
    }

    #[test]
    fn graph_searches_walk_the_codes_and_score_with_the_rows() {
        let (n, dim) = (3000, 48);
        let v = data(n, dim);
        let mut idx = VectorIndex::new(dim, Metric::Cosine, Some(HnswParams::default())).unwrap();
        idx.add(&(0..n as u32).collect::<Vec<_>>(), &v).unwrap();
        let opts = SearchOptions::default();
        let (mut found, mut asked, mut itself_first, mut queries) = (0, 0, 0, 0);
        for qi in (0..n).step_by(97) {
            let q = idx.get(qi as u32).unwrap().to_vec();
            let got = idx.search(&q, 10, None, opts).unwrap();
            // Scores are those of the rows, best first (the query as searched: normalised).
            let mut unit = q.clone();
            normalize(&mut unit);
            for (l, s) in got.labels.iter().zip(&got.scores) {
                assert_eq!(*s, dot(&unit, idx.get(*l).unwrap()));
            }
            assert!(got.scores.windows(2).all(|w| w[0] >= w[1]));
            queries += 1;
            // A row the walk reaches scores highest for itself: it comes first.
            if let Some(at) = got.labels.iter().position(|&l| l == qi as u32) {
                assert_eq!(at, 0, "row {qi} found at {at}");
                itself_first += 1;
            }
            let exact = idx
                .search(
                    &q,
                    10,
                    None,
                    SearchOptions {
                        exact: true,
                        ..opts
                    },
                )
                .unwrap();
            found += got
                .labels
                .iter()
                .filter(|l| exact.labels.contains(l))
                .count();
            asked += 10;
        }
        assert!(found as f64 / asked as f64 > 0.95, "recall {found}/{asked}");
        // Nearly every row finds itself: a parallel build leaves the odd node hard to reach
        // (about 1 query in 1,000 over repeated builds, with or without the codes; more when
        // the machine is loaded, since the threads' interleaving shapes the graph).
        assert!(
            itself_first * 10 >= queries * 9,
            "{itself_first} of {queries}"
        );
        // A zero query has no code: it walks the rows (every score 0).
        let zero = idx.search(&vec![0.0; dim], 5, None, opts).unwrap();
        assert!(zero.scores.iter().all(|&s| s == 0.0));
    }

    #[test]
    fn exact_matches_brute_force_and_batches() {
        let (n, dim) = (5000, 24);
        let v = data(n, dim);
        let mut idx = VectorIndex::new(dim, Metric::Cosine, None).unwrap();
        let labels: Vec<u32> = (0..n as u32).collect();
        idx.add(&labels, &v).unwrap();
        let queries = &v[..3 * dim];
        let res = idx
            .search(queries, 7, None, SearchOptions::default())
            .unwrap();
        for qi in 0..3 {
            let want = brute(&v, dim, &queries[qi * dim..(qi + 1) * dim], 7);
            assert_eq!(&res.labels[qi * 7..(qi + 1) * 7], &want[..]);
        }
        assert!((res.scores[0] - 1.0).abs() < 1e-5);
    }

    #[test]
    fn deletes_updates_filters_and_validation() {
        let dim = 8;
        let v = data(100, dim);
        let mut idx = VectorIndex::new(dim, Metric::Dot, None).unwrap();
        let labels: Vec<u32> = (0..100).collect();
        idx.add(&labels, &v).unwrap();
        assert_eq!(idx.remove(&[5, 6, 1000]), 2);
        assert_eq!(idx.len(), 98);
        let q = &v[5 * dim..6 * dim];
        let res = idx.search(q, 100, None, SearchOptions::default()).unwrap();
        assert!(!res.labels.contains(&5));
        assert_eq!(res.labels[98], u32::MAX);
        let f = idx
            .search(q, 3, Some(&[1, 2, 5, 999]), SearchOptions::default())
            .unwrap();
        let mut got: Vec<u32> = f.labels[..2].to_vec();
        got.sort();
        assert_eq!(got, vec![1, 2]);
        assert_eq!(f.labels[2], u32::MAX);
        // Replacing a row.
        idx.add(&[1], &v[..dim]).unwrap();
        assert_eq!(idx.len(), 98);
        assert_eq!(idx.get(1).unwrap(), &v[..dim]);
        // Bad input leaves the index as it was.
        assert_eq!(
            idx.add(&[200], &v[..dim - 1]).unwrap_err().code,
            "DIMENSION_MISMATCH"
        );
        let mut bad = v[..dim].to_vec();
        bad[3] = f32::NAN;
        assert_eq!(idx.add(&[200], &bad).unwrap_err().code, "INVALID_INPUT");
        assert!(idx.add(&[7, 7], &v[..2 * dim]).is_err());
        assert!(idx.search(q, 0, None, SearchOptions::default()).is_err());
        assert!(idx
            .search(q, MAX_K + 1, None, SearchOptions::default())
            .is_err());
        assert_eq!(idx.len(), 98);
    }

    /// The share of `rows` that a graph search for their own vector returns first (an
    /// approximate search: nearly all of them, and none that the graph cannot reach).
    fn found_by_graph(idx: &VectorIndex, v: &[f32], dim: usize, rows: std::ops::Range<u32>) -> f64 {
        let opts = SearchOptions {
            exact: false,
            ef: 64,
        };
        let total = rows.len();
        let found = rows
            .filter(|&r| {
                let q = &v[r as usize * dim..(r as usize + 1) * dim];
                idx.search(q, 1, None, opts).unwrap().labels == vec![r]
            })
            .count();
        found as f64 / total as f64
    }

    #[test]
    fn rows_appended_are_searchable_at_once_and_found_by_the_graph_once_linked() {
        let (n, dim) = (1200, 16);
        let v = data(n, dim);
        let mut idx = VectorIndex::new(dim, Metric::Cosine, Some(HnswParams::default())).unwrap();
        let labels: Vec<u32> = (0..n as u32).collect();
        idx.add(&labels[..800], &v[..800 * dim]).unwrap();
        let pending = idx
            .append(&labels[800..], &v[800 * dim..])
            .unwrap()
            .expect("a graph to extend");
        assert_eq!(idx.len(), n);
        // Before they are linked: an exact search finds them, and graph searches go on
        // (from another thread while this one links, as the binding does under a read lock).
        let q = &v[900 * dim..901 * dim];
        let exact = SearchOptions { exact: true, ef: 0 };
        assert_eq!(idx.search(q, 1, None, exact).unwrap().labels, vec![900]);
        let shared = &idx;
        std::thread::scope(|scope| {
            let searcher = scope.spawn(|| {
                for i in 0..50 {
                    let q = &v[i * dim..(i + 1) * dim];
                    let opts = SearchOptions {
                        exact: false,
                        ef: 64,
                    };
                    assert_eq!(shared.search(q, 1, None, opts).unwrap().labels.len(), 1);
                }
            });
            shared.link(&pending, 0);
            searcher.join().unwrap();
        });
        assert!(found_by_graph(&idx, &v, dim, 780..820) >= 0.95);
        assert!(found_by_graph(&idx, &v, dim, 1100..1200) >= 0.95);
    }

    #[test]
    fn rows_renumbered_before_they_were_linked_are_in_the_new_graph() {
        let (n, dim) = (600, 16);
        let v = data(n, dim);
        let mut idx = VectorIndex::new(dim, Metric::Cosine, Some(HnswParams::default())).unwrap();
        let labels: Vec<u32> = (0..n as u32).collect();
        idx.add(&labels[..400], &v[..400 * dim]).unwrap();
        let pending = idx
            .append(&labels[400..], &v[400 * dim..])
            .unwrap()
            .unwrap();
        // A compaction swapped in between the rows and their links: it built its graph
        // over every live row, and the links of the old slots must not be made in it.
        idx.remove(&[0, 1, 2]);
        idx.compact();
        idx.link(&pending, 0);
        assert_eq!(idx.len(), n - 3);
        assert_eq!(idx.slots(), n - 3);
        assert!(found_by_graph(&idx, &v, dim, 400..600) >= 0.95);
    }

    #[test]
    fn hnsw_persists_and_agrees_with_exact() {
        let (n, dim) = (2000, 16);
        let v = data(n, dim);
        let mut idx = VectorIndex::new(dim, Metric::Cosine, Some(HnswParams::default())).unwrap();
        let labels: Vec<u32> = (0..n as u32).map(|i| i * 3).collect();
        idx.add(&labels[..1000], &v[..1000 * dim]).unwrap();
        idx.add(&labels[1000..], &v[1000 * dim..]).unwrap();
        idx.remove(&[0, 3]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.idx");
        idx.save(&path).unwrap();
        let back = VectorIndex::load(&path).unwrap();
        assert_eq!(back.len(), idx.len());
        assert_eq!(back.to_bytes(), idx.to_bytes());
        let q = &v[10 * dim..13 * dim];
        let opts = SearchOptions {
            exact: false,
            ef: 100,
        };
        let a = idx.search(q, 10, None, opts).unwrap();
        let b = back.search(q, 10, None, opts).unwrap();
        assert_eq!(a, b);
        let exact = idx
            .search(q, 10, None, SearchOptions { exact: true, ef: 0 })
            .unwrap();
        let overlap = a.labels.iter().filter(|l| exact.labels.contains(l)).count();
        assert!(overlap >= 27, "overlap {overlap}");
        assert!(!a.labels.contains(&0));
        // Corruption is detected.
        let bytes = idx.to_bytes();
        assert_eq!(
            VectorIndex::from_bytes(&bytes[..bytes.len() - 3])
                .err()
                .unwrap()
                .code,
            "INDEX_CORRUPT"
        );
    }
}
