//! Allocating one donation: its payable needs split band by band, water-filled across shelters
//! and paid in board order (also the path of need- and shelter-restricted donations in
//! [`allocate_many`](super::allocate_many)).

use super::keys::{band_index, index_u32, score_key, text_key, BANDS, CURRENCIES, NONE};
use super::many::Tracked;
use super::rates::{claim, rate_between, to_local, Rate, Rates};
use super::shelters::{Interner, Shelters};
use super::water_fill::Filler;
use super::{need_order, Allocation, Donation, OpenNeed, Slice};
use std::cmp::Ordering;

/// Where the split reads needs' open amounts and board order from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Order<'a> {
    /// `state[i]`: the open amount and position in board order of each need.
    Ranked { state: &'a [Tracked] },
    /// The needs' own `amount_open`; board order from their fields ([`need_order`], then
    /// input position).
    Board,
}

impl Order<'_> {
    fn open(self, needs: &[OpenNeed], i: u32) -> i64 {
        match self {
            Order::Ranked { state } => state[i as usize].open,
            Order::Board => needs[i as usize].amount_open,
        }
    }

    /// Board order of needs `a` and `b` once their keys are equal.
    fn tie(self, needs: &[OpenNeed], a: u32, b: u32) -> Ordering {
        match self {
            // The keys are the ranks: equal only for the same need.
            Order::Ranked { .. } => a.cmp(&b),
            Order::Board => need_order(&needs[a as usize], &needs[b as usize]).then(a.cmp(&b)),
        }
    }
}

/// One payable need of the band being split, with what the split needs of it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    /// Board order inside the band: `(score, opened)`, then [`Order::tie`].
    score: u64,
    opened: [u64; 2],
    /// Its claim, capped at what remains + 1 (≤ 2^63) as in [`water_fill`].
    ///
    /// [`water_fill`]: super::water_fill()
    claim: u64,
    open: i64,
    rate: Rate,
    need: u32,
    /// Its shelter's slot in the band's water-filling.
    slot: u32,
}

/// A decided payment: `amount` (donation currency) to `need` of shelter number `shelter`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Payment {
    pub(super) need: u32,
    pub(super) shelter: u32,
    pub(super) amount: i64,
    pub(super) open: i64,
    pub(super) rate: Rate,
}

/// How many needs the allocator warms up at a time (see [`warm_needs`]).
const WARM_CHUNK: usize = 256;

/// Reads a little of each need, in a loop light enough for the processor to overlap the memory
/// loads: needs met at random are otherwise read one cache miss at a time by the heavier loops
/// that use them.
fn warm_needs<'n>(needs: impl Iterator<Item = &'n OpenNeed>) {
    let mut touched = 0i64;
    for n in needs {
        touched ^= n.amount_open ^ n.score ^ n.occupied ^ n.currency as i64;
        touched ^= (n.opened_at.len() ^ n.id.len() ^ n.shelter_id.len()) as i64;
    }
    std::hint::black_box(touched);
}

/// [`warm_needs`] for texts: their first and last bytes.
fn warm_texts<'t>(texts: impl Iterator<Item = [&'t str; 2]>) {
    let mut touched = 0u8;
    for pair in texts {
        for t in pair.map(str::as_bytes) {
            touched ^= t.first().copied().unwrap_or(0) ^ t.last().copied().unwrap_or(0);
        }
    }
    std::hint::black_box(touched);
}

/// The slices of `payments` (in order), warming up the ids they copy a chunk at a time; records
/// (need, amount_local) per slice in `paid`.
pub(super) fn make_slices(
    payments: &[Payment],
    needs: &[OpenNeed],
    shelter_ids: &[&str],
    paid: &mut Vec<(u32, i64)>,
) -> Vec<Slice> {
    let mut slices = Vec::with_capacity(payments.len());
    for chunk in payments.chunks(WARM_CHUNK) {
        warm_texts(
            chunk
                .iter()
                .map(|p| [needs[p.need as usize].id.as_str(), ""]),
        );
        for p in chunk {
            let amount_local = to_local(p.amount, p.rate).min(i128::from(p.open)) as i64;
            paid.push((p.need, amount_local));
            slices.push(Slice {
                need_id: needs[p.need as usize].id.clone(),
                shelter_id: shelter_ids[p.shelter as usize].to_owned(),
                amount: p.amount,
                amount_local,
                rate: p.rate,
            });
        }
    }
    slices
}

/// Working memory of the allocator, kept between donations.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// The payable needs of the donation being split, per band.
    pub(super) bands: [Vec<u32>; BANDS],
    /// Numbers of the shelters with needs skipped for lack of a rate.
    pub(super) skipped: Vec<u32>,
    /// Per shelter number: its slot in the band being split, or [`NONE`].
    pub(super) slot_of: Vec<u32>,
    /// Per slot: the shelter number (grouped path: and its range of groups).
    pub(super) slots: Vec<(u32, u32, u32)>,
    pub(super) fill: Filler,
    /// The band's entries, the same (indices) in board order, and counts for sorting them.
    pub(super) entries: Vec<Entry>,
    pub(super) in_order: Vec<(u64, u32)>,
    pub(super) counts: Vec<u32>,
    /// The donation's payments so far, in the order of its slices.
    pub(super) payments: Vec<Payment>,
    /// Grouped path: a band's payments and their keys (rank, position), before sorting.
    pub(super) band_payments: Vec<Payment>,
    pub(super) ranks: Vec<u64>,
    pub(super) merged: Vec<(u32, u32, Rate)>,
    /// Per slice of the last allocation: (need, amount_local).
    pub(super) paid: Vec<(u32, i64)>,
}

impl Scratch {
    /// Ready for a new donation.
    pub(super) fn clear(&mut self) {
        for band in &mut self.bands {
            band.clear();
        }
        self.skipped.clear();
        self.payments.clear();
        self.paid.clear();
    }
}

/// Splits a donation over its payable needs, given per band in `sc.bands` (indices into
/// `needs`, any order), reporting the shelters in `sc.skipped`. `rates` holds the donation's rate
/// to each payable need's currency. Leaves (need, amount_local) per slice in `sc.paid`.
pub(super) fn split<'a>(
    donation: &Donation,
    needs: &'a [OpenNeed],
    mut shelters: Shelters<'_, 'a>,
    order: Order<'_>,
    rates: &[Option<Rate>; CURRENCIES],
    sc: &mut Scratch,
) -> Allocation {
    let mut allocation = Allocation {
        donation_id: donation.id.clone(),
        slices: Vec::new(),
        unallocated: donation.unallocated,
        skipped_shelters_missing_rate: Vec::new(),
    };
    if donation.unallocated <= 0 {
        return allocation;
    }
    allocation.skipped_shelters_missing_rate = shelters.ids_of(&mut sc.skipped);
    sc.payments.clear();
    let mut remaining = i128::from(donation.unallocated);
    for b in 0..BANDS {
        if remaining == 0 {
            break;
        }
        let band = std::mem::take(&mut sc.bands[b]);
        if !band.is_empty() {
            remaining = pay_band(needs, &mut shelters, order, rates, &band, remaining, sc);
        }
        sc.bands[b] = band;
    }
    allocation.unallocated = remaining as i64;
    allocation.slices = make_slices(&sc.payments, needs, shelters.ids(), &mut sc.paid);
    allocation
}

/// Splits `remaining` over one band's payable needs (ENGINE.md): water-filled across shelters,
/// each shelter's share filling its needs in board order. Adds the payments to `sc.payments`, in
/// board order, and returns what remains.
fn pay_band<'a>(
    needs: &'a [OpenNeed],
    shelters: &mut Shelters<'_, 'a>,
    order: Order<'_>,
    rates: &[Option<Rate>; CURRENCIES],
    band: &[u32],
    mut remaining: i128,
    sc: &mut Scratch,
) -> i128 {
    // Claims, grouped by shelter. Capped like in `water_fill`: no share can exceed
    // `remaining`, so `min` is unchanged.
    let cap = remaining + 1;
    make_room(&mut sc.entries, band.len());
    make_room(&mut sc.in_order, band.len());
    sc.payments.reserve(band.len());
    sc.fill.clear();
    sc.slots.clear();
    let (board, met) = (
        matches!(order, Order::Board),
        matches!(shelters, Shelters::Met(_)),
    );
    for (k, &i) in band.iter().enumerate() {
        if k % WARM_CHUNK == 0 {
            let chunk = &band[k..band.len().min(k + WARM_CHUNK)];
            warm_needs(chunk.iter().map(|&i| &needs[i as usize]));
            if board || met {
                warm_texts(chunk.iter().map(|&i| {
                    let n = &needs[i as usize];
                    [
                        if board { n.opened_at.as_str() } else { "" },
                        if met { n.shelter_id.as_str() } else { "" },
                    ]
                }));
            }
        }
        let need = &needs[i as usize];
        let open = order.open(needs, i);
        // Payable needs have a rate.
        let rate = rates[need.currency as usize].unwrap_or(Rate::ONE);
        let (score, opened) = match order {
            Order::Ranked { state } => (0, [0, u64::from(state[i as usize].rank)]),
            Order::Board => {
                let key = text_key(&need.opened_at, 0);
                (score_key(need.score), [(key >> 64) as u64, key as u64])
            }
        };
        let c = claim(open, rate).min(cap);
        let shelter = shelters.number(need, i);
        if shelter as usize >= sc.slot_of.len() {
            sc.slot_of.resize(shelter as usize + 1, NONE);
        }
        let mut slot = sc.slot_of[shelter as usize];
        if slot == NONE {
            slot = index_u32(sc.slots.len());
            sc.slot_of[shelter as usize] = slot;
            sc.slots.push((shelter, 0, 0));
            sc.fill.push(0, 1);
        }
        let s = slot as usize;
        sc.fill.claims[s] = (sc.fill.claims[s] + c).min(cap);
        sc.fill.weights[s] = sc.fill.weights[s].max(i128::from(need.weight()));
        sc.entries.push(Entry {
            score,
            opened,
            claim: u64::try_from(c).unwrap_or(u64::MAX),
            open,
            rate,
            need: i,
            slot,
        });
    }
    for &(shelter, _, _) in &sc.slots {
        sc.slot_of[shelter as usize] = NONE;
    }
    let slots = &sc.slots;
    let level = sc
        .fill
        .run_distinct(remaining, |a, b| shelters.cmp(slots[a].0, slots[b].0));
    // The band in board order; every claim in full, or each shelter's share filling its needs
    // in that order. (When every claim is paid, each is below `cap`, so uncapped.)
    board_order(&sc.entries, needs, order, &mut sc.in_order, &mut sc.counts);
    let full = level.is_none();
    let shares = &mut sc.fill.shares;
    for &(_, k) in &sc.in_order {
        let e = &sc.entries[k as usize];
        let paid = if full {
            i128::from(e.claim)
        } else {
            let share = &mut shares[e.slot as usize];
            if *share <= 0 {
                continue;
            }
            let paid = i128::from(e.claim).min(*share);
            *share -= paid;
            paid
        };
        remaining -= paid;
        sc.payments.push(Payment {
            need: e.need,
            shelter: sc.slots[e.slot as usize].0,
            // Paid ≤ remaining: it fits.
            amount: paid as i64,
            open: e.open,
            rate: e.rate,
        });
    }
    remaining
}

/// Empties `buffer` with room for `len` items; when it must grow, frees the old memory first, so
/// the allocator may hand it back instead of fresh pages.
fn make_room<T>(buffer: &mut Vec<T>, len: usize) {
    buffer.clear();
    if buffer.capacity() < len {
        *buffer = Vec::new();
        buffer.reserve_exact(len);
    }
}

/// Puts `entries` in board order into `out`, as (key, entry index). Scores usually span a small
/// range: a counting sort by score leaves small runs to sort by the opening keys (eight bytes
/// after what all the band's keys share), then by [`Order::tie`] on equal keys.
fn board_order(
    entries: &[Entry],
    needs: &[OpenNeed],
    order: Order<'_>,
    out: &mut Vec<(u64, u32)>,
    counts: &mut Vec<u32>,
) {
    out.clear();
    let Some(first) = entries.first() else {
        return;
    };
    let key = |e: &Entry| u128::from(e.opened[0]) << 64 | u128::from(e.opened[1]);
    // Bits on which some key differs from the first: the shared leading bytes carry no order.
    let differ = entries
        .iter()
        .fold(0u128, |bits, e| bits | (key(e) ^ key(first)));
    let shared_bits = (differ.leading_zeros() / 8 * 8).min(64);
    let short = |e: &Entry| ((key(e) << shared_bits) >> 64) as u64;
    let cmp = |a: &(u64, u32), b: &(u64, u32)| {
        let (ea, eb) = (&entries[a.1 as usize], &entries[b.1 as usize]);
        (ea.score, a.0)
            .cmp(&(eb.score, b.0))
            .then_with(|| order.tie(needs, ea.need, eb.need))
    };
    let lowest = entries.iter().map(|e| e.score).min().unwrap_or(0);
    let highest = entries.iter().map(|e| e.score).max().unwrap_or(0);
    let span = highest - lowest;
    if span > 2 * entries.len() as u64 + 1024 {
        out.extend(
            entries
                .iter()
                .enumerate()
                .map(|(k, e)| (short(e), index_u32(k))),
        );
        out.sort_unstable_by(cmp);
        return;
    }
    let span = span as usize;
    counts.clear();
    counts.resize(span + 2, 0);
    for e in entries {
        counts[(e.score - lowest) as usize + 1] += 1;
    }
    for k in 0..=span {
        counts[k + 1] += counts[k];
    }
    out.resize(entries.len(), (0, 0));
    for (k, e) in entries.iter().enumerate() {
        let next = &mut counts[(e.score - lowest) as usize];
        out[*next as usize] = (short(e), index_u32(k));
        *next += 1;
    }
    // `counts[k]` is now where score `k + 1` starts: sort each score's run by the keys.
    let mut start = 0;
    for &end in &counts[..=span] {
        let run = &mut out[start..end as usize];
        if run.len() > 1 {
            run.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0).then_with(|| {
                    let (ea, eb) = (&entries[a.1 as usize], &entries[b.1 as usize]);
                    order.tie(needs, ea.need, eb.need)
                })
            });
        }
        start = end as usize;
    }
}

/// Allocates one donation's unallocated money to `needs` (ENGINE.md "Allocating money").
///
/// Eligible needs have `amount_open > 0` and are inside the restriction; needs of shelters with no
/// rate from the donation's currency are skipped and their shelters reported. The order of
/// `needs` does not matter. `needs` are not changed: subtract each slice's `amount_local` from its
/// need's `amount_open` (or use [`allocate_many`]).
///
/// [`allocate_many`]: super::allocate_many
pub fn allocate(donation: &Donation, needs: &[OpenNeed], rates: &impl Rates) -> Allocation {
    let mut sc = Scratch::default();
    let mut known: [Option<Option<Rate>>; CURRENCIES] = [None; CURRENCIES];
    let mut interner = Interner::default();
    if donation.unallocated > 0 {
        // The payable needs by band; their shelters are numbered only if the money reaches them.
        for (i, need) in needs.iter().enumerate() {
            if need.amount_open <= 0 || !donation.restriction.admits(need) {
                continue;
            }
            let rate = *known[need.currency as usize]
                .get_or_insert_with(|| rate_between(rates, donation.currency, need.currency));
            match rate {
                Some(_) => sc.bands[band_index(need.band)].push(index_u32(i)),
                None => sc.skipped.push(interner.number(&need.shelter_id)),
            }
        }
    }
    let rates = known.map(Option::flatten);
    split(
        donation,
        needs,
        Shelters::Met(&mut interner),
        Order::Board,
        &rates,
        &mut sc,
    )
}
