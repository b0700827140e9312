//! The lexical index file: what `Bm25Index::to_bytes` writes and `from_bytes` reads, in
//! both implementations (packages/carma/src/engine/js/lexical-file.ts is the js side).
//!
//! Format version 1 (little-endian):
//! ```text
//! "CARMALX1" | version u32 = 1 | docs u32 | terms u32 | k1 f64 | b f64
//! labels u32[docs] | lengths u32[docs] (tokens per document)
//! per term, in id order: bytes u32 | UTF-8 bytes, padded to 4 | count u32
//!                        slots u32[count] (ascending) | frequencies u32[count]
//! "CARMAEND" | BLAKE3 of every byte before it (32 bytes)
//! ```
//! Only what is live is written: documents in slot order, renumbered from 0, and the terms
//! some live document has, renumbered in id order. So a deleted text leaves no word in
//! the file, and the file is the same whichever implementation wrote it. The statistics
//! (total length, the per-term bounds) are recomputed on reading. A file is only trusted
//! when its checksum holds and its structure does (distinct labels and terms, slots in
//! range and ascending, each length the sum of its frequencies): anything else is
//! `INDEX_CORRUPT`, and the caller rebuilds the index from the texts.

use std::fs;
use std::path::Path;

use super::{Bm25Index, Bm25Params};
use crate::file_bytes::{checked_body, put_u32s, seal, ByteSink, Reader, SealedFile, END};
use crate::fx::FxMap;
use aios_error::{AiosError, Result};

const MAGIC: &[u8; 8] = b"CARMALX1";
/// The version `to_bytes` writes.
pub const LEXICAL_FORMAT_VERSION: u32 = 1;

fn corrupt(what: &str) -> AiosError {
    AiosError::new("INDEX_CORRUPT", format!("lexical index file: {what}"))
}

impl Bm25Index {
    /// Serialises the live documents and terms (see the module docs for the format).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_body(&mut out);
        seal(out)
    }

    /// Everything of the file before its end marker and checksum.
    fn write_body(&self, out: &mut impl ByteSink) {
        // Live slots, renumbered in order.
        let mut new_slot = vec![u32::MAX; self.labels.len()];
        let mut live = Vec::with_capacity(self.len());
        for (slot, label) in self.labels.iter().enumerate() {
            if self.by_label.get(label) == Some(&(slot as u32)) {
                new_slot[slot] = live.len() as u32;
                live.push(slot);
            }
        }
        let mut names: Vec<&str> = vec![""; self.postings.len()];
        for (name, &id) in &self.vocab {
            names[id as usize] = name;
        }
        out.put(MAGIC);
        out.put_u32(LEXICAL_FORMAT_VERSION);
        out.put_u32(live.len() as u32);
        let terms = self.postings.iter().filter(|list| !list.is_empty()).count();
        out.put_u32(terms as u32);
        out.put(&self.params.k1.to_le_bytes());
        out.put(&self.params.b.to_le_bytes());
        let labels: Vec<u32> = live.iter().map(|&slot| self.labels[slot]).collect();
        put_u32s(out, &labels);
        let lengths: Vec<u32> = live.iter().map(|&slot| self.doc_len[slot]).collect();
        put_u32s(out, &lengths);
        let mut numbers = Vec::new();
        for (t, list) in self.postings.iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            let name = names[t].as_bytes();
            out.put_u32(name.len() as u32);
            out.put(name);
            out.pad4(name.len());
            out.put_u32(list.len() as u32);
            numbers.clear();
            numbers.extend(list.iter().map(|&(slot, _)| new_slot[slot as usize]));
            numbers.extend(list.iter().map(|&(_, tf)| tf));
            put_u32s(out, &numbers);
        }
    }

    /// Reads a file written by `to_bytes` (either implementation); `INDEX_CORRUPT` when it
    /// cannot be trusted.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let truncated = || corrupt("truncated");
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(corrupt("not a CARMA lexical index (bad magic)"));
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != LEXICAL_FORMAT_VERSION {
            return Err(corrupt(&format!("unsupported version {version}")));
        }
        let body = checked_body(bytes).ok_or_else(|| {
            corrupt("checksum mismatch (damaged or incomplete since it was written)")
        })?;
        let mut r = Reader::new(body, 12);
        let docs = r.u32().ok_or_else(truncated)? as usize;
        let term_count = r.u32().ok_or_else(truncated)? as usize;
        let k1 = r.f64().ok_or_else(truncated)?;
        let b = r.f64().ok_or_else(truncated)?;
        let mut index =
            Bm25Index::new(Bm25Params { k1, b }).map_err(|_| corrupt("bad BM25 parameters"))?;
        // Each document takes 8 bytes and each term at least 8: counts the body cannot
        // hold are refused before anything is allocated for them.
        if docs
            .saturating_mul(8)
            .saturating_add(term_count.saturating_mul(8))
            > body.len()
        {
            return Err(truncated());
        }
        index.labels = r.u32s(docs).ok_or_else(truncated)?;
        index.doc_len = r.u32s(docs).ok_or_else(truncated)?;
        index.by_label = FxMap::with_capacity_and_hasher(docs, Default::default());
        for (slot, &label) in index.labels.iter().enumerate() {
            if index.by_label.insert(label, slot as u32).is_some() {
                return Err(corrupt(&format!("label {label} appears twice")));
            }
        }
        let mut counted = vec![0u64; docs];
        for id in 0..term_count as u32 {
            let n = r.u32().ok_or_else(truncated)? as usize;
            let name = r.take(n).ok_or_else(truncated)?;
            r.take((4 - n % 4) % 4).ok_or_else(truncated)?;
            let name = std::str::from_utf8(name).map_err(|_| corrupt("a term is not UTF-8"))?;
            if name.is_empty() || index.vocab.insert(name.to_owned(), id).is_some() {
                return Err(corrupt(&format!("term {id} is empty or appears twice")));
            }
            let count = r.u32().ok_or_else(truncated)? as usize;
            let slots = r.u32s(count).ok_or_else(truncated)?;
            let tfs = r.u32s(count).ok_or_else(truncated)?;
            if count == 0 {
                return Err(corrupt(&format!("term {id} has no documents")));
            }
            let mut list = Vec::with_capacity(count);
            let (mut max_tf, mut min_len) = (0u32, u32::MAX);
            for (i, (&slot, &tf)) in slots.iter().zip(&tfs).enumerate() {
                if slot as usize >= docs || (i > 0 && slot <= slots[i - 1]) || tf == 0 {
                    return Err(corrupt(&format!("term {id}: bad document list")));
                }
                let s = slot as usize;
                counted[s] += u64::from(tf);
                max_tf = max_tf.max(tf);
                min_len = min_len.min(index.doc_len[s]);
                list.push((slot, tf));
            }
            index.postings.push(list);
            index.max_tf.push(max_tf);
            index.min_len.push(min_len);
        }
        if r.take(8) != Some(END.as_slice()) || !r.at_end() {
            return Err(corrupt("missing end marker or bytes after it"));
        }
        for (slot, (&len, &sum)) in index.doc_len.iter().zip(&counted).enumerate() {
            if u64::from(len) != sum {
                return Err(corrupt(&format!(
                    "document {slot}: length {len}, frequencies summing to {sum}"
                )));
            }
        }
        index.total_len = counted.iter().sum();
        index.doc_terms = None; // built at the first delete
        Ok(index)
    }

    /// Writes the index to `path` atomically, as its bytes are made (see
    /// `file_bytes::SealedFile`).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut file = SealedFile::create(path)?;
        self.write_body(&mut file);
        file.finish()
    }

    /// Reads an index file: an unreadable file is an `IO_*` error naming the path, a
    /// damaged one `INDEX_CORRUPT`.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = fs::read(path).map_err(|e| AiosError::io(&e, path.display()))?;
        Self::from_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_bytes::checksum;

    /// Texts of a few hundred words, some documents deleted and some replaced.
    fn churned() -> (Bm25Index, Vec<String>) {
        let mut s = 9u64;
        let mut next = |n: u64| {
            s = crate::hnsw::splitmix64(s);
            s % n
        };
        let texts: Vec<String> = (0..800)
            .map(|_| {
                (0..1 + next(25))
                    .map(|_| format!("w{}", next(300) * next(300) / 300))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let mut idx = Bm25Index::new(Bm25Params { k1: 1.2, b: 0.75 }).unwrap();
        let labels: Vec<u32> = (0..800).map(|i| i * 3).collect();
        idx.add(&labels, &texts).unwrap();
        let gone: Vec<u32> = labels.iter().copied().filter(|l| l % 5 == 0).collect();
        idx.remove(&gone);
        idx.add(&[3, 6], &["Zebraquux w1 w1", "ünïcode w2"])
            .unwrap();
        let queries = [
            "w1",
            "w2 w3 w1",
            "w0 w0",
            "zebraquux",
            "ünïcode w2",
            "w299 w5",
            "absent",
        ]
        .iter()
        .map(|q| q.to_string())
        .collect();
        (idx, queries)
    }

    #[test]
    fn a_file_searches_like_the_index_it_was_written_from() {
        let (idx, queries) = churned();
        let bytes = idx.to_bytes();
        let back = Bm25Index::from_bytes(&bytes).unwrap();
        assert_eq!(back.len(), idx.len());
        assert_eq!(back.params, idx.params);
        for q in &queries {
            for k in [1, 5, 100, 2000] {
                assert_eq!(
                    back.search(q, k, None).unwrap(),
                    idx.search(q, k, None).unwrap(),
                    "{q} k {k}"
                );
                let filter: Vec<u32> = (0..2400).filter(|l| l % 2 == 0).collect();
                assert_eq!(
                    back.search(q, k, Some(&filter)).unwrap(),
                    idx.search(q, k, Some(&filter)).unwrap()
                );
            }
        }
        assert_eq!(back.idf(&queries), idx.idf(&queries));
        // Written again, it is the same file: nothing dead was left to drop.
        assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn a_loaded_index_takes_writes_like_the_one_it_was_written_from() {
        // Its per-document terms are built at its first delete, not on load: an add
        // before, a replacement and deletes after must leave it as the original.
        let (mut idx, queries) = churned();
        let mut back = Bm25Index::from_bytes(&idx.to_bytes()).unwrap();
        for index in [&mut idx, &mut back] {
            index.add(&[5000], &["w1 zebraquux fresh"]).unwrap();
            index.add(&[3, 9], &["w7 replaced", "w8 replaced"]).unwrap();
            assert_eq!(index.remove(&[6, 12, 5000, 77777]), 3);
            index.add(&[12], &["w2 back again"]).unwrap();
        }
        assert_eq!(back.len(), idx.len());
        for q in queries
            .iter()
            .chain(&["fresh".into(), "replaced".into(), "again".into()])
        {
            assert_eq!(
                back.search(q, 2000, None).unwrap(),
                idx.search(q, 2000, None).unwrap(),
                "{q}"
            );
        }
        assert_eq!(back.idf(&queries), idx.idf(&queries));
        assert_eq!(back.to_bytes(), idx.to_bytes());
    }

    #[test]
    fn a_saved_file_is_the_bytes_of_the_index() {
        let (idx, _) = churned();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lexical-1.bin");
        idx.save(&path).unwrap();
        assert_eq!(fs::read(&path).unwrap(), idx.to_bytes());
        assert_eq!(Bm25Index::load(&path).unwrap().to_bytes(), idx.to_bytes());
    }

    #[test]
    fn a_deleted_text_leaves_no_word_in_the_file() {
        let mut idx = Bm25Index::new(Bm25Params::default()).unwrap();
        idx.add(
            &[1, 2],
            &["Doctor Ruiz on Tuesday", "the bakery on Tuesday"],
        )
        .unwrap();
        assert!(contains(&idx.to_bytes(), b"ruiz"));
        idx.remove(&[1]);
        let bytes = idx.to_bytes();
        assert!(!contains(&bytes, b"ruiz") && !contains(&bytes, b"doctor"));
        assert!(contains(&bytes, b"bakery"));
        let back = Bm25Index::from_bytes(&bytes).unwrap();
        assert!(back.search("ruiz", 5, None).unwrap().is_empty());
        assert_eq!(back.search("tuesday", 5, None).unwrap()[0].id, 2);
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn damage_is_refused_with_its_code() {
        let (idx, _) = churned();
        let bytes = idx.to_bytes();
        let code = |b: &[u8]| Bm25Index::from_bytes(b).err().map(|e| e.code);
        assert_eq!(code(&bytes[..bytes.len() - 1]), Some("INDEX_CORRUPT"));
        let mut flipped = bytes.clone();
        flipped[100] ^= 1;
        assert_eq!(code(&flipped), Some("INDEX_CORRUPT"));
        assert_eq!(code(b"CARMAVI1...."), Some("INDEX_CORRUPT"));
        // A structure that does not hold, under a valid checksum: a document whose
        // length is not the sum of its frequencies.
        let mut body = bytes[..bytes.len() - 32].to_vec();
        let first_length = 12 + 8 + 16 + 4 * idx.len();
        body[first_length] ^= 1;
        let sum = checksum(&body);
        body.extend_from_slice(sum.as_bytes());
        let err = Bm25Index::from_bytes(&body).err().unwrap();
        assert_eq!(err.code, "INDEX_CORRUPT");
        assert!(err.message.contains("document 0"), "{}", err.message);
    }
}
