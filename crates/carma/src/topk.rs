//! Bounded top-k selection: keeps the `k` best (score, id) pairs seen, ties broken by the
//! smaller id so that every implementation returns the same order.

use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub score: f32,
    pub id: u32,
}

/// `a` ranks before `b`: higher score, then smaller id. NaN never enters (inputs are
/// validated), but it is ordered last to keep the heap sound.
#[inline]
pub fn better(a: &Hit, b: &Hit) -> bool {
    match a.score.partial_cmp(&b.score) {
        Some(Ordering::Greater) => true,
        Some(Ordering::Less) => false,
        _ => a.id < b.id,
    }
}

/// A min-heap of the k best hits (the root is the worst kept).
pub struct TopK {
    k: usize,
    heap: Vec<Hit>,
}

impl TopK {
    pub fn new(k: usize) -> Self {
        Self {
            k,
            heap: Vec::with_capacity(k.min(1 << 16)),
        }
    }

    /// The score a new hit must beat to enter, when full.
    #[inline]
    pub fn threshold(&self) -> Option<Hit> {
        if self.heap.len() == self.k {
            self.heap.first().copied()
        } else {
            None
        }
    }

    #[inline]
    pub fn push(&mut self, hit: Hit) {
        if self.k == 0 {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(hit);
            let mut i = self.heap.len() - 1;
            while i > 0 {
                let parent = (i - 1) / 2;
                if better(&self.heap[parent], &self.heap[i]) {
                    self.heap.swap(parent, i);
                    i = parent;
                } else {
                    break;
                }
            }
        } else if better(&hit, &self.heap[0]) {
            self.heap[0] = hit;
            let n = self.heap.len();
            let mut i = 0;
            loop {
                let (l, r) = (2 * i + 1, 2 * i + 2);
                let mut worst = i;
                if l < n && better(&self.heap[worst], &self.heap[l]) {
                    worst = l;
                }
                if r < n && better(&self.heap[worst], &self.heap[r]) {
                    worst = r;
                }
                if worst == i {
                    break;
                }
                self.heap.swap(i, worst);
                i = worst;
            }
        }
    }

    pub fn merge(mut self, other: TopK) -> TopK {
        for h in other.heap {
            self.push(h);
        }
        self
    }

    /// The kept hits, best first.
    pub fn into_sorted(mut self) -> Vec<Hit> {
        self.heap.sort_by(|a, b| {
            if better(a, b) {
                Ordering::Less
            } else if better(b, a) {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        });
        self.heap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_best_with_tie_break() {
        let mut t = TopK::new(3);
        for (i, s) in [0.1f32, 0.9, 0.5, 0.9, 0.3, 0.7].iter().enumerate() {
            t.push(Hit {
                score: *s,
                id: i as u32,
            });
        }
        let ids: Vec<u32> = t.into_sorted().iter().map(|h| h.id).collect();
        assert_eq!(ids, vec![1, 3, 5]);
    }
}
