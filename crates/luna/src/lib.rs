//! AIOS Luna core, native side.
//!
//! `pretokenize` and `tokens` are plain Rust and knows nothing of Node; `binding` is the only module that
//! talks to napi and only converts arguments and errors before delegating.

pub mod pretokenize;
pub mod tokens;

pub mod binding;
