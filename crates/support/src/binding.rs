//! The napi binding: the only module that knows about Node. It converts arguments,
//! delegates to `stats` and `bytecache`, and maps errors through `aios_error` to
//! `[AIOS:<CODE>] message` strings that the TypeScript bridge turns into `AiosError`s
//! with the same code.

use std::num::NonZeroUsize;
use std::path::Path;
use std::time::Duration;

use aios_error::AiosError;
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Result, Task};
use napi_derive::napi;

use crate::bytecache::ByteCache;
use crate::stats::{self, Sampler, Source};

/// One sample of the machine and this process (bytes and milliseconds as numbers).
#[napi(object)]
pub struct NativeSample {
    pub time_ms: f64,
    pub cpu_count: u32,
    /// `[1 min, 5 min, 15 min]`.
    pub load_avg: Vec<f64>,
    /// Busy share of all CPUs since the previous sample (0..1); null on the first.
    pub cpu_busy: Option<f64>,
    pub mem_total: f64,
    pub mem_available: f64,
    pub process_rss: f64,
    pub uptime_s: f64,
}

#[napi(object)]
pub struct NativeDiskSpace {
    pub total: f64,
    pub free: f64,
    pub available: f64,
}

/// Samples system and process figures; keeps CPU times between samples.
#[napi]
pub struct NativeSampler {
    inner: Sampler,
}

#[napi]
impl NativeSampler {
    /// `source`: `"procfs"` (Linux), `"portable"` (sysinfo) or omitted for the fastest.
    #[napi(constructor, catch_unwind)]
    pub fn new(source: Option<String>) -> Result<Self> {
        let source = match source.as_deref() {
            None => Source::best(),
            Some("portable") => Source::Portable,
            Some("procfs") if cfg!(target_os = "linux") => Source::Procfs,
            Some(other) => {
                return Err(AiosError::invalid_input(
                    "source",
                    "\"portable\" or, on Linux, \"procfs\"",
                    format!("{other:?}"),
                )
                .into())
            }
        };
        Ok(Self {
            inner: Sampler::new(source),
        })
    }

    #[napi(getter)]
    pub fn source(&self) -> &'static str {
        match self.inner.source() {
            Source::Procfs => "procfs",
            Source::Portable => "portable",
        }
    }

    #[napi(catch_unwind)]
    pub fn sample(&mut self) -> Result<NativeSample> {
        let s = self
            .inner
            .sample()
            .map_err(|e| AiosError::io(&e, "system stats"))?;
        Ok(NativeSample {
            time_ms: s.time_ms,
            cpu_count: s.cpu_count,
            load_avg: s.load_avg.to_vec(),
            cpu_busy: s.cpu_busy,
            mem_total: s.mem_total as f64,
            mem_available: s.mem_available as f64,
            process_rss: s.process_rss as f64,
            uptime_s: s.uptime_s,
        })
    }
}

/// Space on the file system holding `path` (one statvfs call; fast enough to stay sync).
#[napi(catch_unwind)]
pub fn disk_space(path: String) -> Result<NativeDiskSpace> {
    let space = stats::disk_space(Path::new(&path)).map_err(|e| AiosError::io(&e, &path))?;
    Ok(NativeDiskSpace {
        total: space.total as f64,
        free: space.free as f64,
        available: space.available as f64,
    })
}

pub struct DiskSpaceTask {
    path: String,
}

impl Task for DiskSpaceTask {
    type Output = stats::DiskSpace;
    type JsValue = NativeDiskSpace;

    fn compute(&mut self) -> Result<stats::DiskSpace> {
        stats::disk_space(Path::new(&self.path)).map_err(|e| AiosError::io(&e, &self.path).into())
    }

    fn resolve(&mut self, _env: Env, space: stats::DiskSpace) -> Result<NativeDiskSpace> {
        Ok(NativeDiskSpace {
            total: space.total as f64,
            free: space.free as f64,
            available: space.available as f64,
        })
    }
}

/// `diskSpace` on the libuv thread pool: a hung network mount blocks a pool thread, not
/// the JS thread, so a health check's timeout still fires.
#[napi(catch_unwind, ts_return_type = "Promise<NativeDiskSpace>")]
pub fn disk_space_async(path: String) -> AsyncTask<DiskSpaceTask> {
    AsyncTask::new(DiskSpaceTask { path })
}

/// A byte-budgeted TTL + LRU cache of Buffers by string key (for boundary-cost measurement).
#[napi]
pub struct NativeByteCache {
    inner: ByteCache,
}

#[napi]
impl NativeByteCache {
    #[napi(constructor, catch_unwind)]
    pub fn new(max_entries: u32, max_bytes: f64, ttl_ms: Option<f64>) -> Result<Self> {
        let entries = NonZeroUsize::new(max_entries as usize).ok_or_else(|| {
            AiosError::invalid_input("maxEntries", "an integer >= 1", max_entries)
        })?;
        if !(max_bytes.is_finite() && max_bytes >= 1.0) {
            return Err(AiosError::invalid_input("maxBytes", "a number >= 1", max_bytes).into());
        }
        let ttl = match ttl_ms {
            None => None,
            Some(ms) if ms.is_finite() && ms > 0.0 => Some(Duration::from_secs_f64(ms / 1000.0)),
            Some(ms) => return Err(AiosError::invalid_input("ttlMs", "a number > 0", ms).into()),
        };
        Ok(Self {
            inner: ByteCache::new(entries, max_bytes as usize, ttl),
        })
    }

    #[napi]
    pub fn get(&mut self, key: String) -> Option<Buffer> {
        self.inner.get(&key).map(|v| Buffer::from(v.to_vec()))
    }

    #[napi]
    pub fn set(&mut self, key: String, value: &[u8]) -> bool {
        self.inner.set(&key, value)
    }

    #[napi]
    pub fn delete(&mut self, key: String) -> bool {
        self.inner.remove(&key)
    }

    #[napi]
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }

    #[napi(getter)]
    pub fn bytes(&self) -> f64 {
        self.inner.bytes() as f64
    }

    #[napi(getter)]
    pub fn hits(&self) -> f64 {
        self.inner.hits as f64
    }

    #[napi(getter)]
    pub fn misses(&self) -> f64 {
        self.inner.misses as f64
    }
}
