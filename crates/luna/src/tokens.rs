//! Exact BPE token ids and counts for OpenAI's `o200k_base` and `cl100k_base`.
//!
//! The vocabularies are loaded at run time from the tiktoken files of the npm package
//! (`vocab`); the js implementation reads the same files. Text is cut into pieces by
//! `pretokenize` (tiktoken's regular expressions, with a fast path for ASCII); a piece that
//! is a whole token is one hash lookup, and any other piece is merged pair by pair as
//! tiktoken does (`merge`). `cargo test` checks the ids against `tiktoken-rs` on a varied
//! corpus. Special tokens (`<|endoftext|>`...) are never produced: every input is ordinary
//! text, so user text cannot inject control tokens.
//!
//! Large inputs are cut at boundaries that no piece can cross (a line feed followed by an
//! ASCII letter) and the chunks are encoded in parallel with rayon; the ids are the same
//! as a sequential encode.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use aios_error::AiosError;
use rayon::prelude::*;

use crate::merge::{count_piece, encode_piece};
use crate::pretokenize::Pieces;
use crate::splitter::Splitter;
use crate::vocab::{self, BadVocabulary, Vocabulary};

/// Inputs at least this large are split and encoded across threads.
pub const PARALLEL_THRESHOLD: usize = 256 * 1024;
/// Target size of one parallel chunk.
const CHUNK_TARGET: usize = 64 * 1024;

static O200K: OnceLock<Vocabulary> = OnceLock::new();
static CL100K: OnceLock<Vocabulary> = OnceLock::new();

/// A supported encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    O200kBase,
    Cl100kBase,
}

impl Encoding {
    pub const ALL: [Encoding; 2] = [Encoding::O200kBase, Encoding::Cl100kBase];

    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }

    fn slot(self) -> &'static OnceLock<Vocabulary> {
        match self {
            Encoding::O200kBase => &O200K,
            Encoding::Cl100kBase => &CL100K,
        }
    }

    /// Loads this encoding's vocabulary from its gzip'd tiktoken file (once per process).
    pub fn load(self, gzipped: &[u8]) -> Result<(), BadVocabulary> {
        let vocabulary = vocab::load(self.slot(), gzipped)?;
        if vocabulary.tokens.len() != self.expected_size() {
            return Err(BadVocabulary(format!(
                "{self} has {} tokens, expected {}",
                vocabulary.tokens.len(),
                self.expected_size()
            )));
        }
        Ok(())
    }

    pub fn is_loaded(self) -> bool {
        vocab::loaded(self.slot()).is_some()
    }

    fn expected_size(self) -> usize {
        match self {
            Encoding::O200kBase => 199_998,
            Encoding::Cl100kBase => 100_256,
        }
    }

    /// The loaded vocabulary. Callers check `is_loaded` first (the binding refuses calls
    /// before `load`), so a missing one is a bug.
    fn vocabulary(self) -> &'static Vocabulary {
        vocab::loaded(self.slot()).expect("vocabulary loaded before use")
    }

    fn pieces(self, text: &str) -> Pieces<'_> {
        match self {
            Encoding::O200kBase => Pieces::new(Splitter::o200k(), true, text),
            Encoding::Cl100kBase => Pieces::new(Splitter::cl100k(), false, text),
        }
    }

    /// Number of ordinary (non-special) tokens in the vocabulary.
    pub fn vocabulary_size(self) -> usize {
        self.expected_size()
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn encode_into(encoding: Encoding, text: &str, out: &mut Vec<u32>) {
    let ranks = &encoding.vocabulary().ranks;
    for piece in encoding.pieces(text) {
        encode_piece(ranks, piece.as_bytes(), out);
    }
}

fn count_sequential(encoding: Encoding, text: &str) -> usize {
    let ranks = &encoding.vocabulary().ranks;
    encoding
        .pieces(text)
        .map(|piece| count_piece(ranks, piece.as_bytes()))
        .sum()
}

/// The name given is not a supported encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEncoding(pub String);

impl fmt::Display for UnknownEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "encoding: expected \"o200k_base\" or \"cl100k_base\", got {:?}",
            self.0
        )
    }
}

impl std::error::Error for UnknownEncoding {}

impl From<UnknownEncoding> for AiosError {
    fn from(err: UnknownEncoding) -> Self {
        AiosError::invalid(err.to_string())
    }
}

impl FromStr for Encoding {
    type Err = UnknownEncoding;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "o200k_base" => Ok(Encoding::O200kBase),
            "cl100k_base" => Ok(Encoding::Cl100kBase),
            other => Err(UnknownEncoding(other.to_string())),
        }
    }
}

/// A token id outside the encoding's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidToken {
    pub index: usize,
    pub id: u32,
    pub vocabulary_size: usize,
}

impl fmt::Display for InvalidToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ids[{}]: expected a token id below {}, got {}",
            self.index, self.vocabulary_size, self.id
        )
    }
}

impl std::error::Error for InvalidToken {}

impl From<InvalidToken> for AiosError {
    fn from(err: InvalidToken) -> Self {
        AiosError::invalid(err.to_string())
    }
}

/// Byte offsets that cut `text` into chunks of about `target` bytes at positions no
/// pre-tokenizer piece crosses: right after a `\n` that is followed by an ASCII letter.
///
/// Why that is safe for both encodings: a letter piece may start with one optional
/// character that is never `\r` or `\n`; the pieces that may contain a line feed are made
/// of whitespace, or of punctuation followed by line breaks, and none of them can
/// continue into a letter. So a match never spans `\n` + letter.
pub fn split_points(text: &str, target: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut points = Vec::new();
    let mut at = target;
    while at < bytes.len() {
        let found = bytes[at..]
            .windows(2)
            .position(|w| w[0] == b'\n' && w[1].is_ascii_alphabetic());
        match found {
            Some(offset) => {
                let cut = at + offset + 1;
                points.push(cut);
                at = cut + target;
            }
            None => break,
        }
    }
    points
}

fn chunks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for cut in split_points(text, CHUNK_TARGET) {
        out.push(&text[start..cut]);
        start = cut;
    }
    out.push(&text[start..]);
    out
}

/// Token ids of `text`, encoded as ordinary text.
pub fn encode(encoding: Encoding, text: &str) -> Vec<u32> {
    if text.len() < PARALLEL_THRESHOLD {
        return encode_sequential(encoding, text);
    }
    let parts: Vec<Vec<u32>> = chunks(text)
        .par_iter()
        .map(|chunk| encode_sequential(encoding, chunk))
        .collect();
    let mut ids = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        ids.extend_from_slice(&part);
    }
    ids
}

/// Sequential encode, whatever the size (the reference the parallel path must match).
pub fn encode_sequential(encoding: Encoding, text: &str) -> Vec<u32> {
    let mut out = Vec::with_capacity(text.len() / 3);
    encode_into(encoding, text, &mut out);
    out
}

/// Number of tokens of `text`.
pub fn count(encoding: Encoding, text: &str) -> usize {
    if text.len() < PARALLEL_THRESHOLD {
        return count_sequential(encoding, text);
    }
    chunks(text)
        .par_iter()
        .map(|chunk| count_sequential(encoding, chunk))
        .sum()
}

fn total_len<S: AsRef<str>>(texts: &[S]) -> usize {
    texts.iter().map(|t| t.as_ref().len()).sum()
}

/// Token counts of many texts in one call, in parallel when there is enough work.
pub fn count_batch<S: AsRef<str> + Sync>(encoding: Encoding, texts: &[S]) -> Vec<u32> {
    let one = |t: &S| -> u32 { u32::try_from(count(encoding, t.as_ref())).unwrap_or(u32::MAX) };
    if texts.len() > 1 && total_len(texts) >= PARALLEL_THRESHOLD {
        texts.par_iter().map(one).collect()
    } else {
        texts.iter().map(one).collect()
    }
}

/// Token ids of many texts, flattened, with `offsets[i]..offsets[i + 1]` the ids of
/// text `i` (`offsets` has `texts.len() + 1` entries).
pub fn encode_batch<S: AsRef<str> + Sync>(encoding: Encoding, texts: &[S]) -> (Vec<u32>, Vec<u32>) {
    let parts: Vec<Vec<u32>> = if texts.len() > 1 && total_len(texts) >= PARALLEL_THRESHOLD {
        texts
            .par_iter()
            .map(|t| encode(encoding, t.as_ref()))
            .collect()
    } else {
        texts.iter().map(|t| encode(encoding, t.as_ref())).collect()
    };
    let mut offsets = Vec::with_capacity(parts.len() + 1);
    let mut ids = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    offsets.push(0u32);
    for part in parts {
        ids.extend_from_slice(&part);
        offsets.push(u32::try_from(ids.len()).unwrap_or(u32::MAX));
    }
    (ids, offsets)
}

/// The bytes of the given token ids.
pub fn decode_bytes(encoding: Encoding, ids: &[u32]) -> Result<Vec<u8>, InvalidToken> {
    let tokens = &encoding.vocabulary().tokens;
    let vocabulary_size = tokens.len();
    if let Some((index, &id)) = ids
        .iter()
        .enumerate()
        .find(|(_, &id)| id as usize >= vocabulary_size)
    {
        return Err(InvalidToken {
            index,
            id,
            vocabulary_size,
        });
    }
    Ok(ids
        .iter()
        .flat_map(|&id| tokens[id as usize])
        .copied()
        .collect())
}

/// The text of the given token ids; byte sequences that are not valid UTF-8 (a cut in
/// the middle of a character) become U+FFFD.
pub fn decode(encoding: Encoding, ids: &[u32]) -> Result<String, InvalidToken> {
    let bytes = decode_bytes(encoding, ids)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

/// Loads both vocabularies from the package's files (for tests).
#[cfg(test)]
pub fn load_for_tests() {
    Encoding::O200kBase
        .load(include_bytes!(
            "../../../packages/luna/vocab/o200k_base.tiktoken.gz"
        ))
        .expect("o200k_base");
    Encoding::Cl100kBase
        .load(include_bytes!(
            "../../../packages/luna/vocab/cl100k_base.tiktoken.gz"
        ))
        .expect("cl100k_base");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<String> {
        let mut texts: Vec<String> = vec![
            String::new(),
            "hello world".into(),
            "Hello, World! It's a test; we'll see what's what.".into(),
            "fn main() {\n    println!(\"{}\", 1 + 2);\n}\n".into(),
            "def f(x):\n\treturn x ** 2  # square\n\n\n".into(),
            "emoji 😀👍🏽👨‍👩‍👧‍👦 and flags 🇫🇷🇯🇵".into(),
            "日本語のテキストと中文文本，还有한국어 텍스트。".into(),
            "Ünïcödé çàfé naïve résumé ΑΒΓ δεζ кириллица".into(),
            "                                   spaces   \n\n\n    \t\t  tabs".into(),
            "trailing whitespace    ".into(),
            "<|endoftext|> <|im_start|>user<|im_end|> <|fim_prefix|>".into(),
            "numbers 1234567890 3.14159 1e-10 0xDEADBEEF".into(),
            "CamelCaseWords HTTPServer getHTTPResponseCode I'M SHOUTING".into(),
            "\r\n\r\nwindows\r\nlines\r\n".into(),
            "https://example.com/path?query=1&b=2#frag".into(),
            "  \u{85}\n x a\u{85} b\u{85}\u{85}c \u{feff}\u{feff} y \u{3000}\u{a0} z".into(),
            "it'\u{17f} he'S we'LL I'Ve 'tis".into(),
        ];
        let mut long = String::new();
        for i in 0..2_000 {
            long.push_str(&texts[i % texts.len()]);
            long.push('\n');
        }
        texts.push(long);
        texts
    }

    fn reference(encoding: Encoding) -> tiktoken_rs::CoreBPE {
        match encoding {
            Encoding::O200kBase => tiktoken_rs::o200k_base().expect("o200k"),
            Encoding::Cl100kBase => tiktoken_rs::cl100k_base().expect("cl100k"),
        }
    }

    #[test]
    fn matches_tiktoken_on_a_varied_corpus() {
        load_for_tests();
        for encoding in Encoding::ALL {
            let tiktoken = reference(encoding);
            for text in corpus() {
                let expected = tiktoken.encode_ordinary(&text);
                assert_eq!(encode(encoding, &text), expected, "{encoding}: {text:?}");
                assert_eq!(count(encoding, &text), expected.len());
            }
        }
    }

    #[test]
    fn known_ids() {
        load_for_tests();
        assert_eq!(
            encode(Encoding::Cl100kBase, "hello world"),
            vec![15339, 1917]
        );
        assert_eq!(
            encode(Encoding::O200kBase, "hello world"),
            vec![24912, 2375]
        );
    }

    #[test]
    fn parallel_encode_equals_sequential() {
        load_for_tests();
        let mut text = String::new();
        let mut i = 0u32;
        while text.len() < 3 * PARALLEL_THRESHOLD {
            text.push_str("Line number ");
            text.push_str(&i.to_string());
            text.push_str(" has words, 数字 and 😀  \n");
            if i.is_multiple_of(7) {
                text.push_str("\n\n   ");
            }
            i += 1;
        }
        assert!(split_points(&text, CHUNK_TARGET).len() > 4);
        for encoding in Encoding::ALL {
            let sequential = encode_sequential(encoding, &text);
            assert_eq!(encode(encoding, &text), sequential);
            assert_eq!(count(encoding, &text), sequential.len());
        }
    }

    #[test]
    fn batch_apis_agree_with_single_calls() {
        load_for_tests();
        let texts = corpus();
        for encoding in Encoding::ALL {
            let counts = count_batch(encoding, &texts);
            let (ids, offsets) = encode_batch(encoding, &texts);
            assert_eq!(offsets.len(), texts.len() + 1);
            for (i, text) in texts.iter().enumerate() {
                let single = encode(encoding, text);
                assert_eq!(counts[i] as usize, single.len());
                let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
                assert_eq!(&ids[a..b], single.as_slice());
            }
        }
    }

    #[test]
    fn decode_round_trips_and_rejects_bad_ids() {
        load_for_tests();
        for encoding in Encoding::ALL {
            for text in corpus() {
                let ids = encode(encoding, &text);
                assert_eq!(decode(encoding, &ids).expect("valid ids"), text);
            }
            let size = encoding.vocabulary_size();
            let err = decode(encoding, &[1, size as u32]).unwrap_err();
            assert_eq!(err.index, 1);
        }
        // A cut inside a multi-byte character decodes lossily instead of failing.
        let ids = encode(Encoding::Cl100kBase, "😀");
        assert!(ids.len() > 1);
        assert!(decode(Encoding::Cl100kBase, &ids[..1])
            .expect("valid")
            .contains('\u{FFFD}'));
    }

    #[test]
    fn parses_encoding_names() {
        assert_eq!("o200k_base".parse(), Ok(Encoding::O200kBase));
        assert_eq!("cl100k_base".parse(), Ok(Encoding::Cl100kBase));
        let err = "gpt2".parse::<Encoding>().unwrap_err();
        assert!(err.to_string().contains("\"gpt2\""));
    }
}

#[cfg(test)]
mod error_tests {
    use super::*;

    #[test]
    fn bad_arguments_cross_as_invalid_input() {
        let unknown: AiosError = "p50k".parse::<Encoding>().unwrap_err().into();
        assert_eq!(
            unknown.js_message(),
            "[AIOS:INVALID_INPUT] encoding: expected \"o200k_base\" or \"cl100k_base\", got \"p50k\""
        );
        let bad_id: AiosError = InvalidToken {
            index: 2,
            id: 7,
            vocabulary_size: 5,
        }
        .into();
        assert_eq!(
            bad_id.js_message(),
            "[AIOS:INVALID_INPUT] ids[2]: expected a token id below 5, got 7"
        );
        let bad_vocab: AiosError = BadVocabulary("not gzip".into()).into();
        assert_eq!(bad_vocab.code, "INVALID_INPUT");
        assert_eq!(bad_vocab.message, "vocabulary: not gzip");
    }
}
