//! A TTL + LRU map from string keys to byte values, bounded by entry count and by bytes.
//!
//! The package's cache is JavaScript (lru-cache): this one exists so the benchmark can
//! measure what a native cache costs per call across the napi boundary.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use lru::LruCache;

struct Entry {
    value: Vec<u8>,
    expires: Option<Instant>,
}

pub struct ByteCache {
    map: LruCache<String, Entry>,
    max_bytes: usize,
    bytes: usize,
    ttl: Option<Duration>,
    pub hits: u64,
    pub misses: u64,
}

impl ByteCache {
    /// `max_entries` >= 1; `max_bytes` counts key and value bytes; `ttl` of `None` keeps
    /// entries until evicted.
    pub fn new(max_entries: NonZeroUsize, max_bytes: usize, ttl: Option<Duration>) -> Self {
        Self {
            map: LruCache::new(max_entries),
            max_bytes,
            bytes: 0,
            ttl,
            hits: 0,
            misses: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn weight(key: &str, value: &[u8]) -> usize {
        key.len() + value.len()
    }

    /// The value for `key` when present and not expired; marks it most recently used.
    pub fn get(&mut self, key: &str) -> Option<&[u8]> {
        self.get_at(key, Instant::now())
    }

    fn get_at(&mut self, key: &str, now: Instant) -> Option<&[u8]> {
        let expired = match self.map.peek(key) {
            None => {
                self.misses += 1;
                return None;
            }
            Some(entry) => entry.expires.is_some_and(|at| at <= now),
        };
        if expired {
            self.remove(key);
            self.misses += 1;
            return None;
        }
        self.hits += 1;
        self.map.get(key).map(|e| e.value.as_slice())
    }

    /// Stores `value`; returns false (and stores nothing) when it alone exceeds `max_bytes`.
    pub fn set(&mut self, key: &str, value: &[u8]) -> bool {
        self.set_at(key, value, Instant::now())
    }

    fn set_at(&mut self, key: &str, value: &[u8], now: Instant) -> bool {
        let weight = Self::weight(key, value);
        if weight > self.max_bytes {
            self.remove(key);
            return false;
        }
        self.remove(key);
        while self.bytes + weight > self.max_bytes {
            match self.map.pop_lru() {
                Some((k, e)) => self.bytes -= Self::weight(&k, &e.value),
                None => break,
            }
        }
        let entry = Entry {
            value: value.to_vec(),
            expires: self.ttl.map(|ttl| now + ttl),
        };
        if let Some((k, e)) = self.map.push(key.to_owned(), entry) {
            self.bytes -= Self::weight(&k, &e.value);
        }
        self.bytes += weight;
        true
    }

    pub fn remove(&mut self, key: &str) -> bool {
        match self.map.pop(key) {
            Some(e) => {
                self.bytes -= Self::weight(key, &e.value);
                true
            }
            None => false,
        }
    }

    pub fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(entries: usize, bytes: usize, ttl: Option<Duration>) -> ByteCache {
        ByteCache::new(NonZeroUsize::new(entries).unwrap(), bytes, ttl)
    }

    #[test]
    fn evicts_least_recently_used_by_count() {
        let mut c = cache(2, 1000, None);
        c.set("a", b"1");
        c.set("b", b"2");
        assert_eq!(c.get("a"), Some(&b"1"[..]));
        c.set("c", b"3");
        assert_eq!(c.get("b"), None);
        assert_eq!(c.get("a"), Some(&b"1"[..]));
        assert_eq!(c.len(), 2);
        assert_eq!(c.bytes(), 4);
        assert_eq!((c.hits, c.misses), (2, 1));
    }

    #[test]
    fn evicts_by_bytes_and_refuses_oversized_values() {
        let mut c = cache(100, 10, None);
        assert!(c.set("a", b"1234"));
        assert!(c.set("b", b"1234"));
        assert!(c.set("c", b"1234"));
        assert_eq!(c.get("a"), None);
        assert_eq!(c.bytes(), 10);
        assert!(!c.set("d", b"12345678901"));
        assert_eq!(c.len(), 2);
        assert!(c.set("b", b"9"));
        assert_eq!(c.bytes(), 7);
        c.clear();
        assert!(c.is_empty());
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn entries_expire_after_ttl() {
        let mut c = cache(10, 100, Some(Duration::from_millis(50)));
        let t0 = Instant::now();
        c.set_at("a", b"x", t0);
        assert!(c.get_at("a", t0 + Duration::from_millis(49)).is_some());
        assert!(c.get_at("a", t0 + Duration::from_millis(50)).is_none());
        assert!(c.is_empty());
        assert_eq!(c.bytes(), 0);
    }
}
