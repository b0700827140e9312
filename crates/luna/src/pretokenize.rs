//! The pre-tokenizer: cuts text into the pieces that BPE then encodes, exactly as
//! tiktoken's regular expressions do.
//!
//! Pieces made of ASCII characters (and ended by one) are cut by hand-written logic that
//! follows the regular expressions' backtracking semantics; any piece whose extent depends
//! on a non-ASCII character is cut by the regular expression (`splitter`), anchored at
//! that position. So English and code run at memory speed and every other text stays
//! exact. `cargo test` checks both against the regular expression on random text mixing
//! every relevant Unicode class.
//!
//! o200k_base:
//! ```text
//! [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//! |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//! |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//! ```
//! cl100k_base:
//! ```text
//! (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//! ```

use crate::splitter::Splitter;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Upper,
    Lower,
    Digit,
    /// `\r` or `\n`.
    Newline,
    /// ASCII whitespace other than `\r` and `\n`: space, `\t`, `\v`, `\f`.
    Space,
    /// Any other ASCII character: punctuation, symbols, control characters.
    Other,
    /// A byte of a non-ASCII character: its class needs Unicode tables.
    NonAscii,
}

const fn class_of(b: u8) -> Class {
    match b {
        b'A'..=b'Z' => Class::Upper,
        b'a'..=b'z' => Class::Lower,
        b'0'..=b'9' => Class::Digit,
        b'\r' | b'\n' => Class::Newline,
        b' ' | b'\t' | 0x0b | 0x0c => Class::Space,
        0x80..=0xff => Class::NonAscii,
        _ => Class::Other,
    }
}

static CLASSES: [Class; 256] = {
    let mut table = [Class::Other; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = class_of(i as u8);
        i += 1;
    }
    table
};

/// The class of the byte at `i`, `None` past the end.
#[inline]
fn at(bytes: &[u8], i: usize) -> Option<Class> {
    bytes.get(i).map(|&b| CLASSES[b as usize])
}

#[inline]
fn is_letter(c: Class) -> bool {
    matches!(c, Class::Upper | Class::Lower)
}

#[inline]
fn is_whitespace(c: Class) -> bool {
    matches!(c, Class::Space | Class::Newline)
}

/// End of the run of bytes of `class` from `i`; `None` when a non-ASCII byte ends it
/// (that character might continue the run).
#[inline]
fn run(bytes: &[u8], mut i: usize, keep: impl Fn(Class) -> bool) -> Option<usize> {
    loop {
        match at(bytes, i) {
            Some(Class::NonAscii) => return None,
            Some(c) if keep(c) => i += 1,
            _ => return Some(i),
        }
    }
}

/// Length of a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`, any case) at `i`;
/// `None` when a non-ASCII character follows the apostrophe (`(?i)s` also matches `ſ`).
#[inline]
fn contraction(bytes: &[u8], i: usize) -> Option<usize> {
    if bytes.get(i) != Some(&b'\'') {
        return Some(0);
    }
    let lower = |k: usize| bytes.get(i + k).map(u8::to_ascii_lowercase);
    Some(match lower(1) {
        Some(b's' | b't' | b'm' | b'd') => 2,
        Some(b'r') if lower(2) == Some(b'e') => 3,
        Some(b'v') if lower(2) == Some(b'e') => 3,
        Some(b'l') if lower(2) == Some(b'l') => 3,
        Some(b) if b >= 0x80 => return None,
        _ => 0,
    })
}

/// Whitespace at `i` (the last three alternatives, same in both encodings).
#[inline]
fn whitespace(bytes: &[u8], i: usize) -> Option<usize> {
    let end = run(bytes, i, is_whitespace)?;
    // \s*[\r\n]+ : up to and including the last line break of the run.
    if let Some(last) = bytes[i..end]
        .iter()
        .rposition(|&b| b == b'\r' || b == b'\n')
    {
        return Some(i + last + 1);
    }
    // \s+(?!\S) : the run, less its last character unless the text ends there.
    if end == bytes.len() || end - i == 1 {
        Some(end) // ...or \s+ for a single space before a non-space.
    } else {
        Some(end - 1)
    }
}

/// ` ?[^\s\p{L}\p{N}]+` followed by `[\r\n/]*` (o200k) or `[\r\n]*` (cl100k) at `i`.
#[inline]
fn punctuation(bytes: &[u8], i: usize, slash: bool) -> Option<Option<usize>> {
    let start = if bytes[i] == b' ' { i + 1 } else { i };
    match at(bytes, start) {
        Some(Class::NonAscii) => return None,
        Some(Class::Other) => {}
        _ => return Some(None),
    }
    let mut end = run(bytes, start, |c| c == Class::Other)?;
    while let Some(&b) = bytes.get(end) {
        if b == b'\r' || b == b'\n' || (slash && b == b'/') {
            end += 1;
        } else {
            break;
        }
    }
    Some(Some(end))
}

/// `\p{N}{1,3}` at `i` (a digit).
#[inline]
fn digits(bytes: &[u8], i: usize) -> Option<usize> {
    let mut end = i + 1;
    while end < i + 3 {
        match at(bytes, end) {
            Some(Class::Digit) => end += 1,
            Some(Class::NonAscii) => return None,
            _ => break,
        }
    }
    Some(end)
}

/// The end of the o200k piece at `i`, or `None` when a non-ASCII character decides it.
fn o200k_piece(bytes: &[u8], i: usize) -> Option<usize> {
    let first = at(bytes, i)?;
    // Letters, with an optional leading character that is not a line break, letter or digit.
    let letters = match first {
        Class::Upper | Class::Lower => Some(i),
        Class::Space | Class::Other => match at(bytes, i + 1) {
            Some(Class::NonAscii) => return None,
            Some(c) if is_letter(c) => Some(i + 1),
            _ => None,
        },
        Class::NonAscii => return None,
        _ => None,
    };
    if let Some(j) = letters {
        // [Lu…]*[Ll…]+ : ASCII capitals, then lower case; else [Lu…]+[Ll…]* : capitals only.
        let upper_end = run(bytes, j, |c| c == Class::Upper)?;
        let end = if at(bytes, upper_end) == Some(Class::Lower) {
            run(bytes, upper_end, |c| c == Class::Lower)?
        } else {
            upper_end
        };
        return Some(end + contraction(bytes, end)?);
    }
    match first {
        Class::Digit => digits(bytes, i),
        Class::Newline => whitespace(bytes, i),
        Class::Space | Class::Other => match punctuation(bytes, i, true)? {
            Some(end) => Some(end),
            None if first == Class::Space => whitespace(bytes, i),
            None => unreachable_other(),
        },
        _ => None,
    }
}

/// The end of the cl100k piece at `i`, or `None` when a non-ASCII character decides it.
fn cl100k_piece(bytes: &[u8], i: usize) -> Option<usize> {
    let first = at(bytes, i)?;
    let n = contraction(bytes, i)?;
    if n > 0 {
        return Some(i + n);
    }
    let letters = match first {
        Class::Upper | Class::Lower => Some(i),
        Class::Space | Class::Other => match at(bytes, i + 1) {
            Some(Class::NonAscii) => return None,
            Some(c) if is_letter(c) => Some(i + 1),
            _ => None,
        },
        Class::NonAscii => return None,
        _ => None,
    };
    if let Some(j) = letters {
        return run(bytes, j, is_letter);
    }
    match first {
        Class::Digit => digits(bytes, i),
        Class::Newline => whitespace(bytes, i),
        Class::Space | Class::Other => match punctuation(bytes, i, false)? {
            Some(end) => Some(end),
            None if first == Class::Space => whitespace(bytes, i),
            None => unreachable_other(),
        },
        _ => None,
    }
}

/// An `Other` character always starts a punctuation piece; this is never reached, and
/// falls back to the regular expression if it were.
#[cold]
fn unreachable_other() -> Option<usize> {
    None
}

/// Iterator over the pieces of a text.
pub struct Pieces<'a> {
    text: &'a str,
    at: usize,
    o200k: bool,
    splitter: &'static Splitter,
}

impl<'a> Pieces<'a> {
    pub fn new(splitter: &'static Splitter, o200k: bool, text: &'a str) -> Self {
        Pieces {
            text,
            at: 0,
            o200k,
            splitter,
        }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let start = self.at;
        if start >= self.text.len() {
            return None;
        }
        let bytes = self.text.as_bytes();
        let fast = if self.o200k {
            o200k_piece(bytes, start)
        } else {
            cl100k_piece(bytes, start)
        };
        let end = match fast {
            Some(end) if end > start => end,
            _ => {
                // The regular expression, anchored here, decides this piece (never empty).
                start + self.splitter.first_piece_len(&self.text[start..])
            }
        };
        self.at = end;
        // Both paths cut at character boundaries: the fast one only after ASCII bytes.
        Some(&self.text[start..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(splitter: &'static Splitter, o200k: bool, text: &str) {
        let expected: Vec<&str> = splitter.split(text).collect();
        let got: Vec<&str> = Pieces::new(splitter, o200k, text).collect();
        assert_eq!(got, expected, "o200k={o200k} text={text:?}");
    }

    const ALPHABET: &[&str] = &[
        "a", "b", "s", "t", "d", "m", "l", "r", "v", "e", "Z", "S", "T", "LL", "RE", "0", "7",
        "123", " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "'", "'", "/", "!", ".",
        ",", "(", "_", "-", "\x00", "\x1f", "\x7f", "é", "É", "ǅ", "ʰ", "日", "本", "\u{301}",
        "\u{903}", "٣", "Ⅷ", "½", "\u{a0}", "\u{3000}", "\u{2028}", "\u{85}", "\u{feff}",
        "\u{200b}", "😀", "🏽", "\u{200d}", "’", "«", "€", "ß", "İ", "ſ", "\u{212a}",
    ];

    #[test]
    fn matches_the_regular_expressions_on_random_text() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (splitter, o200k) in [(Splitter::o200k(), true), (Splitter::cl100k(), false)] {
            for round in 0..3000 {
                let len = 1 + (next() % 40) as usize;
                // Some rounds are mostly ASCII (the fast path), some fully mixed.
                let ascii_only = round % 3 == 0;
                let text: String = (0..len)
                    .map(|_| {
                        let limit = if ascii_only { 39 } else { ALPHABET.len() };
                        ALPHABET[(next() % limit as u64) as usize]
                    })
                    .collect();
                check(splitter, o200k, &text);
            }
        }
    }

    #[test]
    fn matches_on_known_cases() {
        let cases = [
            "",
            "hello world",
            "Hello World HELLO wORLD HeLLo",
            "it's I'M we'll they've you'd she'S 'RE 're ''s",
            "  hello   world    \n\n  \t x",
            "trailing   ",
            "a\r\n\r\n  b \n",
            "!!! ?? ...\n\n/// // a/b/c /x",
            "1234567 12 1 x123 ab12cd",
            "<|endoftext|> foo",
            " 'tis",
            "x'",
        ];
        for text in cases {
            check(Splitter::o200k(), true, text);
            check(Splitter::cl100k(), false, text);
        }
    }
}
