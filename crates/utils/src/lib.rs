//! AIOS Utils core, native side.
//!
//! `hash` is plain Rust and knows nothing of Node; `binding` is the only module that
//! talks to napi and only converts arguments and errors before delegating.
//!
//! `binding` is compiled with the `napi` feature only (the Node build turns it on);
//! errors are `aios_error::AiosError`s, which it converts for JS.

pub mod hash;

#[cfg(feature = "napi")]
pub mod binding;
