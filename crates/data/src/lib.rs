//! AIOS Data core, native side.
//!
//! `schema` opens and migrates a database, `store` holds the connection with the bulk
//! write paths, `analytics` the aggregate queries, `vector` the blob format. They are
//! plain Rust; `binding` is the only module that knows napi.

pub mod analytics;
pub mod schema;
pub mod store;
pub mod vector;

pub mod binding;
