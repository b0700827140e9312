//! Tokenisation shared by the embedder and BM25: lowercase, split on anything that is not
//! alphanumeric (Unicode `Alphabetic` or `Numeric`). The js implementation uses
//! `toLowerCase()` and `/[\p{Alphabetic}\p{N}]+/gu`, which is the same rule.

/// Lowercased alphanumeric runs of `text`, in order.
pub fn tokenize(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
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
}
