//! Which slot holds each live label, in an index that keeps the label of every slot.
//!
//! An index opened from a file it trusts (`FileCheck::Structure`) does not build this map
//! at load: a search without a filter never asks for it, and at 1M rows it took 30 ms and
//! 16 MB of every open. It is built from the slots' labels the first time something asks
//! (a filter, a write, a lookup by label), by whichever thread asks first.

use std::sync::OnceLock;

use crate::fx::FxMap;

pub struct LabelSlots {
    map: OnceLock<FxMap<u32, u32>>,
    /// Live labels, while the map is not built.
    live: usize,
}

impl Default for LabelSlots {
    fn default() -> Self {
        Self::from_map(FxMap::default())
    }
}

impl LabelSlots {
    pub fn from_map(map: FxMap<u32, u32>) -> Self {
        Self {
            map: OnceLock::from(map),
            live: 0,
        }
    }

    /// A map built when first asked for, of an index with `live` live labels.
    pub fn deferred(live: usize) -> Self {
        Self {
            map: OnceLock::new(),
            live,
        }
    }

    pub fn len(&self) -> usize {
        self.map.get().map_or(self.live, FxMap::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the map is built (tests: a load that should defer it did).
    pub fn is_built(&self) -> bool {
        self.map.get().is_some()
    }

    /// The map, built from `labels` (the label of each slot) if it is not yet: every slot
    /// `alive` says is live (all when `alive` is None); of a label live in two slots (a
    /// file that was not checked in full), the later one.
    pub fn map(&self, labels: &[u32], alive: Option<&[bool]>) -> &FxMap<u32, u32> {
        self.map.get_or_init(|| {
            let mut map = FxMap::with_capacity_and_hasher(self.live, Default::default());
            for (slot, &label) in labels.iter().enumerate() {
                if alive.is_none_or(|a| a.get(slot) == Some(&true)) {
                    map.insert(label, slot as u32);
                }
            }
            map
        })
    }

    /// Counts a slot added with a label no other slot holds, leaving the map unbuilt (it is
    /// built from every slot's label, that one's too, when first asked).
    pub fn add_unbuilt(&mut self) {
        debug_assert!(!self.is_built());
        self.live += 1;
    }

    pub fn map_mut(&mut self, labels: &[u32], alive: Option<&[bool]>) -> &mut FxMap<u32, u32> {
        self.map(labels, alive);
        self.map.get_mut().expect("built just above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_map_counts_then_builds_from_the_live_slots() {
        let slots = LabelSlots::deferred(2);
        assert_eq!(slots.len(), 2);
        assert!(!slots.is_built());
        let map = slots.map(&[7, 8, 9], Some(&[true, false, true]));
        assert_eq!(map.get(&7), Some(&0));
        assert_eq!(map.get(&8), None);
        assert_eq!(map.get(&9), Some(&2));
        assert!(slots.is_built());
        assert_eq!(slots.len(), 2);
    }

    #[test]
    fn a_label_live_twice_maps_to_its_later_slot() {
        let mut slots = LabelSlots::deferred(3);
        let map = slots.map_mut(&[5, 6, 5], None);
        assert_eq!(map.get(&5), Some(&2));
        map.remove(&6);
        assert_eq!(slots.len(), 1);
    }
}
