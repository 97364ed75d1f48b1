//! Tests of the allocator: worked examples, and (in `same_as_reference`) that the fast paths give
//! exactly what the reference implementation gives.

use super::*;
use crate::decimal::DecimalError;
use std::collections::BTreeMap;

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

/// The allocator as first written: straightforward and slow (it sorts every candidate by
/// string keys and groups with a hash map per band). The fast paths must give exactly what
/// it gives.
mod reference;

mod same_as_reference;
