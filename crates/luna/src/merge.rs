//! Byte-pair merging of one piece, as tiktoken does it (its `_byte_pair_merge`, MIT): start
//! from single bytes and repeatedly merge the adjacent pair whose concatenation has the
//! lowest rank, until no adjacent pair is a token. The ids are tiktoken's by construction.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::vocab::{Fnv, Ranks};

/// Most merged pieces each thread remembers (then it starts over).
const CACHE_LIMIT: usize = 1 << 16;

/// A reusable key buffer and the merged pieces.
type MergeCache = (
    Vec<u8>,
    HashMap<Vec<u8>, Box<[u32]>, BuildHasherDefault<Fnv>>,
);

thread_local! {
    /// Pieces that are not whole tokens, merged before: text repeats its words, and a piece
    /// merges the same wherever it occurs. Keyed by the vocabulary's address and the bytes.
    static MERGED: RefCell<MergeCache> = RefCell::new((Vec::new(), HashMap::default()));
}

/// Calls `f` with the ids of a piece that is not a whole token, merging it at most once per
/// thread (while cached).
fn with_merged<R>(ranks: &Ranks, piece: &[u8], f: impl FnOnce(&[u32]) -> R) -> R {
    MERGED.with(|cell| {
        let (key, cache) = &mut *cell.borrow_mut();
        key.clear();
        key.extend_from_slice(&(std::ptr::from_ref(ranks) as usize).to_le_bytes());
        key.extend_from_slice(piece);
        if let Some(ids) = cache.get(key.as_slice()) {
            return f(ids);
        }
        let parts = merge(ranks, piece);
        let ids: Box<[u32]> = parts
            .windows(2)
            .map(|pair| rank_of(ranks, &piece[pair[0].0..pair[1].0]))
            .collect();
        let result = f(&ids);
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key.clone(), ids);
        result
    })
}

/// Token ids of `piece` appended to `out`. Every single byte is a token in tiktoken's
/// vocabularies, so the merge always ends in tokens.
pub fn encode_piece(ranks: &Ranks, piece: &[u8], out: &mut Vec<u32>) {
    if piece.is_empty() {
        return;
    }
    if let Some(&id) = ranks.get(piece) {
        out.push(id);
        return;
    }
    with_merged(ranks, piece, |ids| out.extend_from_slice(ids));
}

/// Number of tokens of `piece`.
pub fn count_piece(ranks: &Ranks, piece: &[u8]) -> usize {
    if piece.is_empty() {
        return 0;
    }
    if ranks.contains_key(piece) {
        return 1;
    }
    with_merged(ranks, piece, <[u32]>::len)
}

fn rank_of(ranks: &Ranks, bytes: &[u8]) -> u32 {
    // Unreachable with a tiktoken vocabulary (all 256 bytes are tokens); u32::MAX would be
    // refused by decode rather than silently mapped to another token.
    ranks.get(bytes).copied().unwrap_or(u32::MAX)
}

/// The boundaries of `piece` after merging: `(start, rank of the pair starting there)`,
/// with a sentinel at `piece.len()`.
fn merge(ranks: &Ranks, piece: &[u8]) -> Vec<(usize, u32)> {
    let pair_rank = |parts: &[(usize, u32)], i: usize| -> u32 {
        if i + 3 < parts.len() {
            ranks
                .get(&piece[parts[i].0..parts[i + 3].0])
                .copied()
                .unwrap_or(u32::MAX)
        } else {
            u32::MAX
        }
    };
    let mut parts: Vec<(usize, u32)> = Vec::with_capacity(piece.len() + 1);
    let mut min = (u32::MAX, usize::MAX);
    for i in 0..piece.len() - 1 {
        let rank = ranks.get(&piece[i..i + 2]).copied().unwrap_or(u32::MAX);
        if rank < min.0 {
            min = (rank, i);
        }
        parts.push((i, rank));
    }
    parts.push((piece.len() - 1, u32::MAX));
    parts.push((piece.len(), u32::MAX));
    while min.0 != u32::MAX {
        let i = min.1;
        if i > 0 {
            parts[i - 1].1 = pair_rank(&parts, i - 1);
        }
        parts[i].1 = pair_rank(&parts, i);
        parts.remove(i + 1);
        min = (u32::MAX, usize::MAX);
        for (j, &(_, rank)) in parts[..parts.len() - 1].iter().enumerate() {
            if rank < min.0 {
                min = (rank, j);
            }
        }
    }
    parts
}
