//! AIOS Data core, native side.
//!
//! `schema` opens and migrates a database, `store` holds the connection with the bulk
//! write paths, `analytics` the aggregate queries, `vector` the blob format. They are
//! plain Rust; `binding` is the only module that knows napi.
//!
//! `binding` is compiled with the `napi` feature only (the Node build turns it on);
//! errors are `aios_error::AiosError`s, which it converts for JS.

pub mod analytics;
pub mod schema;
pub mod store;
pub mod vector;

#[cfg(feature = "napi")]
pub mod binding;
