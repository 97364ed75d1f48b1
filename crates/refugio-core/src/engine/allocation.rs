//! Allocating money (ENGINE.md "Allocating money"): donations are taken most-restricted first and
//! split over the bands critical → low; inside a band, scarce money is water-filled across
//! shelters weighted by occupancy, in exact integer minor units (largest remainder), and each
//! shelter's share fills its needs in board order. Pure: needs, donations and rates come in as
//! data; no clock, no I/O, no floating point.

use super::board::BoardKey;
use super::needs::NeedCategory;
use super::priority::Band;
use crate::decimal::{div_round_half_even, format_trimmed, parse_scaled, DecimalError};
use crate::money::Currency;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Millionths in one whole unit of a rate: rates are exact decimals with up to 6 digits.
pub const RATE_SCALE: i64 = 1_000_000;

/// Largest shelter weight used. Real occupancies are far below it; it keeps the water-filling
/// products (claim × Σ weights) comfortably inside `i128`.
pub const MAX_WEIGHT: i64 = 1_000_000_000;

/// A conversion rate from a donation's currency to a shelter's currency: how many units of the
/// shelter's currency one unit of the donation's currency buys, as exact millionths (17.25 is
/// `17_250_000`). Always positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rate(i64);

impl Rate {
    /// The rate between a currency and itself.
    pub const ONE: Rate = Rate(RATE_SCALE);

    /// Largest rate accepted (1,000,000 per unit), in millionths.
    pub const MAX_MILLIONTHS: i64 = 1_000_000 * RATE_SCALE;

    /// A rate of `millionths / 10^6`; `None` unless `1 ≤ millionths ≤ MAX_MILLIONTHS`.
    pub fn from_millionths(millionths: i64) -> Option<Rate> {
        (1..=Rate::MAX_MILLIONTHS)
            .contains(&millionths)
            .then_some(Rate(millionths))
    }

    /// Parses decimal text (`"17.25"`) with at most 6 fractional digits.
    pub fn parse(text: &str) -> Result<Rate, DecimalError> {
        let millionths = parse_scaled(text, 6)?;
        Rate::from_millionths(millionths).ok_or(DecimalError::OutOfRange)
    }

    /// The rate in millionths.
    pub fn millionths(self) -> i64 {
        self.0
    }

    /// The shortest exact decimal text (`17.25`).
    pub fn as_decimal(self) -> String {
        format_trimmed(self.0, 6)
    }
}

/// Where rates come from: the latest rate on file for the donation's date, looked up by the
/// caller. Implemented by closures `Fn(from, to) -> Option<Rate>` and by [`RateTable`].
pub trait Rates {
    /// The rate from `from` to `to`, if one is on file. Never guessed or inverted.
    fn rate(&self, from: Currency, to: Currency) -> Option<Rate>;
}

impl<F: Fn(Currency, Currency) -> Option<Rate>> Rates for F {
    fn rate(&self, from: Currency, to: Currency) -> Option<Rate> {
        self(from, to)
    }
}

/// Directional rates held in memory: `USD → MXN` says nothing about `MXN → USD`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateTable {
    rates: BTreeMap<(Currency, Currency), Rate>,
}

impl RateTable {
    /// An empty table (only same-currency conversions succeed).
    pub fn new() -> RateTable {
        RateTable::default()
    }

    /// Sets the rate from `from` to `to`, replacing any earlier one.
    pub fn insert(&mut self, from: Currency, to: Currency, rate: Rate) -> &mut RateTable {
        self.rates.insert((from, to), rate);
        self
    }
}

impl Rates for RateTable {
    fn rate(&self, from: Currency, to: Currency) -> Option<Rate> {
        self.rates.get(&(from, to)).copied()
    }
}

/// The rate the allocator uses: 1 for the same currency, else whatever `rates` has on file.
pub fn rate_between(rates: &impl Rates, from: Currency, to: Currency) -> Option<Rate> {
    if from == to {
        Some(Rate::ONE)
    } else {
        rates.rate(from, to)
    }
}

/// `amount` (donation currency, minor units) in the shelter's currency:
/// `round_half_even(amount × rate)`. Exact; may exceed `i64` only for absurd inputs.
pub fn to_local(amount: i64, rate: Rate) -> i128 {
    div_round_half_even(
        i128::from(amount) * i128::from(rate.0),
        i128::from(RATE_SCALE),
    )
}

/// The claim of a need: `open_local` (shelter currency) in the donation's currency, rounded up to
/// the minor unit, `ceil(open_local × 10^6 / rate)`; 0 when nothing is open. Paying the claim
/// always covers the need: `to_local(claim(x, r), r) ≥ x`.
pub fn claim(open_local: i64, rate: Rate) -> i128 {
    if open_local <= 0 {
        return 0;
    }
    let numerator = i128::from(open_local) * i128::from(RATE_SCALE);
    let rate = i128::from(rate.0);
    (numerator + rate - 1) / rate
}

/// What a donation may pay for, most restricted first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Restriction {
    /// One need (by id).
    Need(String),
    /// One shelter's needs of one category (shelter id, category).
    ShelterCategory(String, NeedCategory),
    /// One shelter's needs (by id).
    Shelter(String),
    /// Needs of one category in any shelter.
    Category(NeedCategory),
    /// Any need.
    None,
}

impl Restriction {
    /// The tier that orders donations: need 1, shelter + category 2, shelter 3, category 4, none 5.
    pub fn tier(&self) -> u8 {
        match self {
            Restriction::Need(_) => 1,
            Restriction::ShelterCategory(..) => 2,
            Restriction::Shelter(_) => 3,
            Restriction::Category(_) => 4,
            Restriction::None => 5,
        }
    }

    /// Whether money with this restriction may pay for `need`.
    pub fn admits(&self, need: &OpenNeed) -> bool {
        match self {
            Restriction::Need(id) => need.id == *id,
            Restriction::ShelterCategory(shelter, category) => {
                need.shelter_id == *shelter && need.category == *category
            }
            Restriction::Shelter(shelter) => need.shelter_id == *shelter,
            Restriction::Category(category) => need.category == *category,
            Restriction::None => true,
        }
    }
}

/// Received money waiting to be allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Donation {
    pub id: String,
    pub currency: Currency,
    /// What is still unallocated, in the donation currency's minor units.
    pub unallocated: i64,
    pub restriction: Restriction,
    /// When it was received; any totally ordered text (RFC 3339 UTC sorts correctly).
    pub received_at: String,
}

/// A money need that may receive money: not final, with an amount (not in-kind only).
///
/// `currency` and `occupied` belong to the shelter and should be the same on all of its needs.
/// If they are not, each need converts at its own currency's rate and the shelter's weight is the
/// largest occupancy among its needs in the band, so the result still does not depend on order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenNeed {
    pub id: String,
    pub shelter_id: String,
    pub category: NeedCategory,
    pub band: Band,
    /// Score in tenths, as on the board.
    pub score: i64,
    /// Any totally ordered timestamp text, as on the board.
    pub opened_at: String,
    /// What the need still lacks, in the shelter currency's minor units.
    pub amount_open: i64,
    /// The shelter's currency.
    pub currency: Currency,
    /// The shelter's occupied beds `O`.
    pub occupied: i64,
}

impl OpenNeed {
    /// The need's key on the public board.
    pub fn board_key(&self) -> BoardKey {
        BoardKey {
            band: self.band,
            score: self.score,
            opened_at: self.opened_at.clone(),
            id: self.id.clone(),
        }
    }

    /// The shelter's water-filling weight `w = max(1, O)` (capped at [`MAX_WEIGHT`]).
    pub fn weight(&self) -> i64 {
        self.occupied.clamp(1, MAX_WEIGHT)
    }
}

/// Board order ([`BoardKey`]) without cloning, then the remaining fields so that even needs with
/// equal keys have one order whatever order they came in.
fn need_order(a: &OpenNeed, b: &OpenNeed) -> Ordering {
    a.band
        .cmp(&b.band)
        .then(b.score.cmp(&a.score))
        .then_with(|| a.opened_at.cmp(&b.opened_at))
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.shelter_id.cmp(&b.shelter_id))
        .then(a.category.cmp(&b.category))
        .then(a.currency.cmp(&b.currency))
        .then(a.amount_open.cmp(&b.amount_open))
        .then(a.occupied.cmp(&b.occupied))
}

/// The order donations are allocated in: restriction tier, received time, id.
pub fn donation_order(a: &Donation, b: &Donation) -> Ordering {
    a.restriction
        .tier()
        .cmp(&b.restriction.tier())
        .then_with(|| a.received_at.cmp(&b.received_at))
        .then_with(|| a.id.cmp(&b.id))
}

/// Sorts donations into allocation order: most restricted first, then received time, then id.
pub fn order_donations(donations: &mut [Donation]) {
    donations.sort_by(donation_order);
}

/// Part of a donation allocated to one need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub need_id: String,
    pub shelter_id: String,
    /// In the donation currency's minor units; always > 0.
    pub amount: i64,
    /// In the shelter currency's minor units: `min(round_half_even(amount × rate), amount_open)`.
    pub amount_local: i64,
    /// The rate used (1 for the same currency).
    pub rate: Rate,
}

/// The result of allocating one donation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub donation_id: String,
    /// In the order the needs were paid: band by band, board order inside a band.
    pub slices: Vec<Slice>,
    /// What is left on the donation: `Σ slice amounts + unallocated = donation.unallocated`.
    pub unallocated: i64,
    /// Shelters with eligible needs but no rate from the donation's currency (sorted, unique):
    /// their needs were skipped; the report flags `missing_fx_rate`.
    pub skipped_shelters_missing_rate: Vec<String>,
}

/// One shelter's claim in a band, for [`water_fill`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShelterClaim<'a> {
    pub shelter_id: &'a str,
    /// In the donation currency's minor units (negative counts as 0).
    pub claim: i128,
    /// `w = max(1, O)`; values below 1 count as 1, above [`MAX_WEIGHT`] as `MAX_WEIGHT`.
    pub weight: i64,
}

/// The water level `λ = num / den` (money per unit of weight), `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub num: i128,
    pub den: i128,
}

/// How [`water_fill`] split the money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaterFill {
    /// Per shelter, in the order given; `Σ shares = min(remaining, Σ claims)`.
    pub shares: Vec<i128>,
    /// `λ` when the money did not cover every claim; `None` when every claim was paid in full.
    pub level: Option<Level>,
}

/// Splits `remaining` across shelters: every claim in full when it covers them all; otherwise
/// finds `λ` with `Σ min(claim, λ·w) = remaining` exactly and gives each shelter
/// `min(claim, λ·w)`, rounded to minor units by largest remainder (ties: lower shelter id), so the
/// shares add up to `remaining` exactly. The result does not depend on the order of `shelters`
/// (given distinct ids).
pub fn water_fill(remaining: i128, shelters: &[ShelterClaim<'_>]) -> WaterFill {
    let remaining = remaining.max(0);
    // A claim above `remaining` behaves exactly like `remaining + 1`: `λ·w ≤ remaining` for every
    // shelter, so `min(claim, λ·w)` is the same. Capping keeps the products below small.
    let cap = remaining + 1;
    let claims: Vec<i128> = shelters.iter().map(|s| s.claim.clamp(0, cap)).collect();
    let weights: Vec<i128> = shelters
        .iter()
        .map(|s| i128::from(s.weight.clamp(1, MAX_WEIGHT)))
        .collect();
    let total: i128 = claims.iter().sum();
    if total <= remaining {
        return WaterFill {
            shares: claims,
            level: None,
        };
    }
    // Shelters by claim / w ascending (cross-multiplied, exact); the smallest fill up first.
    let mut by_ratio: Vec<usize> = (0..shelters.len()).collect();
    by_ratio.sort_by(|&a, &b| {
        (claims[a] * weights[b])
            .cmp(&(claims[b] * weights[a]))
            .then_with(|| shelters[a].shelter_id.cmp(shelters[b].shelter_id))
    });
    let mut shares = vec![0i128; shelters.len()];
    let mut left = remaining;
    let mut weight_left: i128 = weights.iter().sum();
    let mut first_unfilled = by_ratio.len();
    for (k, &s) in by_ratio.iter().enumerate() {
        // Saturated when claim / w ≤ λ, i.e. when the level with it still unfilled would pass it.
        if claims[s] * weight_left <= left * weights[s] {
            shares[s] = claims[s];
            left -= claims[s];
            weight_left -= weights[s];
        } else {
            first_unfilled = k;
            break;
        }
    }
    // Not every claim fits, so some shelter is left unfilled and `weight_left > 0`: λ = left / W.
    let unfilled = &by_ratio[first_unfilled..];
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(unfilled.len());
    let mut handed_out: i128 = 0;
    for &s in unfilled {
        let exact = left * weights[s];
        shares[s] = exact / weight_left;
        handed_out += shares[s];
        remainders.push((exact % weight_left, s));
    }
    remainders.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| shelters[a.1].shelter_id.cmp(shelters[b.1].shelter_id))
    });
    let extra = usize::try_from(left - handed_out).unwrap_or(0);
    // Each unfilled shelter has λ·w < claim, so one more minor unit never exceeds its claim.
    for &(_, s) in remainders.iter().take(extra) {
        shares[s] += 1;
    }
    WaterFill {
        shares,
        level: Some(Level {
            num: left,
            den: weight_left.max(1),
        }),
    }
}

/// Pays one donation out of the candidates (indices into `needs`, in [`need_order`]), reading
/// each need's current open amount from `open`. Returns the allocation and, per slice, the need's
/// index.
fn allocate_ordered(
    donation: &Donation,
    needs: &[OpenNeed],
    open: &[i64],
    candidates: &[usize],
    rates: &impl Rates,
) -> (Allocation, Vec<usize>) {
    let mut allocation = Allocation {
        donation_id: donation.id.clone(),
        slices: Vec::new(),
        unallocated: donation.unallocated,
        skipped_shelters_missing_rate: Vec::new(),
    };
    let mut paid_needs = Vec::new();
    if donation.unallocated <= 0 {
        return (allocation, paid_needs);
    }
    let mut rate_cache: Vec<(Currency, Option<Rate>)> = Vec::new();
    let mut skipped: BTreeSet<&str> = BTreeSet::new();
    let mut bands: [Vec<(usize, Rate)>; 4] = Default::default();
    for &i in candidates {
        let need = &needs[i];
        if open[i] <= 0 || !donation.restriction.admits(need) {
            continue;
        }
        let rate = match rate_cache.iter().find(|(c, _)| *c == need.currency) {
            Some(&(_, rate)) => rate,
            None => {
                let rate = rate_between(rates, donation.currency, need.currency);
                rate_cache.push((need.currency, rate));
                rate
            }
        };
        match rate {
            Some(rate) => bands[need.band.rank() as usize].push((i, rate)),
            None => {
                skipped.insert(need.shelter_id.as_str());
            }
        }
    }
    allocation.skipped_shelters_missing_rate = skipped.into_iter().map(str::to_owned).collect();

    let mut remaining = i128::from(donation.unallocated);
    for band in &bands {
        if remaining == 0 {
            break;
        }
        if band.is_empty() {
            continue;
        }
        // Group the band's needs by shelter, shelters in order of first appearance.
        let cap = remaining + 1;
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        let mut shelters: Vec<ShelterClaim<'_>> = Vec::new();
        let mut need_claims: Vec<(usize, Rate, i128, usize)> = Vec::with_capacity(band.len());
        for &(i, rate) in band {
            let need = &needs[i];
            // Capped like in `water_fill`: no share can exceed `remaining`, so `min` is unchanged.
            let c = claim(open[i], rate).min(cap);
            let slot = *slot_of.entry(need.shelter_id.as_str()).or_insert_with(|| {
                shelters.push(ShelterClaim {
                    shelter_id: need.shelter_id.as_str(),
                    claim: 0,
                    weight: 1,
                });
                shelters.len() - 1
            });
            let shelter = &mut shelters[slot];
            shelter.claim = (shelter.claim + c).min(cap);
            shelter.weight = shelter.weight.max(need.weight());
            need_claims.push((i, rate, c, slot));
        }
        let mut share_left = water_fill(remaining, &shelters).shares;
        // Each shelter's share fills its needs in board order.
        for (i, rate, c, slot) in need_claims {
            let paid = c.min(share_left[slot]);
            if paid <= 0 {
                continue;
            }
            share_left[slot] -= paid;
            remaining -= paid;
            // `paid ≤ remaining ≤ donation.unallocated`, so it fits in i64.
            let amount = paid as i64;
            let amount_local = to_local(amount, rate).min(i128::from(open[i])) as i64;
            allocation.slices.push(Slice {
                need_id: needs[i].id.clone(),
                shelter_id: needs[i].shelter_id.clone(),
                amount,
                amount_local,
                rate,
            });
            paid_needs.push(i);
        }
    }
    allocation.unallocated = remaining as i64;
    (allocation, paid_needs)
}

/// Allocates one donation's unallocated money to `needs` (ENGINE.md "Allocating money").
///
/// Eligible needs have `amount_open > 0` and are inside the restriction; needs of shelters with no
/// rate from the donation's currency are skipped and their shelters reported. The order of
/// `needs` does not matter. `needs` are not changed: subtract each slice's `amount_local` from its
/// need's `amount_open` (or use [`allocate_many`]).
pub fn allocate(donation: &Donation, needs: &[OpenNeed], rates: &impl Rates) -> Allocation {
    let open: Vec<i64> = needs.iter().map(|n| n.amount_open).collect();
    let mut candidates: Vec<usize> = (0..needs.len())
        .filter(|&i| needs[i].amount_open > 0 && donation.restriction.admits(&needs[i]))
        .collect();
    candidates.sort_by(|&a, &b| need_order(&needs[a], &needs[b]));
    allocate_ordered(donation, needs, &open, &candidates, rates).0
}

/// Allocates several donations in [`donation_order`], each seeing what the earlier ones left:
/// every slice's `amount_local` is taken off its need's `amount_open` in `needs`. Returns one
/// allocation per donation, in the order they were processed. Bands and scores are used as given
/// (the caller recomputes them afterwards). Each result equals [`allocate`] on the needs as the
/// earlier donations left them.
pub fn allocate_many(
    donations: &[Donation],
    needs: &mut [OpenNeed],
    rates: &impl Rates,
) -> Vec<Allocation> {
    let mut open: Vec<i64> = needs.iter().map(|n| n.amount_open).collect();
    let allocations = {
        let needs: &[OpenNeed] = needs;
        let mut order: Vec<usize> = (0..needs.len()).collect();
        order.sort_by(|&a, &b| need_order(&needs[a], &needs[b]));
        // Candidate lists per restriction, each in need order, so a restricted donation only
        // looks at the needs it may pay for.
        let mut by_need: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_shelter: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_category: HashMap<NeedCategory, Vec<usize>> = HashMap::new();
        let mut by_shelter_category: HashMap<(&str, NeedCategory), Vec<usize>> = HashMap::new();
        for &i in &order {
            let n = &needs[i];
            by_need.entry(n.id.as_str()).or_default().push(i);
            by_shelter.entry(n.shelter_id.as_str()).or_default().push(i);
            by_category.entry(n.category).or_default().push(i);
            by_shelter_category
                .entry((n.shelter_id.as_str(), n.category))
                .or_default()
                .push(i);
        }
        let mut donation_indices: Vec<usize> = (0..donations.len()).collect();
        donation_indices.sort_by(|&a, &b| donation_order(&donations[a], &donations[b]));
        let none: Vec<usize> = Vec::new();
        donation_indices
            .into_iter()
            .map(|d| {
                let donation = &donations[d];
                let candidates = match &donation.restriction {
                    Restriction::Need(id) => by_need.get(id.as_str()),
                    Restriction::ShelterCategory(s, c) => {
                        by_shelter_category.get(&(s.as_str(), *c))
                    }
                    Restriction::Shelter(s) => by_shelter.get(s.as_str()),
                    Restriction::Category(c) => by_category.get(c),
                    Restriction::None => Some(&order),
                }
                .unwrap_or(&none);
                let (allocation, paid) =
                    allocate_ordered(donation, needs, &open, candidates, rates);
                for (slice, i) in allocation.slices.iter().zip(paid) {
                    open[i] -= slice.amount_local;
                }
                allocation
            })
            .collect()
    };
    for (need, open) in needs.iter_mut().zip(open) {
        need.amount_open = open;
    }
    allocations
}

/// A slice after part of it was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    /// The slice's new amount (donation currency).
    pub amount: i64,
    /// What goes back to the donation's unallocated: old amount − new amount, never negative.
    pub returned: i64,
}

/// Releases part of a slice whose `amount_local` falls from `local_before` to `local_after`:
/// its amount becomes `round_half_even(amount × local_after / local_before)` (ENGINE.md). A
/// release never raises the amount: `local_after` is taken within `[0, local_before]`, and
/// releasing to 0 always returns everything.
pub fn release(amount: i64, local_before: i64, local_after: i64) -> Released {
    let amount = amount.max(0);
    let after = local_after.clamp(0, local_before.max(0));
    let new_amount = if after == 0 {
        0
    } else if after == local_before {
        amount
    } else {
        // `after < local_before`, so the result is at most `amount` and fits in i64.
        div_round_half_even(
            i128::from(amount) * i128::from(after),
            i128::from(local_before),
        ) as i64
    };
    Released {
        amount: new_amount,
        returned: amount - new_amount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(id: &str, shelter: &str, band: Band, score: i64, open: i64) -> OpenNeed {
        OpenNeed {
            id: id.into(),
            shelter_id: shelter.into(),
            category: NeedCategory::Food,
            band,
            score,
            opened_at: "2026-01-01T00:00:00Z".into(),
            amount_open: open,
            currency: Currency::Mxn,
            occupied: 10,
        }
    }

    fn with(mut n: OpenNeed, f: impl FnOnce(&mut OpenNeed)) -> OpenNeed {
        f(&mut n);
        n
    }

    fn donation(id: &str, currency: Currency, amount: i64, restriction: Restriction) -> Donation {
        Donation {
            id: id.into(),
            currency,
            unallocated: amount,
            restriction,
            received_at: "2026-02-01T00:00:00Z".into(),
        }
    }

    fn usd_mxn() -> RateTable {
        let mut rates = RateTable::new();
        rates.insert(
            Currency::Usd,
            Currency::Mxn,
            Rate::parse("17.25").expect("a valid rate"),
        );
        rates
    }

    /// Total amount per shelter id.
    fn per_shelter(a: &Allocation) -> BTreeMap<String, i64> {
        let mut totals = BTreeMap::new();
        for s in &a.slices {
            *totals.entry(s.shelter_id.clone()).or_insert(0) += s.amount;
        }
        totals
    }

    fn assert_conserved(d: &Donation, a: &Allocation) {
        let paid: i64 = a.slices.iter().map(|s| s.amount).sum();
        assert_eq!(paid + a.unallocated, d.unallocated);
    }

    #[test]
    fn rates_and_conversions_are_exact() {
        let r = Rate::parse("17.25").expect("a valid rate");
        assert_eq!(r.millionths(), 17_250_000);
        assert_eq!(r.as_decimal(), "17.25");
        assert_eq!(Rate::parse("0"), Err(DecimalError::OutOfRange));
        assert_eq!(Rate::parse("-1"), Err(DecimalError::OutOfRange));
        assert_eq!(Rate::parse("0.0000001"), Err(DecimalError::TooPrecise));
        assert_eq!(
            Rate::from_millionths(1).map(Rate::as_decimal),
            Some("0.000001".into())
        );
        // 4350.00 MXN at 17.25 is 252.1739… USD: the claim rounds up to 252.18.
        assert_eq!(claim(435_000, r), 25_218);
        assert_eq!(claim(0, r), 0);
        assert_eq!(claim(-5, r), 0);
        // Back again it is 4350.105 MXN, above what is open (the allocator caps it).
        assert_eq!(to_local(25_218, r), 435_010);
        // Half to even: 0.5 → 0, 1.5 → 2, 2.5 → 2.
        let half = Rate::from_millionths(500_000).expect("a valid rate");
        assert_eq!(
            [to_local(1, half), to_local(3, half), to_local(5, half)],
            [0, 2, 2]
        );
        assert_eq!(
            rate_between(&RateTable::new(), Currency::Gtq, Currency::Gtq),
            Some(Rate::ONE)
        );
        // Directional: USD → MXN on file says nothing about MXN → USD.
        assert_eq!(rate_between(&usd_mxn(), Currency::Mxn, Currency::Usd), None);
        let closure = |from, to| (from == Currency::Eur && to == Currency::Mxn).then_some(r);
        assert_eq!(
            rate_between(&closure, Currency::Eur, Currency::Mxn),
            Some(r)
        );
    }

    #[test]
    fn engine_md_worked_example() {
        // 100.00 USD restricted to the rice need (4350.00 MXN open, high, 79.9), at 17.25.
        let rice = with(need("rice", "s1", Band::High, 799, 435_000), |n| {
            n.occupied = 40
        });
        let other = need("beans", "s1", Band::Critical, 900, 100_000);
        let d = donation(
            "d1",
            Currency::Usd,
            10_000,
            Restriction::Need("rice".into()),
        );
        let mut needs = vec![other, rice];
        let a = allocate(&d, &needs, &usd_mxn());
        assert_eq!(
            a.slices,
            [Slice {
                need_id: "rice".into(),
                shelter_id: "s1".into(),
                amount: 10_000,
                amount_local: 172_500,
                rate: Rate::from_millionths(17_250_000).expect("a valid rate"),
            }]
        );
        assert_eq!(a.unallocated, 0);
        assert!(a.skipped_shelters_missing_rate.is_empty());
        let many = allocate_many(std::slice::from_ref(&d), &mut needs, &usd_mxn());
        assert_eq!(many, [a]);
        assert_eq!(needs[1].amount_open, 262_500);
        assert_eq!(needs[0].amount_open, 100_000);
    }

    #[test]
    fn a_donation_larger_than_all_needs_pays_every_claim_and_keeps_the_rest() {
        let needs = vec![
            need("a1", "a", Band::Critical, 900, 100_000),
            need("a2", "a", Band::Low, 100, 33_333),
            need("b1", "b", Band::High, 750, 250_001),
            need("b2", "b", Band::Medium, 500, 1),
        ];
        let d = donation("d", Currency::Usd, 5_000_000, Restriction::None);
        let rates = usd_mxn();
        let a = allocate(&d, &needs, &rates);
        assert_conserved(&d, &a);
        assert_eq!(a.slices.len(), 4);
        let r = Rate::from_millionths(17_250_000).expect("a valid rate");
        let claims: i64 = needs.iter().map(|n| claim(n.amount_open, r) as i64).sum();
        assert_eq!(a.unallocated, 5_000_000 - claims);
        for s in &a.slices {
            let n = needs.iter().find(|n| n.id == s.need_id).expect("a need");
            assert_eq!(s.amount as i128, claim(n.amount_open, r));
            // Covered exactly, never beyond what is open.
            assert_eq!(s.amount_local, n.amount_open);
        }
        // Band by band: critical, high, medium, low.
        let order: Vec<&str> = a.slices.iter().map(|s| s.need_id.as_str()).collect();
        assert_eq!(order, ["a1", "b1", "b2", "a2"]);
    }

    #[test]
    fn three_shelters_short_of_money_share_by_weight() {
        let needs: Vec<OpenNeed> = [("s10", 10), ("s20", 20), ("s30", 30)]
            .into_iter()
            .map(|(s, o)| {
                with(
                    need(&format!("{s}-n"), s, Band::High, 800, 1_000_000),
                    |n| n.occupied = o,
                )
            })
            .collect();
        let d = donation("d", Currency::Mxn, 60_000, Restriction::None);
        let a = allocate(&d, &needs, &RateTable::new());
        assert_conserved(&d, &a);
        assert_eq!(a.unallocated, 0);
        let shares = per_shelter(&a);
        assert_eq!(shares["s10"], 10_000);
        assert_eq!(shares["s20"], 20_000);
        assert_eq!(shares["s30"], 30_000);
        // Same-currency slices keep their amount.
        assert!(a
            .slices
            .iter()
            .all(|s| s.amount == s.amount_local && s.rate == Rate::ONE));
    }

    #[test]
    fn a_small_claim_is_paid_in_full_and_the_rest_water_filled() {
        // Equal shares would be 650 / 40 per bed: 162.5 for A, above its claim of 50.
        let needs = vec![
            with(need("a", "A", Band::High, 800, 50), |n| n.occupied = 10),
            with(need("b", "B", Band::High, 800, 10_000), |n| n.occupied = 10),
            with(need("c", "C", Band::High, 800, 10_000), |n| n.occupied = 20),
        ];
        let d = donation("d", Currency::Mxn, 650, Restriction::None);
        let a = allocate(&d, &needs, &RateTable::new());
        let shares = per_shelter(&a);
        assert_eq!((shares["A"], shares["B"], shares["C"]), (50, 200, 400));
        let fill = water_fill(
            650,
            &[
                ShelterClaim {
                    shelter_id: "A",
                    claim: 50,
                    weight: 10,
                },
                ShelterClaim {
                    shelter_id: "B",
                    claim: 10_000,
                    weight: 10,
                },
                ShelterClaim {
                    shelter_id: "C",
                    claim: 10_000,
                    weight: 20,
                },
            ],
        );
        assert_eq!(fill.shares, [50, 200, 400]);
        // λ = 600 / 30 = 20 per bed.
        assert_eq!(fill.level, Some(Level { num: 600, den: 30 }));
    }

    #[test]
    fn largest_remainder_breaks_ties_by_lower_shelter_id() {
        // 100 over three equal weights: 33.33 each, the extra unit to the lowest id.
        let needs = vec![
            need("n1", "s-b", Band::Medium, 500, 1_000),
            need("n2", "s-c", Band::Medium, 500, 1_000),
            need("n3", "s-a", Band::Medium, 500, 1_000),
        ];
        let d = donation("d", Currency::Mxn, 100, Restriction::None);
        let a = allocate(&d, &needs, &RateTable::new());
        let shares = per_shelter(&a);
        assert_eq!((shares["s-a"], shares["s-b"], shares["s-c"]), (34, 33, 33));
        // Unequal remainders: 100 over weights 1 and 2 is 33.33 and 66.67 → 33 and 67.
        let fill = water_fill(
            100,
            &[
                ShelterClaim {
                    shelter_id: "a",
                    claim: 1_000,
                    weight: 1,
                },
                ShelterClaim {
                    shelter_id: "b",
                    claim: 1_000,
                    weight: 2,
                },
            ],
        );
        assert_eq!(fill.shares, [33, 67]);
    }

    #[test]
    fn critical_needs_are_paid_before_high_ones() {
        let needs = vec![
            with(need("high", "big", Band::High, 990, 5_000), |n| {
                n.occupied = 500
            }),
            with(need("crit", "small", Band::Critical, 700, 5_000), |n| {
                n.occupied = 1
            }),
        ];
        let rates = RateTable::new();
        let a = allocate(
            &donation("d", Currency::Mxn, 6_000, Restriction::None),
            &needs,
            &rates,
        );
        let paid: Vec<(&str, i64)> = a
            .slices
            .iter()
            .map(|s| (s.need_id.as_str(), s.amount))
            .collect();
        assert_eq!(paid, [("crit", 5_000), ("high", 1_000)]);
        // Too little for the critical band: the high need, however heavy its shelter, gets nothing.
        let a = allocate(
            &donation("d", Currency::Mxn, 3_000, Restriction::None),
            &needs,
            &rates,
        );
        let paid: Vec<(&str, i64)> = a
            .slices
            .iter()
            .map(|s| (s.need_id.as_str(), s.amount))
            .collect();
        assert_eq!(paid, [("crit", 3_000)]);
    }

    #[test]
    fn inside_a_shelter_its_share_fills_needs_in_board_order() {
        let needs = vec![
            need("late", "s", Band::High, 800, 300),
            with(need("early", "s", Band::High, 800, 300), |n| {
                n.opened_at = "2025-12-01".into()
            }),
            need("top", "s", Band::High, 950, 300),
        ];
        let a = allocate(
            &donation("d", Currency::Mxn, 500, Restriction::None),
            &needs,
            &RateTable::new(),
        );
        let paid: Vec<(&str, i64)> = a
            .slices
            .iter()
            .map(|s| (s.need_id.as_str(), s.amount))
            .collect();
        assert_eq!(paid, [("top", 300), ("early", 200)]);
    }

    #[test]
    fn a_shelter_without_a_rate_is_skipped_and_reported() {
        let needs = vec![
            need("mx", "mexico", Band::High, 800, 100_000),
            with(need("gt", "guatemala", Band::Critical, 900, 100_000), |n| {
                n.currency = Currency::Gtq
            }),
        ];
        let d = donation("d", Currency::Usd, 1_000, Restriction::None);
        let a = allocate(&d, &needs, &usd_mxn());
        assert_conserved(&d, &a);
        assert_eq!(a.skipped_shelters_missing_rate, ["guatemala"]);
        assert!(a.slices.iter().all(|s| s.shelter_id == "mexico"));
        assert_eq!(a.unallocated, 0);
        // With nothing else to pay for, the money waits for the rate.
        let d = donation(
            "d",
            Currency::Usd,
            1_000,
            Restriction::Shelter("guatemala".into()),
        );
        let a = allocate(&d, &needs, &usd_mxn());
        assert!(a.slices.is_empty());
        assert_eq!(a.unallocated, 1_000);
        assert_eq!(a.skipped_shelters_missing_rate, ["guatemala"]);
    }

    #[test]
    fn a_need_restricted_donation_touches_only_that_need() {
        let needs = vec![
            need("urgent", "s", Band::Critical, 1000, 100_000),
            need("target", "s", Band::Low, 100, 700),
            need("elsewhere", "t", Band::Critical, 1000, 100_000),
        ];
        let d = donation(
            "d",
            Currency::Mxn,
            1_000,
            Restriction::Need("target".into()),
        );
        let a = allocate(&d, &needs, &RateTable::new());
        let paid: Vec<(&str, i64)> = a
            .slices
            .iter()
            .map(|s| (s.need_id.as_str(), s.amount))
            .collect();
        assert_eq!(paid, [("target", 700)]);
        assert_eq!(a.unallocated, 300);
        // A need that is already covered takes nothing.
        let covered = [with(needs[1].clone(), |n| n.amount_open = 0)];
        let a = allocate(&d, &covered, &RateTable::new());
        assert!(a.slices.is_empty());
        assert_eq!(a.unallocated, 1_000);
    }

    #[test]
    fn category_and_shelter_restrictions_stay_inside() {
        let needs = vec![
            need("food-a", "a", Band::High, 800, 1_000),
            with(need("med-a", "a", Band::Critical, 1000, 1_000), |n| {
                n.category = NeedCategory::Medical
            }),
            need("food-b", "b", Band::High, 800, 1_000),
            with(need("med-b", "b", Band::Critical, 1000, 1_000), |n| {
                n.category = NeedCategory::Medical
            }),
        ];
        let rates = RateTable::new();
        let ids = |a: &Allocation| {
            a.slices
                .iter()
                .map(|s| s.need_id.clone())
                .collect::<Vec<_>>()
        };
        let d = donation(
            "d",
            Currency::Mxn,
            10_000,
            Restriction::Category(NeedCategory::Food),
        );
        let a = allocate(&d, &needs, &rates);
        assert_eq!(ids(&a), ["food-a", "food-b"]);
        assert_eq!(a.unallocated, 8_000);
        let d = donation("d", Currency::Mxn, 10_000, Restriction::Shelter("b".into()));
        assert_eq!(ids(&allocate(&d, &needs, &rates)), ["med-b", "food-b"]);
        let d = donation(
            "d",
            Currency::Mxn,
            10_000,
            Restriction::ShelterCategory("a".into(), NeedCategory::Medical),
        );
        assert_eq!(ids(&allocate(&d, &needs, &rates)), ["med-a"]);
    }

    #[test]
    fn donations_go_most_restricted_first_then_by_time_then_id() {
        let at = |id: &str, r: Restriction, t: &str| Donation {
            received_at: t.into(),
            ..donation(id, Currency::Mxn, 100, r)
        };
        let mut ds = vec![
            at("none", Restriction::None, "2026-01-01"),
            at(
                "cat",
                Restriction::Category(NeedCategory::Food),
                "2026-01-01",
            ),
            at("shelter", Restriction::Shelter("s".into()), "2026-01-03"),
            at(
                "sc",
                Restriction::ShelterCategory("s".into(), NeedCategory::Food),
                "2026-01-04",
            ),
            at("need-late", Restriction::Need("n".into()), "2026-01-05"),
            at("need-b", Restriction::Need("n".into()), "2026-01-02"),
            at("need-a", Restriction::Need("n".into()), "2026-01-02"),
        ];
        order_donations(&mut ds);
        let ids: Vec<&str> = ds.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "need-a",
                "need-b",
                "need-late",
                "sc",
                "shelter",
                "cat",
                "none"
            ]
        );
    }

    #[test]
    fn later_donations_see_what_earlier_ones_left() {
        let mut needs = vec![need("n", "s", Band::High, 800, 1_000)];
        let ds = vec![
            // Received first, but unrestricted: taken after the need-restricted one.
            Donation {
                received_at: "2026-01-01".into(),
                ..donation("open", Currency::Mxn, 900, Restriction::None)
            },
            donation("gift", Currency::Mxn, 600, Restriction::Need("n".into())),
        ];
        let out = allocate_many(&ds, &mut needs, &RateTable::new());
        let summary: Vec<(&str, i64, i64)> = out
            .iter()
            .map(|a| {
                (
                    a.donation_id.as_str(),
                    a.slices.iter().map(|s| s.amount).sum(),
                    a.unallocated,
                )
            })
            .collect();
        assert_eq!(summary, [("gift", 600, 0), ("open", 400, 500)]);
        assert_eq!(needs[0].amount_open, 0);
    }

    #[test]
    fn releasing_converts_back_in_proportion() {
        // 100.00 USD = 1725.00 MXN; the need shrinks so only 1000.00 MXN stays allocated.
        assert_eq!(
            release(10_000, 172_500, 100_000),
            Released {
                amount: 5_797,
                returned: 4_203
            }
        );
        // The need ended: everything goes back.
        assert_eq!(
            release(10_000, 172_500, 0),
            Released {
                amount: 0,
                returned: 10_000
            }
        );
        assert_eq!(
            release(10_000, 172_500, 172_500),
            Released {
                amount: 10_000,
                returned: 0
            }
        );
        // Never upwards, and a slice that covered nothing locally can still be released.
        assert_eq!(release(10_000, 172_500, 200_000).amount, 10_000);
        assert_eq!(
            release(3, 0, 0),
            Released {
                amount: 0,
                returned: 3
            }
        );
        // Half to even: 5 × 1/2 = 2.5 → 2; 7 × 1/2 = 3.5 → 4.
        assert_eq!(release(5, 2, 1).amount, 2);
        assert_eq!(release(7, 2, 1).amount, 4);
    }

    #[test]
    fn nothing_to_allocate_gives_nothing() {
        let needs = vec![need("n", "s", Band::High, 800, 1_000)];
        let a = allocate(
            &donation("d", Currency::Mxn, 0, Restriction::None),
            &needs,
            &RateTable::new(),
        );
        assert!(a.slices.is_empty());
        assert_eq!(a.unallocated, 0);
        let a = allocate(
            &donation("d", Currency::Mxn, 500, Restriction::None),
            &[],
            &RateTable::new(),
        );
        assert_eq!(a.unallocated, 500);
    }
}
