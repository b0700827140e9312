//! The napi binding: the only module that knows about Node. It converts arguments,
//! delegates to `hash`, and maps errors through `aios_error` to `[AIOS:<CODE>] message`
//! strings that the TypeScript bridge turns into `AiosError`s with the same code.

use std::path::PathBuf;

use aios_error::AiosError;
use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi::{Env, Result, Task};
use napi_derive::napi;

use crate::hash;

/// BLAKE3 hex digest of a byte buffer, computed on the calling thread.
#[napi(catch_unwind)]
pub fn hash_bytes(data: &[u8]) -> String {
    hash::hash_hex(data)
}

pub struct HashBytesTask {
    data: Uint8Array,
}

impl Task for HashBytesTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<String> {
        Ok(hash::hash_hex(&self.data))
    }

    fn resolve(&mut self, _env: Env, output: String) -> Result<String> {
        Ok(output)
    }
}

/// BLAKE3 hex digest of a byte buffer, computed on the libuv thread pool.
/// The caller must not mutate the buffer until the promise settles.
#[napi(catch_unwind, ts_return_type = "Promise<string>")]
pub fn hash_bytes_async(data: Uint8Array) -> AsyncTask<HashBytesTask> {
    AsyncTask::new(HashBytesTask { data })
}

pub struct HashFileTask {
    path: PathBuf,
}

impl Task for HashFileTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<String> {
        hash::hash_file_hex(&self.path).map_err(|e| AiosError::io(&e, self.path.display()).into())
    }

    fn resolve(&mut self, _env: Env, output: String) -> Result<String> {
        Ok(output)
    }
}

/// BLAKE3 hex digest of a file, read off the JS thread (memory-mapped when large).
#[napi(catch_unwind, ts_return_type = "Promise<string>")]
pub fn hash_file(path: String) -> AsyncTask<HashFileTask> {
    AsyncTask::new(HashFileTask {
        path: PathBuf::from(path),
    })
}

/// Incremental BLAKE3 hasher.
#[napi]
pub struct NativeHasher {
    inner: hash::StreamHasher,
}

#[napi]
impl NativeHasher {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            inner: hash::StreamHasher::new(),
        }
    }

    #[napi]
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    #[napi]
    pub fn digest(&self) -> String {
        self.inner.digest_hex()
    }

    #[napi]
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}
