//! Transparent huge pages for the large arrays a graph walk reads at random: the int8
//! codes (38 MB at 100k x 384) and the flattened layer 0 (13 MB). With 4 KiB pages nearly
//! every node a walk reaches costs a TLB miss, and the prefetch of its code stalls on the
//! page walk; 2 MiB pages cover those arrays with a few dozen entries.
//!
//! The kernel's default (`madvise`) gives huge pages only to ranges that ask for them,
//! and only to pages not touched yet: `reserve` asks before the vector's new capacity is
//! written. Where huge pages are unavailable the advice is refused and nothing changes.

/// Reserves room for `additional` more elements and, when that is a large allocation,
/// asks for huge pages on it before anything is written there.
pub fn reserve<T>(v: &mut Vec<T>, additional: usize) {
    let before = v.as_ptr();
    v.reserve(additional);
    // A new allocation only: the pages of the old one were advised (or touched) already.
    if v.as_ptr() != before {
        advise(v);
    }
}

/// Below this, an allocation is not worth a system call (and may share pages with others).
const MIN_BYTES: usize = 4 << 20;
const HUGE: usize = 2 << 20;

#[cfg(target_os = "linux")]
fn advise<T>(v: &Vec<T>) {
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if bytes < MIN_BYTES {
        return;
    }
    let start = v.as_ptr() as usize;
    // Only whole huge pages inside the allocation: the advice covers no other memory.
    let from = start.next_multiple_of(HUGE);
    let to = (start + bytes) / HUGE * HUGE;
    if to > from {
        // SAFETY: the range lies inside the vector's allocation; MADV_HUGEPAGE changes how
        // the kernel backs those pages, never their contents.
        unsafe {
            libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise<T>(_v: &Vec<T>) {}

#[cfg(test)]
mod tests {
    #[test]
    fn reserves_and_keeps_contents() {
        let mut v: Vec<u32> = (0..10).collect();
        super::reserve(&mut v, 3 << 20);
        assert!(v.capacity() >= 10 + (3 << 20));
        assert_eq!(v, (0..10).collect::<Vec<_>>());
        v.resize(10 + (3 << 20), 7);
        assert_eq!(v[10 + (3 << 20) - 1], 7);
    }
}
