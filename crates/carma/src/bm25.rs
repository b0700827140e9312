//! BM25 over an inverted index. Tokens come from `text::tokenize` (lowercase, split on
//! non-alphanumerics, no stemming, no stopwords); IDF is Lucene's
//! `ln(1 + (N - df + 0.5) / (df + 0.5))`; repeated query terms count once per occurrence.
//! Deletes remove the document's postings, so statistics always describe the live set.

use std::collections::HashMap;

use crate::fx::{FxMap, FxSet};
use crate::text::tokenize;
use crate::topk::{Hit, TopK};
use aios_error::{AiosError, Result};

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
    vocab: HashMap<String, u32>,
    /// postings[term]: (slot, term frequency), in slot order.
    postings: Vec<Vec<(u32, u32)>>,
    doc_len: Vec<u32>,
    doc_terms: Vec<Vec<u32>>,
    labels: Vec<u32>,
    by_label: FxMap<u32, u32>,
    total_len: u64,
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
            vocab: HashMap::new(),
            postings: Vec::new(),
            doc_len: Vec::new(),
            doc_terms: Vec::new(),
            labels: Vec::new(),
            by_label: FxMap::default(),
            total_len: 0,
        })
    }

    pub fn len(&self) -> usize {
        self.by_label.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_label.is_empty()
    }

    pub fn contains(&self, label: u32) -> bool {
        self.by_label.contains_key(&label)
    }

    pub fn vocabulary_size(&self) -> usize {
        self.postings.iter().filter(|p| !p.is_empty()).count()
    }

    /// Adds or replaces documents.
    pub fn add<S: AsRef<str>>(&mut self, labels: &[u32], texts: &[S]) -> Result<()> {
        if labels.len() != texts.len() {
            return Err(AiosError::invalid(format!(
                "texts: expected {} texts (one per label), got {}",
                labels.len(),
                texts.len()
            )));
        }
        let mut seen = FxSet::with_capacity_and_hasher(labels.len(), Default::default());
        if let Some(l) = labels.iter().find(|l| !seen.insert(**l)) {
            return Err(AiosError::invalid(format!(
                "labels: {l} appears twice in one batch"
            )));
        }
        self.remove(labels);
        for (&label, text) in labels.iter().zip(texts) {
            let tokens = tokenize(text.as_ref());
            let mut tf: FxMap<u32, u32> = FxMap::default();
            for t in &tokens {
                let next = self.vocab.len() as u32;
                let id = *self.vocab.entry(t.clone()).or_insert(next);
                if id as usize == self.postings.len() {
                    self.postings.push(Vec::new());
                }
                *tf.entry(id).or_insert(0) += 1;
            }
            let slot = self.labels.len() as u32;
            let mut terms: Vec<u32> = tf.keys().copied().collect();
            terms.sort_unstable();
            for &t in &terms {
                self.postings[t as usize].push((slot, tf[&t]));
            }
            self.doc_len.push(tokens.len() as u32);
            self.total_len += tokens.len() as u64;
            self.doc_terms.push(terms);
            self.labels.push(label);
            self.by_label.insert(label, slot);
        }
        Ok(())
    }

    /// Deletes documents; returns how many were present.
    pub fn remove(&mut self, labels: &[u32]) -> usize {
        let mut removed = 0;
        for l in labels {
            if let Some(slot) = self.by_label.remove(l) {
                let terms = std::mem::take(&mut self.doc_terms[slot as usize]);
                for t in terms {
                    let list = &mut self.postings[t as usize];
                    if let Ok(pos) = list.binary_search_by_key(&slot, |p| p.0) {
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
                    .vocab
                    .get(t)
                    .map_or(0, |&id| self.postings[id as usize].len())
                    as f64;
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
                let id = self.vocab.get(t).copied();
                ids.extend(id);
                let df = id.map_or(0, |id| self.postings[id as usize].len()) as f64;
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        (ids, idf)
    }

    /// The `k` best documents for `query`, restricted to `filter` labels when given.
    /// Documents sharing no term with the query are not returned.
    pub fn search(&self, query: &str, k: usize, filter: Option<&[u32]>) -> Result<Vec<Hit>> {
        let terms: Vec<u32> = tokenize(query)
            .iter()
            .filter_map(|t| self.vocab.get(t).copied())
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
        if let Some(t) = terms.iter().find(|t| **t as usize >= self.postings.len()) {
            return Err(AiosError::invalid(format!(
                "terms: {t} is not a term id of this index ({} terms)",
                self.postings.len()
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
        let mut scores: FxMap<u32, f64> = FxMap::default();
        for &t in terms {
            let list = &self.postings[t as usize];
            if list.is_empty() {
                continue;
            }
            let df = list.len() as f64;
            let idf = (1.0 + (n as f64 - df + 0.5) / (df + 0.5)).ln();
            for &(slot, tf) in list {
                let tf = f64::from(tf);
                let dl = f64::from(self.doc_len[slot as usize]);
                let norm = if avgdl > 0.0 {
                    k1 * (1.0 - b + b * dl / avgdl)
                } else {
                    k1
                };
                *scores.entry(slot).or_insert(0.0) += idf * tf * (k1 + 1.0) / (tf + norm);
            }
        }
        let allowed: Option<Vec<bool>> = filter.map(|f| {
            let mut mask = vec![false; self.labels.len()];
            for l in f {
                if let Some(&s) = self.by_label.get(l) {
                    mask[s as usize] = true;
                }
            }
            mask
        });
        let mut top = TopK::new(k);
        for (slot, score) in scores {
            if allowed.as_ref().is_some_and(|a| !a[slot as usize]) {
                continue;
            }
            top.push(Hit {
                score: score as f32,
                id: self.labels[slot as usize],
            });
        }
        Ok(top.into_sorted())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
}
