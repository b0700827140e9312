//! A search query as CARMA's search needs it, from one tokenisation: the ids of its terms
//! in the lexical index (for BM25) and, for the built-in embedder, its embedding with each
//! token weighted by its IDF in that index. Without it a query was tokenised once for
//! BM25, once to look up the IDFs and once more to embed.

use crate::bm25::Bm25Index;
use crate::embed::embed_tokens_into;
use crate::text::{lexical_tokens, tokenize};

#[derive(Debug, PartialEq)]
pub struct PreparedQuery {
    /// Ids (in `index`) of the query's known tokens, in order, repeats kept.
    pub terms: Vec<u32>,
    /// The IDF-weighted embedding, when a dimension was asked for.
    pub vector: Option<Vec<f32>>,
    /// The sum of every token's IDF (repeats kept, a token the index does not know at its
    /// highest): the BM25 score of a document holding each token once at average length.
    /// A hit's score over it says how much of the query it matches.
    pub idf_mass: f64,
}

/// Tokenises `text` once and derives from the tokens what a search over `index` needs;
/// `dim` asks for the IDF-weighted embedding of that dimension as well.
pub fn prepare_query(index: &Bm25Index, text: &str, dim: Option<usize>) -> PreparedQuery {
    let tokens = tokenize(text);
    // BM25's terms are the embedder's tokens but where marks or a script without spaces
    // make them differ (see `text`, never for ASCII): then the embedder's tokens are
    // weighted by their own IDFs.
    let lexical = (!text.is_ascii())
        .then(|| lexical_tokens(text))
        .filter(|lexical| *lexical != tokens);
    let (terms, idf) = index.lookup_terms(lexical.as_deref().unwrap_or(&tokens));
    let vector = dim.map(|d| {
        let mut out = vec![0f32; d];
        let own;
        let weights: &[f64] = if lexical.is_some() {
            own = index.idf(&tokens);
            &own
        } else {
            &idf
        };
        embed_tokens_into(&tokens, Some(weights), &mut out);
        out
    });
    // Folded from +0.0 (f64's `sum` starts at -0.0), as the js side adds them.
    let idf_mass = idf.iter().fold(0.0, |a, x| a + x);
    PreparedQuery {
        terms,
        vector,
        idf_mass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::embed_weighted_into;

    use crate::bm25::tests::sample_index as index;

    #[test]
    fn gives_what_the_three_separate_steps_gave() {
        let idx = index();
        let query = "Boundary layer of the WING, boundary again; unknownword";
        let prepared = prepare_query(&idx, query, Some(64));
        // The embedding equals tokenize + idf + embed_weighted_into, bit for bit.
        let idf = idx.idf(&tokenize(query));
        let mut expected = vec![0f32; 64];
        embed_weighted_into(query, Some(&idf), &mut expected);
        assert_eq!(prepared.vector.as_deref(), Some(expected.as_slice()));
        // BM25 over the term ids ranks exactly as BM25 over the text.
        for filter in [None, Some(&[2u32, 3][..])] {
            assert_eq!(
                idx.search_terms(&prepared.terms, 10, filter).unwrap(),
                idx.search(query, 10, filter).unwrap()
            );
        }
        // Unknown tokens are dropped, repeats kept.
        assert_eq!(prepared.terms.len(), 5);
        assert_eq!(prepared.terms[0], prepared.terms[4]);
        // The IDF mass counts every token, the unknown one at the highest IDF.
        assert_eq!(prepared.idf_mass, idf.iter().sum::<f64>());
        let unknown = prepare_query(&idx, "unknownword", None).idf_mass;
        let n = idx.len() as f64;
        assert!((unknown - (1.0 + (n + 0.5) / 0.5).ln()).abs() < 1e-12);
    }

    #[test]
    fn a_cjk_query_gives_bm25_its_pairs_and_the_embedder_its_runs() {
        let mut idx = crate::bm25::Bm25Index::new(Default::default()).unwrap();
        idx.add(&[1, 2], &["東京は日本の首都です", "北京是中国的首都"])
            .unwrap();
        let query = "日本の首都";
        let prepared = prepare_query(&idx, query, Some(64));
        let (terms, idf) = idx.lookup_terms(&lexical_tokens(query));
        assert_eq!(prepared.terms, terms);
        assert_eq!(prepared.idf_mass, idf.iter().fold(0.0, |a, x| a + x));
        let mut expected = vec![0f32; 64];
        embed_weighted_into(query, Some(&idx.idf(&tokenize(query))), &mut expected);
        assert_eq!(prepared.vector.as_deref(), Some(expected.as_slice()));
        let hits = idx.search_terms(&prepared.terms, 2, None).unwrap();
        assert_eq!(hits[0].id, 1);
    }

    #[test]
    fn a_document_holding_each_query_token_once_scores_the_idf_mass() {
        // Two documents of the same length: each holds every query term once, so both are
        // at average length and BM25 gives each term exactly its IDF.
        let mut idx = crate::bm25::Bm25Index::new(Default::default()).unwrap();
        idx.add(&[1, 2], &["wing flutter speed", "wing noise heat"])
            .unwrap();
        let prepared = prepare_query(&idx, "wing flutter", None);
        let hits = idx.search_terms(&prepared.terms, 1, None).unwrap();
        assert!((f64::from(hits[0].score) - prepared.idf_mass).abs() < 1e-5);
    }

    #[test]
    fn no_vector_unless_asked_and_foreign_ids_refused() {
        let idx = index();
        let prepared = prepare_query(&idx, "wing", None);
        assert_eq!(prepared.vector, None);
        assert_eq!(prepared.terms.len(), 1);
        let err = idx.search_terms(&[u32::MAX], 5, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("terms: 4294967295 is not a term id"),
            "{err}"
        );
        assert!(prepare_query(&idx, "", Some(8)).terms.is_empty());
    }
}
