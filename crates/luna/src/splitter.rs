//! tiktoken's pre-tokenizer regular expressions, run with `regex-automata`. Its engine has
//! no look-ahead, so `\s+(?!\S)` is written `\s+\s` and the matched look-ahead character
//! is given back (the technique and patterns of the `bpe-openai` crate, MIT). `pretokenize`
//! uses this for the pieces its ASCII fast path does not decide.

use std::sync::LazyLock;

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};

/// The patterns of one encoding, as one multi-pattern regular expression.
pub struct Splitter {
    regex: Regex,
    /// Per pattern: whether its last character is a look-ahead to give back.
    lookahead: Vec<bool>,
}

static O200K: LazyLock<Splitter> = LazyLock::new(|| {
    let letters = [
        "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        "\\p{N}{1,3}",
        " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*",
        "\\s*[\\r\\n]+",
        "\\s+$",
    ]
    .join("|");
    Splitter::new(&[(&letters, false), ("\\s+\\s", true), ("\\s+", false)])
});

static CL100K: LazyLock<Splitter> = LazyLock::new(|| {
    Splitter::new(&[
        (
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+$",
            false,
        ),
        ("\\s+\\s", true),
        ("\\s+", false),
    ])
});

impl Splitter {
    fn new(patterns: &[(&str, bool)]) -> Self {
        let (patterns, lookahead): (Vec<&str>, Vec<bool>) = patterns.iter().copied().unzip();
        let regex = Regex::new_many(&patterns).expect("tiktoken's patterns compile");
        Splitter { regex, lookahead }
    }

    pub fn o200k() -> &'static Splitter {
        &O200K
    }

    pub fn cl100k() -> &'static Splitter {
        &CL100K
    }

    /// The length of the piece that starts `text` (at least one character when `text`
    /// is not empty).
    pub fn first_piece_len(&self, text: &str) -> usize {
        let first = text.chars().next().map_or(0, char::len_utf8);
        let Some(found) = self.regex.find(Input::new(text).anchored(Anchored::Yes)) else {
            return first;
        };
        let mut end = found.range().end;
        if self.lookahead[found.pattern().as_usize()] {
            end -= text[..end].chars().next_back().map_or(0, char::len_utf8);
        }
        end.max(first)
    }

    /// Every piece of `text`, by the regular expression alone (the reference the fast
    /// path is tested against).
    pub fn split<'a>(&'a self, text: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= text.len() {
                return None;
            }
            let len = self.first_piece_len(&text[at..]);
            let piece = &text[at..at + len];
            at += len;
            Some(piece)
        })
    }
}
