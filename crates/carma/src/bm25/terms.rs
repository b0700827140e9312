//! The terms of a lexical index and their postings: those of the file it was read from,
//! left where they are in the file (mapped read-only: a search brings in only the lists of
//! its query terms), and those changed or new since, in memory of its own. Documents added
//! since the file have higher slots than any in it, so their postings of a file term go in
//! a tail after the file's list, which stays where it is; a term's list is copied out of
//! the file only when one of the file's postings is removed. (Copying at every add made
//! 300 notes replayed into a 1M-document index copy 290 MB of the common words' lists.)

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

impl TermList {
    /// No postings, bounds that any posting widens.
    pub fn empty() -> Self {
        Self {
            postings: Vec::new(),
            max_tf: 0,
            min_len: u32::MAX,
        }
    }

    /// Appends `posting` (of a document of `len` tokens), widening the bounds to it.
    fn push(&mut self, posting: Posting, len: u32) {
        debug_assert!(self.postings.last().is_none_or(|p| p.slot < posting.slot));
        self.postings.push(posting);
        self.max_tf = self.max_tf.max(posting.tf);
        self.min_len = self.min_len.min(len);
    }

    /// Appends `tail` (postings of higher slots), widening the bounds to its own.
    fn extend(&mut self, tail: &TermList) {
        self.postings.extend_from_slice(&tail.postings);
        self.max_tf = self.max_tf.max(tail.max_tf);
        self.min_len = self.min_len.min(tail.min_len);
    }
}

/// A term's postings as one list in slot order, kept in up to two parts: a file term's
/// list in the file, then the postings appended to it since (all of higher slots).
#[derive(Clone, Copy, Debug)]
pub struct Postings<'a> {
    head: &'a [Posting],
    tail: &'a [Posting],
}

impl<'a> Postings<'a> {
    pub fn one(list: &'a [Posting]) -> Self {
        Self {
            head: list,
            tail: &[],
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.head.is_empty() && self.tail.is_empty()
    }

    /// The posting at `i` of the whole list.
    #[inline]
    pub fn get(&self, i: usize) -> Option<Posting> {
        match self.head.get(i) {
            Some(&p) => Some(p),
            None => self.tail.get(i - self.head.len()).copied(),
        }
    }

    pub fn iter(&self) -> <Self as IntoIterator>::IntoIter {
        self.into_iter()
    }

    /// How many postings of `[from, to)` have a slot below `slot` (they come first).
    pub fn below(&self, from: usize, to: usize, slot: u32) -> usize {
        let split = self.head.len();
        if to <= split {
            return self.head[from..to].partition_point(|p| p.slot < slot);
        }
        if from >= split {
            return self.tail[from - split..to - split].partition_point(|p| p.slot < slot);
        }
        let in_head = self.head[from..].partition_point(|p| p.slot < slot);
        if from + in_head < split {
            return in_head;
        }
        in_head + self.tail[..to - split].partition_point(|p| p.slot < slot)
    }

    /// Where `slot` is in the whole list (`Err`: where it would go).
    pub fn find(&self, slot: u32) -> Result<usize, usize> {
        let at = self.below(0, self.len(), slot);
        match self.get(at) {
            Some(p) if p.slot == slot => Ok(at),
            _ => Err(at),
        }
    }
}

/// Equal when they hold the same postings, however they are split.
impl PartialEq for Postings<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<'a> IntoIterator for Postings<'a> {
    type Item = &'a Posting;
    type IntoIter = std::iter::Chain<std::slice::Iter<'a, Posting>, std::slice::Iter<'a, Posting>>;

    fn into_iter(self) -> Self::IntoIter {
        self.head.iter().chain(self.tail.iter())
    }
}

/// Term ids: those of the file's terms first (its name order), then the terms added since,
/// in the order they were first seen.
#[derive(Default)]
pub struct Terms {
    file: Option<FileTerms>,
    /// Lists of file terms copied out of it to remove postings since it was read.
    changed: FxMap<u32, TermList>,
    /// Postings appended to the lists of file terms not in `changed` (see the module docs).
    tails: FxMap<u32, TermList>,
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
        self.added.push(TermList::empty());
        id
    }

    /// A term's postings (`id` below `len`).
    pub fn postings(&self, id: u32) -> Postings<'_> {
        let base = self.file_len();
        if id >= base {
            return Postings::one(&self.added[(id - base) as usize].postings);
        }
        if let Some(list) = self.changed.get(&id) {
            return Postings::one(&list.postings);
        }
        let head = self.file.as_ref().map_or(&[][..], |f| f.postings(id));
        match self.tails.get(&id) {
            Some(tail) => Postings {
                head,
                tail: &tail.postings,
            },
            None => Postings::one(head),
        }
    }

    /// A term's bounds: (largest term frequency, shortest document length).
    pub fn bounds(&self, id: u32) -> (u32, u32) {
        let base = self.file_len();
        if id >= base {
            let list = &self.added[(id - base) as usize];
            return (list.max_tf, list.min_len);
        }
        if let Some(list) = self.changed.get(&id) {
            return (list.max_tf, list.min_len);
        }
        let (max_tf, min_len) = self.file.as_ref().map_or((0, u32::MAX), |f| f.bounds(id));
        match self.tails.get(&id) {
            Some(tail) => (max_tf.max(tail.max_tf), min_len.min(tail.min_len)),
            None => (max_tf, min_len),
        }
    }

    /// Appends the posting of a document added after every other (the highest slot) to a
    /// term's list, whose bounds it widens to `tf` and the document's length `len`.
    pub fn append(&mut self, id: u32, posting: Posting, len: u32) {
        let base = self.file_len();
        let list = if id >= base {
            &mut self.added[(id - base) as usize]
        } else if let Some(list) = self.changed.get_mut(&id) {
            list
        } else {
            self.tails.entry(id).or_insert_with(TermList::empty)
        };
        list.push(posting, len);
    }

    /// How many of the file's lists were copied out of it.
    #[cfg(test)]
    pub fn copied_out(&self) -> usize {
        self.changed.len()
    }

    /// A term's list to change, copied out of the file first when it is still there.
    pub fn list_mut(&mut self, id: u32) -> &mut TermList {
        let base = self.file_len();
        if id >= base {
            return &mut self.added[(id - base) as usize];
        }
        let (file, tails) = (&self.file, &mut self.tails);
        self.changed.entry(id).or_insert_with(|| {
            let f = file.as_ref().expect("an id below the file's terms");
            let (max_tf, min_len) = f.bounds(id);
            let mut list = TermList {
                postings: f.postings(id).to_vec(),
                max_tf,
                min_len,
            };
            if let Some(tail) = tails.remove(&id) {
                list.extend(&tail);
            }
            list
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
