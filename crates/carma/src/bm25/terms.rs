//! The terms of a lexical index and their postings: those of the file it was read from,
//! left where they are in the file (mapped read-only: a search brings in only the lists of
//! its query terms), and those changed or new since, in memory of its own. A term's list
//! is copied out of the file at its first change.

use bytemuck::{Pod, Zeroable};

use super::file::FileTerms;
use crate::fx::FxMap;

/// One document a term occurs in: its slot and the term's frequency there. Laid out as
/// the lexical file holds it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posting {
    pub slot: u32,
    pub tf: u32,
}

// SAFETY: two `u32`s under `repr(C)`: no padding, and every bit pattern is a value.
unsafe impl Zeroable for Posting {}
unsafe impl Pod for Posting {}

/// A term's postings in slot order, with the largest term frequency and the shortest
/// document length it has been seen with. Bounds are not lowered by deletes (a stale
/// bound is still a bound).
#[derive(Clone, Default)]
pub struct TermList {
    pub postings: Vec<Posting>,
    pub max_tf: u32,
    pub min_len: u32,
}

/// Term ids: those of the file's terms first (its name order), then the terms added since,
/// in the order they were first seen.
#[derive(Default)]
pub struct Terms {
    file: Option<FileTerms>,
    /// Lists of file terms changed since it was read.
    changed: FxMap<u32, TermList>,
    /// Terms not in the file, by name; their lists are `added[id - file terms]`.
    vocab: FxMap<String, u32>,
    added: Vec<TermList>,
}

impl Terms {
    pub fn from_file(file: FileTerms) -> Self {
        Self {
            file: Some(file),
            ..Self::default()
        }
    }

    fn file_len(&self) -> u32 {
        self.file.as_ref().map_or(0, FileTerms::len)
    }

    /// How many ids were handed out (some lists may be empty).
    pub fn len(&self) -> usize {
        self.file_len() as usize + self.added.len()
    }

    /// The id of a term this index has seen.
    pub fn id(&self, name: &str) -> Option<u32> {
        if let Some(&id) = self.vocab.get(name) {
            return Some(id);
        }
        self.file.as_ref()?.find(name.as_bytes())
    }

    /// The id of a term, handed out (with empty postings) on first sight.
    pub fn id_or_insert(&mut self, name: &str) -> u32 {
        if let Some(id) = self.id(name) {
            return id;
        }
        let id = self.len() as u32;
        self.vocab.insert(name.to_owned(), id);
        self.added.push(TermList {
            postings: Vec::new(),
            max_tf: 0,
            min_len: u32::MAX,
        });
        id
    }

    /// A term's postings (`id` below `len`).
    pub fn postings(&self, id: u32) -> &[Posting] {
        let base = self.file_len();
        if id >= base {
            return &self.added[(id - base) as usize].postings;
        }
        match self.changed.get(&id) {
            Some(list) => &list.postings,
            None => self.file.as_ref().map_or(&[], |f| f.postings(id)),
        }
    }

    /// A term's bounds: (largest term frequency, shortest document length).
    pub fn bounds(&self, id: u32) -> (u32, u32) {
        let base = self.file_len();
        let list = if id >= base {
            Some(&self.added[(id - base) as usize])
        } else {
            self.changed.get(&id)
        };
        match (list, &self.file) {
            (Some(l), _) => (l.max_tf, l.min_len),
            (None, Some(f)) => f.bounds(id),
            (None, None) => (0, u32::MAX),
        }
    }

    /// A term's list to change, copied out of the file first when it is still there.
    pub fn list_mut(&mut self, id: u32) -> &mut TermList {
        let base = self.file_len();
        if id >= base {
            return &mut self.added[(id - base) as usize];
        }
        let file = &self.file;
        self.changed.entry(id).or_insert_with(|| {
            let f = file.as_ref().expect("an id below the file's terms");
            let (max_tf, min_len) = f.bounds(id);
            TermList {
                postings: f.postings(id).to_vec(),
                max_tf,
                min_len,
            }
        })
    }

    /// Every term id with its name, in name order (bytewise, as the file keeps them).
    pub fn by_name(&self) -> Vec<(&[u8], u32)> {
        let mut added: Vec<(&[u8], u32)> = self
            .vocab
            .iter()
            .map(|(n, &id)| (n.as_bytes(), id))
            .collect();
        added.sort_unstable();
        let Some(file) = &self.file else {
            return added;
        };
        // Both are sorted and never share a name: merged.
        let mut out = Vec::with_capacity(self.len());
        let mut rest = added.into_iter().peekable();
        for id in 0..file.len() {
            let name = file.name(id);
            while let Some(&(n, a)) = rest.peek() {
                if n >= name {
                    break;
                }
                out.push((n, a));
                rest.next();
            }
            out.push((name, id));
        }
        out.extend(rest);
        out
    }
}
