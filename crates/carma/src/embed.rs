//! The built-in offline embedder: signed feature hashing of words, word bigrams and
//! character n-grams (3 to 5 code points of `<word>`), with sublinear term frequency
//! (`1 + ln tf`), each feature family scaled to a fixed share of the vector, then
//! L2-normalised. Deterministic, no model, no download; it captures lexical and
//! morphological similarity (`flow` ~ `flows` ~ `flowing`), not meaning.
//!
//! Hashing is FNV-1a over UTF-16 code units followed by the murmur3 finaliser, so the
//! js implementation computes the same buckets without encoding to UTF-8.

use std::cell::RefCell;
use std::collections::hash_map::Entry;

use rayon::prelude::*;

use crate::fx::FxMap;
use crate::text::tokenize;

pub const DEFAULT_DIMENSION: usize = 384;
/// Share of the vector (L2 weight) given to each feature family.
pub const WORD_WEIGHT: f64 = 1.0;
pub const BIGRAM_WEIGHT: f64 = 0.25;
pub const CHAR_WEIGHT: f64 = 1.0;
pub const CHAR_NGRAM_MIN: usize = 3;
pub const CHAR_NGRAM_MAX: usize = 5;
/// Character n-grams are taken from at most this many code points of a word.
pub const MAX_WORD_CHARS: usize = 64;

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;
const TAG_WORD: u32 = 1;
const TAG_BIGRAM: u32 = 2;
const TAG_CHAR: u32 = 3;

#[inline]
fn fnv_unit(h: u32, unit: u32) -> u32 {
    (h ^ unit).wrapping_mul(FNV_PRIME)
}

#[inline]
fn fnv_str(mut h: u32, s: &str) -> u32 {
    for u in s.encode_utf16() {
        h = fnv_unit(h, u32::from(u));
    }
    h
}

#[inline]
fn fnv_chars(mut h: u32, chars: &[char]) -> u32 {
    let mut buf = [0u16; 2];
    for c in chars {
        for u in c.encode_utf16(&mut buf) {
            h = fnv_unit(h, u32::from(*u));
        }
    }
    h
}

/// The murmur3 32-bit finaliser.
#[inline]
pub fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

/// Occurrences of one feature and the sum of their weights.
#[derive(Clone, Copy, Default)]
struct Feature {
    count: u32,
    weight: f64,
}

/// The features of one family in the order they first occurred, as the js twin's `Map`
/// iterates them: sums then run in one order, so an embedding is the same on every run and
/// in both implementations (a `HashMap`'s random order moved their last bits).
#[derive(Default)]
struct Features {
    slots: FxMap<u32, u32>,
    items: Vec<(u32, Feature)>,
    /// `value` of each item, computed once for the norm and the sum.
    values: Vec<f64>,
}

impl Features {
    fn clear(&mut self) {
        self.slots.clear();
        self.items.clear();
    }

    #[inline]
    fn count(&mut self, h: u32, weight: f64) {
        match self.slots.entry(h) {
            Entry::Occupied(slot) => {
                let f = &mut self.items[*slot.get() as usize].1;
                f.count += 1;
                f.weight += weight;
            }
            Entry::Vacant(slot) => {
                slot.insert(self.items.len() as u32);
                self.items.push((h, Feature { count: 1, weight }));
            }
        }
    }
}

/// Sublinear term frequency times the mean weight of the occurrences.
#[inline]
fn value(f: &Feature) -> f64 {
    (1.0 + f64::from(f.count).ln()) * (f.weight / f64::from(f.count))
}

fn add_family(out: &mut [f64], features: &mut Features, weight: f64) {
    if features.items.is_empty() {
        return;
    }
    features.values.clear();
    features
        .values
        .extend(features.items.iter().map(|(_, f)| value(f)));
    let sq: f64 = features.values.iter().map(|v| v * v).sum();
    if sq.is_nan() || sq <= 0.0 {
        return;
    }
    let scale = weight / sq.sqrt();
    let dim = out.len() as u32;
    for ((h, _), v) in features.items.iter().zip(&features.values) {
        let bucket = (h % dim) as usize;
        let sign = if fmix32(h ^ 0x9e37_79b9) & 1 == 1 {
            -1.0
        } else {
            1.0
        };
        out[bucket] += sign * scale * v;
    }
}

/// Per-thread scratch of `embed_tokens_into`, reused across texts: words, bigrams and
/// character n-grams, a word's characters, and the sums per dimension.
#[derive(Default)]
struct Scratch {
    words: Features,
    bigrams: Features,
    grams: Features,
    chars: Vec<char>,
    acc: Vec<f64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Embeds one text into `out` (length = dimension). A text without any word gives the
/// zero vector.
pub fn embed_into(text: &str, out: &mut [f32]) {
    embed_weighted_into(text, None, out);
}

/// Like `embed_into`, with a weight per token (in `tokenize` order; missing ones count
/// 1): a word's features, its character n-grams and (geometric mean) its bigrams are
/// scaled by it. CARMA weights query tokens by their IDF in the memory.
pub fn embed_weighted_into(text: &str, weights: Option<&[f64]>, out: &mut [f32]) {
    embed_tokens_into(&tokenize(text), weights, out);
}

/// `embed_weighted_into` for a text already tokenised (`text::tokenize`), so that a
/// query's tokens serve BM25 and the embedder from one tokenisation.
pub fn embed_tokens_into(tokens: &[String], weights: Option<&[f64]>, out: &mut [f32]) {
    SCRATCH.with(|cell| embed_with(&mut cell.borrow_mut(), tokens, weights, out));
}

fn embed_with(scratch: &mut Scratch, tokens: &[String], weights: Option<&[f64]>, out: &mut [f32]) {
    let weight_of = |i: usize| {
        weights
            .and_then(|w| w.get(i).copied())
            .filter(|w| w.is_finite() && *w >= 0.0)
            .unwrap_or(1.0)
    };
    let Scratch {
        words,
        bigrams,
        grams,
        chars,
        acc,
    } = scratch;
    words.clear();
    bigrams.clear();
    grams.clear();
    let tag_word = fnv_unit(FNV_OFFSET, TAG_WORD);
    let tag_bigram = fnv_unit(FNV_OFFSET, TAG_BIGRAM);
    let tag_char = fnv_unit(FNV_OFFSET, TAG_CHAR);
    for (i, token) in tokens.iter().enumerate() {
        let w = weight_of(i);
        words.count(fmix32(fnv_str(tag_word, token)), w);
        if i > 0 {
            let h = fnv_str(fnv_unit(fnv_str(tag_bigram, &tokens[i - 1]), 0x20), token);
            bigrams.count(fmix32(h), (w * weight_of(i - 1)).sqrt());
        }
        chars.clear();
        chars.push('<');
        chars.extend(token.chars().take(MAX_WORD_CHARS));
        chars.push('>');
        for n in CHAR_NGRAM_MIN..=CHAR_NGRAM_MAX {
            if chars.len() < n {
                break;
            }
            for window in chars.windows(n) {
                grams.count(fmix32(fnv_chars(tag_char, window)), w);
            }
        }
    }
    acc.clear();
    acc.resize(out.len(), 0.0);
    add_family(acc, words, WORD_WEIGHT);
    add_family(acc, bigrams, BIGRAM_WEIGHT);
    add_family(acc, grams, CHAR_WEIGHT);
    let norm = acc.iter().map(|v| v * v).sum::<f64>().sqrt();
    let inv = if norm > 0.0 { 1.0 / norm } else { 0.0 };
    for (o, v) in out.iter_mut().zip(acc.iter()) {
        *o = (v * inv) as f32;
    }
}

/// Embeds a batch of texts into one contiguous row-major matrix (`texts.len() x dim`),
/// in parallel.
pub fn embed_batch<S: AsRef<str> + Sync>(texts: &[S], dim: usize) -> Vec<f32> {
    let mut out = vec![0f32; texts.len() * dim];
    if dim == 0 {
        return out;
    }
    out.par_chunks_mut(dim)
        .zip(texts.par_iter())
        .for_each(|(row, text)| embed_into(text.as_ref(), row));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn deterministic_and_normalised() {
        let a = embed_batch(&["The wing in a propeller slipstream"], 384);
        let b = embed_batch(&["The wing in a propeller slipstream"], 384);
        assert_eq!(a, b);
        assert!((cos(&a, &a) - 1.0).abs() < 1e-5);
        let zero = embed_batch(&["!!! ..."], 64);
        assert!(zero.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn a_text_embeds_the_same_whatever_came_before() {
        // The per-thread scratch keeps nothing from one text to the next.
        let mut first = vec![0f32; 384];
        embed_into("wing flutter", &mut first);
        let mut other = vec![0f32; 1000];
        embed_into(
            "boundary layer flows over a flat plate; wing flutter at speed",
            &mut other,
        );
        let mut again = vec![0f32; 384];
        embed_into("wing flutter", &mut again);
        assert_eq!(first, again);
    }

    #[test]
    fn captures_lexical_similarity() {
        let v = embed_batch(
            &[
                "boundary layer flow over a flat plate",
                "flows in the boundary layers of flat plates",
                "income tax rules for small businesses",
            ],
            384,
        );
        let (a, b, c) = (&v[0..384], &v[384..768], &v[768..1152]);
        assert!(cos(a, b) > 0.25, "related texts {}", cos(a, b));
        assert!(cos(a, c) < 0.2, "unrelated texts {}", cos(a, c));
        assert!(
            cos(a, b) > cos(a, c) + 0.2,
            "{} vs {}",
            cos(a, b),
            cos(a, c)
        );
    }

    #[test]
    fn known_hashes() {
        // Shared with the js implementation's tests: same bytes in, same buckets out.
        assert_eq!(fnv_str(FNV_OFFSET, "a"), 0xe40c_292c);
        assert_eq!(fmix32(0), 0);
    }
}
