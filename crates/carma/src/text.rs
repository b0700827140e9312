//! Tokenisation shared by the embedder and BM25: lowercase, split on anything that is not
//! alphanumeric (Unicode `Alphabetic` or `Numeric`). The js implementation uses
//! `toLowerCase()` and `/[\p{Alphabetic}\p{N}]+/gu`, which is the same rule.

use crate::fx::FxMap;

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
    /// The same tokens as `tokenize`, counted.
    pub fn of(text: &str) -> Self {
        let lower = lowercase(text);
        let mut terms: Vec<(u32, u32, u32)> = Vec::new();
        let mut count = 0u32;
        {
            // A short document's terms are found by a scan; a long one's through a map.
            let mut seen: Option<FxMap<&str, usize>> = None;
            let base = lower.as_ptr() as usize;
            let term = |t: &(u32, u32, u32)| &lower[t.0 as usize..t.1 as usize];
            for token in tokens(&lower) {
                count += 1;
                let found = match &seen {
                    Some(map) => map.get(token).copied(),
                    None => terms.iter().position(|t| term(t) == token),
                };
                match found {
                    Some(i) => terms[i].2 += 1,
                    None => {
                        let start = (token.as_ptr() as usize - base) as u32;
                        terms.push((start, start + token.len() as u32, 1));
                        if let Some(map) = &mut seen {
                            map.insert(token, terms.len() - 1);
                        } else if terms.len() == SCAN_TERMS {
                            seen = Some(
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
    fn counts_the_tokens_of_tokenize() {
        for text in [
            "Hello, World! hello l'été 2024 x-ray ray RAY",
            "",
            " .. ",
            "ΑΣ'Β Σ",
        ] {
            let counted = TermCounts::of(text);
            let tokens = tokenize(text);
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
