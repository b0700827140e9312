//! AIOS Support core, native side.
//!
//! `stats` (system and process figures) and `bytecache` (a byte-budgeted TTL + LRU map,
//! kept to measure the boundary cost of a native cache) are plain Rust and know nothing
//! of Node; `binding` is the only module that talks to napi.
//!
//! `binding` is compiled with the `napi` feature only (the Node build turns it on);
//! errors are `aios_error::AiosError`s, which it converts for JS.

pub mod bytecache;
pub mod stats;

#[cfg(feature = "napi")]
pub mod binding;
