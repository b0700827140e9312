//! AIOS Luna core, native side.
//!
//! `vocab`, `merge`, `splitter`, `pretokenize` and `tokens` are plain Rust and know nothing
//! of Node; `binding` is the only module that talks to napi and only converts arguments and
//! errors before delegating.

pub mod merge;
pub mod pretokenize;
pub mod splitter;
pub mod tokens;
pub mod vocab;

pub mod binding;
