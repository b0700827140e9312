//! AIOS Support core, native side.
//!
//! `stats` (system and process figures) and `bytecache` (a byte-budgeted TTL + LRU map,
//! kept to measure the boundary cost of a native cache) are plain Rust and know nothing
//! of Node; `binding` is the only module that talks to napi.

pub mod bytecache;
pub mod stats;

pub mod binding;
