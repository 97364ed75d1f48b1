//! The reference allocator: the first, slow implementation the fast paths are checked against.

use super::super::*;
use std::collections::{BTreeSet, HashMap};

fn ref_need_order(a: &OpenNeed, b: &OpenNeed) -> Ordering {
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

pub(super) fn ref_to_local(amount: i64, rate: Rate) -> i128 {
    div_round_half_even(
        i128::from(amount) * i128::from(rate.0),
        i128::from(RATE_SCALE),
    )
}

pub(super) fn ref_claim(open_local: i64, rate: Rate) -> i128 {
    if open_local <= 0 {
        return 0;
    }
    let numerator = i128::from(open_local) * i128::from(RATE_SCALE);
    let rate = i128::from(rate.0);
    (numerator + rate - 1) / rate
}

pub(super) fn ref_water_fill(remaining: i128, shelters: &[ShelterClaim<'_>]) -> WaterFill {
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

/// Pays one donation out of the candidates (the original, in need order).
fn ref_allocate_ordered(
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
            // Capped like in `ref_water_fill`: no share can exceed `remaining`, so `min` is unchanged.
            let c = ref_claim(open[i], rate).min(cap);
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
        let mut share_left = ref_water_fill(remaining, &shelters).shares;
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
            let amount_local = ref_to_local(amount, rate).min(i128::from(open[i])) as i64;
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
/// need's `amount_open` (or use [`ref_allocate_many`]).
pub(super) fn ref_allocate(
    donation: &Donation,
    needs: &[OpenNeed],
    rates: &impl Rates,
) -> Allocation {
    let open: Vec<i64> = needs.iter().map(|n| n.amount_open).collect();
    let mut candidates: Vec<usize> = (0..needs.len())
        .filter(|&i| needs[i].amount_open > 0 && donation.restriction.admits(&needs[i]))
        .collect();
    candidates.sort_by(|&a, &b| ref_need_order(&needs[a], &needs[b]));
    ref_allocate_ordered(donation, needs, &open, &candidates, rates).0
}

/// Allocates several donations in [`donation_order`], each seeing what the earlier ones left:
/// every slice's `amount_local` is taken off its need's `amount_open` in `needs`. Returns one
/// allocation per donation, in the order they were processed. Bands and scores are used as given
/// (the caller recomputes them afterwards). Each result equals [`allocate`] on the needs as the
/// earlier donations left them.
pub(super) fn ref_allocate_many(
    donations: &[Donation],
    needs: &mut [OpenNeed],
    rates: &impl Rates,
) -> Vec<Allocation> {
    let mut open: Vec<i64> = needs.iter().map(|n| n.amount_open).collect();
    let allocations = {
        let needs: &[OpenNeed] = needs;
        let mut order: Vec<usize> = (0..needs.len()).collect();
        order.sort_by(|&a, &b| ref_need_order(&needs[a], &needs[b]));
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
                    ref_allocate_ordered(donation, needs, &open, candidates, rates);
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
