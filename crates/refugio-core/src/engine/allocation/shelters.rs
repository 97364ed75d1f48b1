//! Numbering shelters by id: as a donation meets them, or all of them in id order.

use super::keys::index_u32;
use super::OpenNeed;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A small fast hasher (FxHash) for interning shelter ids; the ids are not attacker-chosen keys
/// of a long-lived table.
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Numbers shelter ids as they come, then in id order.
#[derive(Default)]
pub(super) struct Interner<'a> {
    ids: Vec<&'a str>,
    number: HashMap<&'a str, u32, BuildHasherDefault<FxHasher>>,
    last: Option<(&'a str, u32)>,
}

impl<'a> Interner<'a> {
    /// The id's number, in order of first appearance.
    pub(super) fn number(&mut self, id: &'a str) -> u32 {
        // Needs usually come shelter by shelter: most look-ups are the previous shelter again.
        if let Some((last, n)) = self.last {
            if last == id {
                return n;
            }
        }
        let ids = &mut self.ids;
        let n = *self.number.entry(id).or_insert_with(|| {
            ids.push(id);
            index_u32(ids.len() - 1)
        });
        self.last = Some((id, n));
        n
    }

    /// The ids in id order, and per number of first appearance its place there.
    fn finish(self) -> (Vec<&'a str>, Vec<u32>) {
        let ids = self.ids;
        let mut by_id: Vec<u32> = (0..ids.len()).map(index_u32).collect();
        by_id.sort_unstable_by(|&a, &b| ids[a as usize].cmp(ids[b as usize]));
        let mut position = vec![0u32; ids.len()];
        for (k, &n) in by_id.iter().enumerate() {
            position[n as usize] = index_u32(k);
        }
        (by_id.iter().map(|&n| ids[n as usize]).collect(), position)
    }
}

/// The shelters' ids by number, as a split sees them.
pub(super) enum Shelters<'s, 'a> {
    /// Every shelter numbered in id order: the ids, and each need's shelter number.
    Sorted(&'s [&'a str], &'s [u32]),
    /// Numbered as the split meets them.
    Met(&'s mut Interner<'a>),
}

impl<'a> Shelters<'_, 'a> {
    /// The number of the shelter of `need` (`needs[i]`).
    pub(super) fn number(&mut self, need: &'a OpenNeed, i: u32) -> u32 {
        match self {
            Shelters::Sorted(_, shelter_of) => shelter_of[i as usize],
            Shelters::Met(interner) => interner.number(&need.shelter_id),
        }
    }

    pub(super) fn ids(&self) -> &[&'a str] {
        match self {
            Shelters::Sorted(ids, _) => ids,
            Shelters::Met(interner) => &interner.ids,
        }
    }

    /// Shelter `a`'s id against shelter `b`'s.
    pub(super) fn cmp(&self, a: u32, b: u32) -> Ordering {
        match self {
            Shelters::Sorted(..) => a.cmp(&b),
            Shelters::Met(interner) => interner.ids[a as usize].cmp(interner.ids[b as usize]),
        }
    }

    /// The ids of the shelters `numbers`, sorted and unique.
    pub(super) fn ids_of(&self, numbers: &mut Vec<u32>) -> Vec<String> {
        numbers.sort_unstable_by(|&a, &b| self.cmp(a, b));
        numbers.dedup();
        let ids = self.ids();
        numbers
            .iter()
            .map(|&s| ids[s as usize].to_owned())
            .collect()
    }
}

/// Numbers the shelters of all `needs` densely in id order (0 is the lowest id). Returns the ids
/// in that order and each need's number.
pub(super) fn intern_shelters(needs: &[OpenNeed]) -> (Vec<&str>, Vec<u32>) {
    let mut interner = Interner::default();
    let mut shelter_of: Vec<u32> = needs
        .iter()
        .map(|n| interner.number(&n.shelter_id))
        .collect();
    let (ids, position) = interner.finish();
    for s in &mut shelter_of {
        *s = position[*s as usize];
    }
    (ids, shelter_of)
}
