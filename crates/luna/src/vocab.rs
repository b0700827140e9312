//! The vocabularies, read at run time from the tiktoken files the npm package ships
//! (`packages/luna/vocab/<encoding>.tiktoken.gz`, one `base64(token) rank` line per token),
//! the same files the js implementation reads: each vocabulary is shipped once, compressed,
//! instead of being compiled into the binary.
//!
//! JavaScript reads the file and hands its bytes to `load` once per encoding and process;
//! the parsed vocabulary lives for the rest of the process.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use std::sync::{Mutex, OnceLock, PoisonError};

use aios_error::AiosError;
use base64::Engine;

/// FNV-1a: a fast hash for the short byte strings that tokens and pieces are.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

/// Token bytes to rank (the rank is the token id).
pub type Ranks = HashMap<&'static [u8], u32, BuildHasherDefault<Fnv>>;

/// One encoding's ordinary tokens.
pub struct Vocabulary {
    /// `tokens[id]`: the bytes of token `id`.
    pub tokens: Vec<&'static [u8]>,
    pub ranks: Ranks,
}

/// A vocabulary file that is not a gzip'd tiktoken file with ranks 0, 1, 2...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadVocabulary(pub String);

impl fmt::Display for BadVocabulary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vocabulary: {}", self.0)
    }
}

impl std::error::Error for BadVocabulary {}

impl From<BadVocabulary> for AiosError {
    fn from(err: BadVocabulary) -> Self {
        AiosError::invalid(err.to_string())
    }
}

/// Parses a gzip'd tiktoken file. Ranks must run 0, 1, 2... in file order.
pub fn parse(gzipped: &[u8]) -> Result<Vocabulary, BadVocabulary> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(gzipped)
        .read_to_string(&mut text)
        .map_err(|e| BadVocabulary(format!("not a gzip'd text file ({e})")))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    // All token bytes in one allocation, kept for the life of the process.
    let mut bytes = Vec::with_capacity(text.len());
    let mut ends = Vec::with_capacity(lines.len());
    for (line_no, line) in lines.iter().enumerate() {
        let (token, rank) = line
            .split_once(' ')
            .ok_or_else(|| BadVocabulary(format!("line {}: expected `token rank`", line_no + 1)))?;
        if rank.parse::<usize>().ok() != Some(line_no) {
            return Err(BadVocabulary(format!(
                "line {}: expected rank {line_no}, got {rank:?}",
                line_no + 1
            )));
        }
        base64::engine::general_purpose::STANDARD
            .decode_vec(token, &mut bytes)
            .map_err(|e| BadVocabulary(format!("line {}: {e}", line_no + 1)))?;
        ends.push(bytes.len());
    }
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let mut tokens = Vec::with_capacity(ends.len());
    let mut ranks = Ranks::with_capacity_and_hasher(ends.len(), BuildHasherDefault::default());
    let mut start = 0;
    for (id, end) in ends.into_iter().enumerate() {
        let token = &bytes[start..end];
        ranks.insert(token, u32::try_from(id).expect("vocabulary fits u32"));
        tokens.push(token);
        start = end;
    }
    Ok(Vocabulary { tokens, ranks })
}

/// A loaded vocabulary, or `None` before `load`.
pub fn loaded(slot: &'static OnceLock<Vocabulary>) -> Option<&'static Vocabulary> {
    slot.get()
}

/// Held while a vocabulary is parsed: a load that comes while another is under way (one
/// started off the JS thread ahead of need, then a call that needs it now) waits for it
/// and takes its result instead of parsing the file a second time.
static LOADING: Mutex<()> = Mutex::new(());

/// Loads a vocabulary into its slot, once: later calls return the first one loaded.
pub fn load(
    slot: &'static OnceLock<Vocabulary>,
    gzipped: &[u8],
) -> Result<&'static Vocabulary, BadVocabulary> {
    if let Some(vocabulary) = slot.get() {
        return Ok(vocabulary);
    }
    let _parsing = LOADING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(vocabulary) = slot.get() {
        return Ok(vocabulary);
    }
    let vocabulary = parse(gzipped)?;
    Ok(slot.get_or_init(|| vocabulary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(text: &str) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).expect("write");
        encoder.finish().expect("finish")
    }

    #[test]
    fn parses_ranks_in_order() {
        let vocabulary = parse(&gzip("YQ== 0\nYg== 1\nYWI= 2\n")).expect("valid");
        assert_eq!(vocabulary.tokens, vec![&b"a"[..], b"b", b"ab"]);
        assert_eq!(vocabulary.ranks.get(&b"ab"[..]), Some(&2));
    }

    fn error(bytes: &[u8]) -> String {
        match parse(bytes) {
            Ok(_) => panic!("parsed a bad vocabulary"),
            Err(BadVocabulary(message)) => message,
        }
    }

    #[test]
    fn rejects_bad_files() {
        assert!(error(b"not gzip").contains("gzip"));
        assert!(error(&gzip("YQ== 1\n")).contains("expected rank 0"));
        assert!(error(&gzip("YQ==\n")).contains("token rank"));
        assert!(error(&gzip("@@@ 0\n")).contains("line 1"));
    }
}
