//! AIOS Utils core, native side.
//!
//! `hash` is plain Rust and knows nothing of Node; `binding` is the only module that
//! talks to napi and only converts arguments and errors before delegating.

pub mod hash;

pub mod binding;
