//! BM25 over an inverted index. Tokens come from `text::tokenize` (lowercase, split on
//! non-alphanumerics, no stemming, no stopwords); IDF is Lucene's
//! `ln(1 + (N - df + 0.5) / (df + 0.5))`; repeated query terms count once per occurrence.
//! Deletes remove the document's postings, so statistics always describe the live set.
//!
//! Search is document-at-a-time with MaxScore pruning: each query term has an upper bound
//! on what it can add to a score (from the largest term frequency and the shortest
//! document it was ever seen with), and once the top-k is full, the terms whose bounds
//! together cannot reach its threshold only complete the scores of documents found
//! through the others. Common words (long lists, low IDF) are then never walked in full.
//! Every score that is kept is summed in query order, as a full scan would, so the
//! results are the same to the last bit.

mod file;
mod terms;

pub use file::LEXICAL_FORMAT_VERSION;
use rayon::prelude::*;
use terms::{Posting, Postings, Terms};

use crate::fx::FxSet;
use crate::label_slots::LabelSlots;
use crate::text::{lexical_tokens, TermCounts, LEXICAL_TOKENIZER};
use crate::topk::{Hit, TopK};
use aios_error::{AiosError, Result};

/// Documents from which one `add` tokenizes on every core.
const PARALLEL_BATCH: usize = 512;

/// The terms of each text (`TermCounts::of`). Tokenizing is most of the work of an add and
/// touches no index: `parallel` does it on every core (rayon), else on the caller's thread.
pub fn count_terms<S: AsRef<str> + Sync>(texts: &[S], parallel: bool) -> Vec<TermCounts> {
    if parallel {
        texts
            .par_iter()
            .map(|t| TermCounts::of(t.as_ref()))
            .collect()
    } else {
        texts.iter().map(|t| TermCounts::of(t.as_ref())).collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bm25Params {
    pub k1: f64,
    pub b: f64,
}

impl Default for Bm25Params {
    fn default() -> Self {
        Self { k1: 0.9, b: 0.4 }
    }
}

pub struct Bm25Index {
    pub params: Bm25Params,
    /// Per term: its postings in slot order and their bounds.
    terms: Terms,
    doc_len: Vec<u32>,
    /// The term ids of each slot's document: what a delete looks its postings up by.
    /// Built from the postings at the first delete, not on load (an index opened to
    /// search never needs it, and a load that built it spent most of its time so).
    doc_terms: Option<Vec<Vec<u32>>>,
    labels: Vec<u32>,
    by_label: LabelSlots,
    total_len: u64,
    /// The `text::LEXICAL_TOKENIZER` its terms come from: an index read from a file written
    /// before pairs of CJK characters were terms holds their runs whole (1).
    pub tokenizer: u32,
}

/// One occurrence of a query term during a search: its postings, IDF, the bound of what
/// it adds to a score, and the cursor into its postings.
struct Cursor<'a> {
    list: Postings<'a>,
    idf: f64,
    bound: f64,
    pos: usize,
}

impl Cursor<'_> {
    #[inline]
    fn doc(&self) -> Option<u32> {
        self.list.get(self.pos).map(|p| p.slot)
    }

    /// The posting at the cursor.
    #[inline]
    fn posting(&self) -> Option<Posting> {
        self.list.get(self.pos)
    }

    /// The term frequency in `slot`, moving the cursor to the first posting at or after it.
    #[inline]
    fn seek(&mut self, slot: u32) -> Option<u32> {
        let len = self.list.len();
        if self.doc().is_some_and(|s| s < slot) {
            // Galloping: the next match is usually near.
            let mut step = 1;
            while self
                .list
                .get(self.pos + step)
                .is_some_and(|p| p.slot < slot)
            {
                step *= 2;
            }
            let from = self.pos + step / 2;
            let to = (self.pos + step + 1).min(len);
            self.pos = from + self.list.below(from, to, slot);
        }
        self.posting()
            .and_then(|p| (p.slot == slot).then_some(p.tf))
    }
}

/// Removals of at most this many documents (without their texts, before the forward index
/// is built) search every term's postings for them: tens of milliseconds at 1M documents,
/// where building the forward index takes 1.2 s (worth it for larger removals, and kept).
const FEW_REMOVALS: usize = 64;

/// The term ids of each of `slots` documents, from the postings (each list sized before
/// it is filled: one allocation a document).
fn forward_index(terms: &Terms, slots: usize) -> Vec<Vec<u32>> {
    let mut counts = vec![0u32; slots];
    for id in 0..terms.len() as u32 {
        for p in terms.postings(id) {
            counts[p.slot as usize] += 1;
        }
    }
    let mut doc_terms: Vec<Vec<u32>> = counts
        .iter()
        .map(|&n| Vec::with_capacity(n as usize))
        .collect();
    for id in 0..terms.len() as u32 {
        for p in terms.postings(id) {
            doc_terms[p.slot as usize].push(id);
        }
    }
    doc_terms
}

/// Loosens a bound by far more than the rounding of any sum of a few terms, so that a
/// document is only skipped when its score is certainly below the threshold.
#[inline]
fn loose(bound: f64) -> f32 {
    (bound * (1.0 + 1e-9)) as f32
}

impl Bm25Index {
    pub fn new(params: Bm25Params) -> Result<Self> {
        if !(params.k1.is_finite() && params.k1 >= 0.0 && (0.0..=1.0).contains(&params.b)) {
            return Err(AiosError::invalid(format!(
                "bm25: expected k1 >= 0 and b in [0, 1], got k1={} b={}",
                params.k1, params.b
            )));
        }
        Ok(Self {
            params,
            terms: Terms::default(),
            doc_len: Vec::new(),
            doc_terms: Some(Vec::new()),
            labels: Vec::new(),
            by_label: LabelSlots::default(),
            total_len: 0,
            tokenizer: LEXICAL_TOKENIZER,
        })
    }

    pub fn len(&self) -> usize {
        self.by_label.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_label.is_empty()
    }

    pub fn contains(&self, label: u32) -> bool {
        self.by_label.map(&self.labels, None).contains_key(&label)
    }

    /// Whether `slot` holds its label's live document. Until the label map is built
    /// nothing was removed or replaced since the index was read (only documents of new
    /// labels added, see `all_new`), and a file holds only live documents.
    pub(crate) fn is_live(&self, slot: usize) -> bool {
        !self.by_label.is_built()
            || self
                .by_label
                .map(&self.labels, None)
                .get(&self.labels[slot])
                == Some(&(slot as u32))
    }

    /// Whether the label→slot map is built (an index read for its structure builds it
    /// when first asked).
    pub fn label_slots_built(&self) -> bool {
        self.by_label.is_built()
    }

    /// Builds the label→slot map if it is not yet: a writer does it under the read lock
    /// (searches go on) rather than under its write lock.
    pub fn build_label_slots(&self) {
        self.by_label.map(&self.labels, None);
    }

    /// Whether, with the label→slot map not built, every label of `labels` is above all
    /// those the index holds: then adding them replaces nothing and needs no map (at 1M
    /// documents 16 MB and tens of milliseconds that a note added at the prompt would pay).
    pub fn all_new(&self, labels: &[u32]) -> bool {
        if self.by_label.is_built() {
            return false;
        }
        match self.labels.iter().copied().max() {
            None => true,
            Some(highest) => labels.iter().all(|&l| l > highest),
        }
    }

    /// The labels of the live documents, in the order they were added.
    pub fn labels(&self) -> Vec<u32> {
        self.labels
            .iter()
            .enumerate()
            .filter(|&(slot, _)| self.is_live(slot))
            .map(|(_, &l)| l)
            .collect()
    }

    pub fn vocabulary_size(&self) -> usize {
        (0..self.terms.len() as u32)
            .filter(|&id| !self.terms.postings(id).is_empty())
            .count()
    }

    /// Adds or replaces documents.
    pub fn add<S: AsRef<str> + Sync>(&mut self, labels: &[u32], texts: &[S]) -> Result<()> {
        self.add_counted(labels, &count_terms(texts, texts.len() >= PARALLEL_BATCH))
    }

    /// Adds or replaces documents whose terms `count_terms` counted (outside any lock).
    pub fn add_counted(&mut self, labels: &[u32], counted: &[TermCounts]) -> Result<()> {
        if labels.len() != counted.len() {
            return Err(AiosError::invalid(format!(
                "texts: expected {} texts (one per label), got {}",
                labels.len(),
                counted.len()
            )));
        }
        let mut seen = FxSet::with_capacity_and_hasher(labels.len(), Default::default());
        if let Some(l) = labels.iter().find(|l| !seen.insert(**l)) {
            return Err(AiosError::invalid(format!(
                "labels: {l} appears twice in one batch"
            )));
        }
        let fresh = self.all_new(labels);
        if !fresh {
            self.remove(labels);
        }
        // Term ids are handed out in batch order, as one document after another would.
        for (&label, doc) in labels.iter().zip(counted) {
            let slot = self.labels.len() as u32;
            let len = doc.tokens;
            let mut terms: Vec<u32> = Vec::with_capacity(doc.terms.len());
            for &(start, end, f) in &doc.terms {
                let id = self
                    .terms
                    .id_or_insert(&doc.lower[start as usize..end as usize]);
                self.terms.append(id, Posting { slot, tf: f }, len);
                terms.push(id);
            }
            self.doc_len.push(len);
            self.total_len += u64::from(len);
            // Not built yet: it will be, from the postings, which hold this document now.
            if let Some(doc_terms) = &mut self.doc_terms {
                doc_terms.push(terms);
            }
            self.labels.push(label);
            if fresh {
                self.by_label.add_unbuilt();
            } else {
                self.by_label
                    .map_mut(&self.labels, None)
                    .insert(label, slot);
            }
        }
        Ok(())
    }

    /// Deletes documents; returns how many were present.
    /// Removes documents given the texts they were added with (`counted`, one per label):
    /// each one's postings are found through its own terms, not through the forward index
    /// (a list of terms per document, built on the first removal: 1.2 s at 1M documents).
    /// A document whose postings do not add up to its length (a text other than the one
    /// indexed) is removed through the forward index, so the result is the same either way.
    pub fn remove_counted(&mut self, labels: &[u32], counted: &[TermCounts]) -> usize {
        if labels.len() != counted.len() || self.doc_terms.is_some() {
            return self.remove(labels);
        }
        let mut removed = 0;
        let mut rest = Vec::new();
        for (&label, doc) in labels.iter().zip(counted) {
            let Some(&slot) = self.by_label.map(&self.labels, None).get(&label) else {
                continue;
            };
            match self.postings_of(slot, doc) {
                Some(found) => {
                    for id in found {
                        let list = &mut self.terms.list_mut(id).postings;
                        if let Ok(pos) = list.binary_search_by_key(&slot, |p| p.slot) {
                            list.remove(pos);
                        }
                    }
                    self.by_label.map_mut(&self.labels, None).remove(&label);
                    self.total_len -= u64::from(self.doc_len[slot as usize]);
                    self.doc_len[slot as usize] = 0;
                    removed += 1;
                }
                None => rest.push(label),
            }
        }
        removed + self.remove(&rest)
    }

    /// Removes documents by a binary search of every term's postings for their slots: no
    /// forward index is built (an allocation per document), and the lists are only read
    /// until one holds a slot.
    fn remove_by_search(&mut self, labels: &[u32]) -> usize {
        let mut slots = Vec::with_capacity(labels.len());
        let by_label = self.by_label.map_mut(&self.labels, None);
        for l in labels {
            if let Some(slot) = by_label.remove(l) {
                slots.push(slot);
            }
        }
        let mut found = Vec::new();
        for id in 0..self.terms.len() as u32 {
            let list = self.terms.postings(id);
            for &slot in &slots {
                if list.find(slot).is_ok() {
                    found.push((id, slot));
                }
            }
        }
        for (id, slot) in found {
            let list = &mut self.terms.list_mut(id).postings;
            if let Ok(pos) = list.binary_search_by_key(&slot, |p| p.slot) {
                list.remove(pos);
            }
        }
        for &slot in &slots {
            self.total_len -= u64::from(self.doc_len[slot as usize]);
            self.doc_len[slot as usize] = 0;
        }
        slots.len()
    }

    /// The term ids of the postings of `slot`, found through `doc`'s terms: None unless
    /// their frequencies add up to the document's length (every posting of it found).
    fn postings_of(&self, slot: u32, doc: &TermCounts) -> Option<Vec<u32>> {
        let mut ids = Vec::with_capacity(doc.terms.len());
        let mut tokens = 0u64;
        for &(start, end, _) in &doc.terms {
            let id = self.terms.id(&doc.lower[start as usize..end as usize])?;
            let list = self.terms.postings(id);
            let pos = list.find(slot).ok()?;
            tokens += u64::from(list.get(pos)?.tf);
            ids.push(id);
        }
        (tokens == u64::from(self.doc_len[slot as usize])).then_some(ids)
    }

    pub fn remove(&mut self, labels: &[u32]) -> usize {
        if !labels.iter().any(|&l| self.contains(l)) {
            return 0;
        }
        if self.doc_terms.is_none() && labels.len() <= FEW_REMOVALS {
            return self.remove_by_search(labels);
        }
        let doc_terms = self
            .doc_terms
            .get_or_insert_with(|| forward_index(&self.terms, self.labels.len()));
        let mut removed = 0;
        for l in labels {
            if let Some(slot) = self.by_label.map_mut(&self.labels, None).remove(l) {
                let terms = std::mem::take(&mut doc_terms[slot as usize]);
                for t in terms {
                    let list = &mut self.terms.list_mut(t).postings;
                    if let Ok(pos) = list.binary_search_by_key(&slot, |p| p.slot) {
                        list.remove(pos);
                    }
                }
                self.total_len -= u64::from(self.doc_len[slot as usize]);
                self.doc_len[slot as usize] = 0;
                removed += 1;
            }
        }
        removed
    }

    /// Lucene IDF of each term over the live documents (unknown terms: df = 0).
    pub fn idf(&self, terms: &[String]) -> Vec<f64> {
        let n = self.len() as f64;
        terms
            .iter()
            .map(|t| {
                let df = self
                    .terms
                    .id(t)
                    .map_or(0, |id| self.terms.postings(id).len()) as f64;
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            })
            .collect()
    }

    /// The ids of the `tokens` this index knows, in order (repeats kept: BM25 counts every
    /// occurrence of a query term), and the IDF of every token (unknown ones: df = 0), from
    /// one look-up per token.
    pub fn lookup_terms(&self, tokens: &[String]) -> (Vec<u32>, Vec<f64>) {
        let n = self.len() as f64;
        let mut ids = Vec::with_capacity(tokens.len());
        let idf = tokens
            .iter()
            .map(|t| {
                let id = self.terms.id(t);
                ids.extend(id);
                let df = id.map_or(0, |id| self.terms.postings(id).len()) as f64;
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        (ids, idf)
    }

    /// The `k` best documents for `query`, restricted to `filter` labels when given.
    /// Documents sharing no term with the query are not returned.
    pub fn search(&self, query: &str, k: usize, filter: Option<&[u32]>) -> Result<Vec<Hit>> {
        let terms: Vec<u32> = lexical_tokens(query)
            .iter()
            .filter_map(|t| self.terms.id(t))
            .collect();
        self.search_terms(&terms, k, filter)
    }

    /// `search` for a query already turned into term ids (`lookup_terms`), so that a
    /// query is tokenised once for every index it goes to. Ids are those of this index:
    /// one it never handed out is refused.
    pub fn search_terms(
        &self,
        terms: &[u32],
        k: usize,
        filter: Option<&[u32]>,
    ) -> Result<Vec<Hit>> {
        if let Some(t) = terms.iter().find(|t| **t as usize >= self.terms.len()) {
            return Err(AiosError::invalid(format!(
                "terms: {t} is not a term id of this index ({} terms)",
                self.terms.len()
            )));
        }
        if k == 0 || k > crate::vector::MAX_K {
            return Err(AiosError::invalid(format!(
                "k: expected an integer from 1 to {}, got {k}",
                crate::vector::MAX_K
            )));
        }
        let n = self.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let avgdl = self.total_len as f64 / n as f64;
        let Bm25Params { k1, b } = self.params;
        let score = |idf: f64, tf: u32, dl: u32| -> f64 {
            let tf = f64::from(tf);
            let dl = f64::from(dl);
            let norm = if avgdl > 0.0 {
                k1 * (1.0 - b + b * dl / avgdl)
            } else {
                k1
            };
            idf * tf * (k1 + 1.0) / (tf + norm)
        };
        // Query order is kept: scores are summed in it.
        let mut cursors: Vec<Cursor<'_>> = terms
            .iter()
            .filter_map(|&t| {
                let list = self.terms.postings(t);
                if list.is_empty() {
                    return None;
                }
                let df = list.len() as f64;
                let idf = (1.0 + (n as f64 - df + 0.5) / (df + 0.5)).ln();
                // The score grows with the term frequency and shrinks with the length.
                let (max_tf, min_len) = self.terms.bounds(t);
                let bound = score(idf, max_tf, min_len);
                Some(Cursor {
                    list,
                    idf,
                    bound,
                    pos: 0,
                })
            })
            .collect();
        let allowed: Option<Vec<bool>> = filter.map(|f| {
            let mut mask = vec![false; self.labels.len()];
            let by_label = self.by_label.map(&self.labels, None);
            for l in f {
                if let Some(&s) = by_label.get(l) {
                    mask[s as usize] = true;
                }
            }
            mask
        });
        // Terms by ascending bound; `below[j]` bounds what the first j of them add together.
        // The first `passive` terms cannot lift a document into the top-k on their own:
        // documents are only drawn from the others.
        let mut order: Vec<usize> = (0..cursors.len()).collect();
        order.sort_by(|&x, &y| cursors[x].bound.total_cmp(&cursors[y].bound));
        let mut below = vec![0.0f64; order.len() + 1];
        for (j, &i) in order.iter().enumerate() {
            below[j + 1] = below[j] + cursors[i].bound;
        }
        let mut passive = 0;
        let mut threshold = f32::NEG_INFINITY;
        let mut top = TopK::new(k);
        while let Some(slot) = order[passive..]
            .iter()
            .filter_map(|&i| cursors[i].doc())
            .min()
        {
            let keep = allowed.as_ref().is_none_or(|a| a[slot as usize])
                && self.bounded_score(
                    &mut cursors,
                    &order,
                    &below,
                    passive,
                    slot,
                    threshold,
                    &score,
                );
            if keep {
                let mut total = 0.0;
                for c in &cursors {
                    if let Some(p) = c.posting() {
                        if p.slot == slot {
                            total += score(c.idf, p.tf, self.doc_len[slot as usize]);
                        }
                    }
                }
                top.push(Hit {
                    score: total as f32,
                    id: self.labels[slot as usize],
                });
                if let Some(t) = top.threshold() {
                    threshold = t.score;
                    while passive < order.len() && loose(below[passive + 1]) < threshold {
                        passive += 1;
                    }
                }
            }
            for &i in &order[passive..] {
                let c = &mut cursors[i];
                if c.doc() == Some(slot) {
                    c.pos += 1;
                }
            }
        }
        Ok(top.into_sorted())
    }

    /// Whether `slot` may still reach `threshold`: what the active terms give it, plus the
    /// bounds of the passive ones, completed term by term (most promising first) until
    /// the score is known or certainly too low. Moves the passive cursors to `slot`.
    #[allow(clippy::too_many_arguments)]
    fn bounded_score(
        &self,
        cursors: &mut [Cursor<'_>],
        order: &[usize],
        below: &[f64],
        passive: usize,
        slot: u32,
        threshold: f32,
        score: &impl Fn(f64, u32, u32) -> f64,
    ) -> bool {
        let dl = self.doc_len[slot as usize];
        let mut sum = 0.0;
        for &i in &order[passive..] {
            let c = &cursors[i];
            if let Some(p) = c.posting() {
                if p.slot == slot {
                    sum += score(c.idf, p.tf, dl);
                }
            }
        }
        if loose(sum + below[passive]) < threshold {
            return false;
        }
        for j in (0..passive).rev() {
            let c = &mut cursors[order[j]];
            if let Some(tf) = c.seek(slot) {
                sum += score(c.idf, tf, dl);
            }
            if loose(sum + below[j]) < threshold {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fx::FxMap;

    /// Three short documents, two about boundary layers: the fixture of the query tests too.
    pub(crate) fn sample_index() -> Bm25Index {
        let mut idx = Bm25Index::new(Bm25Params::default()).unwrap();
        idx.add(
            &[1, 2, 3],
            &[
                "the boundary layer on a flat plate",
                "heat transfer in a boundary layer with boundary suction",
                "aircraft wing flutter",
            ],
        )
        .unwrap();
        idx
    }

    #[test]
    fn ranks_and_deletes() {
        let mut idx = sample_index();
        let hits = idx.search("boundary layer", 10, None).unwrap();
        assert_eq!(hits.len(), 2);
        assert_eq!(
            hits[0].id, 2,
            "more occurrences of a rare term ranks higher"
        );
        assert_eq!(idx.search("flutter", 5, None).unwrap()[0].id, 3);
        assert_eq!(idx.search("boundary", 5, Some(&[1])).unwrap().len(), 1);
        assert_eq!(idx.remove(&[2, 9]), 1);
        let hits = idx.search("boundary layer", 10, None).unwrap();
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1]);
        idx.add(&[1], &["wing"]).unwrap();
        assert!(idx.search("boundary", 10, None).unwrap().is_empty());
        assert_eq!(idx.len(), 2);
        assert!(idx.search("x", 0, None).is_err());
    }
    #[test]
    fn removes_a_few_documents_by_search_as_by_the_forward_index() {
        let texts: Vec<String> = (0..200)
            .map(|i| {
                format!(
                    "doc {i} about term{} and term{} with word{}",
                    i % 7,
                    i % 13,
                    i
                )
            })
            .collect();
        let labels: Vec<u32> = (1..=200).collect();
        let mut by_search = Bm25Index::new(Bm25Params::default()).unwrap();
        by_search.add(&labels, &texts).unwrap();
        // As an index read from its file: no forward index yet.
        by_search.doc_terms = None;
        let mut by_index = Bm25Index::new(Bm25Params::default()).unwrap();
        by_index.add(&labels, &texts).unwrap();
        by_index.doc_terms = Some(forward_index(&by_index.terms, by_index.labels.len()));
        let gone = [3, 77, 150, 151, 999];
        assert_eq!(by_search.remove(&gone), 4);
        assert!(
            by_search.doc_terms.is_none(),
            "no forward index for a few removals"
        );
        assert_eq!(by_index.remove(&gone), 4);
        assert_eq!(by_search.total_len, by_index.total_len);
        for id in 0..by_index.terms.len() as u32 {
            assert_eq!(by_search.terms.postings(id), by_index.terms.postings(id));
        }
        for query in ["term3 word77", "doc 150", "term5 term6", "word151"] {
            assert_eq!(
                by_search.search(query, 10, None).unwrap(),
                by_index.search(query, 10, None).unwrap()
            );
        }
        // Many at once build the forward index, as before.
        let many: Vec<u32> = (1..=100).collect();
        assert_eq!(by_search.remove(&many), 98);
        assert!(by_search.doc_terms.is_some());
    }

    #[test]
    fn removes_by_the_texts_as_by_the_forward_index() {
        let texts = [
            "the boundary layer on a flat plate",
            "heat transfer in a boundary layer with boundary suction",
            "aircraft wing flutter",
            "wing flutter of a flat plate in a boundary layer",
        ];
        let labels = [1, 2, 3, 4];
        let mut by_texts = Bm25Index::new(Bm25Params::default()).unwrap();
        by_texts.add(&labels, &texts).unwrap();
        let mut by_index = Bm25Index::new(Bm25Params::default()).unwrap();
        by_index.add(&labels, &texts).unwrap();
        // Label 4 with a text other than its own: removed through the forward index.
        let given = count_terms(&[texts[1], "not the indexed text", "unknown label"], false);
        assert_eq!(by_texts.remove_counted(&[2, 4, 9], &given), 2);
        assert_eq!(by_index.remove(&[2, 4, 9]), 2);
        assert_eq!(by_texts.len(), 2);
        assert_eq!(by_texts.total_len, by_index.total_len);
        for id in 0..by_index.terms.len() as u32 {
            assert_eq!(by_texts.terms.postings(id), by_index.terms.postings(id));
        }
        for query in [
            "boundary layer",
            "flat plate",
            "wing flutter",
            "heat suction",
        ] {
            assert_eq!(
                by_texts.search(query, 5, None).unwrap(),
                by_index.search(query, 5, None).unwrap()
            );
        }
        assert_eq!(by_texts.search("suction", 5, None).unwrap(), vec![]);
        // Added again after, and removed again by its text.
        by_texts.add(&[2], &[texts[1]]).unwrap();
        assert_eq!(by_texts.search("suction", 5, None).unwrap()[0].id, 2);
        assert_eq!(
            by_texts.remove_counted(&[2], &count_terms(&[texts[1]], false)),
            1
        );
        assert!(by_texts.search("suction", 5, None).unwrap().is_empty());
    }

    /// Every document's score term by term, as the scan before pruning computed it.
    fn brute_force(idx: &Bm25Index, terms: &[u32], k: usize, filter: Option<&[u32]>) -> Vec<Hit> {
        let n = idx.len() as f64;
        let avgdl = idx.total_len as f64 / n;
        let Bm25Params { k1, b } = idx.params;
        let mut scores: FxMap<u32, f64> = FxMap::default();
        for &t in terms {
            let list = idx.terms.postings(t);
            if list.is_empty() {
                continue;
            }
            let df = list.len() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &Posting { slot, tf } in list {
                let tf = f64::from(tf);
                let dl = f64::from(idx.doc_len[slot as usize]);
                let norm = k1 * (1.0 - b + b * dl / avgdl);
                *scores.entry(slot).or_insert(0.0) += idf * tf * (k1 + 1.0) / (tf + norm);
            }
        }
        let mut top = TopK::new(k);
        for (slot, score) in scores {
            let id = idx.labels[slot as usize];
            if filter.is_none_or(|f| f.contains(&id)) {
                top.push(Hit {
                    score: score as f32,
                    id,
                });
            }
        }
        top.into_sorted()
    }

    #[test]
    fn pruned_search_equals_the_full_scan() {
        // Zipf-like words: a few in most documents, many rare; documents of many lengths,
        // some deleted and replaced, so that bounds are stale and ties occur.
        let mut s = 5u64;
        let mut next = |n: u64| {
            s = crate::hnsw::splitmix64(s);
            s % n
        };
        let mut idx = Bm25Index::new(Bm25Params::default()).unwrap();
        let docs: Vec<String> = (0..3000)
            .map(|_| {
                let words = 1 + next(30);
                (0..words)
                    .map(|_| {
                        let w = next(400);
                        format!("w{}", (w * w) / 400)
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let labels: Vec<u32> = (0..3000).map(|i| i * 2 + 1).collect();
        idx.add(&labels, &docs).unwrap();
        let gone: Vec<u32> = labels.iter().copied().filter(|l| l % 7 == 0).collect();
        idx.remove(&gone);
        idx.add(&[1, 3], &["w0 w0 w0", "w0"]).unwrap();
        let vocab = idx.terms.len() as u64;
        let filter: Vec<u32> = labels.iter().copied().filter(|l| l % 3 != 0).collect();
        for q in 0..300 {
            let len = 1 + next(5) as usize;
            let mut terms: Vec<u32> = (0..len).map(|_| next(vocab.min(60)) as u32).collect();
            if q % 10 == 0 {
                terms.push(terms[0]);
            }
            for k in [1, 8, 100, 5000] {
                let f = (q % 4 == 0).then_some(&filter[..]);
                let got = idx.search_terms(&terms, k, f).unwrap();
                assert_eq!(
                    got,
                    brute_force(&idx, &terms, k, f),
                    "terms {terms:?} k {k}"
                );
            }
        }
    }
}
