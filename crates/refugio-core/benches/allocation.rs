//! Criterion benchmarks of the money allocator (ENGINE.md "Allocating money").
//!
//! - `allocate_1_donation_100k_needs/*`: one unrestricted USD donation against 100,000 open
//!   needs of 1,000 shelters (100 each). Target < 10 ms.
//!   - `water_fill_critical`: 50,000.00 USD, less than the critical band's claims, so the
//!     critical band is water-filled across shelters and nothing else is paid.
//!   - `critical_and_part_of_high`: the critical band's claims in full plus half of the high
//!     band's, so the critical band is paid in full and the high band is water-filled.
//! - `allocate_many_10k_donations_100k_needs/allocate_many`: 10,000 donations of mixed
//!   restrictions (need, shelter + category, shelter, category, none), in USD and MXN, against
//!   the same needs. Target < 2 s. The needs are cloned outside the timed part. Together the
//!   donations cover about 8 % of what is open: the needs never run out, and every unrestricted
//!   donation is water-filled across the shelters.
//!
//! The needs: bands critical / high / medium / low (15 / 25 / 35 / 25 %), scores 0..=1000 tenths,
//! the ten need categories, 100.00–50,000.00 open in the shelter's currency (MXN, or GTQ for one
//! shelter in ten), 0–199 occupied beds. Rates: USD → MXN 17.25 and USD → GTQ 7.70; MXN
//! donations only reach MXN shelters (there is no MXN → GTQ rate, so GTQ shelters are skipped).
//!
//! Inputs are generated once, outside the timed loops, from a fixed seed.
//! Run: `cargo bench -p refugio-core --bench allocation`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use refugio_core::engine::allocation::{
    allocate, allocate_many, claim, rate_between, Donation, OpenNeed, Rate, RateTable, Restriction,
};
use refugio_core::engine::needs::NeedCategory;
use refugio_core::engine::priority::Band;
use refugio_core::Currency;
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

const SHELTERS: usize = 1_000;
const NEEDS_PER_SHELTER: usize = 100;
const DONATIONS: usize = 10_000;

/// SplitMix64: a small, fixed-seed generator so every run benches the same data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo).expect("a non-empty range");
        lo + i64::try_from(self.next_u64() % span).expect("the span fits in i64")
    }

    /// Uniform index in `0..len` (`len > 0`).
    fn index(&mut self, len: usize) -> usize {
        let len = u64::try_from(len).expect("a small length");
        usize::try_from(self.next_u64() % len).expect("below len")
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: i64) -> bool {
        self.range(0, 100) < percent
    }

    /// A lowercase hyphenated UUIDv7-shaped id, as `new_id` makes.
    fn id(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFF,
            0x8000 | ((b >> 48) & 0x3FFF),
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

/// RFC 3339 UTC text `minutes` after 2026-11-01T00:00:00Z (below 30 days).
fn timestamp(minutes: i64) -> String {
    let (day, rest) = (minutes / 1_440, minutes % 1_440);
    format!(
        "2026-11-{:02}T{:02}:{:02}:00Z",
        day + 1,
        rest / 60,
        rest % 60
    )
}

fn rates() -> RateTable {
    let mut rates = RateTable::new();
    rates.insert(
        Currency::Usd,
        Currency::Mxn,
        Rate::parse("17.25").expect("a valid rate"),
    );
    rates.insert(
        Currency::Usd,
        Currency::Gtq,
        Rate::parse("7.70").expect("a valid rate"),
    );
    rates
}

struct Shelter {
    id: String,
    currency: Currency,
    occupied: i64,
}

fn shelters(rng: &mut Rng) -> Vec<Shelter> {
    (0..SHELTERS)
        .map(|_| Shelter {
            id: rng.id(),
            currency: if rng.chance(10) {
                Currency::Gtq
            } else {
                Currency::Mxn
            },
            occupied: rng.range(0, 200),
        })
        .collect()
}

fn needs(rng: &mut Rng, shelters: &[Shelter]) -> Vec<OpenNeed> {
    let mut needs = Vec::with_capacity(SHELTERS * NEEDS_PER_SHELTER);
    for s in shelters {
        for _ in 0..NEEDS_PER_SHELTER {
            let band = match rng.range(0, 100) {
                0..=14 => Band::Critical,
                15..=39 => Band::High,
                40..=74 => Band::Medium,
                _ => Band::Low,
            };
            needs.push(OpenNeed {
                id: rng.id(),
                shelter_id: s.id.clone(),
                category: NeedCategory::ALL[rng.index(NeedCategory::ALL.len())],
                band,
                score: rng.range(0, 1_001),
                opened_at: timestamp(rng.range(0, 30 * 1_440)),
                amount_open: rng.range(10_000, 5_000_001),
                currency: s.currency,
                occupied: s.occupied,
            });
        }
    }
    needs
}

fn donations(rng: &mut Rng, shelters: &[Shelter], needs: &[OpenNeed]) -> Vec<Donation> {
    // Distinct received times, in an order unrelated to the ids (7,919 is prime to 10,000).
    (0..DONATIONS)
        .map(|i| {
            let category = NeedCategory::ALL[rng.index(NeedCategory::ALL.len())];
            let restriction = match rng.range(0, 100) {
                0..=19 => Restriction::Need(needs[rng.index(needs.len())].id.clone()),
                20..=34 => {
                    Restriction::ShelterCategory(shelters[rng.index(SHELTERS)].id.clone(), category)
                }
                35..=54 => Restriction::Shelter(shelters[rng.index(SHELTERS)].id.clone()),
                55..=69 => Restriction::Category(category),
                _ => Restriction::None,
            };
            let minutes = i64::try_from(i * 7_919 % DONATIONS).expect("small");
            Donation {
                id: rng.id(),
                currency: if rng.chance(50) {
                    Currency::Usd
                } else {
                    Currency::Mxn
                },
                unallocated: rng.range(1_000, 500_001),
                restriction,
                received_at: timestamp(minutes),
            }
        })
        .collect()
}

/// Σ claims (USD minor units) of the open needs in `band`.
fn band_claims(needs: &[OpenNeed], rates: &RateTable, band: Band) -> i64 {
    let total: i128 = needs
        .iter()
        .filter(|n| n.band == band)
        .map(|n| {
            let rate = rate_between(rates, Currency::Usd, n.currency).expect("a rate on file");
            claim(n.amount_open, rate)
        })
        .sum();
    i64::try_from(total).expect("fits in i64")
}

fn unrestricted_usd(id: &str, amount: i64) -> Donation {
    Donation {
        id: id.into(),
        currency: Currency::Usd,
        unallocated: amount,
        restriction: Restriction::None,
        received_at: timestamp(0),
    }
}

fn one_donation_bench(c: &mut Criterion) {
    let mut rng = Rng(0x5EED_A110_0001);
    let shelters = shelters(&mut rng);
    let needs = needs(&mut rng, &shelters);
    let rates = rates();
    let critical = band_claims(&needs, &rates, Band::Critical);
    let high = band_claims(&needs, &rates, Band::High);

    // Less than the critical band's claims: all of it goes to critical needs, water-filled.
    let scarce = unrestricted_usd("scarce", 5_000_000);
    assert!(scarce.unallocated < critical);
    let a = allocate(&scarce, &needs, &rates);
    assert_eq!(a.unallocated, 0);
    assert!(a.skipped_shelters_missing_rate.is_empty());
    let band_of: HashMap<&str, Band> = needs.iter().map(|n| (n.id.as_str(), n.band)).collect();
    assert!(a
        .slices
        .iter()
        .all(|s| band_of[s.need_id.as_str()] == Band::Critical));

    // The critical band in full and half of the high band's claims.
    let ample = unrestricted_usd("ample", critical + high / 2);
    let a = allocate(&ample, &needs, &rates);
    assert_eq!(a.unallocated, 0);
    let paid: HashMap<&str, i64> = a
        .slices
        .iter()
        .map(|s| (s.need_id.as_str(), s.amount_local))
        .collect();
    assert!(needs
        .iter()
        .filter(|n| n.band == Band::Critical)
        .all(|n| paid.get(n.id.as_str()) == Some(&n.amount_open)));
    assert!(a
        .slices
        .iter()
        .any(|s| band_of[s.need_id.as_str()] == Band::High));

    let mut g = c.benchmark_group("allocate_1_donation_100k_needs");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("water_fill_critical", |b| {
        b.iter(|| allocate(black_box(&scarce), black_box(&needs), black_box(&rates)))
    });
    g.bench_function("critical_and_part_of_high", |b| {
        b.iter(|| allocate(black_box(&ample), black_box(&needs), black_box(&rates)))
    });
    g.finish();
}

fn many_donations_bench(c: &mut Criterion) {
    let mut rng = Rng(0x5EED_A110_0002);
    let shelters = shelters(&mut rng);
    let needs = needs(&mut rng, &shelters);
    let donations = donations(&mut rng, &shelters, &needs);
    let rates = rates();

    let mut g = c.benchmark_group("allocate_many_10k_donations_100k_needs");
    g.sampling_mode(SamplingMode::Flat);
    // 10 samples of one iteration each: at the 2 s target they fit in 30 s.
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(3));
    g.measurement_time(Duration::from_secs(30));
    g.bench_function("allocate_many", |b| {
        // `_ref`: the mutated clone is dropped outside the timed part too.
        b.iter_batched_ref(
            || needs.clone(),
            |needs| allocate_many(black_box(&donations), needs, black_box(&rates)),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(2));
    targets = one_donation_bench, many_donations_bench
}
criterion_main!(benches);
