//! Properties: the fast allocator, water-filling and conversions give exactly what the reference
//! gives.

use super::super::water_fill::Filler;
use super::super::*;
use super::reference::*;
use proptest::prelude::*;

const SHELTER_IDS: [&str; 8] = ["a", "ab", "b", "ba", "s-1", "s-10", "s-2", "shelter"];
const CATEGORIES: [NeedCategory; 3] = [
    NeedCategory::Food,
    NeedCategory::Medical,
    NeedCategory::Utilities,
];
/// Opening times sharing long prefixes (beyond the 16 bytes the fast keys look at), of
/// different lengths, one with a NUL byte where shorter texts are padded with zeros.
const OPENED: [&str; 10] = [
    "",
    "a",
    "a\0",
    "2026-11-01",
    "2026-11-01T00:00:00Z",
    "2026-11-01T00:01:00Z",
    "2026-11-02T00:00:00Z",
    "2026-11-01T00:00:00.000000001Z",
    "2026-11-01T00:00:00.000000002Z",
    "2026-11-01T00:00:00.0000000010Z",
];

fn rate() -> impl Strategy<Value = Rate> {
    prop_oneof![
        1 => Just(1_000_000i64),
        1 => 1i64..100,
        3 => 1_000i64..100_000_000,
        1 => 1i64..=Rate::MAX_MILLIONTHS,
    ]
    .prop_map(|m| Rate::from_millionths(m).expect("in range"))
}

fn rates() -> impl Strategy<Value = RateTable> {
    prop::collection::vec(prop::option::weighted(0.7, rate()), 16).prop_map(|rates| {
        let mut table = RateTable::new();
        for (k, r) in rates.into_iter().enumerate() {
            if let Some(r) = r {
                table.insert(Currency::ALL[k / 4], Currency::ALL[k % 4], r);
            }
        }
        table
    })
}

fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        1 => Just(0i64),
        1 => -1_000i64..0,
        3 => 1i64..1_000,
        3 => 1i64..1_000_000_000,
        1 => 1i64..100_000_000_000_000_000,
    ]
}

fn score() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 0i64..=1000, 2 => Just(500i64), 1 => any::<i64>()]
}

fn occupied() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 0i64..300, 1 => -5i64..0, 1 => Just(MAX_WEIGHT + 7)]
}

/// (shelter, own currency?, own occupancy?, id, category, band, score, opened, open)
type NeedParts = (
    usize,
    Option<Currency>,
    Option<i64>,
    Option<usize>,
    usize,
    Band,
    i64,
    usize,
    i64,
);

fn need_parts() -> impl Strategy<Value = NeedParts> {
    (
        0..SHELTER_IDS.len(),
        prop::option::weighted(0.1, prop::sample::select(Currency::ALL)),
        prop::option::weighted(0.1, occupied()),
        prop::option::weighted(0.1, 0usize..8),
        0..CATEGORIES.len(),
        prop::sample::select(Band::ALL.to_vec()),
        score(),
        0..OPENED.len(),
        amount(),
    )
}

fn needs() -> impl Strategy<Value = Vec<OpenNeed>> {
    (
        prop::collection::vec(
            (prop::sample::select(Currency::ALL), occupied()),
            SHELTER_IDS.len(),
        ),
        prop::collection::vec(need_parts(), 0..40),
        // Needs made exact copies of others: (copy, of).
        prop::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            0..3,
        ),
    )
        .prop_map(|(shelters, parts, copies)| {
            let mut needs: Vec<OpenNeed> = parts
                .into_iter()
                .enumerate()
                .map(|(k, parts)| {
                    let (s, currency, occupied, id, c, band, score, opened, open) = parts;
                    OpenNeed {
                        // Sometimes the same id as another need.
                        id: format!("n{}", id.unwrap_or(k)),
                        shelter_id: SHELTER_IDS[s].into(),
                        category: CATEGORIES[c],
                        band,
                        score,
                        opened_at: OPENED[opened].into(),
                        amount_open: open,
                        currency: currency.unwrap_or(shelters[s].0),
                        occupied: occupied.unwrap_or(shelters[s].1),
                    }
                })
                .collect();
            if !needs.is_empty() {
                for (copy, of) in copies {
                    let (copy, of) = (copy.index(needs.len()), of.index(needs.len()));
                    needs[copy] = needs[of].clone();
                }
            }
            needs
        })
}

fn restriction() -> impl Strategy<Value = Restriction> {
    (
        0u8..5,
        0usize..45,
        0..SHELTER_IDS.len() + 1,
        0..CATEGORIES.len(),
    )
        .prop_map(|(kind, n, s, c)| {
            let shelter = SHELTER_IDS.get(s).copied().unwrap_or("nowhere").to_owned();
            match kind {
                0 => Restriction::Need(format!("n{n}")),
                1 => Restriction::ShelterCategory(shelter, CATEGORIES[c]),
                2 => Restriction::Shelter(shelter),
                3 => Restriction::Category(CATEGORIES[c]),
                _ => Restriction::None,
            }
        })
}

fn donations() -> impl Strategy<Value = Vec<Donation>> {
    prop::collection::vec(
        (
            0u8..6,
            prop::sample::select(Currency::ALL),
            prop_oneof![
                6 => amount(),
                1 => Just(i64::MAX),
            ],
            restriction(),
            0u8..3,
        ),
        1..8,
    )
    .prop_map(|ds| {
        ds.into_iter()
            .map(|(id, currency, unallocated, restriction, day)| Donation {
                id: format!("d{id}"),
                currency,
                unallocated,
                restriction,
                received_at: format!("2026-02-0{day}"),
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn allocate_gives_what_the_reference_gives(
        needs in needs(),
        rates in rates(),
        donations in donations(),
    ) {
        let mut reversed = needs.clone();
        reversed.reverse();
        for d in &donations {
            let expected = ref_allocate(d, &needs, &rates);
            prop_assert_eq!(&allocate(d, &needs, &rates), &expected);
            prop_assert_eq!(&allocate(d, &reversed, &rates), &expected);
        }
    }

    #[test]
    fn allocate_many_gives_what_the_reference_gives(
        needs in needs(),
        rates in rates(),
        donations in donations(),
    ) {
        let (mut fast, mut slow) = (needs.clone(), needs);
        let got = allocate_many(&donations, &mut fast, &rates);
        let expected = ref_allocate_many(&donations, &mut slow, &rates);
        prop_assert_eq!(got, expected);
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn water_fill_gives_what_the_reference_gives(
        remaining in prop_oneof![-5i128..0, 0i128..1_000, 0i128..1_000_000_000_000],
        shelters in prop::collection::vec(
            (
                0usize..6,
                prop_oneof![-5i128..0, 0i128..1_000, 0i128..1_000_000_000_000],
                prop_oneof![-3i64..50, Just(MAX_WEIGHT + 1)],
            ),
            0..14,
        ),
    ) {
        // Ids repeat: ties fall back to the order given, as the stable sorts did.
        let claims: Vec<ShelterClaim> = shelters
            .iter()
            .map(|&(id, claim, weight)| ShelterClaim {
                shelter_id: SHELTER_IDS[id],
                claim,
                weight,
            })
            .collect();
        prop_assert_eq!(water_fill(remaining, &claims), ref_water_fill(remaining, &claims));
    }

    #[test]
    fn linear_water_fill_gives_what_the_sorted_one_gives(
        // Small numbers make claim / w = λ exactly, and equal remainders, common.
        remaining in prop_oneof![0i128..40, 0i128..1_000, 0i128..1_000_000_000_000],
        shelters in prop::collection::vec(
            (
                prop_oneof![
                    0i128..12,
                    0i128..1_000,
                    (0u32..40).prop_map(|k| 1i128 << k),
                    0i128..1_000_000_000_000,
                ],
                prop_oneof![1i64..4, 1i64..50, 1i64..MAX_WEIGHT],
            ),
            0..40,
        ),
    ) {
        let mut sorted = Filler::default();
        for &(claim, weight) in &shelters {
            sorted.push(claim, weight);
        }
        let level = sorted.run(remaining, |a, b| a.cmp(&b));
        // Every number of rounds before the sorted finish, including none.
        for rounds in [0, 1, 2, 4, 64] {
            let mut linear = Filler::default();
            for &(claim, weight) in &shelters {
                linear.push(claim, weight);
            }
            let got = linear.run_distinct_rounds(remaining, |a, b| a.cmp(&b), rounds);
            prop_assert_eq!(got, level);
            prop_assert_eq!(&linear.shares, &sorted.shares);
        }
    }

    #[test]
    fn conversions_give_what_the_reference_gives(
        amount in prop_oneof![any::<i64>(), -1_000i64..1_000, 0i64..10_000_000_000_000],
        rate in rate(),
    ) {
        prop_assert_eq!(claim(amount, rate), ref_claim(amount, rate));
        prop_assert_eq!(to_local(amount, rate), ref_to_local(amount, rate));
    }
}
