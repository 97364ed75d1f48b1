//! Properties of the money allocator (ENGINE.md "Allocating money", "Invariants") over generated
//! shelters, needs, rates and donations: conservation to the minor unit, restrictions honoured,
//! no need covered beyond what it lacks, the same input (in any order) gives the same output,
//! water-filling is max-min fair with an exact level λ, shares fill needs in board order, and
//! releases never raise an amount.

use proptest::prelude::*;
use refugio_core::engine::allocation::{
    allocate, allocate_many, claim, donation_order, order_donations, rate_between, release,
    to_local, water_fill, Allocation, Donation, OpenNeed, Rate, RateTable, Restriction,
    ShelterClaim,
};
use refugio_core::engine::needs::NeedCategory;
use refugio_core::engine::priority::Band;
use refugio_core::money::Currency;
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const SHELTERS: usize = 5;
const CATEGORIES: [NeedCategory; 3] = [
    NeedCategory::Food,
    NeedCategory::Medical,
    NeedCategory::Utilities,
];

#[derive(Debug, Clone)]
struct Shelter {
    currency: Currency,
    occupied: i64,
}

fn shelter_id(i: usize) -> String {
    format!("s{i}")
}

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(Currency::ALL)
}

fn shelters() -> impl Strategy<Value = Vec<Shelter>> {
    prop::collection::vec(
        (currency(), prop_oneof![1 => Just(0i64), 4 => 0i64..300])
            .prop_map(|(currency, occupied)| Shelter { currency, occupied }),
        SHELTERS,
    )
}

/// Amounts from a single minor unit to millions, and often 0 (already covered).
fn amount_open() -> impl Strategy<Value = i64> {
    prop_oneof![1 => Just(0i64), 2 => 1i64..1_000, 3 => 1i64..1_000_000_000]
}

/// (shelter, category, band, score, opened day, amount open)
type NeedParts = (usize, usize, Band, i64, u8, i64);

fn need_parts() -> impl Strategy<Value = NeedParts> {
    (
        0..SHELTERS,
        0..CATEGORIES.len(),
        prop::sample::select(Band::ALL.to_vec()),
        // Few scores and days, so board ties happen and ids must break them.
        prop_oneof![Just(500i64), Just(800), 0i64..=1000],
        0u8..4,
        amount_open(),
    )
}

fn needs_of(shelters: &[Shelter], parts: &[NeedParts]) -> Vec<OpenNeed> {
    parts
        .iter()
        .enumerate()
        .map(|(i, &(s, c, band, score, day, open))| OpenNeed {
            id: format!("n{i:02}"),
            shelter_id: shelter_id(s),
            category: CATEGORIES[c],
            band,
            score,
            opened_at: format!("2026-01-0{}", day + 1),
            amount_open: open,
            currency: shelters[s].currency,
            occupied: shelters[s].occupied,
        })
        .collect()
}

/// A rate from a millionth to a hundred thousand, all in exact millionths.
fn rate() -> impl Strategy<Value = Rate> {
    prop_oneof![
        1 => 1i64..100,
        3 => 1_000i64..10_000_000,
        3 => 10_000_000i64..100_000_000,
        1 => 100_000_000i64..100_000_000_000,
    ]
    .prop_map(|m| Rate::from_millionths(m).expect("in range"))
}

/// Some directional pairs have a rate, some do not.
fn rates() -> impl Strategy<Value = RateTable> {
    prop::collection::vec(prop::option::weighted(0.7, rate()), 16).prop_map(|rates| {
        let mut table = RateTable::new();
        for (k, r) in rates.into_iter().enumerate() {
            let (from, to) = (Currency::ALL[k / 4], Currency::ALL[k % 4]);
            if let Some(r) = r {
                table.insert(from, to, r);
            }
        }
        table
    })
}

/// A restriction naming needs, shelters and categories that mostly exist.
fn restriction(need_count: usize) -> impl Strategy<Value = Restriction> {
    (
        0u8..5,
        0..need_count.max(1) + 1,
        0..SHELTERS + 1,
        0..CATEGORIES.len(),
    )
        .prop_map(|(kind, n, s, c)| match kind {
            0 => Restriction::Need(format!("n{n:02}")),
            1 => Restriction::ShelterCategory(shelter_id(s), CATEGORIES[c]),
            2 => Restriction::Shelter(shelter_id(s)),
            3 => Restriction::Category(CATEGORIES[c]),
            _ => Restriction::None,
        })
}

fn donation_amount() -> impl Strategy<Value = i64> {
    prop_oneof![1 => Just(0i64), 2 => 1i64..1_000, 3 => 1i64..100_000_000, 1 => 1i64..100_000_000_000]
}

fn donation(id: String, need_count: usize) -> impl Strategy<Value = Donation> {
    (
        currency(),
        donation_amount(),
        restriction(need_count),
        0u8..5,
    )
        .prop_map(move |(currency, unallocated, restriction, day)| Donation {
            id: id.clone(),
            currency,
            unallocated,
            restriction,
            received_at: format!("2026-02-0{}", day + 1),
        })
}

#[derive(Debug, Clone)]
struct Case {
    needs: Vec<OpenNeed>,
    rates: RateTable,
    donation: Donation,
}

fn case() -> impl Strategy<Value = Case> {
    (
        shelters(),
        prop::collection::vec(need_parts(), 0..25),
        rates(),
    )
        .prop_flat_map(|(shelters, parts, rates)| {
            let needs = needs_of(&shelters, &parts);
            let count = needs.len();
            (Just(needs), Just(rates), donation("d".into(), count))
        })
        .prop_map(|(needs, rates, donation)| Case {
            needs,
            rates,
            donation,
        })
}

#[derive(Debug, Clone)]
struct ManyCase {
    needs: Vec<OpenNeed>,
    rates: RateTable,
    donations: Vec<Donation>,
}

fn many_case() -> impl Strategy<Value = ManyCase> {
    (
        shelters(),
        prop::collection::vec(need_parts(), 0..20),
        rates(),
        1usize..8,
    )
        .prop_flat_map(|(shelters, parts, rates, donation_count)| {
            let needs = needs_of(&shelters, &parts);
            let count = needs.len();
            let donations: Vec<_> = (0..donation_count)
                .map(|k| donation(format!("d{k}"), count))
                .collect();
            (Just(needs), Just(rates), donations)
        })
        .prop_map(|(needs, rates, donations)| ManyCase {
            needs,
            rates,
            donations,
        })
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn need_by_id<'a>(needs: &'a [OpenNeed], id: &str) -> &'a OpenNeed {
    needs
        .iter()
        .find(|n| n.id == id)
        .expect("a slice names a need")
}

/// The rate the donation has to the need's shelter, if any.
fn rate_for(c: &Case, n: &OpenNeed) -> Option<Rate> {
    rate_between(&c.rates, c.donation.currency, n.currency)
}

/// Needs the donation may pay for and has a rate to, with their claims.
fn payable(c: &Case) -> Vec<(&OpenNeed, i128)> {
    c.needs
        .iter()
        .filter(|n| n.amount_open > 0 && c.donation.restriction.admits(n))
        .filter_map(|n| rate_for(c, n).map(|r| (n, claim(n.amount_open, r))))
        .collect()
}

fn paid_per_need(a: &Allocation) -> BTreeMap<&str, (i64, i64)> {
    let mut paid = BTreeMap::new();
    for s in &a.slices {
        let e = paid.entry(s.need_id.as_str()).or_insert((0, 0));
        e.0 += s.amount;
        e.1 += s.amount_local;
    }
    paid
}

fn check_conservation(d: &Donation, a: &Allocation) -> Result<(), TestCaseError> {
    let paid: i64 = a.slices.iter().map(|s| s.amount).sum();
    prop_assert_eq!(paid + a.unallocated, d.unallocated);
    prop_assert!(a.unallocated >= 0);
    prop_assert!(a.slices.iter().all(|s| s.amount > 0 && s.amount_local >= 0));
    prop_assert_eq!(&a.donation_id, &d.id);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // --- conservation ----------------------------------------------------------------------

    #[test]
    fn every_minor_unit_is_accounted_for(c in case()) {
        let a = allocate(&c.donation, &c.needs, &c.rates);
        check_conservation(&c.donation, &a)?;
    }

    // --- restrictions ----------------------------------------------------------------------

    #[test]
    fn no_slice_outside_the_restriction_or_without_a_rate(c in case()) {
        let a = allocate(&c.donation, &c.needs, &c.rates);
        for s in &a.slices {
            let n = need_by_id(&c.needs, &s.need_id);
            prop_assert!(c.donation.restriction.admits(n), "{:?} outside {:?}", n, c.donation.restriction);
            prop_assert_eq!(&s.shelter_id, &n.shelter_id);
            prop_assert!(n.amount_open > 0);
            prop_assert_eq!(Some(s.rate), rate_for(&c, n));
            prop_assert!(!a.skipped_shelters_missing_rate.contains(&s.shelter_id));
        }
        // Reported: exactly the shelters with an eligible need and no rate.
        let expected: BTreeSet<String> = c
            .needs
            .iter()
            .filter(|n| n.amount_open > 0 && c.donation.restriction.admits(n) && rate_for(&c, n).is_none())
            .map(|n| n.shelter_id.clone())
            .collect();
        let skipped_set: BTreeSet<String> = a.skipped_shelters_missing_rate.iter().cloned().collect();
        if c.donation.unallocated > 0 {
            prop_assert_eq!(skipped_set, expected);
        }
        prop_assert!(a.skipped_shelters_missing_rate.windows(2).all(|w| w[0] < w[1]));
    }

    // --- no need over-covered ----------------------------------------------------------------

    #[test]
    fn no_need_gets_more_than_it_lacks(c in case()) {
        let a = allocate(&c.donation, &c.needs, &c.rates);
        for s in &a.slices {
            let n = need_by_id(&c.needs, &s.need_id);
            let r = rate_for(&c, n).expect("paid needs have a rate");
            prop_assert_eq!(i128::from(s.amount_local), to_local(s.amount, r).min(i128::from(n.amount_open)));
            prop_assert!(i128::from(s.amount) <= claim(n.amount_open, r));
        }
        for (id, (_, local)) in paid_per_need(&a) {
            prop_assert!(local <= need_by_id(&c.needs, id).amount_open);
        }
        prop_assert_eq!(paid_per_need(&a).len(), a.slices.len(), "one slice per need");
    }

    // --- money is not left idle --------------------------------------------------------------

    #[test]
    fn money_stays_unallocated_only_when_every_claim_is_paid(c in case()) {
        let a = allocate(&c.donation, &c.needs, &c.rates);
        let paid = paid_per_need(&a);
        let claims: i128 = payable(&c).iter().map(|(_, cl)| cl).sum();
        if a.unallocated > 0 {
            for (n, cl) in payable(&c) {
                let (amount, local) = paid.get(n.id.as_str()).copied().unwrap_or((0, 0));
                prop_assert_eq!(i128::from(amount), cl);
                // A claim paid in full covers the need exactly.
                prop_assert_eq!(local, n.amount_open);
            }
            prop_assert_eq!(i128::from(c.donation.unallocated - a.unallocated), claims);
        } else {
            prop_assert!(claims >= i128::from(c.donation.unallocated.max(0)));
        }
    }

    // --- determinism ---------------------------------------------------------------------------

    #[test]
    fn same_input_same_output_in_any_order(
        (c, shuffled) in case().prop_flat_map(|c| {
            let needs = c.needs.clone();
            (Just(c), Just(needs).prop_shuffle())
        })
    ) {
        let a = allocate(&c.donation, &c.needs, &c.rates);
        prop_assert_eq!(&a, &allocate(&c.donation, &c.needs, &c.rates));
        prop_assert_eq!(&a, &allocate(&c.donation, &shuffled, &c.rates));
    }

    // --- water-filling -------------------------------------------------------------------------

    #[test]
    fn water_filling_is_fair_with_an_exact_level(c in case()) {
        let a = allocate(&c.donation, &c.needs, &c.rates);
        let paid = paid_per_need(&a);
        let mut short_band_seen = false;
        for band in Band::ALL {
            // Per shelter in this band: (claim, share, weight).
            let mut per_shelter: BTreeMap<&str, (i128, i128, i64)> = BTreeMap::new();
            for (n, cl) in payable(&c).into_iter().filter(|(n, _)| n.band == band) {
                let e = per_shelter.entry(n.shelter_id.as_str()).or_insert((0, 0, n.weight()));
                e.0 += cl;
                e.1 += i128::from(paid.get(n.id.as_str()).map_or(0, |p| p.0));
            }
            if short_band_seen {
                // Lower bands get nothing once a band could not be paid in full.
                prop_assert!(per_shelter.values().all(|v| v.1 == 0));
                continue;
            }
            let short = per_shelter.values().any(|v| v.1 < v.0);
            if !short {
                continue;
            }
            short_band_seen = true;
            prop_assert_eq!(a.unallocated, 0);
            let given: i128 = per_shelter.values().map(|v| v.1).sum();
            let claims: Vec<ShelterClaim> = per_shelter
                .iter()
                .map(|(id, v)| ShelterClaim { shelter_id: id, claim: v.0, weight: v.2 })
                .collect();
            let fill = water_fill(given, &claims);
            let observed: Vec<i128> = per_shelter.values().map(|v| v.1).collect();
            prop_assert_eq!(&fill.shares, &observed);
            let level = fill.level.expect("a short band has a level");
            // λ is exact: Σ min(claim, λ·w) = what the band got.
            let exact: i128 = per_shelter
                .values()
                .map(|v| (v.0 * level.den).min(level.num * i128::from(v.2)))
                .sum();
            prop_assert_eq!(exact, given * level.den);
            for &(cl, share, w) in per_shelter.values() {
                let ideal = (cl * level.den).min(level.num * i128::from(w));
                // Each share is min(claim, λ·w) rounded to a neighbouring minor unit.
                prop_assert!((share * level.den - ideal).abs() < level.den);
                prop_assert!(share <= cl);
            }
            // ENGINE.md: a shelter gets less than its claim only if no shelter got more than λ·w
            // (±1 for rounding), here without trusting λ: (share_t − 1)/w_t ≤ (share_s + 1)/w_s.
            for &(cl_s, share_s, w_s) in per_shelter.values() {
                if share_s < cl_s {
                    for &(_, share_t, w_t) in per_shelter.values() {
                        prop_assert!((share_t - 1) * i128::from(w_s) <= (share_s + 1) * i128::from(w_t));
                        prop_assert!((share_t - 1) * level.den <= level.num * i128::from(w_t));
                    }
                }
            }
        }
    }

    #[test]
    fn a_shelters_share_fills_its_needs_in_board_order(c in case()) {
        let a = allocate(&c.donation, &c.needs, &c.rates);
        let paid = paid_per_need(&a);
        let mut groups: BTreeMap<(Band, &str), Vec<(&OpenNeed, i128)>> = BTreeMap::new();
        for (n, cl) in payable(&c) {
            groups.entry((n.band, n.shelter_id.as_str())).or_default().push((n, cl));
        }
        for group in groups.values_mut() {
            group.sort_by_key(|(n, _)| n.board_key());
            let mut short = false;
            for (n, cl) in group.iter() {
                let got = i128::from(paid.get(n.id.as_str()).map_or(0, |p| p.0));
                if short {
                    prop_assert_eq!(got, 0, "{} paid after a need left short", &n.id);
                }
                short |= got < *cl;
            }
        }
    }

    #[test]
    fn water_fill_alone_conserves_and_ignores_order(
        (remaining, claims, perm) in (
            0i128..10_000_000,
            prop::collection::vec((0i128..5_000_000, -3i64..500), 0..12),
        ).prop_flat_map(|(r, cl)| {
            let n = cl.len();
            (Just(r), Just(cl), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
    ) {
        let ids: Vec<String> = (0..claims.len()).map(|i| format!("s{i:02}")).collect();
        let shelters: Vec<ShelterClaim> = claims
            .iter()
            .zip(&ids)
            .map(|(&(claim, weight), id)| ShelterClaim { shelter_id: id, claim, weight })
            .collect();
        let fill = water_fill(remaining, &shelters);
        let total: i128 = claims.iter().map(|c| c.0).sum();
        prop_assert_eq!(fill.shares.iter().sum::<i128>(), remaining.min(total));
        for (share, &(claim, _)) in fill.shares.iter().zip(&claims) {
            prop_assert!(*share >= 0 && *share <= claim);
        }
        prop_assert_eq!(fill.level.is_none(), total <= remaining);
        if let Some(level) = fill.level {
            let weight = |i: usize| i128::from(claims[i].1.max(1));
            // λ is exact: Σ min(claim, λ·w) = remaining.
            let exact: i128 = (0..claims.len())
                .map(|i| (claims[i].0 * level.den).min(level.num * weight(i)))
                .sum();
            prop_assert_eq!(exact, remaining * level.den);
            // Largest remainder: among unfilled shelters, one that got the extra unit has a
            // remainder no smaller than any that did not, and wins ties only with a lower id.
            let unfilled: Vec<usize> = (0..claims.len())
                .filter(|&i| level.num * weight(i) < claims[i].0 * level.den)
                .collect();
            for &s in &unfilled {
                let (floor_s, rem_s) = ((level.num * weight(s)) / level.den, (level.num * weight(s)) % level.den);
                prop_assert!(fill.shares[s] == floor_s || fill.shares[s] == floor_s + 1);
                for &t in &unfilled {
                    let (floor_t, rem_t) = ((level.num * weight(t)) / level.den, (level.num * weight(t)) % level.den);
                    if fill.shares[s] == floor_s + 1 && fill.shares[t] == floor_t {
                        prop_assert!(rem_s > rem_t || (rem_s == rem_t && s < t));
                    }
                }
            }
        }
        let permuted: Vec<ShelterClaim> = perm.iter().map(|&i| shelters[i]).collect();
        let fill2 = water_fill(remaining, &permuted);
        for (k, &i) in perm.iter().enumerate() {
            prop_assert_eq!(fill2.shares[k], fill.shares[i]);
        }
        prop_assert_eq!(fill2.level, fill.level);
    }

    // --- many donations ----------------------------------------------------------------------

    #[test]
    fn many_donations_are_one_after_another_in_order(m in many_case()) {
        let mut needs = m.needs.clone();
        let out = allocate_many(&m.donations, &mut needs, &m.rates);
        let mut ordered = m.donations.clone();
        order_donations(&mut ordered);
        prop_assert_eq!(out.len(), ordered.len());
        // Each result is `allocate` on what the earlier donations left.
        let mut current = m.needs.clone();
        for (d, a) in ordered.iter().zip(&out) {
            check_conservation(d, a)?;
            prop_assert_eq!(a, &allocate(d, &current, &m.rates));
            for s in &a.slices {
                let n = current.iter_mut().find(|n| n.id == s.need_id).expect("a need");
                prop_assert!(d.restriction.admits(n));
                n.amount_open -= s.amount_local;
            }
        }
        prop_assert_eq!(&needs, &current);
        // Never below zero, never more than was open at the start.
        for (after, before) in needs.iter().zip(&m.needs) {
            prop_assert!(after.amount_open >= 0 && after.amount_open <= before.amount_open.max(0));
        }
    }

    #[test]
    fn many_donations_do_not_depend_on_input_order(
        (m, perm) in many_case().prop_flat_map(|m| {
            let n = m.donations.len();
            (Just(m), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
    ) {
        let mut a_needs = m.needs.clone();
        let a = allocate_many(&m.donations, &mut a_needs, &m.rates);
        let shuffled: Vec<Donation> = perm.iter().map(|&i| m.donations[i].clone()).collect();
        let mut b_needs = m.needs.clone();
        let b = allocate_many(&shuffled, &mut b_needs, &m.rates);
        prop_assert_eq!(a, b);
        prop_assert_eq!(a_needs, b_needs);
    }

    #[test]
    fn donations_are_ordered_most_restricted_first(m in many_case()) {
        let mut ds = m.donations.clone();
        order_donations(&mut ds);
        prop_assert!(ds.windows(2).all(|w| donation_order(&w[0], &w[1]).is_le()));
        prop_assert!(ds.windows(2).all(|w| w[0].restriction.tier() <= w[1].restriction.tier()));
        let mut reversed = m.donations.clone();
        reversed.reverse();
        order_donations(&mut reversed);
        prop_assert_eq!(ds, reversed);
    }

    // --- release -----------------------------------------------------------------------------

    #[test]
    fn release_never_raises_an_amount(
        amount in 0i64..1_000_000_000_000,
        before in 0i64..1_000_000_000_000,
        after_ratio in 0u32..=1_000,
        overshoot in -1_000i64..1_000,
    ) {
        let after = i64::try_from(i128::from(before) * i128::from(after_ratio) / 1_000)
            .expect("below before")
            + overshoot;
        let r = release(amount, before, after);
        prop_assert!(r.amount >= 0 && r.amount <= amount);
        prop_assert!(r.returned >= 0);
        prop_assert_eq!(r.amount + r.returned, amount);
        if after <= 0 {
            prop_assert_eq!(r.amount, 0);
        }
        // Less local money left never means more donation money left.
        let less = release(amount, before, after - 1);
        prop_assert!(less.amount <= r.amount);
    }
}
