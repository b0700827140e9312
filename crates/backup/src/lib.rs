//! AIOS Backup core, native side.
//!
//! `chunker` (FastCDC 2020 content-defined chunking and BLAKE3 chunk ids), `codec`
//! (zstd blobs checked against their ids) and `batch` (the parallel batch operations the
//! repository calls) are plain Rust and know nothing of Node; `binding` is the only module
//! that talks to napi: it converts arguments and errors before delegating.
//!
//! `binding` is compiled with the `napi` feature only (the Node build turns it on);
//! errors are `aios_error::AiosError`s, which it converts for JS.

pub mod arena;
pub mod batch;
pub mod bufpool;
pub mod chunker;
pub mod codec;
pub mod restore;
pub mod window;
pub mod writeback;

#[cfg(feature = "napi")]
pub mod binding;
