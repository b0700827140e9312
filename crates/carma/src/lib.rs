//! AIOS CARMA core, native side.
//!
//! The logic modules are plain Rust and know nothing of Node:
//! - `text`: tokenisation shared by the embedder and BM25;
//! - `embed`: the built-in offline embedder (feature hashing);
//! - `simd`: dot products with runtime CPU dispatch;
//! - `simd_int`: integer dot products of a query against row codes;
//! - `codes`: compact `i8` row codes and the interval that brackets a row's score;
//! - `code_scan`: exact top-k by scanning the codes and rescoring the survivors;
//! - `topk`: bounded top-k selection;
//! - `vector`: the vector index (contiguous matrix, exact search, HNSW, persistence);
//! - `hnsw`: the HNSW graph;
//! - `bm25`: the inverted index (and its file);
//! - `file_bytes`: reading, checksumming and atomically writing the index files;
//! - `query`: a search query tokenised once, for BM25 and the embedder;
//! - `cluster`: spherical k-means with k-means++ seeding (consolidation).
//!
//! `binding` is the only module that talks to napi.
//!
//! `binding` is compiled with the `napi` feature only (the Node build turns it on);
//! errors are `aios_error::AiosError`s, which it converts for JS.

pub mod bm25;
pub mod cluster;
pub mod code_scan;
pub mod codes;
pub mod embed;
pub mod file_bytes;
pub mod fx;
pub mod hnsw;
pub mod label_slots;
pub mod mapped;
pub mod query;
pub mod simd;
pub mod simd_int;
pub mod text;
pub mod topk;
pub mod vector;

#[cfg(feature = "napi")]
pub mod binding;

#[cfg(test)]
mod build_timings;
#[cfg(test)]
mod exact_tests;
#[cfg(test)]
mod exact_timings;
