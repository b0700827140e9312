//! Tokenisation shared by the embedder and BM25.
//!
//! The embedder's tokens (`tokenize`): lowercase, split on anything that is not
//! alphanumeric (Unicode `Alphabetic` or `Numeric`). The js implementation uses
//! `toLowerCase()` and `/[\p{Alphabetic}\p{N}]+/gu`, which is the same rule.
//!
//! BM25's terms (`lexical_tokens`) differ in two ways, both for scripts that rule breaks:
//! - Runs hold the combining marks too (`\p{M}`): the virama of Devanagari, Tamil or
//!   Bengali is a mark that is not `Alphabetic`, so `फ्रांस` was cut into `फ` and `रांस`.
//! - The scripts written without spaces between words (Han, kana, Hangul, Thai, Lao,
//!   Khmer, Myanmar): a run of them becomes its overlapping pairs of characters (a lone
//!   character stays itself), as Lucene's CJK bigrams do, so that `首都` finds
//!   `東京は日本の首都です` and `เมืองหลวง` finds `กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย`.
//!
//! The embedder keeps its rule: its vectors, stored with every fragment, stay as they
//! were.

use crate::fx::FxMap;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// `text` lowercased (ASCII, most text, byte by byte: the same result, faster).
fn lowercase(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    }
}

/// The alphanumeric runs of an already lowercased text, in order.
fn tokens(lower: &str) -> impl Iterator<Item = &str> {
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
}

/// Lowercased alphanumeric runs of `text`, in order.
pub fn tokenize(text: &str) -> Vec<String> {
    tokens(&lowercase(text)).map(str::to_owned).collect()
}

/// Whether `c` belongs in a BM25 run: alphanumeric, or a combining mark.
fn is_term_char(c: char) -> bool {
    c.is_alphanumeric()
        || (!c.is_ascii() && c.general_category_group() == GeneralCategoryGroup::Mark)
}

/// The runs of letters, marks and digits of an already lowercased text, in order.
fn term_runs(lower: &str) -> impl Iterator<Item = &str> {
    lower
        .split(|c: char| !is_term_char(c))
        .filter(|t| !t.is_empty())
}

/// The version of `lexical_tokens`: 1 kept CJK runs whole; 2 split them into pairs but cut
/// runs at marks that are not `Alphabetic` and kept Thai, Lao, Khmer and Myanmar runs whole.
pub const LEXICAL_TOKENIZER: u32 = 3;

/// The scripts written without spaces between words: Han ideographs (with the iteration
/// and closing marks), kana, Hangul, Thai, Lao, Myanmar and Khmer.
pub fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0E7F // Thai
        | 0x0E80..=0x0EFF // Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0x1100..=0x11FF // Hangul Jamo
        | 0x3005..=0x3007 // 々 〆 〇
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3130..=0x318F // Hangul compatibility Jamo
        | 0x31F0..=0x31FF // Katakana phonetic extensions
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xAC00..=0xD7AF // Hangul syllables
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0xFF66..=0xFF9F // halfwidth Katakana
        | 0x20000..=0x3134F // CJK extensions B to G
    )
}

/// Whether `text` holds a character that `lexical_tokens` splits into pairs.
pub fn has_unspaced(text: &str) -> bool {
    !text.is_ascii() && text.chars().any(is_unspaced)
}

/// The BM25 terms of a run, as ranges of it: the run itself, or, for its parts in the
/// scripts written without spaces, their overlapping pairs of characters.
fn run_terms(run: &str, mut emit: impl FnMut(usize, usize)) {
    if run.is_ascii() || !run.chars().any(is_unspaced) {
        emit(0, run.len());
        return;
    }
    // (start, end) of the chars, with whether each is CJK.
    let chars: Vec<(usize, usize, bool)> = run
        .char_indices()
        .map(|(i, c)| (i, i + c.len_utf8(), is_unspaced(c)))
        .collect();
    let mut i = 0;
    while i < chars.len() {
        let unspaced = chars[i].2;
        let mut j = i;
        while j < chars.len() && chars[j].2 == unspaced {
            j += 1;
        }
        if !unspaced || j - i == 1 {
            emit(chars[i].0, chars[j - 1].1);
        } else {
            for p in i..j - 1 {
                emit(chars[p].0, chars[p + 1].1);
            }
        }
        i = j;
    }
}

/// The BM25 terms of `text`: its runs of letters, marks and digits, those in the scripts
/// written without spaces as pairs of characters.
pub fn lexical_tokens(text: &str) -> Vec<String> {
    let lower = lowercase(text);
    let mut out = Vec::new();
    for run in term_runs(&lower) {
        run_terms(run, |s, e| out.push(run[s..e].to_owned()));
    }
    out
}

/// Counts one occurrence of `token` (a slice of `lower`) in `terms`, found by a scan of
/// them while they are few, then through `seen`.
fn count_term<'a>(
    lower: &'a str,
    token: &'a str,
    terms: &mut Vec<(u32, u32, u32)>,
    seen: &mut Option<FxMap<&'a str, usize>>,
    count: &mut u32,
) {
    *count += 1;
    let term = |t: &(u32, u32, u32)| &lower[t.0 as usize..t.1 as usize];
    let found = match seen {
        Some(map) => map.get(token).copied(),
        None => terms.iter().position(|t| term(t) == token),
    };
    match found {
        Some(i) => terms[i].2 += 1,
        None => {
            let start = (token.as_ptr() as usize - lower.as_ptr() as usize) as u32;
            terms.push((start, start + token.len() as u32, 1));
            if let Some(map) = seen {
                map.insert(token, terms.len() - 1);
            } else if terms.len() == SCAN_TERMS {
                *seen = Some(
                    terms
                        .iter()
                        .enumerate()
                        .map(|(i, t)| (term(t), i))
                        .collect(),
                );
            }
        }
    }
}

/// Distinct terms up to which a document's terms are looked up by a scan.
const SCAN_TERMS: usize = 24;

/// One document's distinct terms with their frequencies, in order of first occurrence, as
/// ranges of its lowercased text (no string per token), and how many tokens it has.
pub struct TermCounts {
    pub lower: String,
    pub terms: Vec<(u32, u32, u32)>,
    pub tokens: u32,
}

impl TermCounts {
    /// The same terms as `lexical_tokens`, counted.
    pub fn of(text: &str) -> Self {
        let lower = lowercase(text);
        let mut terms: Vec<(u32, u32, u32)> = Vec::new();
        let mut count = 0u32;
        {
            // A short document's terms are found by a scan; a long one's through a map.
            let mut seen: Option<FxMap<&str, usize>> = None;
            let mut parts: Vec<&str> = Vec::new();
            for run in term_runs(&lower) {
                parts.clear();
                run_terms(run, |s, e| parts.push(&run[s..e]));
                for &part in &parts {
                    count_term(&lower, part, &mut terms, &mut seen, &mut count);
                }
            }
        }
        Self {
            lower,
            terms,
            tokens: count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_lowercases() {
        assert_eq!(
            tokenize("Hello, World! l'été 2024 x-ray"),
            vec!["hello", "world", "l", "été", "2024", "x", "ray"]
        );
        assert!(tokenize("  ...  ").is_empty());
    }

    #[test]
    fn splits_runs_of_cjk_characters_into_pairs_for_bm25_only() {
        assert_eq!(
            lexical_tokens("東京は日本の首都です"),
            vec![
                "東京", "京は", "は日", "日本", "本の", "の首", "首都", "都で", "です"
            ]
        );
        // Other scripts in the same run stay whole; a lone CJK character stays itself.
        assert_eq!(
            lexical_tokens("iPhone16は人気 서울 Москва 𠀋x"),
            vec!["iphone16", "は人", "人気", "서울", "москва", "𠀋", "x"]
        );
        assert_eq!(lexical_tokens("Hello, l'été"), tokenize("Hello, l'été"));
        // The embedder's tokens keep the runs whole.
        assert_eq!(tokenize("東京は日本"), vec!["東京は日本"]);
        assert!(has_unspaced("ok 한") && !has_unspaced("plain, café"));
    }

    #[test]
    fn keeps_the_marks_of_a_word_and_pairs_thai_lao_khmer_and_myanmar() {
        // The virama is a mark that is not Alphabetic: BM25 keeps the words whole.
        assert_eq!(
            lexical_tokens("फ्रांस की राजधानी क्या है? தமிழ்நாட்டின் தலைநகரம்"),
            vec!["फ्रांस", "की", "राजधानी", "क्या", "है", "தமிழ்நாட்டின்", "தலைநகரம்"]
        );
        assert_eq!(tokenize("फ्रांस"), vec!["फ", "रांस"]);
        // Thai is written without spaces: pairs of characters, marks included.
        assert_eq!(
            lexical_tokens("เมืองหลวง ไทย"),
            vec!["เม", "มื", "ือ", "อง", "งห", "หล", "ลว", "วง", "ไท", "ทย"]
        );
        assert!(has_unspaced("ไทย") && has_unspaced("ລາວ") && has_unspaced("ខ្មែរ"));
        assert!(!has_unspaced("हिन्दी"));
        // A mark with no letter is a run of its own; ASCII text is split as before.
        assert!(lexical_tokens("\u{0301} , \u{094D}").len() == 2);
        assert_eq!(
            lexical_tokens("Hello, l'été 2024"),
            tokenize("Hello, l'été 2024")
        );
    }

    #[test]
    fn counts_the_terms_of_lexical_tokens() {
        for text in [
            "Hello, World! hello l'été 2024 x-ray ray RAY",
            "",
            " .. ",
            "ΑΣ'Β Σ",
            "東京は東京 日本の首都は東京 abc東京",
        ] {
            let counted = TermCounts::of(text);
            let tokens = lexical_tokens(text);
            assert_eq!(counted.tokens as usize, tokens.len());
            let expanded: Vec<(&str, u32)> = counted
                .terms
                .iter()
                .map(|&(s, e, n)| (&counted.lower[s as usize..e as usize], n))
                .collect();
            let mut expected: Vec<(&str, u32)> = Vec::new();
            for t in &tokens {
                match expected.iter_mut().find(|(x, _)| x == t) {
                    Some(e) => e.1 += 1,
                    None => expected.push((t, 1)),
                }
            }
            assert_eq!(expanded, expected, "{text}");
        }
    }
}
