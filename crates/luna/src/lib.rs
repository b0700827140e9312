//! AIOS Luna core, native side.
//!
//! `vocab`, `merge`, `splitter`, `pretokenize` and `tokens` are plain Rust and know nothing
//! of Node; `binding` is the only module that talks to napi and only converts arguments and
//! errors before delegating.
//!
//! `binding` is compiled with the `napi` feature only (the Node build turns it on);
//! errors are `aios_error::AiosError`s, which it converts for JS.

pub mod merge;
pub mod pretokenize;
pub mod splitter;
pub mod tokens;
pub mod vocab;

#[cfg(feature = "napi")]
pub mod binding;
