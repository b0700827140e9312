//! The lexical index file: what `Bm25Index::to_bytes` writes and `from_bytes` / `load`
//! read, in both implementations (packages/carma/src/engine/js/lexical-file.ts is the js
//! side).
//!
//! Format version 4 (little-endian; versions 2 and 3 are the same layout, their terms from
//! `text::LEXICAL_TOKENIZER` 1 and 2: the version is the tokenizer's plus one):
//! ```text
//! "CARMALX1" | version u32 = 4 | docs u32 | terms u32 | k1 f64 | b f64
//! labels u32[docs] | lengths u32[docs] (tokens per document)
//! offsets u32[terms]: where each term's record starts, in 4-byte words from the file's start
//! per term, in name order (bytewise UTF-8, names distinct):
//!     bytes u32 | count u32 | max_tf u32 | min_len u32 | UTF-8 bytes, padded to 4
//!     postings (slot u32, tf u32)[count], slots ascending
//! "CARMAEND" | BLAKE3 of every byte before it (32 bytes)
//! ```
//! `max_tf` and `min_len` are a term's largest frequency and the shortest document it
//! occurs in. Sorted names and their offsets find a term by binary search, and postings
//! laid out as in memory are searched where they are: `load` maps the file and leaves
//! the postings in it, so that a search brings in only its query terms' lists.
//! Version 1 (terms in id order, each `bytes | name | count | slots[count] |
//! frequencies[count]`, no offsets or bounds) is still read, into memory.
//!
//! Only what is live is written: documents in slot order, renumbered from 0, and the terms
//! some live document has. So a deleted text leaves no word in the file, and the file is
//! the same whichever implementation wrote it. A file is only trusted when its checksum
//! holds and its structure does (distinct labels, sorted distinct terms, offsets where
//! the records are, slots in range and ascending, bounds as the postings give them, each
//! length the sum of its frequencies): anything else is `INDEX_CORRUPT`, and the caller
//! rebuilds the index from the texts. A file checked in full before and unchanged since
//! is read for its structure only (`FileCheck::Structure`): its records are then checked
//! one by one when first used (see `FileTerms`).

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use memmap2::Mmap;

use super::terms::{Posting, Postings, TermList, Terms};
use super::{Bm25Index, Bm25Params};
use crate::file_bytes::{
    body_of, checked_body, put_u32s, seal, ByteSink, FileCheck, Reader, SealedFile, END,
};
use crate::fx::FxMap;
use crate::label_slots::LabelSlots;
use crate::mapped::{let_go, Mapped};
use aios_error::{AiosError, Result};

const MAGIC: &[u8; 8] = b"CARMALX1";
/// The version `to_bytes` writes for an index of today's terms: one more than the
/// tokenizer its terms come from (an index read from an older file is written with the
/// version of its own tokenizer).
pub const LEXICAL_FORMAT_VERSION: u32 = crate::text::LEXICAL_TOKENIZER + 1;

/// The tokenizer of a file's terms, by its version (1 and 2: the first).
fn tokenizer_of(version: u32) -> u32 {
    version.max(2) - 1
}
/// Words (4 bytes) of the fixed header, and of a term record before its name.
const HEADER_WORDS: usize = 9;
const RECORD_WORDS: usize = 4;

fn corrupt(what: &str) -> AiosError {
    AiosError::new("INDEX_CORRUPT", format!("lexical index file: {what}"))
}

fn truncated() -> AiosError {
    corrupt("truncated")
}

/// The words of a file of version 2 or later: mapped, or read into memory.
enum Words {
    Mapped(Mapped<u32>),
    Owned(Vec<u32>),
}

/// The terms of a file of version 2 or later, read where they are. A file checked in full at load has
/// every record checked then; one read for its structure only (`FileCheck::Structure`) has
/// each record checked when a term's postings are first read, so that opening it reads
/// none of them: a record that does not hold (a damaged file vouched for) reads as a term
/// with no documents, and nothing is ever read out of bounds.
pub struct FileTerms {
    words: Words,
    /// Where the offsets start, in words.
    table: usize,
    count: u32,
    /// The file's documents: their lengths (in the file) are what postings are checked
    /// against.
    docs: usize,
    /// Per term, when records are checked on first use: 0 not yet, 1 sound, 2 not.
    checked: Option<Box<[AtomicU8]>>,
}

const UNCHECKED: u8 = 0;
const SOUND: u8 = 1;
const UNSOUND: u8 = 2;

impl FileTerms {
    fn words(&self) -> &[u32] {
        match &self.words {
            Words::Mapped(m) => m.values(),
            Words::Owned(v) => v,
        }
    }

    pub fn len(&self) -> u32 {
        self.count
    }

    /// A term's record, exactly (head, name, postings); `None` when it does not fit in
    /// the file.
    fn record(&self, id: u32) -> Option<&[u32]> {
        let words = self.words();
        let at = *words.get(self.table + id as usize)? as usize;
        let head = words.get(at..at.checked_add(RECORD_WORDS)?)?;
        let len = (head[0] as usize)
            .div_ceil(4)
            .checked_add(2usize.checked_mul(head[1] as usize)?)?
            .checked_add(RECORD_WORDS)?;
        words.get(at..at.checked_add(len)?)
    }

    pub fn name(&self, id: u32) -> &[u8] {
        self.record(id).map_or(&[], |r| {
            &bytemuck::cast_slice(&r[RECORD_WORDS..])[..r[0] as usize]
        })
    }

    pub fn bounds(&self, id: u32) -> (u32, u32) {
        self.record(id).map_or((0, u32::MAX), |r| (r[2], r[3]))
    }

    /// A term's postings, checked first if its record was not (see the type's docs).
    pub fn postings(&self, id: u32) -> &[Posting] {
        let Some(r) = self.record(id) else {
            return &[];
        };
        let at = RECORD_WORDS + (r[0] as usize).div_ceil(4);
        let list: &[Posting] = bytemuck::cast_slice(&r[at..]);
        // Checked at load, or now.
        let Some(checked) = &self.checked else {
            return list;
        };
        let state = &checked[id as usize];
        let sound = match state.load(Ordering::Acquire) {
            UNCHECKED => {
                let lengths = self
                    .words()
                    .get(HEADER_WORDS + self.docs..HEADER_WORDS + 2 * self.docs)
                    .unwrap_or(&[]);
                let sound = sound_postings(list, lengths, r);
                state.store(if sound { SOUND } else { UNSOUND }, Ordering::Release);
                sound
            }
            s => s == SOUND,
        };
        if sound {
            list
        } else {
            &[]
        }
    }

    /// The id of the term named `name`, by binary search over the sorted names.
    pub fn find(&self, name: &[u8]) -> Option<u32> {
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.name(mid).cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

/// Whether a record's postings are as a writer leaves them: some, in ascending slots of
/// the file's documents, none with a frequency of 0, within the record's bounds (its
/// largest frequency, the shortest length among its documents).
fn sound_postings(list: &[Posting], lengths: &[u32], record: &[u32]) -> bool {
    let (max_tf, min_len) = (record[2], record[3]);
    let mut last = None;
    !list.is_empty()
        && list.iter().all(|p| {
            let ok = last.is_none_or(|l| p.slot > l)
                && p.tf > 0
                && p.tf <= max_tf
                && lengths
                    .get(p.slot as usize)
                    .is_some_and(|&len| len >= min_len);
            last = Some(p.slot);
            ok
        })
}

/// What the header of a file gives.
struct Header {
    version: u32,
    docs: usize,
    terms: usize,
    params: Bm25Params,
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(corrupt("not a CARMA lexical index (bad magic)"));
        }
        let mut r = Reader::new(bytes, 8);
        let version = r.u32().ok_or_else(truncated)?;
        if !(1..=LEXICAL_FORMAT_VERSION).contains(&version) {
            return Err(corrupt(&format!("unsupported version {version}")));
        }
        let docs = r.u32().ok_or_else(truncated)? as usize;
        let terms = r.u32().ok_or_else(truncated)? as usize;
        let k1 = r.f64().ok_or_else(truncated)?;
        let b = r.f64().ok_or_else(truncated)?;
        Ok(Self {
            version,
            docs,
            terms,
            params: Bm25Params { k1, b },
        })
    }
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
        for (slot, renumbered) in new_slot.iter_mut().enumerate() {
            if self.is_live(slot) {
                *renumbered = live.len() as u32;
                live.push(slot);
            }
        }
        let terms: Vec<(&[u8], Postings<'_>)> = self
            .terms
            .by_name()
            .into_iter()
            .map(|(name, id)| (name, self.terms.postings(id)))
            .filter(|(_, list)| !list.is_empty())
            .collect();
        out.put(MAGIC);
        out.put_u32(self.tokenizer + 1);
        out.put_u32(live.len() as u32);
        out.put_u32(terms.len() as u32);
        out.put(&self.params.k1.to_le_bytes());
        out.put(&self.params.b.to_le_bytes());
        let labels: Vec<u32> = live.iter().map(|&slot| self.labels[slot]).collect();
        put_u32s(out, &labels);
        let lengths: Vec<u32> = live.iter().map(|&slot| self.doc_len[slot]).collect();
        put_u32s(out, &lengths);
        let mut at = HEADER_WORDS + 2 * live.len() + terms.len();
        let offsets: Vec<u32> = terms
            .iter()
            .map(|(name, list)| {
                let here = at as u32;
                at += RECORD_WORDS + name.len().div_ceil(4) + 2 * list.len();
                here
            })
            .collect();
        put_u32s(out, &offsets);
        let mut numbers = Vec::new();
        for (name, list) in terms {
            let max_tf = list.iter().map(|p| p.tf).max().unwrap_or(0);
            let min_len = list
                .iter()
                .map(|p| self.doc_len[p.slot as usize])
                .min()
                .unwrap_or(0);
            put_u32s(
                out,
                &[name.len() as u32, list.len() as u32, max_tf, min_len],
            );
            out.put(name);
            out.pad4(name.len());
            numbers.clear();
            numbers.extend(list.iter().flat_map(|p| [new_slot[p.slot as usize], p.tf]));
            put_u32s(out, &numbers);
        }
    }

    /// Reads a file written by `to_bytes` (either implementation, either version) into
    /// memory; `INDEX_CORRUPT` when it cannot be trusted.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let header = Header::parse(bytes)?;
        let body = checked_body(bytes).ok_or_else(|| {
            corrupt("checksum mismatch (damaged or incomplete since it was written)")
        })?;
        if header.version == 1 {
            return read_version1(&header, body);
        }
        if !bytes.len().is_multiple_of(4) {
            return Err(truncated());
        }
        let words = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        read_version2(&header, body, Words::Owned(words), FileCheck::Full)
    }

    /// Writes the index to `path` atomically, as its bytes are made (see
    /// `file_bytes::SealedFile`).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut file = SealedFile::create(path)?;
        self.write_body(&mut file);
        file.finish()
    }

    /// Reads an index file: an unreadable file is an `IO_*` error naming the path, a
    /// damaged one `INDEX_CORRUPT`. A file of version 2 or later is mapped read-only and its postings
    /// stay in it; its pages are let go of once checked (a search maps back those it reads).
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_checked(path, FileCheck::Full)
    }

    /// `load`, checking what `check` says: with `FileCheck::Structure`, not the checksum.
    pub fn load_checked(path: &Path, check: FileCheck) -> Result<Self> {
        let io = |e: std::io::Error| AiosError::io(&e, path.display());
        let file = fs::File::open(path).map_err(io)?;
        // SAFETY: index files are written beside their place and renamed into it, never
        // changed after (see `save`): the mapping sees fixed bytes.
        let map = match unsafe { Mmap::map(&file) } {
            Ok(map) => Arc::new(map),
            Err(_) => return Self::from_bytes(&fs::read(path).map_err(io)?),
        };
        let header = Header::parse(&map)?;
        let mapped = Mapped::<u32>::new(Arc::clone(&map), 0, map.len() / 4);
        let (2.., Some(words), 0) = (header.version, mapped, map.len() % 4) else {
            return Self::from_bytes(&map);
        };
        let body = body_of(&map, check).ok_or_else(|| {
            corrupt("checksum mismatch (damaged or incomplete since it was written)")
        })?;
        let index = read_version2(&header, body, Words::Mapped(words), check);
        let_go(&map, 0, map.len());
        index
    }
}

/// The documents of a file: in a file checked in full, labels checked distinct; in one
/// read for its structure (checked before), the label map is built when first asked.
fn read_documents(
    index: &mut Bm25Index,
    r: &mut Reader<'_>,
    docs: usize,
    check: FileCheck,
) -> Result<()> {
    index.labels = r.u32s(docs).ok_or_else(truncated)?;
    index.doc_len = r.u32s(docs).ok_or_else(truncated)?;
    if check == FileCheck::Structure {
        index.by_label = LabelSlots::deferred(docs);
        return Ok(());
    }
    let mut by_label = FxMap::with_capacity_and_hasher(docs, Default::default());
    for (slot, &label) in index.labels.iter().enumerate() {
        if by_label.insert(label, slot as u32).is_some() {
            return Err(corrupt(&format!("label {label} appears twice")));
        }
    }
    index.by_label = LabelSlots::from_map(by_label);
    Ok(())
}

/// An index with the file's documents read, and no terms yet.
fn documents(header: &Header, r: &mut Reader<'_>, check: FileCheck) -> Result<Bm25Index> {
    let mut index = Bm25Index::new(header.params).map_err(|_| corrupt("bad BM25 parameters"))?;
    // Each document takes 8 bytes and each term at least 8: counts the body cannot hold
    // are refused before anything is allocated for them.
    if header
        .docs
        .saturating_mul(8)
        .saturating_add(header.terms.saturating_mul(8))
        > r.bytes.len()
    {
        return Err(truncated());
    }
    read_documents(&mut index, r, header.docs, check)?;
    index.doc_terms = None; // built at the first delete
    index.tokenizer = tokenizer_of(header.version);
    Ok(index)
}

/// A term's postings, checked against the documents, counted into `counted`; its bounds.
fn check_postings(
    id: usize,
    list: impl Iterator<Item = Posting>,
    lengths: &[u32],
    counted: &mut [u64],
) -> Result<(u32, u32)> {
    let bad = || corrupt(&format!("term {id}: bad document list"));
    let (mut max_tf, mut min_len, mut last, mut n) = (0u32, u32::MAX, None, 0);
    for Posting { slot, tf } in list {
        if slot as usize >= lengths.len() || last.is_some_and(|l| slot <= l) || tf == 0 {
            return Err(bad());
        }
        last = Some(slot);
        counted[slot as usize] += u64::from(tf);
        max_tf = max_tf.max(tf);
        min_len = min_len.min(lengths[slot as usize]);
        n += 1;
    }
    if n == 0 {
        return Err(corrupt(&format!("term {id} has no documents")));
    }
    Ok((max_tf, min_len))
}

/// Each document's length against the sum of its frequencies; the total length.
fn check_lengths(lengths: &[u32], counted: &[u64]) -> Result<u64> {
    for (slot, (&len, &sum)) in lengths.iter().zip(counted).enumerate() {
        if u64::from(len) != sum {
            return Err(corrupt(&format!(
                "document {slot}: length {len}, frequencies summing to {sum}"
            )));
        }
    }
    Ok(counted.iter().sum())
}

fn end_marker(r: &mut Reader<'_>) -> Result<()> {
    if r.take(8) != Some(END.as_slice()) || !r.at_end() {
        return Err(corrupt("missing end marker or bytes after it"));
    }
    Ok(())
}

/// A version 1 file (terms in id order, no offsets or bounds), read into memory.
fn read_version1(header: &Header, body: &[u8]) -> Result<Bm25Index> {
    let mut r = Reader::new(body, HEADER_WORDS * 4);
    let mut index = documents(header, &mut r, FileCheck::Full)?;
    let mut counted = vec![0u64; header.docs];
    let mut terms = Terms::default();
    for id in 0..header.terms {
        let n = r.u32().ok_or_else(truncated)? as usize;
        let name = r.take(n).ok_or_else(truncated)?;
        r.take((4 - n % 4) % 4).ok_or_else(truncated)?;
        let name = std::str::from_utf8(name).map_err(|_| corrupt("a term is not UTF-8"))?;
        if name.is_empty() || terms.id(name).is_some() {
            return Err(corrupt(&format!("term {id} is empty or appears twice")));
        }
        let count = r.u32().ok_or_else(truncated)? as usize;
        let slots = r.u32s(count).ok_or_else(truncated)?;
        let tfs = r.u32s(count).ok_or_else(truncated)?;
        let list = slots
            .iter()
            .zip(&tfs)
            .map(|(&slot, &tf)| Posting { slot, tf });
        let (max_tf, min_len) = check_postings(id, list.clone(), &index.doc_len, &mut counted)?;
        let t = terms.id_or_insert(name);
        *terms.list_mut(t) = TermList {
            postings: list.collect(),
            max_tf,
            min_len,
        };
    }
    end_marker(&mut r)?;
    index.total_len = check_lengths(&index.doc_len, &counted)?;
    index.terms = terms;
    Ok(index)
}

/// A file of version 2 or later whose `words` stay where they are: every record checked now, or, for
/// a file read for its structure only, each when first used (see `FileTerms`).
fn read_version2(
    header: &Header,
    body: &[u8],
    words: Words,
    check: FileCheck,
) -> Result<Bm25Index> {
    let mut r = Reader::new(body, HEADER_WORDS * 4);
    let mut index = documents(header, &mut r, check)?;
    let file_terms = |checked| FileTerms {
        words,
        table: HEADER_WORDS + 2 * header.docs,
        count: header.terms as u32,
        docs: header.docs,
        checked,
    };
    if check == FileCheck::Structure {
        // The offsets, and an end marker where the body ends; the records when used.
        r.take(header.terms.checked_mul(4).ok_or_else(truncated)?)
            .ok_or_else(truncated)?;
        if !body.ends_with(END) {
            return Err(corrupt("missing end marker or bytes after it"));
        }
        index.total_len = index.doc_len.iter().map(|&len| u64::from(len)).sum();
        let unchecked = (0..header.terms)
            .map(|_| AtomicU8::new(UNCHECKED))
            .collect();
        index.terms = Terms::from_file(file_terms(Some(unchecked)));
        return Ok(index);
    }
    let offsets = r.u32s(header.terms).ok_or_else(truncated)?;
    let mut counted = vec![0u64; header.docs];
    let mut last_name: &[u8] = &[];
    for (id, &offset) in offsets.iter().enumerate() {
        if offset as usize * 4 != r.pos {
            return Err(corrupt(&format!(
                "term {id}: offset {offset} is not where its record is"
            )));
        }
        let head = r.u32s(RECORD_WORDS).ok_or_else(truncated)?;
        let (n, count) = (head[0] as usize, head[1] as usize);
        let name = r.take(n).ok_or_else(truncated)?;
        r.take((4 - n % 4) % 4).ok_or_else(truncated)?;
        if std::str::from_utf8(name).is_err() {
            return Err(corrupt("a term is not UTF-8"));
        }
        if name.is_empty() || (id > 0 && name <= last_name) {
            return Err(corrupt(&format!(
                "term {id} is empty, out of order or appears twice"
            )));
        }
        last_name = name;
        let raw = r
            .take(count.checked_mul(8).ok_or_else(truncated)?)
            .ok_or_else(truncated)?;
        let list = raw.chunks_exact(8).map(|c| Posting {
            slot: u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            tf: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        });
        let bounds = check_postings(id, list, &index.doc_len, &mut counted)?;
        if bounds != (head[2], head[3]) {
            return Err(corrupt(&format!(
                "term {id}: bounds differ from its postings"
            )));
        }
    }
    end_marker(&mut r)?;
    index.total_len = check_lengths(&index.doc_len, &counted)?;
    index.terms = Terms::from_file(file_terms(None));
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_bytes::{checksum, CHECKSUM_BYTES};

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

    /// The index as format version 1 wrote it: terms in id order, no offsets or bounds.
    fn version1(idx: &Bm25Index) -> Vec<u8> {
        let live: Vec<usize> = (0..idx.labels.len()).filter(|&s| idx.is_live(s)).collect();
        let mut new_slot = vec![0u32; idx.labels.len()];
        for (i, &s) in live.iter().enumerate() {
            new_slot[s] = i as u32;
        }
        let mut names = idx.terms.by_name();
        names.sort_by_key(|&(_, id)| id);
        names.retain(|&(_, id)| !idx.terms.postings(id).is_empty());
        let mut out = Vec::new();
        out.put(MAGIC);
        out.put_u32(1);
        out.put_u32(live.len() as u32);
        out.put_u32(names.len() as u32);
        out.put(&idx.params.k1.to_le_bytes());
        out.put(&idx.params.b.to_le_bytes());
        for &s in &live {
            out.put_u32(idx.labels[s]);
        }
        for &s in &live {
            out.put_u32(idx.doc_len[s]);
        }
        for (name, id) in names {
            let list = idx.terms.postings(id);
            out.put_u32(name.len() as u32);
            out.put(name);
            out.pad4(name.len());
            out.put_u32(list.len() as u32);
            for p in list {
                out.put_u32(new_slot[p.slot as usize]);
            }
            for p in list {
                out.put_u32(p.tf);
            }
        }
        seal(out)
    }

    #[test]
    fn a_version_1_file_is_read_and_written_again_as_version_2() {
        let (mut idx, queries) = churned();
        let old = version1(&idx);
        let mut back = Bm25Index::from_bytes(&old).unwrap();
        for q in &queries {
            assert_eq!(
                back.search(q, 100, None).unwrap(),
                idx.search(q, 100, None).unwrap()
            );
        }
        // Its terms are those of the first tokenizer: written as version 2, which says so.
        assert_eq!(back.tokenizer, 1);
        assert_eq!(
            u32::from_le_bytes(back.to_bytes()[8..12].try_into().unwrap()),
            2
        );
        idx.tokenizer = 1;
        assert_eq!(back.to_bytes(), idx.to_bytes());
        back.add(&[7777], &["w1 later"]).unwrap();
        assert_eq!(back.search("later", 3, None).unwrap()[0].id, 7777);
    }

    #[test]
    fn the_version_says_which_tokenizer_the_terms_come_from() {
        let mut idx = Bm25Index::new(Bm25Params::default()).unwrap();
        idx.add(&[1, 2], &["東京は日本の首都です", "plain words"])
            .unwrap();
        assert_eq!(idx.search("首都", 5, None).unwrap()[0].id, 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lexical-1.bin");
        idx.save(&path).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 4);
        let loaded = Bm25Index::load(&path).unwrap();
        assert_eq!(loaded.tokenizer, crate::text::LEXICAL_TOKENIZER);
        assert_eq!(loaded.search("日本", 5, None).unwrap()[0].id, 1);
        // The same bytes labelled with an earlier version: the tokenizer it names, and an
        // index of it is written with that version again.
        for (version, tokenizer) in [(2u32, 1u32), (3, 2)] {
            let mut old = bytes[..bytes.len() - CHECKSUM_BYTES - END.len()].to_vec();
            old[8..12].copy_from_slice(&version.to_le_bytes());
            let old = seal(old);
            let read = Bm25Index::from_bytes(&old).unwrap();
            assert_eq!(read.tokenizer, tokenizer);
            assert_eq!(read.to_bytes(), old);
            fs::write(&path, &old).unwrap();
            assert_eq!(Bm25Index::load(&path).unwrap().tokenizer, tokenizer);
        }
        // A version to come is refused.
        let mut newer = bytes[..bytes.len() - CHECKSUM_BYTES - END.len()].to_vec();
        newer[8..12].copy_from_slice(&5u32.to_le_bytes());
        assert!(Bm25Index::from_bytes(&seal(newer)).is_err());
    }

    #[test]
    fn a_mapped_file_is_searched_and_changed_where_it_is() {
        let (mut idx, queries) = churned();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lexical-1.bin");
        idx.save(&path).unwrap();
        let mut loaded = Bm25Index::load(&path).unwrap();
        // The file goes away as a checkpoint removes it: its mapping stays readable.
        fs::remove_file(&path).unwrap();
        for q in &queries {
            assert_eq!(
                loaded.search(q, 50, None).unwrap(),
                idx.search(q, 50, None).unwrap()
            );
        }
        assert_eq!(loaded.vocabulary_size(), idx.vocabulary_size());
        // Terms from the file changed (copied out at their first change), terms new since,
        // and a name sorting between the file's.
        for index in [&mut idx, &mut loaded] {
            index
                .add(&[9001, 9002], &["w1 w1 w100 aaa", "w15x mid"])
                .unwrap();
            index.remove(&[3, 9001]);
        }
        for q in queries
            .iter()
            .chain(&["aaa".into(), "w15x".into(), "mid".into()])
        {
            assert_eq!(
                loaded.search(q, 50, None).unwrap(),
                idx.search(q, 50, None).unwrap(),
                "{q}"
            );
        }
        assert_eq!(loaded.idf(&queries), idx.idf(&queries));
        assert_eq!(loaded.to_bytes(), idx.to_bytes());
    }

    #[test]
    fn documents_added_to_a_mapped_file_leave_its_lists_in_it() {
        let (mut idx, mut queries) = churned();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lexical-1.bin");
        idx.save(&path).unwrap();
        let mut loaded = Bm25Index::load(&path).unwrap();
        // Documents in the file's own words: their postings go after the file's lists.
        let labels: Vec<u32> = (20_000..20_300).collect();
        let texts: Vec<String> = labels
            .iter()
            .map(|l| {
                format!(
                    "w1 w{} w{} w{} fresh{}",
                    l % 7,
                    l % 13 + 1,
                    l % 29 + 2,
                    l % 3
                )
            })
            .collect();
        for index in [&mut idx, &mut loaded] {
            index.add(&labels, &texts).unwrap();
            index
                .add(&[20_300], &["w1 w1 w1 w1 w1 w1 w1 w1 w1"])
                .unwrap();
        }
        assert_eq!(
            loaded.terms.copied_out(),
            0,
            "no list copied out of the file"
        );
        queries.extend(["w1 w3 fresh1", "w2 w5 w11", "fresh0 w0", "w1"].map(String::from));
        let filter: Vec<u32> = (0..3000).chain(20_100..20_200).collect();
        let same = |a: &Bm25Index, b: &Bm25Index, queries: &[String]| {
            for q in queries {
                for k in [1, 3, 50, 2000] {
                    assert_eq!(
                        a.search(q, k, None).unwrap(),
                        b.search(q, k, None).unwrap(),
                        "{q} {k}"
                    );
                    assert_eq!(
                        a.search(q, k, Some(&filter)).unwrap(),
                        b.search(q, k, Some(&filter)).unwrap(),
                        "{q} {k} filtered"
                    );
                }
            }
            assert_eq!(a.idf(queries), b.idf(queries));
            assert_eq!(a.vocabulary_size(), b.vocabulary_size());
            assert_eq!(a.to_bytes(), b.to_bytes());
        };
        same(&loaded, &idx, &queries);
        // Removing a file document copies its terms' lists out, with what was added to
        // them; an added one is found in the part after the file's.
        for index in [&mut idx, &mut loaded] {
            assert_eq!(index.remove(&[3, 20_005, 20_300]), 3);
            index.add(&[20_005], &["w1 back"]).unwrap();
        }
        same(&loaded, &idx, &queries);
        let back = Bm25Index::from_bytes(&loaded.to_bytes()).unwrap();
        same(&back, &idx, &queries);
    }

    #[test]
    fn a_file_checked_before_is_read_for_its_structure_only() {
        let (idx, _) = churned();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lexical-1.bin");
        let mut bytes = idx.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1; // the checksum itself
        fs::write(&path, &bytes).unwrap();
        let loaded = Bm25Index::load_checked(&path, FileCheck::Structure).unwrap();
        assert_eq!(loaded.to_bytes(), idx.to_bytes());
        assert_eq!(Bm25Index::load(&path).err().unwrap().code, "INDEX_CORRUPT");
        // A posting past the documents: refused by a full check; read for its structure,
        // the file opens at once and that term, checked when first used, has no documents.
        let mut bytes = idx.to_bytes();
        let first_record = 36 + 8 * idx.len() + 4 * loaded.vocabulary_size();
        let n = u32::from_le_bytes(bytes[first_record..first_record + 4].try_into().unwrap());
        let name = std::str::from_utf8(&bytes[first_record + 16..first_record + 16 + n as usize])
            .unwrap()
            .to_owned();
        let slot = first_record + 16 + (n as usize).div_ceil(4) * 4;
        bytes[slot..slot + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let end = bytes.len() - 32;
        let sum = checksum(&bytes[..end]);
        bytes[end..].copy_from_slice(sum.as_bytes());
        fs::write(&path, &bytes).unwrap();
        let err = Bm25Index::load(&path).err().unwrap();
        assert!(err.message.contains("bad document list"), "{}", err.message);
        let vouched = Bm25Index::load_checked(&path, FileCheck::Structure).unwrap();
        assert!(!idx.search(&name, 5, None).unwrap().is_empty());
        assert!(vouched.search(&name, 5, None).unwrap().is_empty());
        assert_eq!(
            vouched.search("w1", 50, None).unwrap(),
            idx.search("w1", 50, None).unwrap()
        );
        // Offsets and counts pointing anywhere read as terms with no documents.
        let mut bytes = idx.to_bytes();
        let table = 36 + 8 * idx.len();
        for t in 0..loaded.vocabulary_size() {
            let at = table + 4 * t;
            let garbage = if t % 2 == 0 {
                u32::MAX
            } else {
                (t * 7919) as u32
            };
            bytes[at..at + 4].copy_from_slice(&garbage.to_le_bytes());
        }
        bytes[first_record + 4..first_record + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        fs::write(&path, &bytes).unwrap();
        let wild = Bm25Index::load_checked(&path, FileCheck::Structure).unwrap();
        for q in ["w1", "w2 w3", &name] {
            let _ = wild.search(q, 10, None).unwrap();
        }
        let _ = wild.to_bytes();
    }

    #[test]
    fn a_file_read_for_its_structure_searches_and_changes_like_one_checked_in_full() {
        let (mut idx, queries) = churned();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lexical-1.bin");
        idx.save(&path).unwrap();
        let mut vouched = Bm25Index::load_checked(&path, FileCheck::Structure).unwrap();
        for q in &queries {
            assert_eq!(
                vouched.search(q, 50, None).unwrap(),
                idx.search(q, 50, None).unwrap()
            );
        }
        // Searches without a filter, a count and a rewrite need no label map...
        assert_eq!(vouched.len(), idx.len());
        assert_eq!(vouched.to_bytes(), idx.to_bytes());
        assert!(!vouched.label_slots_built());
        // ...nor documents added with labels above all it holds (they replace nothing)...
        assert!(vouched.all_new(&[5000, 5001]) && !vouched.all_new(&[5000, 3]));
        for index in [&mut idx, &mut vouched] {
            index
                .add(&[5000, 5001], &["w1 zebraquux fresh", "fresh w2"])
                .unwrap();
        }
        assert!(!vouched.label_slots_built());
        assert_eq!(vouched.len(), idx.len());
        assert_eq!(vouched.labels(), idx.labels());
        for q in queries.iter().chain(&["fresh".into()]) {
            assert_eq!(
                vouched.search(q, 50, None).unwrap(),
                idx.search(q, 50, None).unwrap()
            );
        }
        // ...a filter builds it, from the file's documents and those added.
        let allowed: Vec<u32> = idx
            .labels()
            .into_iter()
            .step_by(3)
            .chain([3, 5001, 999_999])
            .collect();
        for q in &queries {
            assert_eq!(
                vouched.search(q, 20, Some(&allowed)).unwrap(),
                idx.search(q, 20, Some(&allowed)).unwrap()
            );
        }
        assert!(vouched.label_slots_built());
        for index in [&mut idx, &mut vouched] {
            index
                .add(&[9001, 9002], &["w1 w1 w100 aaa", "w15x mid"])
                .unwrap();
            index.remove(&[3, 9001, 30, 5000]);
        }
        for q in queries
            .iter()
            .chain(&["aaa".into(), "mid".into(), "fresh".into()])
        {
            assert_eq!(
                vouched.search(q, 50, None).unwrap(),
                idx.search(q, 50, None).unwrap()
            );
        }
        assert_eq!(vouched.idf(&queries), idx.idf(&queries));
        assert_eq!(vouched.to_bytes(), idx.to_bytes());
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
        // Structures that do not hold, under a valid checksum.
        let resealed = |at: usize, change: u8| {
            let mut body = bytes[..bytes.len() - 32].to_vec();
            body[at] ^= change;
            let sum = checksum(&body);
            body.extend_from_slice(sum.as_bytes());
            Bm25Index::from_bytes(&body).err().unwrap()
        };
        // A document whose length is not the sum of its frequencies (or the shortest
        // length a term names).
        let err = resealed(36 + 4 * idx.len(), 1);
        assert_eq!(err.code, "INDEX_CORRUPT");
        assert!(
            err.message.contains("document 0") || err.message.contains("bounds differ"),
            "{}",
            err.message
        );
        // An offset that does not point at its term's record.
        let err = resealed(36 + 8 * idx.len() + 4, 1);
        assert!(err.message.contains("term 1: offset"), "{}", err.message);
    }
}
