//! Allocating many donations in order, each seeing what the earlier ones left.

mod groups;

use super::keys::{
    band_index, common_prefix_len, index_u32, score_key, text_key, BANDS, CATEGORIES, CURRENCIES,
    NONE,
};
use super::rates::{claim, rate_between, Rate, Rates};
use super::shelters::{intern_shelters, Shelters};
use super::single::{make_slices, split, Order, Payment, Scratch};
use super::{donation_order, need_order, Allocation, Donation, OpenNeed, Restriction};
use crate::engine::needs::NeedCategory;
use crate::money::Currency;
use groups::{Group, Groups};

/// What [`allocate_many`] keeps of one need, together so that a payment reads one cache line.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tracked {
    /// What it still lacks, as the earlier donations left it.
    pub(super) open: i64,
    /// Its position in board order.
    pub(super) rank: u32,
    /// Its groups in [`Pool::shelter_groups`] and [`Pool::category_groups`].
    shelter_group: u32,
    category_group: u32,
    /// [`OpenNeed::weight`] (at most [`MAX_WEIGHT`]).
    ///
    /// [`MAX_WEIGHT`]: super::MAX_WEIGHT
    weight: u32,
    currency: Currency,
}

/// The state of [`allocate_many`]: the needs' open amounts and indexes over them.
struct Pool<'a> {
    needs: &'a [OpenNeed],
    state: Vec<Tracked>,
    /// Shelter ids in id order, and each need's shelter number (its place there).
    shelter_ids: Vec<&'a str>,
    shelter_of: Vec<u32>,
    /// Needs by (shelter, board order), with each shelter's start.
    by_shelter: Vec<u32>,
    shelter_start: Vec<u32>,
    /// Needs by (shelter, category, board order), with each (shelter, category)'s start.
    by_shelter_category: Vec<u32>,
    shelter_category_start: Vec<u32>,
    /// Needs by (id, board order), when some donation is need-restricted.
    by_id: Option<Vec<u32>>,
    /// Groups by (band, shelter, currency) and by (band, category, shelter, currency).
    shelter_groups: Groups,
    category_groups: Groups,
    /// Claim keys: (need currency, rate). `Groups::sums[k]` holds the claims at `keys[k]`.
    keys: Vec<(Currency, Rate)>,
    /// Currencies some need has.
    present: [bool; CURRENCIES],
    /// Rates asked so far, [from][to].
    rates: [[Option<Option<Rate>>; CURRENCIES]; CURRENCIES],
}

impl<'a> Pool<'a> {
    fn new(needs: &'a [OpenNeed]) -> Pool<'a> {
        let (shelter_ids, shelter_of) = intern_shelters(needs);

        // Board order: integer keys first, the texts only on ties.
        let skip = common_prefix_len(needs.iter().map(|n| n.opened_at.as_str()));
        let mut keyed: Vec<(u8, u64, u128, u32)> = needs
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.band.rank() as u8,
                    score_key(n.score),
                    text_key(&n.opened_at, skip),
                    index_u32(i),
                )
            })
            .collect();
        keyed.sort_unstable_by(|a, b| {
            (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)).then_with(|| {
                need_order(&needs[a.3 as usize], &needs[b.3 as usize]).then(a.3.cmp(&b.3))
            })
        });
        let in_order: Vec<u32> = keyed.iter().map(|k| k.3).collect();
        let mut state: Vec<Tracked> = needs
            .iter()
            .map(|n| Tracked {
                open: n.amount_open,
                rank: 0,
                shelter_group: 0,
                category_group: 0,
                weight: u32::try_from(n.weight()).unwrap_or(u32::MAX),
                currency: n.currency,
            })
            .collect();
        for (r, &i) in in_order.iter().enumerate() {
            state[i as usize].rank = index_u32(r);
        }

        let shelters = shelter_ids.len();
        let (by_shelter, shelter_start) =
            bucket(&in_order, shelters, |i| shelter_of[i as usize] as usize);
        let (by_shelter_category, shelter_category_start) =
            bucket(&in_order, shelters * CATEGORIES, |i| {
                shelter_of[i as usize] as usize * CATEGORIES + needs[i as usize].category as usize
            });
        let mut shelter_groups = Groups::new(
            needs,
            &shelter_of,
            &in_order,
            BANDS,
            |n| band_index(n.band),
            |i, g| state[i].shelter_group = g,
        );
        let mut category_groups = Groups::new(
            needs,
            &shelter_of,
            &in_order,
            BANDS * CATEGORIES,
            |n| band_index(n.band) * CATEGORIES + n.category as usize,
            |i, g| state[i].category_group = g,
        );
        for g in 0..shelter_groups.groups.len() {
            shelter_groups.recount(g, &state);
        }
        for g in 0..category_groups.groups.len() {
            category_groups.recount(g, &state);
        }
        let mut present = [false; CURRENCIES];
        for n in needs {
            present[n.currency as usize] = true;
        }
        Pool {
            needs,
            state,
            shelter_ids,
            shelter_of,
            by_shelter,
            shelter_start,
            by_shelter_category,
            shelter_category_start,
            by_id: None,
            shelter_groups,
            category_groups,
            keys: Vec::new(),
            present,
            rates: [[None; CURRENCIES]; CURRENCIES],
        }
    }

    fn shelter_number(&self, id: &str) -> Option<usize> {
        self.shelter_ids.binary_search(&id).ok()
    }

    /// Indexes the needs by id, for need-restricted donations.
    fn index_ids(&mut self) {
        let (needs, state) = (self.needs, &self.state);
        let mut by_id: Vec<u32> = (0..needs.len()).map(index_u32).collect();
        by_id.sort_unstable_by(|&a, &b| {
            needs[a as usize]
                .id
                .cmp(&needs[b as usize].id)
                .then(state[a as usize].rank.cmp(&state[b as usize].rank))
        });
        self.by_id = Some(by_id);
    }

    /// The needs a need- or shelter-restricted donation may pay for, in board order.
    fn candidates(&self, restriction: &Restriction) -> &[u32] {
        match restriction {
            Restriction::Need(id) => {
                let Some(by_id) = &self.by_id else {
                    return &[];
                };
                let needs = self.needs;
                let start = by_id.partition_point(|&i| needs[i as usize].id < *id);
                let end = by_id.partition_point(|&i| needs[i as usize].id <= *id);
                &by_id[start..end]
            }
            Restriction::Shelter(s) => match self.shelter_number(s) {
                Some(k) => {
                    &self.by_shelter
                        [self.shelter_start[k] as usize..self.shelter_start[k + 1] as usize]
                }
                None => &[],
            },
            Restriction::ShelterCategory(s, c) => match self.shelter_number(s) {
                Some(k) => {
                    let k = k * CATEGORIES + *c as usize;
                    &self.by_shelter_category[self.shelter_category_start[k] as usize
                        ..self.shelter_category_start[k + 1] as usize]
                }
                None => &[],
            },
            Restriction::Category(_) | Restriction::None => &[],
        }
    }

    /// The rates from `from` to each currency some need has.
    fn rates_from(&mut self, from: Currency, rates: &impl Rates) -> [Option<Rate>; CURRENCIES] {
        let mut out = [None; CURRENCIES];
        for (k, to) in Currency::ALL.iter().enumerate() {
            if self.present[k] {
                out[k] = *self.rates[from as usize][k]
                    .get_or_insert_with(|| rate_between(rates, from, *to));
            }
        }
        out
    }

    /// The claim key of (`currency`, `rate`), adding its sums on first use.
    fn key(&mut self, currency: Currency, rate: Rate) -> usize {
        if let Some(k) = self.keys.iter().position(|&k| k == (currency, rate)) {
            return k;
        }
        let mut by_shelter = vec![0i128; self.shelter_groups.groups.len()];
        let mut by_category = vec![0i128; self.category_groups.groups.len()];
        for t in &self.state {
            if t.currency == currency && t.open > 0 {
                let c = claim(t.open, rate);
                by_shelter[t.shelter_group as usize] += c;
                by_category[t.category_group as usize] += c;
            }
        }
        self.shelter_groups.sums.push(by_shelter);
        self.category_groups.sums.push(by_category);
        self.keys.push((currency, rate));
        self.keys.len() - 1
    }

    /// Takes `local` off need `i`'s open amount, keeping the groups' sums and counts.
    fn pay(&mut self, i: usize, local: i64) {
        let t = &mut self.state[i];
        let old = t.open;
        let new = old - local;
        if new == old {
            return;
        }
        t.open = new;
        let t = *t;
        for (k, &(currency, rate)) in self.keys.iter().enumerate() {
            if currency == t.currency {
                let change = claim(new, rate) - claim(old, rate);
                self.shelter_groups.sums[k][t.shelter_group as usize] += change;
                self.category_groups.sums[k][t.category_group as usize] += change;
            }
        }
        if old > 0 && new <= 0 {
            let weight = i64::from(t.weight);
            self.shelter_groups
                .close(t.shelter_group as usize, weight, &self.state);
            self.category_groups
                .close(t.category_group as usize, weight, &self.state);
        }
    }

    /// One donation, after the earlier ones.
    fn allocate(
        &mut self,
        donation: &Donation,
        rates: &impl Rates,
        sc: &mut Scratch,
    ) -> Allocation {
        let allocation = match &donation.restriction {
            Restriction::None => self.allocate_grouped(donation, None, rates, sc),
            Restriction::Category(c) => self.allocate_grouped(donation, Some(*c), rates, sc),
            restriction => {
                let known = self.rates_from(donation.currency, rates);
                sc.clear();
                if donation.unallocated > 0 {
                    for &i in self.candidates(restriction) {
                        let (open, need) = (self.state[i as usize].open, &self.needs[i as usize]);
                        if open <= 0 {
                            continue;
                        }
                        let shelter = self.shelter_of[i as usize];
                        match known[need.currency as usize] {
                            Some(_) => sc.bands[band_index(need.band)].push(i),
                            None => sc.skipped.push(shelter),
                        }
                    }
                }
                let order = Order::Ranked { state: &self.state };
                split(
                    donation,
                    self.needs,
                    Shelters::Sorted(&self.shelter_ids, &self.shelter_of),
                    order,
                    &known,
                    sc,
                )
            }
        };
        for k in 0..sc.paid.len() {
            let (i, local) = sc.paid[k];
            self.pay(i as usize, local);
        }
        allocation
    }

    /// An unrestricted (`category` `None`) or category-restricted donation, over the groups.
    /// Gives exactly what [`split`] would on the same needs.
    fn allocate_grouped(
        &mut self,
        donation: &Donation,
        category: Option<NeedCategory>,
        rates: &impl Rates,
        sc: &mut Scratch,
    ) -> Allocation {
        let mut allocation = Allocation {
            donation_id: donation.id.clone(),
            slices: Vec::new(),
            unallocated: donation.unallocated,
            skipped_shelters_missing_rate: Vec::new(),
        };
        sc.clear();
        if donation.unallocated <= 0 {
            return allocation;
        }
        let known = self.rates_from(donation.currency, rates);
        let mut key_of: [Option<usize>; CURRENCIES] = [None; CURRENCIES];
        for (k, (&currency, rate)) in Currency::ALL.iter().zip(known).enumerate() {
            if let Some(rate) = rate {
                key_of[k] = Some(self.key(currency, rate));
            }
        }
        let Pool {
            needs,
            state,
            shelter_ids,
            shelter_groups,
            category_groups,
            ..
        } = self;
        let needs: &[OpenNeed] = needs;
        let state: &[Tracked] = state;
        let groups = match category {
            Some(_) => category_groups,
            None => shelter_groups,
        };
        let segment = |band: usize| match category {
            Some(c) => band * CATEGORIES + c as usize,
            None => band,
        };

        // Shelters with open needs in a currency without a rate, in any band.
        for band in 0..BANDS {
            for gr in &groups.groups[groups.range(segment(band))] {
                if gr.open > 0 && known[gr.currency as usize].is_none() {
                    sc.skipped.push(gr.shelter);
                }
            }
        }
        allocation.skipped_shelters_missing_rate =
            Shelters::Sorted(shelter_ids, &[]).ids_of(&mut sc.skipped);

        let mut remaining = i128::from(donation.unallocated);
        for band in 0..BANDS {
            if remaining == 0 {
                break;
            }
            // Per shelter: the claims of its open needs with a rate, from the kept sums.
            let range = groups.range(segment(band));
            let cap = remaining + 1;
            sc.fill.clear();
            sc.slots.clear();
            let mut g = range.start;
            while g < range.end {
                let shelter = groups.groups[g].shelter;
                let first = g;
                let (mut sum, mut weight, mut payable) = (0i128, 1i64, false);
                while g < range.end && groups.groups[g].shelter == shelter {
                    let gr = &groups.groups[g];
                    if let (true, Some(k)) = (gr.open > 0, key_of[gr.currency as usize]) {
                        sum += groups.sums[k][g];
                        weight = weight.max(gr.max_weight);
                        payable = true;
                    }
                    g += 1;
                }
                if payable {
                    sc.fill.push(sum.min(cap), weight);
                    sc.slots.push((shelter, index_u32(first), index_u32(g)));
                }
            }
            if sc.slots.is_empty() {
                continue;
            }
            let slots = &sc.slots;
            sc.fill
                .run_distinct(remaining, |a, b| slots[a].0.cmp(&slots[b].0));

            // Each share fills its shelter's open needs in board order.
            sc.band_payments.clear();
            sc.ranks.clear();
            for (s, &(_, first, last)) in sc.slots.iter().enumerate() {
                let mut share = sc.fill.shares[s];
                if share <= 0 {
                    continue;
                }
                let is_payable = |gr: &Group| gr.open > 0 && key_of[gr.currency as usize].is_some();
                let mut payable = (first..last).filter(|&g| is_payable(&groups.groups[g as usize]));
                let single = match (payable.next(), payable.next()) {
                    (Some(g), None) => Some(g as usize),
                    _ => None,
                };
                if let Some(g) = single {
                    let gr = &mut groups.groups[g];
                    let rate = known[gr.currency as usize].unwrap_or(Rate::ONE);
                    while gr.cursor < gr.end
                        && state[groups.members[gr.cursor as usize] as usize].open <= 0
                    {
                        gr.cursor += 1;
                    }
                    for &i in &groups.members[gr.cursor as usize..gr.end as usize] {
                        if share == 0 {
                            break;
                        }
                        let t = &state[i as usize];
                        let o = t.open;
                        if o > 0 {
                            let paid = claim(o, rate).min(share);
                            share -= paid;
                            let k = sc.band_payments.len() as u64;
                            sc.ranks.push(u64::from(t.rank) << 32 | k);
                            sc.band_payments.push(Payment {
                                need: i,
                                shelter: gr.shelter,
                                amount: paid as i64,
                                open: o,
                                rate,
                            });
                        }
                    }
                } else {
                    // Needs in several currencies: merge them into board order.
                    sc.merged.clear();
                    for gr in &groups.groups[first as usize..last as usize] {
                        if let (true, Some(rate)) = (gr.open > 0, known[gr.currency as usize]) {
                            for &i in &groups.members[gr.cursor as usize..gr.end as usize] {
                                let t = &state[i as usize];
                                if t.open > 0 {
                                    sc.merged.push((t.rank, i, rate));
                                }
                            }
                        }
                    }
                    sc.merged.sort_unstable();
                    for &(r, i, rate) in &sc.merged {
                        if share == 0 {
                            break;
                        }
                        let o = state[i as usize].open;
                        let paid = claim(o, rate).min(share);
                        share -= paid;
                        let k = sc.band_payments.len() as u64;
                        sc.ranks.push(u64::from(r) << 32 | k);
                        sc.band_payments.push(Payment {
                            need: i,
                            shelter: groups.groups[first as usize].shelter,
                            amount: paid as i64,
                            open: o,
                            rate,
                        });
                    }
                }
            }
            // In board order: by rank, sorted as small keys.
            sc.ranks.sort_unstable();
            for &k in &sc.ranks {
                let p = sc.band_payments[(k & 0xFFFF_FFFF) as usize];
                remaining -= i128::from(p.amount);
                sc.payments.push(p);
            }
        }
        allocation.unallocated = remaining as i64;
        allocation.slices = make_slices(&sc.payments, needs, shelter_ids, &mut sc.paid);
        allocation
    }
}

/// `items` (in order) bucketed stably by `key(item) < buckets`; returns them and where each
/// bucket starts (`buckets + 1` entries).
fn bucket(items: &[u32], buckets: usize, key: impl Fn(u32) -> usize) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; buckets + 1];
    for &i in items {
        start[key(i) + 1] += 1;
    }
    for b in 0..buckets {
        start[b + 1] += start[b];
    }
    let mut next = start.clone();
    let mut out = vec![0u32; items.len()];
    for &i in items {
        let b = key(i);
        out[next[b] as usize] = i;
        next[b] += 1;
    }
    (out, start)
}

/// Allocates several donations in [`donation_order`], each seeing what the earlier ones left:
/// every slice's `amount_local` is taken off its need's `amount_open` in `needs`. Returns one
/// allocation per donation, in the order they were processed. Bands and scores are used as given
/// (the caller recomputes them afterwards). Each result equals [`allocate`] on the needs as the
/// earlier donations left them. `rates` is asked at most once per pair of currencies.
///
/// [`allocate`]: super::allocate
pub fn allocate_many(
    donations: &[Donation],
    needs: &mut [OpenNeed],
    rates: &impl Rates,
) -> Vec<Allocation> {
    if donations.is_empty() {
        return Vec::new();
    }
    let (allocations, state) = {
        let needs: &[OpenNeed] = needs;
        let mut pool = Pool::new(needs);
        if donations
            .iter()
            .any(|d| matches!(d.restriction, Restriction::Need(_)))
        {
            pool.index_ids();
        }
        let mut sc = Scratch {
            slot_of: vec![NONE; pool.shelter_ids.len()],
            ..Scratch::default()
        };
        let mut order: Vec<usize> = (0..donations.len()).collect();
        order.sort_by(|&a, &b| donation_order(&donations[a], &donations[b]));
        let allocations: Vec<Allocation> = order
            .into_iter()
            .map(|d| pool.allocate(&donations[d], rates, &mut sc))
            .collect();
        (allocations, pool.state)
    };
    for (need, t) in needs.iter_mut().zip(state) {
        need.amount_open = t.open;
    }
    allocations
}
