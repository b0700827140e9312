//! Read buffers kept between windows. A window is read into tens of megabytes: allocated
//! afresh each time, that is an mmap, a page fault and a zeroed page for every 4 KiB read,
//! then an munmap, which cost about as much CPU as the read itself. A few buffers are kept
//! instead (a window being cut and the next one being read), so the pages are touched
//! once per process.

use std::sync::Mutex;

/// How many idle buffers are kept: about two windows' worth of memory stays with the process.
const KEPT: usize = 2;

static IDLE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A buffer of at least `len` initialized bytes (its old contents are left in place: the
/// caller overwrites what it uses). Give it back with [`give_back`].
pub fn take(len: usize) -> Vec<u8> {
    let reused = IDLE.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut buf = reused.unwrap_or_default();
    if buf.len() < len {
        buf.resize(len, 0);
    }
    buf
}

/// Keeps `buf` for a later [`take`], unless enough are kept already.
pub fn give_back(buf: Vec<u8>) {
    let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
    if idle.len() < KEPT {
        idle.push(buf);
        // The largest last: `take` pops it, so a small request never makes a new large one.
        idle.sort_by_key(Vec::len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_grown() {
        let a = take(1000);
        assert!(a.len() >= 1000);
        give_back(a);
        let b = take(10);
        assert!(b.len() >= 10);
        let c = take(5000);
        assert!(c.len() >= 5000);
        give_back(b);
        give_back(c);
        for _ in 0..5 {
            give_back(vec![0; 4]);
        }
        assert!(IDLE.lock().unwrap().len() <= KEPT);
    }
}
