//! Needs grouped by band, shelter and currency, with claim sums kept up to date as they get paid.

use super::super::keys::index_u32;
use super::super::OpenNeed;
use super::Tracked;
use crate::money::Currency;

/// One group of needs in [`Groups`]: the open needs of one band, shelter and currency (and
/// category, for the category-restricted groups).
#[derive(Debug, Clone, Copy)]
pub(super) struct Group {
    pub(super) shelter: u32,
    pub(super) currency: Currency,
    /// Its needs are `members[cursor..end]` (in board order); those before `cursor` are covered.
    pub(super) cursor: u32,
    pub(super) end: u32,
    /// How many of its needs are open.
    pub(super) open: u32,
    /// The largest weight among its open needs, and how many open needs have it.
    pub(super) max_weight: i64,
    max_count: u32,
}

/// Needs grouped for the unrestricted or the category-restricted donations of [`allocate_many`],
/// with the claim sums kept up to date as needs get paid.
///
/// [`allocate_many`]: super::allocate_many
#[derive(Debug, Default)]
pub(super) struct Groups {
    pub(super) groups: Vec<Group>,
    pub(super) members: Vec<u32>,
    /// Segment `k` (a band, or a band and a category) is `segment[k]..segment[k + 1]` of
    /// `groups`, by shelter number then currency.
    segment: Vec<u32>,
    /// Per claim key ([`Pool::keys`]), per group: Σ claims of its needs.
    ///
    /// [`Pool::keys`]: super::Pool::keys
    pub(super) sums: Vec<Vec<i128>>,
}

impl Groups {
    /// Groups `needs` (`in_order`: in board order) by (segment, shelter, currency), telling
    /// `group_of(i, group)` each need's group. The counts are left to [`Groups::recount`].
    pub(super) fn new(
        needs: &[OpenNeed],
        shelter_of: &[u32],
        in_order: &[u32],
        segments: usize,
        segment_of: impl Fn(&OpenNeed) -> usize,
        mut group_of: impl FnMut(usize, u32),
    ) -> Groups {
        let mut keyed: Vec<(u32, u32, u8, u32, u32)> = in_order
            .iter()
            .enumerate()
            .map(|(rank, &i)| {
                let need = &needs[i as usize];
                (
                    index_u32(segment_of(need)),
                    shelter_of[i as usize],
                    need.currency as u8,
                    index_u32(rank),
                    i,
                )
            })
            .collect();
        keyed.sort_unstable();
        let mut g = Groups {
            segment: vec![0; segments + 1],
            ..Groups::default()
        };
        let mut previous: Option<(u32, u32, u8)> = None;
        for &(segment, shelter, _, _, i) in &keyed {
            let need = &needs[i as usize];
            let key = (segment, shelter, need.currency as u8);
            if previous != Some(key) {
                previous = Some(key);
                g.segment[segment as usize + 1] += 1;
                let at = index_u32(g.members.len());
                g.groups.push(Group {
                    shelter,
                    currency: need.currency,
                    cursor: at,
                    end: at,
                    open: 0,
                    max_weight: 1,
                    max_count: 0,
                });
            }
            let group = g.groups.len() - 1;
            group_of(i as usize, index_u32(group));
            g.members.push(i);
            g.groups[group].end += 1;
        }
        for k in 0..segments {
            g.segment[k + 1] += g.segment[k];
        }
        g
    }

    /// Recomputes a group's open count and largest weight.
    pub(super) fn recount(&mut self, group: usize, state: &[Tracked]) {
        let gr = &mut self.groups[group];
        let (mut count, mut max_weight, mut max_count) = (0, 1, 0);
        for &i in &self.members[gr.cursor as usize..gr.end as usize] {
            let t = &state[i as usize];
            if t.open > 0 {
                count += 1;
                let w = i64::from(t.weight);
                if w > max_weight || max_count == 0 {
                    max_weight = w;
                    max_count = 1;
                } else if w == max_weight {
                    max_count += 1;
                }
            }
        }
        gr.open = count;
        gr.max_weight = max_weight;
        gr.max_count = max_count;
    }

    /// A need of `group` (of weight `weight`) was just covered.
    pub(super) fn close(&mut self, group: usize, weight: i64, state: &[Tracked]) {
        let gr = &mut self.groups[group];
        gr.open -= 1;
        if weight == gr.max_weight {
            gr.max_count -= 1;
            if gr.max_count == 0 && gr.open > 0 {
                self.recount(group, state);
            }
        }
    }

    pub(super) fn range(&self, segment: usize) -> std::ops::Range<usize> {
        self.segment[segment] as usize..self.segment[segment + 1] as usize
    }
}
